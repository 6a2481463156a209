"""Command line: train the classic model and read digits from image files.

    python -m mnist_core train --epochs 5 --batch-size 128 --out model.keras
    python -m mnist_core predict digit.png --model model.keras
"""

from __future__ import annotations

import argparse
import sys

from mnist_core.config import ACTIVATIONS, ARCHITECTURES, OPTIMIZERS
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
    train.add_argument("--architecture", choices=ARCHITECTURES, default="dense",
                       help="dense: the classic tutorial's network; cnn: Keras' simple convnet")
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

    predict = commands.add_parser("predict", help="read the digit in an image file")
    predict.add_argument("image", help="PNG/JPEG: dark digit on light, or white on black")
    predict.add_argument("--model", required=True, help="a .keras file saved by `train`")
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
    )
    data = load_mnist()
    print(f"Data: {data.source}")
    print(f"{len(data.x_train):,} training and {len(data.x_test):,} test images")

    def print_epoch(epoch: int, logs: dict) -> None:
        names = ("loss", "accuracy", "val_loss", "val_accuracy")
        metrics = " - ".join(f"{name} {logs[name]:.4f}" for name in names if name in logs)
        print(f"Epoch {epoch + 1}/{args.epochs}: {metrics}", flush=True)

    job = TrainingJob(data, model_config, train_config,
                      callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=print_epoch)])
    print(summary_text(summary_rows(job.model)))
    job.run()
    progress = job.progress()
    if progress.status == JobStatus.FAILED:
        print(f"Training failed: {progress.error}", file=sys.stderr)
        return 1
    print(f"Test loss: {progress.test_loss:.4f}")
    print(f"Test accuracy: {progress.test_accuracy:.4f}")
    job.model.save(args.out)
    print(f"Saved the model to {args.out}")
    return 0


def predict(args: argparse.Namespace) -> int:
    from mnist_core.images import load_image
    from mnist_core.model import load_model
    from mnist_core.predict import read_digit
    from mnist_core.preprocess import preprocess_canvas

    x = preprocess_canvas(load_image(args.image))
    if x is None:
        print(f"No digit found in {args.image}: the image looks empty.", file=sys.stderr)
        return 1
    reading = read_digit(load_model(args.model), x)
    probabilities = reading.probabilities
    print(f"Prediction: {reading.digit} ({probabilities[reading.digit]:.1%})")
    print(reading.verdict.message)
    for d, p in enumerate(probabilities):
        print(f"  {d}: {p:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return train(args) if args.command == "train" else predict(args)
    except (MnistDataError, ImageError, ModelFileError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
