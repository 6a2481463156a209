"""The Evaluate page's figures: the confusion matrix, and galleries of test digits with
their softmax."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_core.data import NUM_CLASSES
from mnist_core.evaluate import DIGITS
from mnist_core.figures.style import (
    BAR_COLOUR,
    READ_COLOUR,
    TRUE_COLOUR,
)

RIGHT_COLOUR = "#c7dcef"  # the diagonal: a quiet blue, so mistakes draw the eye
MISTAKE_SCALE = "OrRd"
LOG_FLOOR = -0.5  # the colour scale starts below log10(1) = 0: one mistake is already visible
CHOSEN_COLOUR = "#111111"
CONFUSION_HEIGHT = 620  # px: cells of about 45 px in the Evaluate page's wide column
CELL_TARGET = 44  # px: each cell's invisible click target, about the whole cell
BAR_STRIP = 13  # gallery: pixel rows under each image for its softmax bars
BAR_HEIGHT = 11  # a probability of 1 is a bar this many pixels high
BAR_WIDTH = 2.2
STRIP_COLOUR = "#f0f0f0"
BAR_POSITIONS = [1.4 + 2.8 * digit for digit in range(NUM_CLASSES)]  # spread across 28 px


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
