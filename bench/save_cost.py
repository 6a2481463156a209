"""What saving a run as it trains costs, per epoch, against the epoch itself.

Trains the default model (or `--hidden-units …`) with a `RunStore` in a temporary
directory and times every save the training thread makes at an epoch's end
(history, run.json, and the model in full or the weights snapshot, all atomic and
fsynced). Then times the two ways of keeping an epoch's weights on their own:
a full `.keras` save and a `weights.npz` snapshot.

    MNIST_DATA=../shared/data/mnist.npz python bench/save_cost.py --epochs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from mnist_core.atomic import atomic_save_model, atomic_write
from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.data import load_mnist
from mnist_core.runs import store as store_module
from mnist_core.runs.records import JobStatus
from mnist_core.runs.store import RunStore
from mnist_core.runs.train import TrainingJob


class TimedStore(RunStore):
    """A RunStore that remembers how long each save took and what it wrote."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.saves: list[tuple[bool, float, str]] = []

    def save_progress(self, job, *, epoch_end: bool = False) -> None:
        run_dir = self.root / job.run_id
        before = _mtimes(run_dir)
        started = time.perf_counter()
        super().save_progress(job, epoch_end=epoch_end)
        seconds = time.perf_counter() - started
        after = _mtimes(run_dir)
        written = [name for name in ("model.keras", "weights.npz")
                   if after.get(name) != before.get(name) and name in after]
        self.saves.append((epoch_end, seconds, "+".join(written) or "metadata"))


def _mtimes(run_dir: Path) -> dict:
    if not run_dir.is_dir():
        return {}
    return {path.name: path.stat().st_mtime_ns for path in run_dir.iterdir()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--hidden-units", type=int, nargs="*", default=[512])
    parser.add_argument("--repeats", type=int, default=5, help="of the standalone saves")
    args = parser.parse_args()

    data = load_mnist()
    model_config = ModelConfig(hidden_units=tuple(args.hidden_units))
    train_config = TrainConfig(epochs=args.epochs, train_size=args.train_size)
    print(f"Python {platform.python_version()} on {os.cpu_count()} CPUs; {data.source}")
    print(f"Model {model_config.hidden_units}, {args.epochs} epochs, "
          f"train size {args.train_size or 'all'}; budget {store_module.MODEL_SAVE_BUDGET:.0%}")
    with tempfile.TemporaryDirectory() as root:
        store = TimedStore(root)
        job = TrainingJob(data, model_config, train_config, store=store)
        job.run()
        assert job.progress().status == JobStatus.FINISHED, job.progress().error
        epoch_saves = [save for save in store.saves if save[0]]
        print(f"{'epoch':>5} {'epoch s':>8} {'save ms':>8} {'share':>6}  wrote")
        for record, (_, seconds, wrote) in zip(job.progress().history, epoch_saves):
            print(f"{record.epoch:>5} {record.seconds:>8.2f} {seconds * 1000:>8.1f} "
                  f"{seconds / record.seconds:>6.1%}  {wrote}")
        final = store.saves[-1]
        print(f"final save (status, test metrics, model if needed): {final[1] * 1000:.1f} ms, "
              f"wrote {final[2]}")

        model_ms, weights_ms = [], []
        snapshot = job.latest_snapshot()
        scratch = Path(root) / "scratch"
        scratch.mkdir()
        for _ in range(args.repeats):
            started = time.perf_counter()
            atomic_save_model(job.model, scratch / "model.keras")
            model_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            atomic_write(scratch / "weights.npz",
                         lambda file: np.savez(file, *snapshot.weights, epoch=np.int64(1)))
            weights_ms.append((time.perf_counter() - started) * 1000)
        size = (scratch / "model.keras").stat().st_size / 1e6
        print(f"full model save, atomic + fsync: median {statistics.median(model_ms):.1f} ms "
              f"({size:.1f} MB); weights.npz: median {statistics.median(weights_ms):.1f} ms")
        mean_epoch = statistics.mean(r.seconds for r in job.progress().history[1:] or
                                     job.progress().history)
        print(f"full model save per epoch after the first: "
              f"{statistics.median(model_ms) / 1000 / mean_epoch:.1%} of an epoch")


if __name__ == "__main__":
    main()
