"""Importing mnist_core: the process-wide settings it makes before TensorFlow and BLAS run.

Each is checked in a fresh Python, as the app and the command line start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("preset", "expected"), [(None, "1"), ("0", "0")])
def test_onednn_kernels_are_on_unless_the_environment_says_otherwise(preset, expected):
    """They halve the CNN's evaluation on this TensorFlow (bench/evaluate_speed.py), and
    must be chosen before TensorFlow loads: importing mnist_core does it, in a fresh
    Python as the app and the command line start."""
    env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    if preset is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = preset
    code = "import os, mnist_core; print(os.environ['TF_ENABLE_ONEDNN_OPTS'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == expected


def test_numpy_matrix_products_stay_on_the_calling_thread():
    """OpenBLAS's workers only spin on the app's small products (a drawing through a
    dense network) and take CPU from training and the browser; importing mnist_core
    limits them to one thread, in a fresh Python as the app starts."""
    code = ("import mnist_core; from threadpoolctl import threadpool_info; "
            "print(sorted({pool['num_threads'] for pool in threadpool_info() "
            "if pool['user_api'] == 'blas'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[1]"


def test_loading_keras_prints_nothing_on_the_terminal():
    """TensorFlow's C++ start-up notices (oneDNN, twice; CPU features) reached the
    user's terminal above the app's output; mnist_core loads Keras without them, in a
    fresh Python with no TensorFlow logging settings, as a user starts the app."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    code = "from mnist_core.model import build_model; build_model(); print('built')"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "built"
    assert result.stderr == ""


def _imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The project modules a file imports, anywhere in it (functions and TYPE_CHECKING too)."""
    import ast

    name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            candidates = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {candidate for candidate in candidates if candidate in modules}
    return found - {name}


def test_no_import_circle_in_mnist_core_or_ui():
    """Imports go one way: every import counts, including those inside functions and
    TYPE_CHECKING blocks, so no circle hides behind one."""
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("mnist_core/**/*.py"), *root.glob("ui/**/*.py")]
    names = {".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): f
             for f in files}
    graph = {name: _imports(path, root, set(names)) for name, path in names.items()}
    assert "mnist_core.runs.store" in graph["mnist_core.runs.train"]  # the walk sees imports

    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            pytest.fail("import circle: " + " → ".join([*trail[trail.index(name):], name]))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert not any(name.startswith("ui") for module in graph if module.startswith("mnist_core")
                   for name in graph[module]), "mnist_core imports ui"
