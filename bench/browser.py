"""Shared pieces of the browser benchmarks: a Streamlit server, Debian's Chromium, the machine.

Not a benchmark itself. The server is `streamlit run app.py` on a free port of
127.0.0.1, with its own temporary runs directory, stopped by its PID. The browser is
Debian's /usr/bin/chromium driven by Playwright (never a downloaded browser), with the
end-to-end tests' launch arguments; the page helpers (drawing a stroke, waiting for a
script run to end, moving a slider) are the tests' own, imported from tests/e2e.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' helpers (tests/ is not installed)

from playwright.sync_api import Page, expect  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,  # noqa: F401  (re-exported: load.py launches its own async browser)
    VIEWPORT,
    launched_chromium,
)
from tests.e2e.test_browser import (  # noqa: E402, F401  (re-exported for the benchmarks)
    DRAW_PROMPT,
    LARGE,
    PROBE_JS,
    canvas,
    clear_canvas,
    draw_stroke,
    install_latency_probe,
    metric,
    metric_value,
    one,
    one_with_flag,
    open_app,
    select_slider_option,
    seven,
    stroke_latency,
    wait_until_idle,
    zero,
)

SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
TRAINING_TIMEOUT_MS = 300_000  # one quick epoch, on a busy 2-core machine
expect.set_options(timeout=60_000)  # Playwright's 5 s default is too short here


def machine() -> str:
    """One line: cores, CPU model, RAM, and the versions that matter."""
    import streamlit

    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    ram_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} cores ({model}), {ram_kb / 2**20:.1f} GiB RAM; "
            f"Python {platform.python_version()}, Streamlit {streamlit.__version__}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(root: int) -> list[int]:
    """`root` and the PIDs of all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class Server:
    """`streamlit run app.py`, headless on a free local port, with a fresh runs directory."""

    def __init__(self, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runs_dir = tempfile.mkdtemp(prefix="bench-runs-")
        self.log_path = Path(tempfile.mkstemp(prefix="bench-streamlit-", suffix=".log")[1])
        self.env = dict(os.environ, MNIST_RUNS_DIR=self.runs_dir, TF_CPP_MIN_LOG_LEVEL="2")
        self.env.setdefault("MNIST_DATA", str(SHARED_MNIST))
        self.env.update(env)
        self.proc: subprocess.Popen | None = None
        self.launched_at = 0.0

    def start(self) -> None:
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(self.port),
            "--browser.gatherUsageStats", "false",
        ]
        with open(self.log_path, "w") as log:
            self.launched_at = time.perf_counter()
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout_s: float = 120) -> float:
        """Seconds from launch until /_stcore/health answers ok."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return time.perf_counter() - self.launched_at
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"streamlit not healthy after {timeout_s} s:\n{self.log()}")

    def since_launch(self) -> float:
        return time.perf_counter() - self.launched_at

    def pids(self) -> list[int]:
        """The server's PID and those of all its descendants."""
        return process_tree(self.proc.pid)

    def rss_mb(self) -> float:
        """VmRSS of the server and its child processes, in MB (10^6 bytes)."""
        total_kb = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
        return total_kb * 1024 / 1e6

    def has_tensorflow(self) -> bool:
        """Whether the server process has loaded TensorFlow's native library (imported it)."""
        maps = Path(f"/proc/{self.proc.pid}/maps").read_text()
        return "_pywrap_tensorflow" in maps or "libtensorflow" in maps

    def log(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # by PID: only the process this object started
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        shutil.rmtree(self.runs_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def chromium():
    """Debian's headless Chromium through Playwright; one browser, contexts are sessions."""
    if not CHROMIUM.is_file():
        sys.exit(f"{CHROMIUM} not found: apt-get install chromium")
    with launched_chromium() as browser:
        yield browser


def describe(browser) -> str:
    return f"Chromium {browser.version} ({CHROMIUM}, headless)"


def new_page(browser) -> Page:
    """A fresh browser context: a new Streamlit session, with no model."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    return context.new_page()


def quick_train(page: Page, url: str, images: str = "5,000") -> tuple[str, float]:
    """On the Draw page: 'Training images' → `images`, Quick train, wait for the canvas.

    Returns the run id from the page's address, and the seconds from the click until
    the page offers to draw.
    """
    open_app(page, url, "draw", "Draw a digit")
    select_slider_option(page, "Training images", images)
    clicked = time.perf_counter()
    page.get_by_role("button", name="Quick train (1 epoch)").click()
    expect(page.get_by_text(DRAW_PROMPT)).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    wait_until_idle(page)
    expect(canvas(page)).to_be_visible()
    return page.url.split("run=")[1].split("&")[0], time.perf_counter() - clicked


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0–100): a value that was actually measured."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]
