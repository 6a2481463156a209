"""Command line: train the classic model, read digits from image files, manage saved runs.

    python -m mnist_core train --epochs 5 --batch-size 128 --out model.keras
    python -m mnist_core predict digit.png --model model.keras
    python -m mnist_core evaluate --model model.keras      (or --run ID)
    python -m mnist_core runs list
    python -m mnist_core runs show ID
    python -m mnist_core runs export ID DIR

Every `train` is also saved as a run in the runs directory (`MNIST_RUNS_DIR`, else
runs/ in the project root; `--runs-dir` to choose, `--no-save` for none), as the app does.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from mnist_core.config import ACTIVATIONS, ARCHITECTURES, LR_SCHEDULES, OPTIMIZERS
from mnist_core.data import MnistDataError
from mnist_core.images import ImageError
from mnist_core.model import ModelFileError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and save it")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="rmsprop")
    train.add_argument("--learning-rate", type=float, default=0.001)
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                       help="cosine: lower the learning rate epoch by epoch toward 0")
    train.add_argument("--architecture", choices=ARCHITECTURES, default="dense",
                       help="dense: the classic tutorial's network; cnn: Keras' simple convnet; "
                            "deep_cnn: two batch-normalised 3×3 convolutions per block")
    train.add_argument("--hidden-units", type=int, nargs="*", default=[512],
                       help="units of each hidden Dense layer (default: 512)")
    train.add_argument("--augment", action="store_true",
                       help="random shifts, rotations and zooms of the training images")
    train.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--validation-split", type=float, default=0.1)
    train.add_argument("--train-size", type=int, default=None,
                       help="train on the first N training images only")
    train.add_argument("--out", default="mnist_model.keras", help="where to save (.keras)")
    saving = train.add_mutually_exclusive_group()
    saving.add_argument("--runs-dir", default=None,
                        help="save the run here (default: $MNIST_RUNS_DIR, else runs/)")
    saving.add_argument("--no-save", action="store_true",
                        help="do not save the run in the runs directory")

    predict = commands.add_parser("predict", help="read the digit in an image file")
    predict.add_argument("image", help="PNG/JPEG: dark digit on light, or white on black")
    predict.add_argument("--model", required=True, help="a .keras file saved by `train`")

    runs_dir = argparse.ArgumentParser(add_help=False)
    runs_dir.add_argument("--runs-dir", default=None,
                          help="the runs directory (default: $MNIST_RUNS_DIR, else runs/)")

    evaluate = commands.add_parser(
        "evaluate", parents=[runs_dir],
        help="test accuracy and per-digit precision and recall of a model",
    )
    which = evaluate.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a .keras file")
    which.add_argument("--run", help="the id of a saved run")

    runs = commands.add_parser("runs", help="list, show, export, rename or delete saved runs")
    actions = runs.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[runs_dir], help="all saved runs, newest first")
    show = actions.add_parser("show", parents=[runs_dir], help="one run in full")
    show.add_argument("run_id", metavar="ID")
    export = actions.add_parser("export", parents=[runs_dir],
                                help="copy model.keras, config.json and history.csv to DIR")
    export.add_argument("run_id", metavar="ID")
    export.add_argument("dest", metavar="DIR")
    rename = actions.add_parser("rename", parents=[runs_dir], help="name a run")
    rename.add_argument("run_id", metavar="ID")
    rename.add_argument("name", metavar="NAME", help="'' clears the name")
    delete = actions.add_parser("delete", parents=[runs_dir], help="delete a run for good")
    delete.add_argument("run_id", metavar="ID")
    return parser


def train(args: argparse.Namespace) -> int:
    import keras

    from mnist_core.config import ModelConfig, TrainConfig
    from mnist_core.data import load_mnist
    from mnist_core.model import summary_rows, summary_text
    from mnist_core.train import JobStatus, TrainingJob

    if not args.out.endswith(".keras"):
        raise ValueError("--out must end in .keras")
    model_config = ModelConfig(
        architecture=args.architecture, augment=args.augment,
        hidden_units=tuple(args.hidden_units), activation=args.activation,
        dropout=args.dropout, optimizer=args.optimizer, learning_rate=args.learning_rate,
    )
    train_config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size,
        validation_split=args.validation_split, train_size=args.train_size,
        lr_schedule=args.lr_schedule,
    )
    data = load_mnist()
    print(f"Data: {data.source}")
    print(f"{len(data.x_train):,} training and {len(data.x_test):,} test images")
    store = None if args.no_save else _store(args)

    def print_epoch(epoch: int, logs: dict) -> None:
        names = ("loss", "accuracy", "val_loss", "val_accuracy")
        metrics = " - ".join(f"{name} {logs[name]:.4f}" for name in names if name in logs)
        print(f"Epoch {epoch + 1}/{args.epochs}: {metrics}", flush=True)

    job = TrainingJob(data, model_config, train_config, store=store,
                      callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=print_epoch)])
    print(summary_text(summary_rows(job.model)))
    if store is not None:
        print(f"Run {job.run_id}: saved as it trains in {store.run_dir(job.run_id)}", flush=True)
    job.run()
    progress = job.progress()
    if progress.save_error:
        print(progress.save_error, file=sys.stderr)
    if progress.status == JobStatus.FAILED:
        print(f"Training failed: {progress.error}", file=sys.stderr)
        return 1
    print(f"Test loss: {progress.test_loss:.4f}")
    print(f"Test accuracy: {progress.test_accuracy:.4f}")
    job.model.save(args.out)
    print(f"Saved the model to {args.out}")
    if store is not None:
        print(f"Saved run {job.run_id} in {store.run_dir(job.run_id)}")
    return 0


def predict(args: argparse.Namespace) -> int:
    from mnist_core.images import load_image
    from mnist_core.model import load_model
    from mnist_core.predict import read_digit
    from mnist_core.preprocess import THICK_PEN_TEXT, preprocess_steps

    steps = preprocess_steps(load_image(args.image))
    if steps is None:
        print(f"No digit found in {args.image}: the image looks empty.", file=sys.stderr)
        return 1
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
    from mnist_core.store import RunStore

    return RunStore(args.runs_dir)


# --- evaluate ----------------------------------------------------------------------------

EVAL_BATCH = 1_000  # test images per model call: the CNN's feature maps stay small


def per_class_report(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> list[dict]:
    """Precision, recall, F1 and support of each class, from the two label vectors.

    A class never predicted has precision 0 (and never seen, recall 0), as
    scikit-learn reports them with `zero_division=0`.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    rows = []
    for digit in range(num_classes):
        true_positive = int(np.sum((y_pred == digit) & (y_true == digit)))
        predicted = int(np.sum(y_pred == digit))
        support = int(np.sum(y_true == digit))
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"digit": digit, "precision": precision, "recall": recall, "f1": f1,
                     "support": support})
    return rows


def evaluate(args: argparse.Namespace) -> int:
    from mnist_core.data import load_mnist, prepare_images
    from mnist_core.model import load_model
    from mnist_core.predict import predict_proba

    if args.run is not None:
        store = _store(args)
        model, name = store.load_model(args.run), f"run {args.run}"
    else:
        model, name = load_model(args.model), args.model
    data = load_mnist()
    print(f"Data: {data.source}")
    x = prepare_images(data.x_test)
    probabilities = np.concatenate([predict_proba(model, x[start:start + EVAL_BATCH])
                                    for start in range(0, len(x), EVAL_BATCH)])
    y_true = data.y_test.astype(int)
    y_pred = probabilities.argmax(axis=1)
    picked = np.clip(probabilities[np.arange(len(y_true)), y_true], 1e-7, 1.0)
    loss = float(-np.log(picked).mean())
    accuracy = float(np.mean(y_pred == y_true))
    print(f"Model: {name}")
    print(f"Test images: {len(y_true):,}")
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {accuracy:.4f}")
    rows = per_class_report(y_true, y_pred)
    print(f"{'digit':>5} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>7}")
    for row in rows:
        print(f"{row['digit']:>5} {row['precision']:>9.4f} {row['recall']:>7.4f} "
              f"{row['f1']:>7.4f} {row['support']:>7}")
    macro = {key: float(np.mean([row[key] for row in rows]))
             for key in ("precision", "recall", "f1")}
    print(f"{'macro':>5} {macro['precision']:>9.4f} {macro['recall']:>7.4f} "
          f"{macro['f1']:>7.4f} {len(y_true):>7}")
    return 0


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
    copied = _store(args).export(args.run_id, args.dest)
    for path in copied:
        print(f"Exported {path}")
    return 0


def runs_rename(args: argparse.Namespace) -> int:
    _store(args).rename(args.run_id, args.name)
    print(f"Run {args.run_id} renamed to {args.name!r}" if args.name.strip()
          else f"Run {args.run_id} has no name now")
    return 0


def runs_delete(args: argparse.Namespace) -> int:
    _store(args).delete(args.run_id)
    print(f"Deleted run {args.run_id}")
    return 0


RUN_ACTIONS = {
    "list": runs_list, "show": runs_show, "export": runs_export,
    "rename": runs_rename, "delete": runs_delete,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"train": train, "predict": predict, "evaluate": evaluate}
    command = RUN_ACTIONS[args.action] if args.command == "runs" else commands[args.command]
    try:
        return command(args)
    except (MnistDataError, ImageError, ModelFileError, ValueError, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
