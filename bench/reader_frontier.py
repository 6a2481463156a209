"""Which setup reads drawings best for its training time: the ready reader's frontier.

Answers: what is the cheapest setup that reads ≥ 98% of the benchmark's 1,000
simulated drawings? The goal is ≤ 10 minutes of training on 2 CPU cores (the
reader is rebuilt with `python -m mnist_core reader`; models/reader.json says how
long it took).

Trains each candidate on MNIST's training set (all of it, no validation split, as
the reader is trained) and measures, on the same machine:

- training minutes: the wall clock of `TrainingJob.run()` (fit and the test-set
  evaluation) plus the time to make its drawing-style examples. The examples are
  made once and kept under runs/drawing-examples (`EXAMPLES_DIR`), so later
  candidates read them back; each row still counts their making: measured when
  this run made them, else estimated by making 1,000 afresh, uncached;
- drawings: the share of the benchmark's 1,000 simulated drawings read right
  (`mnist_core.reader.drawings_accuracy`, what models/reader.json records);
- hand-drawn: the share of mnist_core/stroke_digits.py's mouse-stroke digits read
  right (not made by the simulator the examples come from: a setup that only
  learnt the simulator's quirks shows it here);
- MNIST test: the share of MNIST's 10,000 test digits read right.

Each row is printed as soon as its candidate is trained and written to the JSON
file at once (a run cut short keeps its rows; a later run replaces rows of the
same candidate and settings, keeps the others), and the plot is drawn again from
the JSON: docs/images/reader_frontier.png, the three accuracies against training
minutes.

    MNIST_DATA=../shared/data/mnist.npz python bench/reader_frontier.py
    MNIST_DATA=../shared/data/mnist.npz python bench/reader_frontier.py \\
        --candidates cnn-8ep-15k deep_cnn16-6ep-15k        (some of them)
    python bench/reader_frontier.py --plot-only             (the plot again, from the JSON)
    MNIST_DATA=../shared/data/mnist.npz MNIST_RUNS_DIR=/tmp/runs python \\
        bench/reader_frontier.py --train-size 2000 --drawings 100 --epochs 1 \\
        --examples 500 --candidates cnn-8ep-15k deep_cnn-4ep --json /tmp/f.json \\
        --plot /tmp/f.png                                   (a smoke test, in a minute)

Run it on an otherwise idle machine: the minutes are the point.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mnist_core.config import ModelConfig, TrainConfig
from mnist_core.reader import BENCHMARK_DRAWINGS, BENCHMARK_SEED

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads, in main()

TARGET_DRAWINGS = 0.98
GOAL_MINUTES = 10.0
DEFAULT_JSON = ROOT / "bench" / "results" / "reader_frontier.json"
DEFAULT_PLOT = ROOT / "docs" / "images" / "reader_frontier.png"
EXAMPLES = 15_000
ESTIMATE_FROM = 1_000  # examples made afresh to estimate the making of cached ones


@dataclass(frozen=True)
class Candidate:
    model: ModelConfig
    training: TrainConfig

    @property
    def summary(self) -> str:
        m, t = self.model, self.training
        filters = "/".join(map(str, m.conv_filters))
        extras = [m.optimizer] + (["augmentation"] if m.augment else []) + (
            ["cosine"] if t.lr_schedule == "cosine" else [])
        return f"{m.architecture} ({filters}; {', '.join(extras)})"


def _deep(filters=(32, 64)) -> ModelConfig:
    """The reader's network (mnist_core.reader.READER_MODEL), with `filters`."""
    return ModelConfig(architecture="deep_cnn", conv_filters=filters, dropout=0.5,
                       augment=True, optimizer="adam")


def _training(epochs: int, examples: int, schedule: str = "cosine") -> TrainConfig:
    return TrainConfig(epochs=epochs, validation_split=0.0, lr_schedule=schedule,
                       drawing_examples=examples)


SIMPLE_CNN = ModelConfig(architecture="cnn", dropout=0.5, optimizer="adam")  # Keras' example
CANDIDATES: dict[str, Candidate] = {  # the cheapest first: a run cut short still answers
    "cnn-8ep-15k": Candidate(SIMPLE_CNN, _training(8, EXAMPLES, "constant")),
    "deep_cnn16-6ep-15k": Candidate(_deep((16, 32)), _training(6, EXAMPLES)),
    "deep_cnn16-8ep-15k": Candidate(_deep((16, 32)), _training(8, EXAMPLES)),
    "deep_cnn-4ep": Candidate(_deep(), _training(4, 0)),
    "deep_cnn-4ep-15k": Candidate(_deep(), _training(4, EXAMPLES)),
    "deep_cnn-6ep": Candidate(_deep(), _training(6, 0)),
    "deep_cnn-6ep-15k": Candidate(_deep(), _training(6, EXAMPLES)),
    "deep_cnn-8ep": Candidate(_deep(), _training(8, 0)),
    "deep_cnn-8ep-15k": Candidate(_deep(), _training(8, EXAMPLES)),
}

HEADER = ("| candidate | network | epochs | drawing examples | training minutes "
          "| drawings | hand-drawn (strokes) | MNIST test |\n|---|---|---|---|---|---|---|---|")


def table_row(row: dict) -> str:
    if row.get("error"):
        return f"| {row['candidate']} | failed: {row['error']} |"
    mark = " ✓" if row["drawings_accuracy"] >= TARGET_DRAWINGS else ""
    minutes = f"{row['minutes']:.1f}"
    if row["drawing_examples"]:
        minutes += f" (examples {row['examples_minutes']:.1f}"
        minutes += ", estimated)" if row["examples_timing"] == "estimated" else ")"
    return (f"| {row['candidate']} | {row['network']} | {row['epochs']} "
            f"| {row['drawing_examples']:,} | {minutes} | {row['drawings_accuracy']:.1%}{mark} "
            f"| {row['hand_drawn_accuracy']:.1%} | {row['test_accuracy']:.2%} |")


# --- the JSON, kept row by row ---------------------------------------------------------


def load_rows(path: Path) -> list[dict]:
    try:
        return list(json.loads(Path(path).read_text())["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def save_row(path: Path, row: dict) -> list[dict]:
    """Add `row`, replacing one of the same candidate and settings; written atomically."""
    key = _key(row)
    rows = [r for r in load_rows(path) if _key(r) != key] + [row]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        json.dump({"about": __doc__.splitlines()[0], "rows": rows}, file, indent=2)
        file.write("\n")
    os.replace(file.name, path)
    return rows


def _key(row: dict) -> tuple:
    return (row.get("candidate"), row.get("train_size"), row.get("drawings"),
            row.get("epochs"), row.get("drawing_examples"))


# --- the plot ----------------------------------------------------------------------------


def plot(rows: list[dict], path: Path, train_size: int | None, drawings: int) -> str:
    """The three accuracies against training minutes, for the rows of these settings.

    matplotlib (installed with mlxtend) draws it; without it, nothing is drawn and
    the reason is returned.
    """
    rows = [r for r in rows if not r.get("error") and r.get("train_size") == train_size
            and r.get("drawings") == drawings]
    if not rows:
        return "no rows of these settings to plot"
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed: no plot (the table and the JSON have it all)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("drawings_accuracy", f"{drawings:,} simulated drawings"),
              ("hand_drawn_accuracy", "Hand-drawn digits (strokes)"),
              ("test_accuracy", "MNIST test set")]
    figure, axes = plt.subplots(1, 3, figsize=(15, 5), sharex=True)
    minutes = [r["minutes"] for r in rows]
    for axis, (field, title) in zip(axes, panels):
        for r in rows:
            colour = "tab:orange" if r["drawing_examples"] else "tab:blue"
            marker = "o" if r["network"].startswith("deep_cnn (32") else (
                "s" if r["network"].startswith("deep_cnn") else "^")
            axis.scatter(r["minutes"], 100 * r[field], c=colour, marker=marker, s=50, zorder=3)
            axis.annotate(r["candidate"], (r["minutes"], 100 * r[field]), fontsize=7,
                          xytext=(4, 3), textcoords="offset points")
        if field == "drawings_accuracy":
            axis.axhline(100 * TARGET_DRAWINGS, color="grey", linestyle="--", linewidth=1)
            axis.text(min(minutes), 100 * TARGET_DRAWINGS, " target 98%", va="bottom",
                      fontsize=8, color="grey")
        axis.axvline(GOAL_MINUTES, color="grey", linestyle=":", linewidth=1)
        axis.set_title(title)
        axis.set_xlabel("training minutes (examples included)")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("read right (%)")
    legend = [plt.Line2D([], [], color=c, marker="o", linestyle="", label=label)
              for c, label in (("tab:blue", "MNIST only"),
                               ("tab:orange", "+ drawing-style examples"))]
    legend += [plt.Line2D([], [], color="black", marker=m, linestyle="", label=label)
               for m, label in (("o", "deep_cnn 32/64"), ("s", "deep_cnn 16/32"),
                                ("^", "Keras' simple cnn"))]
    axes[0].legend(handles=legend, fontsize=8, loc="lower right")
    size = "all 60,000" if train_size is None else f"{train_size:,}"
    cores = sorted({r.get("cpu_count") for r in rows} - {None})
    figure.suptitle(f"Reading drawn digits against training time ({size} training digits, "
                    f"{'/'.join(map(str, cores)) or '?'} CPU cores)")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return f"plot: {path}"


def answer(rows: list[dict], train_size: int | None, drawings: int) -> str:
    rows = [r for r in rows if not r.get("error") and r.get("train_size") == train_size
            and r.get("drawings") == drawings]
    good = sorted((r for r in rows if r["drawings_accuracy"] >= TARGET_DRAWINGS),
                  key=lambda r: r["minutes"])
    if not good:
        return (f"None of the {len(rows)} candidates measured reads ≥ {TARGET_DRAWINGS:.0%} "
                "of the drawings.")
    best = good[0]
    goal = "within" if best["minutes"] <= GOAL_MINUTES else "over"
    return (f"Cheapest setup reading ≥ {TARGET_DRAWINGS:.0%} of the drawings: "
            f"{best['candidate']}, {best['minutes']:.1f} min ({goal} the {GOAL_MINUTES:.0f}-"
            f"minute goal), {best['drawings_accuracy']:.1%} of the drawings, "
            f"{best['hand_drawn_accuracy']:.1%} hand-drawn, "
            f"{best['test_accuracy']:.2%} MNIST test.")


# --- measuring ---------------------------------------------------------------------------


class Measures:
    """The drawings and hand-drawn digits, prepared once for every candidate."""

    def __init__(self, data, drawings: int) -> None:
        from mnist_core.drawings import drawn_test_set
        from mnist_core.preprocess import preprocess_canvas
        from mnist_core.stroke_digits import hand_drawn_set

        self.data, self.drawings = data, drawings
        if drawings != BENCHMARK_DRAWINGS:  # the first `drawings` of the benchmark's
            canvases, self.labels = drawn_test_set(data.x_test, data.y_test, drawings,
                                                   seed=BENCHMARK_SEED)
            self.inputs = np.array([preprocess_canvas(c) for c in canvases])
        hand, self.hand_labels = hand_drawn_set()
        self.hand = np.array([preprocess_canvas(c) for c in hand])

    def drawings_accuracy(self, model) -> float:
        from mnist_core.predict import predict_proba
        from mnist_core.reader import drawings_accuracy

        if self.drawings == BENCHMARK_DRAWINGS:
            return drawings_accuracy(model, self.data)
        return float(np.mean(predict_proba(model, self.inputs).argmax(1) == self.labels))

    def hand_drawn_accuracy(self, model) -> float:
        from mnist_core.predict import predict_proba

        return float(np.mean(predict_proba(model, self.hand).argmax(1) == self.hand_labels))


def examples_minutes(data, training: TrainConfig, examples_dir: Path,
                     made: dict[tuple, float]) -> tuple[float, str]:
    """(minutes to make the candidate's drawing-style examples, "measured" or "estimated").

    Made here and kept in `examples_dir` if not there yet (the job then reads them
    back); if they were, 1,000 are made afresh, uncached, and the time scaled up.
    """
    from mnist_core.drawing_examples import cache_name, drawing_examples

    count = training.drawing_examples
    if not count:
        return 0.0, "none"
    x, y = data.x_train[:training.train_size], data.y_train[:training.train_size]
    key = (len(x), count)
    if key in made:
        return made[key]
    if (Path(examples_dir) / cache_name(x, y, count, 0)).exists():
        sample = min(count, ESTIMATE_FROM)
        start = time.perf_counter()
        drawing_examples(x, y, sample, seed=1)  # uncached: no cache_dir
        made[key] = ((time.perf_counter() - start) / 60 * count / sample, "estimated")
    else:
        start = time.perf_counter()
        drawing_examples(x, y, count, cache_dir=examples_dir)
        made[key] = ((time.perf_counter() - start) / 60, "measured")
    return made[key]


def measure(name: str, candidate: Candidate, data, measures: Measures, examples_dir: Path,
            made: dict) -> dict:
    from mnist_core.runs.records import JobStatus
    from mnist_core.runs.train import TrainingJob

    training = candidate.training
    row = {"candidate": name, "network": candidate.summary,
           "model": candidate.model.to_dict(), "training": training.to_dict(),
           "epochs": training.epochs, "drawing_examples": training.drawing_examples,
           "train_size": training.train_size, "drawings": measures.drawings,
           "cpu_count": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}
    example_minutes, timing = examples_minutes(data, training, examples_dir, made)
    job = TrainingJob(data, candidate.model, training, examples_dir=examples_dir)
    start = time.perf_counter()
    job.run()
    seconds = time.perf_counter() - start
    progress = job.progress()
    if progress.status != JobStatus.FINISHED:
        return {**row, "error": progress.error or progress.status.value}
    return {**row, "job_minutes": seconds / 60, "examples_minutes": example_minutes,
            "examples_timing": timing, "minutes": seconds / 60 + example_minutes,
            "seconds_per_epoch": progress.seconds_per_epoch,
            "drawings_accuracy": measures.drawings_accuracy(job.model),
            "hand_drawn_accuracy": measures.hand_drawn_accuracy(job.model),
            "test_accuracy": float(progress.test_accuracy)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES),
                        choices=list(CANDIDATES), metavar="NAME",
                        help=f"which to train, of: {', '.join(CANDIDATES)}")
    parser.add_argument("--train-size", type=int, default=None,
                        help="the first N training digits only (a smoke test); default all")
    parser.add_argument("--drawings", type=int, default=BENCHMARK_DRAWINGS,
                        help="the first N of the benchmark's drawings (a smoke test)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="override every candidate's epochs (a smoke test)")
    parser.add_argument("--examples", type=int, default=None,
                        help="override the drawing-style examples of candidates that have "
                             "some (a smoke test)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT)
    parser.add_argument("--plot-only", action="store_true",
                        help="draw the plot and the table from the JSON; train nothing")
    args = parser.parse_args()

    if args.plot_only:
        rows = [r for r in load_rows(args.json) if r.get("train_size") == args.train_size
                and r.get("drawings") == args.drawings]
        print(HEADER)
        for row in sorted(rows, key=lambda r: r.get("minutes", float("inf"))):
            print(table_row(row))
        print(f"\n{answer(rows, args.train_size, args.drawings)}")
        print(plot(rows, args.plot, args.train_size, args.drawings))
        return

    from mnist_core.data import load_mnist
    from mnist_core.runs.store import default_runs_dir
    from mnist_core.runs.train import EXAMPLES_DIR

    data = load_mnist()
    examples_dir = default_runs_dir() / EXAMPLES_DIR
    print(f"Data: {data.source}; {os.cpu_count()} CPU cores; drawing-style examples kept "
          f"in {examples_dir}; rows also go to {args.json}", flush=True)
    measures = Measures(data, args.drawings)
    print(f"{args.drawings:,} simulated drawings, {len(measures.hand_labels)} hand-drawn "
          "digits\n", flush=True)
    print(HEADER, flush=True)
    made: dict = {}
    rows = []
    for name in args.candidates:
        candidate = CANDIDATES[name]
        training = candidate.training
        training = replace(training, train_size=args.train_size,
                           epochs=args.epochs or training.epochs,
                           drawing_examples=(args.examples if args.examples and
                                             training.drawing_examples
                                             else training.drawing_examples))
        candidate = replace(candidate, training=training)
        print(f"  (training {name}…)", file=sys.stderr, flush=True)
        row = measure(name, candidate, data, measures, examples_dir, made)
        rows = save_row(args.json, row)
        print(table_row(row), flush=True)
        plot(rows, args.plot, args.train_size, args.drawings)
    print(f"\n{answer(rows, args.train_size, args.drawings)}")
    print(plot(rows, args.plot, args.train_size, args.drawings))


if __name__ == "__main__":
    main()
