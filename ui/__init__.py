"""Streamlit pieces that the app's frame (app.py) and its pages share.

Imports go one way: app.py and pages/ → ui → mnist_core, which holds the logic
and never imports Streamlit. This package re-exports nothing: import each name from
the module that says what it is for.

- `router`: the pages and the frame around them (app.py runs it; every page checks it).
- `patches`: the one change to Streamlit's behaviour through its private API.
- `server`: what every session shares, made once per server: the dataset, the runs.
- `session`: this session's runs: the one it follows, the one it draws with, the link.
- `reader`: the ready reader shipped with the app, for sessions without a model.
- `sidebar`: the training settings and their link, the model status, page switches.
- `monitor`: a run's live progress, metrics and charts.
- `layout`: the app's CSS and the blocks the pages lay out alike.
- `formats`: names and number formats that every page shows alike.

Within the package: formats, layout, patches and server import nothing from ui;
session imports server; reader imports server and session; monitor and sidebar
import those and formats or layout; router imports layout, patches, server, session
and sidebar; nothing in ui imports monitor, reader, sidebar or router.
"""
