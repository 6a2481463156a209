"""Is the process that saved a run still running? Told from /proc on Linux.

A run saved as "running" by a process that is gone (killed, rebooted) was
interrupted; one saved by a live process (a CLI training beside the server) is
not. A pid alone can be reused, so the process's start time and the machine's
boot id are kept with it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def process_start_time(pid: int) -> str | None:
    """The process' start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def this_process() -> dict:
    pid = os.getpid()
    return {
        "pid": pid,
        "host": socket.gethostname(),
        "boot_id": _boot_id(),
        "started": process_start_time(pid),
    }


def process_alive(owner: Any) -> bool:
    """Is the process that saved a run (run.json's "process") still running on this machine?

    The current process is never "alive" here: its own live runs are known exactly
    (the store tracks them). A run saved on another host, or before a reboot, is not alive.
    """
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return False
    pid = owner["pid"]
    if pid == os.getpid() or owner.get("host") != socket.gethostname():
        return False
    if owner.get("boot_id") is not None and owner.get("boot_id") != _boot_id():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return False
    started = process_start_time(pid)
    return owner.get("started") is None or started is None or started == owner["started"]
