"""Command line: train the classic model, read digits from image files, manage saved runs.

    python -m mnist_core train --epochs 5 --batch-size 128 --out model.keras
    python -m mnist_core predict digit.png --model model.keras
    python -m mnist_core evaluate --model model.keras      (or --run ID)
    python -m mnist_core runs list
    python -m mnist_core runs show ID
    python -m mnist_core runs export ID DIR
    python -m mnist_core reader          (train the app's ready reader again)

Every `train` is also saved as a run in the runs directory (`MNIST_RUNS_DIR`, else
runs/ in the project root; `--runs-dir` to choose, `--no-save` for none), as the app does.
Each command has its own --help. Exit status: 0 done, 1 nothing done (no digit in
the picture, a failed training, a deletion declined), 2 bad input, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import NoReturn

from mnist_core.config import (
    ACTIVATIONS,
    ARCHITECTURES,
    DEFAULT_MODEL,
    DEFAULT_TRAINING,
    LR_SCHEDULES,
    MAX_DRAWING_EXAMPLES,
    MAX_EPOCHS,
    MAX_VALIDATION_SHARE,
    MIN_EPOCHS,
    OPTIMIZERS,
    ModelConfig,
    TrainConfig,
)
from mnist_core.data import MnistDataError
from mnist_core.images import ImageError
from mnist_core.model_file import ModelFileError

# TensorFlow loads (seconds) only inside the commands that need it: train, predict,
# evaluate. Help, and listing, showing, renaming or deleting runs, never wait for it.


class Parser(argparse.ArgumentParser):
    """argparse with its errors in one line that points to the command's own --help,
    instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"Error: {message}. See: {self.prog} --help\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m mnist_core", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train(commands)

    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true",
                         help="when a model file is refused, also print Keras' own error")
    predict = _add_command(commands, "predict", parents=[verbose],
                           help="read the digit in an image file")
    predict.add_argument("image", help="PNG/JPEG: dark digit on light, or white on black")
    predict.add_argument("--model", required=True,
                         help="a .keras file (from `train --out` or `runs export`)")

    runs_dir = argparse.ArgumentParser(add_help=False)
    runs_dir.add_argument("--runs-dir", default=None,
                          help="the runs directory (default: $MNIST_RUNS_DIR, else runs/)")

    evaluate = _add_command(
        commands, "evaluate", parents=[runs_dir, verbose],
        help="test accuracy and per-digit precision and recall of a model",
    )
    which = evaluate.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a .keras file")
    which.add_argument("--run", help="the id of a saved run (its latest saved weights)")

    reader = _add_command(
        commands, "reader", help="train the app's ready reader again, from scratch",
        description="Train the network the Draw page reads with before a visitor has a "
                    "model of their own, measure it on MNIST's test set and on simulated "
                    "drawings, and write reader.keras and reader.json.")
    reader.add_argument("--out", default=None, metavar="DIR",
                        help="the folder to write them to (default: models/)")

    runs = _add_command(commands, "runs", help="list, show, export, rename or delete saved runs")
    actions = runs.add_subparsers(dest="action", required=True)
    _add_command(actions, "list", parents=[runs_dir], help="all saved runs, newest first")
    show = _add_command(actions, "show", parents=[runs_dir], help="one run in full")
    show.add_argument("run_id", metavar="ID")
    export = _add_command(actions, "export", parents=[runs_dir],
                          help="copy model.keras, config.json and history.csv to DIR")
    export.add_argument("run_id", metavar="ID")
    export.add_argument("dest", metavar="DIR", help="created if need be")
    export.add_argument("--force", action="store_true",
                        help="overwrite those files if DIR has them already")
    rename = _add_command(actions, "rename", parents=[runs_dir], help="name a run")
    rename.add_argument("run_id", metavar="ID")
    rename.add_argument("name", metavar="NAME", help="'' clears the name")
    delete = _add_command(actions, "delete", parents=[runs_dir], help="delete a run for good")
    delete.add_argument("run_id", metavar="ID")
    delete.add_argument("-y", "--yes", action="store_true",
                        help="do not ask first (needed when not run from a terminal)")
    return parser


def _add_command(commands, name: str, **kwargs) -> argparse.ArgumentParser:
    """A command's parser, kept in the parsed arguments: errors found later point to its
    own --help."""
    command = commands.add_parser(name, **kwargs)
    command.set_defaults(command_parser=command)
    return command


def _add_train(commands) -> None:
    train = _add_command(
        commands, "train", help="train a model; it is saved as a run",
        description="Train a network on MNIST as the app's Train page does. Keras shows a "
                    "progress bar per epoch on a terminal, one line per epoch elsewhere.",
        epilog="Ctrl-C stops the training after the current batch and keeps what it "
               "learnt (exit status 130); a second Ctrl-C quits at once.",
    )
    train.add_argument("--architecture", choices=ARCHITECTURES,
                       default=DEFAULT_MODEL.architecture,
                       help="dense: the classic tutorial's network; cnn: Keras' simple "
                            "convnet; deep_cnn: two batch-normalised 3×3 convolutions per "
                            "block (default: %(default)s)")
    units = " ".join(map(str, DEFAULT_MODEL.hidden_units))
    train.add_argument("--hidden-units", type=_positive_int, nargs="+", metavar="UNITS",
                       default=list(DEFAULT_MODEL.hidden_units),
                       help="the dense network's hidden layers: the units of each, e.g. "
                            f"256 128 for two (default: {units})")
    train.add_argument("--activation", choices=ACTIVATIONS, default=DEFAULT_MODEL.activation,
                       help="activation of the hidden layers (default: %(default)s)")
    train.add_argument("--dropout", type=float, default=DEFAULT_MODEL.dropout,
                       help="share of units dropped while training, 0 to <1: after each "
                            "hidden layer; in the convnets before the output, deep_cnn half "
                            "of it after each block too (default: %(default)s)")
    train.add_argument("--augment", action="store_true",
                       help="random shifts, rotations and zooms of the training images")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULT_MODEL.optimizer,
                       help="how the weights are updated (default: %(default)s)")
    train.add_argument("--learning-rate", type=float, default=DEFAULT_MODEL.learning_rate,
                       help="the optimizer's step size (default: %(default)s)")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                       default=DEFAULT_TRAINING.lr_schedule,
                       help="cosine: lower the learning rate epoch by epoch toward 0 "
                            "(default: %(default)s)")
    train.add_argument("--epochs", type=int, default=DEFAULT_TRAINING.epochs,
                       help=f"passes over the training images, {MIN_EPOCHS}–{MAX_EPOCHS} "
                            "(default: %(default)s)")
    train.add_argument("--batch-size", type=int, default=DEFAULT_TRAINING.batch_size,
                       help="images per weight update (default: %(default)s)")
    train.add_argument("--validation-split", type=float,
                       default=DEFAULT_TRAINING.validation_split,
                       help="share of the training images held out, the last ones, to "
                            f"validate after each epoch, 0–{MAX_VALIDATION_SHARE:g} "
                            "(default: %(default)s)")
    train.add_argument("--train-size", type=int, default=DEFAULT_TRAINING.train_size,
                       metavar="N",
                       help="train on the first N training images only (default: all)")
    train.add_argument("--drawing-examples", type=int,
                       default=DEFAULT_TRAINING.drawing_examples, metavar="N",
                       help="add N simulated canvas drawings of training digits to the "
                            f"training images, 0–{MAX_DRAWING_EXAMPLES:,}; made once, then "
                            "kept beside the runs (default: %(default)s)")
    train.add_argument("--out", default=None, metavar="FILE.keras",
                       help="also save the final model to this file (default: none; the "
                            "run's folder holds model.keras)")
    saving = train.add_mutually_exclusive_group()
    saving.add_argument("--runs-dir", default=None,
                        help="save the run here (default: $MNIST_RUNS_DIR, else runs/)")
    saving.add_argument("--no-save", action="store_true",
                        help="do not save the run in the runs directory")


def configs(args: argparse.Namespace) -> tuple[ModelConfig, TrainConfig]:
    """The network and the training that `train`'s options describe."""
    model_config = ModelConfig(
        architecture=args.architecture, augment=args.augment,
        hidden_units=tuple(args.hidden_units), activation=args.activation,
        dropout=args.dropout, optimizer=args.optimizer, learning_rate=args.learning_rate,
    )
    train_config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size,
        validation_split=args.validation_split, train_size=args.train_size,
        lr_schedule=args.lr_schedule, drawing_examples=args.drawing_examples,
    )
    return model_config, train_config


def train(args: argparse.Namespace) -> int:
    model_config, train_config = configs(args)
    if args.out is not None and not args.out.endswith(".keras"):
        raise ValueError(f"--out must name a .keras file, not {args.out}")
    if args.no_save and args.out is None:
        print("Nothing will be saved: --no-save without --out.", flush=True)

    from mnist_core.data import load_mnist, validation_count
    from mnist_core.model import summary_rows, summary_text
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.store import default_runs_dir
    from mnist_core.runs.train import EXAMPLES_DIR, TrainingJob

    data = load_mnist()
    store = None if args.no_save else _store(args)
    images = len(data.x_train[:train_config.train_size])
    held_out = validation_count(images, train_config.validation_split)
    print(f"Data: {data.source}")
    drawn = (f" plus {train_config.drawing_examples:,} drawing-style examples"
             if train_config.drawing_examples else "")
    print(f"Images: {images - held_out:,} to train on{drawn}, {held_out:,} held out for "
          f"validation, {len(data.x_test):,} to test")
    # Keras' bar redraws itself on a terminal; in a log file it prints a line per epoch.
    # Drawing-style examples are kept beside the runs, even when this run is not.
    examples_dir = None if store is not None else default_runs_dir() / EXAMPLES_DIR
    job = TrainingJob(data, model_config, train_config, store=store,
                      verbose=1 if sys.stdout.isatty() else 2, examples_dir=examples_dir)
    print(summary_text(summary_rows(job.model)))
    if store is not None:
        print(f"Run {job.run_id}: saved as it trains in {store.run_dir(job.run_id)}")
    print("Ctrl-C stops after the current batch and keeps what was trained.", flush=True)
    _train_in_thread(job, store)
    progress = job.progress()
    if progress.save_error:
        print(progress.save_error, file=sys.stderr)
    if progress.status == JobStatus.FAILED:
        print(f"Training failed: {progress.error}", file=sys.stderr)
        return 1
    if progress.test_accuracy is not None:
        print(f"Test loss: {progress.test_loss:.4f}")
        print(f"Test accuracy: {progress.test_accuracy:.4f}")
    if args.out is not None and progress.epoch:
        job.model.save(args.out)
    if progress.status == JobStatus.STOPPED:
        print(_stopped_report(job, store, args.out), flush=True)
        return 130
    if args.out is not None:
        print(f"Saved the model to {args.out}")
    if store is not None:
        run_dir = store.run_dir(job.run_id)
        print(f"Saved run {job.run_id} in {run_dir} (its model: {run_dir / 'model.keras'})")
    return 0


def reader(args: argparse.Namespace) -> int:
    from mnist_core.data import load_mnist
    from mnist_core.reader import MODELS_DIR, READER_TRAINING, build_reader
    from mnist_core.runs.store import default_runs_dir
    from mnist_core.runs.train import EXAMPLES_DIR

    data = load_mnist()
    out = args.out or MODELS_DIR
    print(f"Data: {data.source}")
    print(f"Training the ready reader: {READER_TRAINING.epochs} epochs on "
          f"{len(data.x_train):,} images plus {READER_TRAINING.drawing_examples:,} "
          "drawing-style examples.", flush=True)
    info = build_reader(data, out, examples_dir=default_runs_dir() / EXAMPLES_DIR,
                        verbose=1 if sys.stdout.isatty() else 2)
    print(f"It reads {info.summary}.")
    print(f"Wrote {out}/reader.keras and reader.json")
    return 0


def _train_in_thread(job, store) -> None:
    """Train in a thread, so that Ctrl-C reaches this one: the first Ctrl-C stops the
    training after its current batch, keeping what was trained; a second quits at once.

    A plain thread, not `job.start()`: that lowers the CPU priority, as the app wants
    for its users' clicks, while a command-line training is the user's foreground work.
    """
    done = threading.Event()

    def target() -> None:
        try:
            job.run()  # never raises; its final save is done when it returns
        finally:
            done.set()

    threading.Thread(target=target, name=f"training-{job.run_id}", daemon=True).start()
    try:
        _wait_for(done)
    except KeyboardInterrupt:
        try:  # a second Ctrl-C, even while the first one's message is printed, quits
            job.stop()
            print(f"{_new_line()}Stopping after the current batch (Ctrl-C again to quit at "
                  "once)…", file=sys.stderr, flush=True)
            _wait_for(done)
        except KeyboardInterrupt:
            _quit_at_once(job, store)


def _wait_for(done: threading.Event) -> None:
    """Sleep until `done`, in short naps that Ctrl-C interrupts cleanly.

    Not `Thread.join()`: a Ctrl-C inside it can leave the thread looking finished
    while it still runs (Python 3.11, bpo-45274's handling).
    """
    while not done.is_set():
        time.sleep(0.1)


def _quit_at_once(job, store) -> NoReturn:
    """Leave now, the training thread and all: the run stays as its last save left it."""
    if store is None:
        kept = "nothing was saved"
    elif job.latest_snapshot() is None:
        kept = f"run {job.run_id} has no weights yet and will show as interrupted"
    else:
        kept = (f"run {job.run_id} keeps the weights saved at its last epoch's end and will "
                "show as interrupted")
    print(f"{_new_line()}Quit: {kept}.", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(130)  # not SystemExit: that would wait for TensorFlow's threads


def _new_line() -> str:
    """A line break after the ^C that a terminal echoes mid-line (none in a log file)."""
    return "\n" if sys.stderr.isatty() else ""


def _stopped_report(job, store, out: str | None) -> str:
    """Where a Ctrl-C stopped the training, and what was kept of it."""
    progress = job.progress()
    if not progress.epoch:
        return "Stopped before training began: nothing was trained."
    if progress.stopped_mid_epoch:
        where = (f"Stopped during epoch {progress.epoch} at batch "
                 f"{progress.batch}/{progress.batches_per_epoch}")
    else:
        where = f"Stopped after epoch {progress.epoch} of {progress.epochs}"
    complete = progress.complete_epochs
    epochs = f"{complete} complete epoch{'' if complete == 1 else 's'}"
    if store is not None:
        also = f" and to {out}" if out else ""
        return (f"{where}: run {job.run_id} keeps the weights at that point; {epochs} in its "
                f"history; saved in {store.run_dir(job.run_id)}{also}.")
    if out:
        return f"{where}: the weights at that point ({epochs}) are saved to {out}."
    return f"{where}; nothing was saved (--no-save)."


def predict(args: argparse.Namespace) -> int:
    from mnist_core.images import load_image
    from mnist_core.preprocess import THICK_PEN_TEXT, preprocess_steps

    steps = preprocess_steps(load_image(args.image))  # a bad picture is told before Keras loads
    if steps is None:
        print(f"No digit found in {args.image}: the image looks empty.", file=sys.stderr)
        return 1
    from mnist_core.model import load_model
    from mnist_core.predict import read_digit

    reading = read_digit(load_model(args.model), steps.centred)
    probabilities = reading.probabilities
    print(f"Prediction: {reading.digit} ({probabilities[reading.digit]:.1%})")
    print(reading.verdict.message)
    if steps.thick_pen:
        print(f"Note: {THICK_PEN_TEXT} Write it larger, or with a thinner pen.")
    for d, p in enumerate(probabilities):
        print(f"  {d}: {p:.4f}")
    return 0


def _store(args: argparse.Namespace):
    """The runs directory named on the command line, else the default one."""
    from mnist_core.runs.store import RunStore

    return RunStore(args.runs_dir)


# --- evaluate ----------------------------------------------------------------------------


def evaluate(args: argparse.Namespace) -> int:
    """The Evaluate page's numbers (mnist_core.evaluate), as a table on the terminal."""
    from mnist_core.data import load_mnist
    from mnist_core.evaluate import evaluate as evaluate_model
    from mnist_core.model import load_model

    if args.run is not None:
        store = _store(args)
        run = store.load(args.run)
        model = store.load_model(args.run)
        name = (f"run {args.run}, weights after epoch {_saved_epoch(run)} of "
                f"{run.train_config.epochs} ({run.status})")
    else:
        model, name = load_model(args.model), args.model
    data = load_mnist()
    print(f"Data: {data.source}")
    evaluation = evaluate_model(model, data.x_test, data.y_test)
    print(f"Model: {name}")
    print(f"Test images: {evaluation.size:,}")
    print(f"Test loss: {evaluation.loss:.4f}")
    print(f"Test accuracy: {evaluation.accuracy:.4f}")
    *digits, average = evaluation.per_class_rows()
    print(f"{'digit':>5} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>7}")
    for row in digits:
        print(f"{row['digit']:>5} {row['precision']:>9.4f} {row['recall']:>7.4f} "
              f"{row['F1']:>7.4f} {row['test images']:>7}")
    print(f"{'macro':>5} {average['precision']:>9.4f} {average['recall']:>7.4f} "
          f"{average['F1']:>7.4f} {evaluation.size:>7}")
    return 0


def _saved_epoch(run) -> int:
    """The epoch whose weights a run's saved model holds: the newer of its two files."""
    meta = run.meta
    return max(meta.get("model_epoch") or 0, meta.get("weights_epoch") or 0) or len(run.history)


# --- runs --------------------------------------------------------------------------------


def _number(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _model_words(hyperparameters: dict, architecture: str | None) -> str:
    layers = hyperparameters.get("conv filters") or hyperparameters.get("hidden units", "")
    words = [architecture or "?", str(layers), str(hyperparameters.get("activation", ""))]
    if hyperparameters.get("dropout"):
        words.append(f"dropout {hyperparameters['dropout']}")
    if hyperparameters.get("augment"):
        words.append("augment")
    words.append(f"{hyperparameters.get('optimizer', '')} {hyperparameters.get('learning rate')}")
    if hyperparameters.get("lr schedule", "constant") != "constant":
        words.append(hyperparameters["lr schedule"])
    words.append(f"bs {hyperparameters.get('batch size')}")
    return " ".join(word for word in words if word)


def runs_list(args: argparse.Namespace) -> int:
    store = _store(args)
    summaries = store.list_runs()
    if not summaries:
        print(f"No saved runs in {store.root}.")
        return 0
    header = (f"{'ID':<9} {'CREATED':<17} {'STATUS':<12} {'EPOCHS':>6}  {'TRAIN':>6} "
              f"{'VAL':>6} {'TEST':>6} {'S/EPOCH':>7}  {'MODEL':<40} NAME")
    print(header)
    for summary in summaries:
        if summary.problem:
            print(f"{summary.run_id:<9} {'':<17} {summary.status:<12} {summary.problem}")
            continue
        row = summary.as_row()
        print(
            f"{summary.run_id:<9} {row['created']:<17} {summary.status:<12} "
            f"{row['epochs']:>6}  {_number(summary.train_accuracy):>6} "
            f"{_number(summary.val_accuracy):>6} {_number(summary.test_accuracy):>6} "
            f"{_number(summary.seconds_per_epoch, 1):>7}  "
            f"{_model_words(summary.hyperparameters, summary.architecture):<40} "
            f"{summary.name or ''}".rstrip()
        )
    print(f"{len(summaries)} run(s) in {store.root}")
    return 0


def runs_show(args: argparse.Namespace) -> int:
    store = _store(args)
    run = store.load(args.run_id)
    summary = run.summary()
    meta = run.meta
    print(f"Run {run.run_id}" + (f": {run.name}" if run.name else ""))
    print(f"Status: {run.status}" + (f" ({run.error})" if run.error else ""))
    print(f"Created: {summary.as_row()['created']}")
    print(f"Model: {_model_words(summary.hyperparameters, summary.architecture)}")
    train = run.train_config
    print(f"Training: {train.epochs} epochs, batch size {train.batch_size}, validation split "
          f"{train.validation_split}, {meta.get('train_images', '?')} training images")
    print(f"Data: {meta.get('data_source', '?')}")
    versions = meta.get("versions") or {}
    print("Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    print(f"Epochs completed: {len(run.history)}/{train.epochs}")
    if run.seconds_per_epoch is not None:
        print(f"Seconds per epoch: {run.seconds_per_epoch:.2f}")
    print(f"Test loss: {_number(run.test_loss)}")
    print(f"Test accuracy: {_number(run.test_accuracy)}")
    if run.history:
        print(f"{'epoch':>5} {'loss':>8} {'accuracy':>8} {'val_loss':>8} {'val_acc':>8} "
              f"{'seconds':>8} {'samples/s':>9}")
        for row in run.history:
            print(f"{row['epoch']:>5} {_number(row.get('loss')):>8} "
                  f"{_number(row.get('accuracy')):>8} {_number(row.get('val_loss')):>8} "
                  f"{_number(row.get('val_accuracy')):>8} {_number(row.get('seconds'), 2):>8} "
                  f"{_number(row.get('samples_per_second'), 0):>9}")
    print(f"Files: {run.path}")
    return 0


def runs_export(args: argparse.Namespace) -> int:
    from mnist_core.runs.errors import ExportExists

    try:
        copied = _store(args).export(args.run_id, args.dest, overwrite=args.force)
    except ExportExists as error:
        raise ValueError(f"{error} Add --force to overwrite them.") from error
    for path in copied:
        print(f"Exported {path}")
    return 0


def runs_rename(args: argparse.Namespace) -> int:
    _store(args).rename(args.run_id, args.name)
    print(f"Run {args.run_id} renamed to {args.name!r}" if args.name.strip()
          else f"Run {args.run_id} has no name now")
    return 0


def runs_delete(args: argparse.Namespace) -> int:
    store = _store(args)
    run = store.load(args.run_id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ValueError(f"Run {args.run_id} was not deleted: there is no terminal to ask "
                             "on; add --yes to delete it.")
        named = f" ({run.name})" if run.name else ""
        question = (f"Delete run {args.run_id}{named}? Its model, configuration and history "
                    "are removed for good. [y/N] ")
        try:
            answer = input(question)
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print(f"Run {args.run_id} was not deleted.")
            return 1
    store.delete(args.run_id)
    print(f"Deleted run {args.run_id}")
    return 0


RUN_ACTIONS = {
    "list": runs_list, "show": runs_show, "export": runs_export,
    "rename": runs_rename, "delete": runs_delete,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # named by the command's parser, which knows the options it takes
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    commands = {"train": train, "predict": predict, "evaluate": evaluate, "reader": reader}
    command = RUN_ACTIONS[args.action] if args.command == "runs" else commands[args.command]
    try:
        return command(args)
    except (MnistDataError, ImageError, ModelFileError, ValueError, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        detail = getattr(error, "detail", None)
        if detail and getattr(args, "verbose", False):
            print(f"Keras' own error: {detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_new_line()}Interrupted.", file=sys.stderr)
        return 130
