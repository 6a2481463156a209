"""Inside the network: weights, feature maps, activations and saliency as heatmaps.

Signed values take diverging colour scales centred on 0; the numbers come from
mnist_core.inside, and nothing here needs TensorFlow.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from mnist_core.data import IMAGE_SIZE

if TYPE_CHECKING:
    from mnist_core.inside import LayerActivation

DIVERGING = "RdBu_r"  # negative blue, 0 white, positive red
# Non-negative activations: 0 black, the strongest bright yellow. Inferno starts at
# #000004, one of the colours #000001–#000040 that Streamlit's Plotly theme treats as
# placeholders for its own palette (0 turned pink): pure black instead.
FIRING = [[i / (len(plotly.colors.sequential.Inferno) - 1), colour]
          for i, colour in enumerate(["#000000", *plotly.colors.sequential.Inferno[1:]])]
TRANSPARENT_BELOW = 0.02  # saliency under 2% of the strongest is left off the overlay


def _symmetric_limit(values: np.ndarray) -> float:
    """A colour range ±limit centred on 0; never 0, so a blank map still draws."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    limit = float(finite.max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def _mosaic(images: np.ndarray, columns: int) -> tuple[np.ndarray, list, int]:
    """Tiles in one array with NaN gaps (one heatmap is far lighter than a subplot each).

    Returns the array, each tile's top-left corner and the height of the label band
    left free above every tile.
    """
    count, height, width = images.shape
    rows = math.ceil(count / columns)
    gap = max(1, height // 10)
    band = max(1, math.ceil(height * 0.3))
    canvas = np.full((rows * (height + band) + (rows - 1) * gap,
                      columns * width + (columns - 1) * gap), np.nan)
    corners = []
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top = row * (height + band + gap) + band
        left = column * (width + gap)
        canvas[top:top + height, left:left + width] = image
        corners.append((top, left))
    return canvas, corners, band


def _colour_axis(values: np.ndarray, diverging: bool) -> dict:
    """Signed values: blue < 0 < red, symmetric around 0. Otherwise dark (0) to bright."""
    limit = _symmetric_limit(values)
    if diverging:
        return dict(colorscale=DIVERGING, cmin=-limit, cmax=limit, colorbar=dict(thickness=12))
    return dict(colorscale=FIRING, cmin=0.0, cmax=limit, colorbar=dict(thickness=12))


def tiles_figure(images: np.ndarray, numbers: Sequence[int], noun: str, title: str, *,
                 diverging: bool = True, columns: int = 8, tile_px: int = 78) -> go.Figure:
    """Small images in a grid, each labelled "noun number", on one shared colour scale."""
    images = np.asarray(images, dtype=float)
    count, height, width = images.shape
    columns = max(1, min(columns, count))
    canvas, corners, band = _mosaic(images, columns)
    fig = go.Figure(go.Heatmap(
        z=canvas.astype(np.float32), coloraxis="coloraxis", hoverongaps=False,
        hovertemplate="%{z:.4f}<extra></extra>",
    ))
    labels = [
        dict(x=left + (width - 1) / 2, y=top - 0.5 - band / 2, text=f"{noun} {number}",
             showarrow=False, font=dict(size=10), yanchor="middle")
        for number, (top, left) in zip(numbers, corners)
    ]
    fig.update_layout(
        title=title, annotations=labels, coloraxis=_colour_axis(images, diverging),
        plot_bgcolor="rgba(0,0,0,0)", height=math.ceil(count / columns) * tile_px + 70,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig


def weights_figure(images: np.ndarray, units: Sequence[int], noun: str,
                   layer_name: str) -> go.Figure:
    """The chosen first-layer units' weights (or filters) as images, blue < 0 < red.

    `images` are those units' weights as `inside.first_layer_weights` gives them, `noun`
    what a unit is (`inside.unit_noun`). Red: ink there excites the unit; blue: ink
    there inhibits it. One colour scale for all tiles, so strong and weak units compare.
    """
    units = [int(unit) for unit in units]
    shape = "×".join(str(size) for size in images.shape[1:])
    name = html.escape(layer_name)  # an imported model names its own layers
    title = f"{name}: weights of {len(units)} {noun}s ({shape} each)"
    return tiles_figure(images, units, noun, title, diverging=True,
                        tile_px=60 if images.shape[1] < 10 else 96)


def feature_maps_figure(activation: LayerActivation, filters: Sequence[int] | None = None
                        ) -> go.Figure:
    """A Conv2D layer's feature maps for one input: where each filter found its pattern."""
    maps = activation.maps()
    filters = list(range(len(maps))) if filters is None else [int(f) for f in filters]
    signed = bool((activation.values < 0).any())
    return tiles_figure(maps[filters], filters, "filter", activation.title,
                        diverging=signed, tile_px=70)


def activations_figure(activation: LayerActivation, columns: int = 32) -> go.Figure:
    """A Dense layer's outputs as a grid of cells, unit 0 top left, row by row."""
    values = np.asarray(activation.values, dtype=float)
    columns = max(1, min(columns, len(values)))
    rows = math.ceil(len(values) / columns)
    grid = np.full(rows * columns, np.nan)
    grid[:len(values)] = values
    units = np.arange(rows * columns).reshape(rows, columns)
    fig = go.Figure(go.Heatmap(
        z=grid.reshape(rows, columns).astype(np.float32), customdata=units, coloraxis="coloraxis",
        hoverongaps=False, xgap=1, ygap=1,
        hovertemplate="unit %{customdata}: %{z:.3f}<extra></extra>",
    ))
    firing = int((values > 0).sum())
    fig.update_layout(
        title=f"{activation.title}, {firing} firing (> 0)",
        coloraxis=_colour_axis(values, diverging=bool((values < 0).any())),
        plot_bgcolor="rgba(0,0,0,0)", height=min(40 + rows * 22, 520) + 40,
        margin=dict(l=10, r=10, t=40, b=10),
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    return fig


def saliency_figure(x: np.ndarray, maps: np.ndarray, digit: int, versus: int,
                    method: str = "gradient × input") -> go.Figure:
    """Three panels over the grey input: evidence for `digit`, for `versus`, and their difference.

    Red pixels push towards the panel's digit, blue ones away from it; one colour
    scale, symmetric around 0, serves all three panels so they compare directly.
    Values under 2% of the strongest are left transparent, so the input shows through.
    """
    x = np.asarray(x, np.float32).reshape(IMAGE_SIZE, IMAGE_SIZE)
    panels = np.stack([maps[digit], maps[versus], maps[digit] - maps[versus]])
    titles = [f"evidence for {digit}", f"evidence for {versus}", f"{digit} rather than {versus}"]
    limit = _symmetric_limit(panels)
    shown = np.where(np.abs(panels) >= TRANSPARENT_BELOW * limit, panels, np.nan)
    inputs, corners, band = _mosaic(np.stack([x] * 3), columns=3)
    evidence, _, _ = _mosaic(shown, columns=3)
    fig = go.Figure([
        go.Heatmap(z=inputs.astype(np.float32), colorscale="gray", zmin=0, zmax=1,
                   showscale=False, hoverinfo="skip", hoverongaps=False, name="input"),
        go.Heatmap(z=evidence.astype(np.float32), coloraxis="coloraxis", opacity=0.75,
                   hoverongaps=False, name="saliency",
                   hovertemplate="%{z:.4f}<extra></extra>"),
    ])
    labels = [
        dict(x=left + (IMAGE_SIZE - 1) / 2, y=top - 0.5 - band / 2, text=title,
             showarrow=False, font=dict(size=12), yanchor="middle")
        for title, (top, left) in zip(titles, corners)
    ]
    fig.update_layout(
        title=f"Why {digit} and not {versus}? ({method})", annotations=labels,
        coloraxis=_colour_axis(panels, diverging=True), plot_bgcolor="rgba(0,0,0,0)",
        height=300, margin=dict(l=10, r=10, t=40, b=10),
    )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig
