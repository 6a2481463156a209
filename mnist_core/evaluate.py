"""How well a model reads the 10,000 test digits, and where it goes wrong.

`evaluate()` runs the network once over the test set; everything else — loss,
accuracy, confusion matrix, per-digit precision/recall/F1, the images behind a
cell, the most confident mistakes — is plain numpy on its softmax, so a page can
ask for any view without calling the network again. The figure builders for the
Evaluate page live here too. No Streamlit and no sklearn: the counts are simple
enough to do by hand, and tests check them against direct counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_core.data import NUM_CLASSES, prepare_images
from mnist_core.figures import BAR_COLOUR, READ_COLOUR

if TYPE_CHECKING:  # keeps TensorFlow out of pages that have no model yet
    import keras

DIGITS = tuple(range(NUM_CLASSES))
EPSILON = 1e-7  # Keras' backend epsilon: probabilities are clipped to it for the loss
BATCH_SIZE = 1_000  # test images per model call: as fast as larger batches, and the
# CNN's first feature maps (1,000 × 26×26×32 floats = 87 MB) stay modest
MISTAKES_SHOWN = 24
CELL_IMAGES_SHOWN = 12
RIGHT_COLOUR = "#c7dcef"  # the diagonal: a quiet blue, so mistakes draw the eye
MISTAKE_SCALE = "OrRd"
LOG_FLOOR = -0.5  # the colour scale starts below log10(1) = 0: one mistake is already visible
CHOSEN_COLOUR = "#111111"
CONFUSION_HEIGHT = 620  # px: cells of about 45 px in the Evaluate page's wide column
CELL_TARGET = 44  # px: each cell's invisible click target, about the whole cell
TRUE_COLOUR = "#2ca02c"  # the right answer, when the network missed it
BAR_STRIP = 13  # gallery: pixel rows under each image for its softmax bars
BAR_HEIGHT = 11  # a probability of 1 is a bar this many pixels high
BAR_WIDTH = 2.2
STRIP_COLOUR = "#f0f0f0"
BAR_POSITIONS = [1.4 + 2.8 * digit for digit in range(NUM_CLASSES)]  # spread across 28 px

@dataclass(frozen=True)
class Evaluation:
    """A model's answers on the test set and the usual measures of them.

    Rows of `confusion` are true digits, columns the digit the model read.
    """

    y_test: np.ndarray  # (N,) true digits
    probabilities: np.ndarray  # (N, 10) softmax
    predicted: np.ndarray  # (N,) the digit read: argmax of the softmax
    loss: float  # mean categorical cross-entropy, as Keras computes it
    accuracy: float
    confusion: np.ndarray  # (10, 10) counts
    precision: np.ndarray  # (10,) of the images read as d, the share that are d
    recall: np.ndarray  # (10,) of the images of d, the share read as d
    f1: np.ndarray  # (10,) harmonic mean of precision and recall

    @classmethod
    def from_softmax(cls, y_test: np.ndarray, probabilities: np.ndarray) -> Evaluation:
        """All measures from the true digits and the model's softmax for them."""
        y_test = np.asarray(y_test).astype(np.int64)
        probabilities = np.asarray(probabilities, dtype=np.float32)
        if probabilities.shape != (len(y_test), NUM_CLASSES):
            raise ValueError(f"expected softmax of shape ({len(y_test)}, {NUM_CLASSES}), "
                             f"got {probabilities.shape}")
        predicted = probabilities.argmax(axis=1)
        confusion = confusion_matrix(y_test, predicted)
        right = np.diag(confusion).astype(np.float64)
        precision = _share(right, confusion.sum(axis=0))
        recall = _share(right, confusion.sum(axis=1))
        f1 = _share(2 * precision * recall, precision + recall)
        return cls(
            y_test=y_test,
            probabilities=probabilities,
            predicted=predicted,
            loss=cross_entropy(y_test, probabilities),
            accuracy=float(right.sum() / len(y_test)) if len(y_test) else 0.0,
            confusion=confusion,
            precision=precision,
            recall=recall,
            f1=f1,
        )

    @property
    def size(self) -> int:
        return len(self.y_test)

    @property
    def confidence(self) -> np.ndarray:
        """(N,) the probability the model gave to the digit it read."""
        return self.probabilities[np.arange(self.size), self.predicted]

    @property
    def mistakes(self) -> int:
        return int((self.predicted != self.y_test).sum())

    @property
    def macro_precision(self) -> float:
        return float(self.precision.mean())

    @property
    def macro_recall(self) -> float:
        return float(self.recall.mean())

    @property
    def macro_f1(self) -> float:
        return float(self.f1.mean())

    def cell(self, true_digit: int, read_as: int) -> np.ndarray:
        """Test indices of the `true_digit`s read as `read_as`, most confident first."""
        indices = np.flatnonzero((self.y_test == true_digit) & (self.predicted == read_as))
        return indices[np.argsort(-self.confidence[indices], kind="stable")]

    def most_confident_mistakes(self, n: int = MISTAKES_SHOWN) -> np.ndarray:
        """Test indices of the `n` wrong answers given with the highest probability.

        These are the interesting errors: often a mislabelled or truly ambiguous
        digit, sometimes a blind spot of the network.
        """
        wrong = np.flatnonzero(self.predicted != self.y_test)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")][:n]

    def most_frequent_mistake(self) -> tuple[int, int] | None:
        """(true digit, read as) of the off-diagonal cell with most images; None if none."""
        off_diagonal = self.confusion * (1 - np.eye(NUM_CLASSES, dtype=self.confusion.dtype))
        if not off_diagonal.any():
            return None
        true_digit, read_as = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
        return int(true_digit), int(read_as)

    def per_class_rows(self) -> list[dict]:
        """One row per digit, then the macro average (every digit counts the same).

        The average row has no image counts (None): an average of counts means nothing,
        and their total, the size of the test set, is not an average either.
        """
        images = self.confusion.sum(axis=1)
        read = self.confusion.sum(axis=0)
        rows = [
            {"digit": str(digit), "test images": int(images[digit]),
             "read as this digit": int(read[digit]),
             "precision": float(self.precision[digit]), "recall": float(self.recall[digit]),
             "F1": float(self.f1[digit])}
            for digit in DIGITS
        ]
        rows.append({"digit": "average", "test images": None, "read as this digit": None,
                     "precision": self.macro_precision, "recall": self.macro_recall,
                     "F1": self.macro_f1})
        return rows


def evaluate(
    model: keras.Model, x_test: np.ndarray, y_test: np.ndarray, batch_size: int = BATCH_SIZE
) -> Evaluation:
    """Run `model` over the test images (uint8 N×28×28) and measure its answers."""
    return Evaluation.from_softmax(y_test, softmax_of(model, x_test, batch_size))


def softmax_of(model: keras.Model, x_test: np.ndarray, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """(N, 10) softmax for uint8 images, prepared like the training images.

    The model is called in large batches through one `tf.function`: as a graph,
    TensorFlow fuses each convolution with its bias and ReLU, so the CNN takes far
    less time than called eagerly, and tracing it costs little. `model.predict` is
    as fast for the CNN but slower for the dense model. The timings:
    docs/benchmarks.md, "Evaluating" (bench/evaluate_speed.py).
    """
    from mnist_core.predict import graph_call  # TensorFlow: only once a model is evaluated

    x = prepare_images(np.asarray(x_test)).reshape(-1, *model.input_shape[1:])
    if not len(x):
        return np.zeros((0, NUM_CLASSES), np.float32)
    call = graph_call(model)
    return np.concatenate([call(x[start:start + batch_size]).numpy()
                           for start in range(0, len(x), batch_size)])


def confusion_matrix(y_test: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(10, 10) counts: row = true digit, column = digit read."""
    pairs = np.asarray(y_test, np.int64) * NUM_CLASSES + np.asarray(predicted, np.int64)
    return np.bincount(pairs, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def cross_entropy(y_test: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean categorical cross-entropy exactly as Keras computes it from probabilities.

    Keras rescales each row to sum to 1 and clips to [ε, 1−ε] before the log, so a
    confident wrong answer costs at most −log(ε) ≈ 16 instead of infinity.
    """
    if not len(y_test):
        return 0.0
    p = np.asarray(probabilities, np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.log(p[np.arange(len(p)), np.asarray(y_test, np.int64)]).mean())


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, and 0 where whole is 0 (a digit never read has precision 0)."""
    part, whole = np.asarray(part, np.float64), np.asarray(whole, np.float64)
    return np.divide(part, whole, out=np.zeros_like(part), where=whole > 0)


def selected_cell(points: Sequence[dict]) -> tuple[int, int] | None:
    """(true digit, read as) of the first cell clicked in `confusion_figure`, or None.

    Plotly reports a clicked marker by its coordinates: x is the digit read, y the
    true digit. Points of other traces (none today) are ignored.
    """
    for point in points:
        x, y = point.get("x"), point.get("y")
        if x is not None and y is not None and x in DIGITS and y in DIGITS:
            return int(y), int(x)
    return None


# --- Titles -------------------------------------------------------------------------------


def mistake_title(evaluation: Evaluation, index: int) -> str:
    """ "4 → 9 (97%)": the true digit, the digit read and how sure, short enough to stand
    over a gallery image on a laptop's narrow page (the page says which is which)."""
    read = int(evaluation.predicted[index])
    p = float(evaluation.probabilities[index, read])
    share = f"{p:.0%}" if p < 0.995 else f"{p:.1%}"  # 99.6% sure and wrong is not "100%"
    return f"{int(evaluation.y_test[index])} → {read} ({share})"


def probability_title(evaluation: Evaluation, index: int) -> str:
    """ "#1234 · p(9)=0.83": the test image's index and the model's probability for its reading."""
    read = int(evaluation.predicted[index])
    return f"#{index} · p({read})={evaluation.probabilities[index, read]:.2f}"


# --- Figures ------------------------------------------------------------------------------


def confusion_figure(confusion: np.ndarray, chosen: tuple[int, int] | None = None) -> go.Figure:
    """The confusion matrix as an annotated heatmap: true digits down, readings across.

    The diagonal (the right answers, most of the images) would swamp any colour scale,
    so it gets one quiet colour, and the mistakes their own scale on a log axis:
    a cell with 2 mistakes stays visible beside one with 40. Counts are written in
    every cell. An invisible marker sits on each cell, because Streamlit reports
    clicks on scatter points but not on heatmap cells; `chosen` is outlined.
    """
    confusion = np.asarray(confusion)
    digits = list(DIGITS)
    is_right = np.eye(NUM_CLASSES, dtype=bool)
    mistakes = np.where(~is_right & (confusion > 0), np.log10(np.maximum(confusion, 1)), np.nan)
    # A log axis needs a span: with no mistake above 1 the scale runs from 1 to 10.
    top = max(1.0, float(np.nanmax(mistakes)) if np.isfinite(mistakes).any() else 1.0)
    ticks = [count for count in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if count <= 10**top]
    fig = go.Figure()
    fig.add_heatmap(
        x=digits, y=digits, z=np.where(is_right, 1.0, np.nan),
        colorscale=[[0, RIGHT_COLOUR], [1, RIGHT_COLOUR]], showscale=False, hoverinfo="skip",
        name="right",
    )
    fig.add_heatmap(
        x=digits, y=digits, z=mistakes, zmin=LOG_FLOOR, zmax=top, colorscale=MISTAKE_SCALE,
        hoverinfo="skip", name="mistakes",
        colorbar=dict(title=dict(text="mistakes (log scale)", side="top"),
                      tickvals=np.log10(ticks), ticktext=[str(t) for t in ticks],
                      orientation="h", x=0.5, y=-0.03, yanchor="top", len=0.7, thickness=12),
    )
    true_digit, read_as = np.meshgrid(digits, digits, indexing="ij")
    fig.add_scatter(
        x=read_as.ravel(), y=true_digit.ravel(), mode="markers", name="cells",
        marker=dict(symbol="square", size=CELL_TARGET, opacity=0, color="black"),
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        customdata=confusion.ravel(), showlegend=False,
        hovertemplate="true %{y}, read as %{x}: %{customdata} image(s)<extra></extra>",
    )
    shade = (mistakes - LOG_FLOOR) / (top - LOG_FLOOR)  # 0–1 along the colour scale, or NaN
    counts = [
        dict(x=column, y=row, text=str(count), showarrow=False,
             font=dict(size=14, color=_count_colour(count, float(shade[row, column]))))
        for (row, column), count in np.ndenumerate(confusion)
    ]
    outline = [] if chosen is None else [
        dict(type="rect", x0=chosen[1] - 0.5, x1=chosen[1] + 0.5, y0=chosen[0] - 0.5,
             y1=chosen[0] + 0.5, line=dict(color=CHOSEN_COLOUR, width=3))
    ]
    axis_font = dict(title_font_size=15, tickfont_size=14, showgrid=False, zeroline=False,
                     constrain="domain", fixedrange=True, tickvals=digits)
    fig.update_layout(
        title="Confusion matrix",
        xaxis=dict(title="read as", side="top", range=[-0.5, 9.5], **axis_font),
        yaxis=dict(title="true digit", range=[9.5, -0.5], scaleanchor="x", **axis_font),
        annotations=counts, shapes=outline, plot_bgcolor="white", hovermode="closest",
        height=CONFUSION_HEIGHT, margin=dict(l=10, r=10, t=90, b=10),
    )
    return fig


def _count_colour(count: int, shade: float) -> str:
    """Black on light cells, white on the darkest mistakes, grey for a zero."""
    if count == 0:
        return "#bbbbbb"
    return "white" if shade > 0.6 else "black"  # NaN (the diagonal) compares False


def gallery_figure(
    images: np.ndarray,
    titles: Sequence[str],
    probabilities: np.ndarray | None = None,
    true_digits: Sequence[int] | None = None,
    columns: int = 6,
) -> go.Figure:
    """Test digits in a grid, each titled; with `probabilities`, its softmax bars below it.

    Image and bars share one pair of axes (the bars in the strip under the image,
    on the same pixel scale), so the grid needs one subplot per image, not two. In
    the bars the digit read is red and, when it is wrong, the true digit green: the
    gap between them shows how close the network came.
    """
    images = np.asarray(images)
    with_bars = probabilities is not None
    grid_rows = max(1, -(-len(images) // columns))
    gaps = 0.3 if with_bars else 0.16  # room for the next row's titles (and the bars' digits)
    fig = make_subplots(
        rows=grid_rows, cols=columns, subplot_titles=list(titles),
        horizontal_spacing=0.03, vertical_spacing=min(0.3, gaps / grid_rows),
    )
    image_base = BAR_STRIP if with_bars else 0
    strips: list[dict] = []
    for item, image in enumerate(images):
        row, column = divmod(item, columns)
        # Flipped, because a heatmap's first row is drawn at the bottom.
        fig.add_heatmap(z=np.asarray(image)[::-1], y0=image_base, zmin=0, zmax=255,
                        colorscale="gray", showscale=False, hoverinfo="skip",
                        row=row + 1, col=column + 1)
        if probabilities is not None:
            p = np.asarray(probabilities[item], np.float64)
            read = int(p.argmax())
            truth = None if true_digits is None else int(true_digits[item])
            colours = [READ_COLOUR if d == read else TRUE_COLOUR if d == truth else BAR_COLOUR
                       for d in DIGITS]
            fig.add_bar(x=BAR_POSITIONS, y=p * BAR_HEIGHT, base=-0.5, width=BAR_WIDTH,
                        customdata=p, marker_color=colours, showlegend=False,
                        hovertemplate="%{text}: %{customdata:.1%}<extra></extra>",
                        text=[f"digit {d}" for d in DIGITS], textposition="none",
                        row=row + 1, col=column + 1)
        axes = fig.get_subplot(row + 1, column + 1)
        x_name = axes.xaxis.plotly_name.replace("axis", "")
        axes.yaxis.update(scaleanchor=x_name, range=[-0.5, image_base + 27.5])
        if with_bars:  # a light strip behind the bars shows where a probability of 1 ends
            strips.append(dict(type="rect", xref=x_name, yref=axes.yaxis.plotly_name.replace(
                "axis", ""), x0=-0.5, x1=27.5, y0=-0.5, y1=BAR_HEIGHT - 0.5,
                fillcolor=STRIP_COLOUR, line_width=0, layer="below"))
    fig.update_xaxes(range=[-0.5, 27.5], showgrid=False, zeroline=False, constrain="domain",
                     tickvals=BAR_POSITIONS if with_bars else [], ticktext=list(map(str, DIGITS)),
                     tickfont=dict(size=8), ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain",
                     ticks="")
    fig.update_annotations(font_size=10)
    per_row = 185 if with_bars else 120
    fig.update_layout(height=per_row * grid_rows + 30, margin=dict(l=10, r=10, t=30, b=10),
                      plot_bgcolor="white", shapes=strips)
    return fig
