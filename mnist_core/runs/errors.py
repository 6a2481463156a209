"""What can go wrong with a saved run, each in words a user can act on."""

from __future__ import annotations

from pathlib import Path


class StoreError(ValueError):
    """A run could not be read or written; the message says which and why."""


class InvalidRunId(StoreError):
    """Not a run id this store accepts, or one whose path would leave the runs directory."""


class RunNotFound(StoreError):
    """No saved run has this id."""


class RunActive(StoreError):
    """The run is still queued or training, so it cannot be deleted."""


class ExportExists(StoreError):
    """An export would overwrite files: `paths` are those already there."""

    def __init__(self, paths: list[Path]) -> None:
        names = ", ".join(path.name for path in paths)
        super().__init__(f"{paths[0].parent} already holds {names}: nothing was exported.")
        self.paths = paths
