"""Plotly figures: every chart the app draws, built from the numbers that the analysis
modules (explore, evaluate, inside, compare) compute. The pages only place them.

- `style`: colours, legend and sizes shared by all.
- `training`: training curves, a reading across epochs, runs overlaid.
- `images`: digits as images and grids.
- `softmax`: a reading's ten probabilities.
- `data`, `evaluation`, `inside`: the figures of those pages.
"""
