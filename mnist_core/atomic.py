"""Files that are either as they were or whole: never half-written by a crash or a kill.

Everything is written to a temporary file in the same directory, flushed, fsynced
and then renamed over the old one (`os.replace`); the directory is fsynced too.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import keras

TEMP_PREFIX = ".tmp-"  # what a write cut off leaves behind, and may be swept up


def atomic_write(path: Path, write: Callable[[io.BufferedWriter], object],
                 suffix: str = "") -> None:
    """Write `path` through `write(file)` so that it is either the old file or the whole new one.

    The data goes to a temporary file in the same directory (same filesystem, so the
    final rename is atomic), is flushed and fsynced, then renamed over `path`; the
    directory is fsynced too, so the rename itself survives a power cut. On any
    error the temporary file is removed and `path` is left untouched.
    """
    path = Path(path)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        remove_quietly(Path(temp_name))
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda file: file.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, value: Any) -> None:
    # allow_nan=False: a NaN would make the file unreadable for strict JSON readers.
    atomic_write_text(path, json.dumps(value, indent=2, allow_nan=False) + "\n")


def atomic_save_model(model: keras.Model, path: Path) -> None:
    """`model.save(path)` through a temporary `.keras` file, fsynced, then renamed into place."""
    path = Path(path)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(temp_name)
        _fsync_file(Path(temp_name))
        os.replace(temp_name, path)
    except BaseException:
        remove_quietly(Path(temp_name))
        raise
    _fsync_dir(path.parent)


def copy_atomically(source: Path, target: Path) -> None:
    """Copy `source` over `target` through a temporary file and a rename, as atomic_write does,
    but created like any new file (mode 0666 less the umask) instead of mkstemp's 0600."""
    temp = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}-{target.name}")
    try:
        with open(source, "rb") as original, open(temp, "xb") as copy:
            shutil.copyfileobj(original, copy)
            copy.flush()
            os.fsync(copy.fileno())
        os.replace(temp, target)
    except BaseException:
        remove_quietly(temp)
        raise
    _fsync_dir(target.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
