"""The type checker passes on mnist_core and ui: part of every test run, so of CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors_in_mnist_core_and_ui(tmp_path):
    """Settings in pyproject.toml ([tool.mypy]); a fresh cache, so nothing stale hides an error."""
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
