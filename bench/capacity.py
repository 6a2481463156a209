"""Capacity: how many people drawing can one server take? Protocol clients, no browsers.

Replays the recorded Draw journey (`bench/recordings/journey.json`, made by
`bench/record_journey.py` in a real Chromium) from N lightweight protocol clients
(`bench/protocol.py`), each its own Streamlit session, as a class arrives: all within
3 s, then a stroke every 2–4 s (stroke, a pause, clear, a pause, the next digit). Each
rerun is timed from the message sent to its `script_finished`; each stroke's answer
must carry the prediction the recording showed (not an error, not an empty page), so a
session reading another's drawing counts as an error too. With `--training`, one more
client replays starting a long training on the Train page first (at the app's lowered
priority) and stops it at the end.

The server is `streamlit run app.py` as a shared server (`MNIST_SHARED=1`). Its first
visitor opens Home, pauses while the server warms up in the background (until its CPU
is quiet), then draws: each of those strokes is reported, the first one included.
Reports per N: reruns, p50/p95/max latency, errors, the server's CPU (cores busy) and
RSS, and the client process's own CPU (it shares the machine), and how the drawers were
spread over the servers (how many on each; where the training's session was).

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/capacity.py \\
        --drawers 1 5 10 20 40 80 100 --training both [--json out.json] [--plot out.png]

With `--servers N`, N app server processes share one runs directory; the drawers are
spread over them round-robin, as a load balancer with sticky sessions would. With
`--nginx` as well, a real one is in the path: Debian's nginx (`apt-get install nginx`),
started here with deploy/README.md's config (`hash $remote_addr consistent`, the
websocket upgrade, an hour's read timeout) in a temporary directory, on a free port of
127.0.0.1, and every client (drawers and trainer) connects to it, each from a loopback
address of its own (127.1.x.y; the trainer 127.2.0.1), as browsers on different machines
would: the spread is then nginx's, read from its access log. nginx's CPU is a column of
its own ("nginx cores"), not in the servers'. Each server's first visitor (the warm-up)
still connects to its server directly.

    MNIST_DATA=../shared/data/mnist.npz .venv/bin/python bench/capacity.py \\
        --servers 2 --nginx --drawers 50 100 120 150 --training yes
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from browser import Server, _free_port, machine, percentile, process_tree
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState

from tests.e2e.protocol import Client, Reply, replayable

RECORDING = Path(__file__).parent / "recordings" / "journey.json"
ARRIVAL_S = 3.0
PAUSE_S = (1.0, 2.0)  # between a stroke and the clear, and between the clear and the next
NGINX = Path("/usr/sbin/nginx")
TRAINER_ADDRESS = "127.2.0.1"

# deploy/README.md's nginx config (keep them alike), in a temporary prefix (@prefix@) on
# 127.0.0.1 (@port@), the app servers as upstreams (@servers@), in the foreground, and
# logging which upstream each request went to.
NGINX_CONF = """\
daemon off;
worker_processes auto;
pid @prefix@/nginx.pid;
error_log @prefix@/error.log warn;
events { worker_connections 4096; }  # not the limit: two per drawer, more for its images

http {
    client_body_temp_path @prefix@/client_body;
    proxy_temp_path @prefix@/proxy;
    fastcgi_temp_path @prefix@/fastcgi;
    uwsgi_temp_path @prefix@/uwsgi;
    scgi_temp_path @prefix@/scgi;
    log_format upstreams '$remote_addr $upstream_addr $request_uri $status';
    access_log @prefix@/access.log upstreams;

    upstream mnist_app {
        hash $remote_addr consistent;
@servers@
    }

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    server {
        listen 127.0.0.1:@port@;
        client_max_body_size 20m;

        location / {
            proxy_pass http://mnist_app;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }

        location /_stcore/stream {
            proxy_pass http://mnist_app;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }
    }
}
"""


@dataclass
class Outcome:
    drawers: int
    training: bool
    strokes: int = 0
    reruns: int = 0
    latencies: list[float] = field(default_factory=list)  # every rerun, strokes and clears
    stroke_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    server_cores: float = 0.0
    client_cores: float = 0.0
    rss_mb: float = 0.0
    nginx_cores: float | None = None  # None: no nginx
    spread: list[int] = field(default_factory=list)  # drawers per server, in their order
    trainer_server: int | None = None  # which server (1, 2, …) the training's session is on

    def row(self) -> dict:
        strokes = self.stroke_latencies or [float("nan")]
        return {
            "drawers": self.drawers, "training": self.training, "strokes": self.strokes,
            "reruns": self.reruns,
            "p50_s": statistics.median(strokes), "p95_s": percentile(strokes, 95),
            "max_s": max(strokes), "errors": len(self.errors),
            "server_cores": self.server_cores, "client_cores": self.client_cores,
            "rss_mb": self.rss_mb, "nginx_cores": self.nginx_cores, "spread": self.spread,
            "trainer_server": self.trainer_server,
        }


def frames(step: dict) -> list:
    return [replayable(base64.b64decode(frame)) for frame in step["frames"]]


def check(reply: Reply, step: dict, who: str) -> str | None:
    """Why a reply is wrong, or None."""
    if not reply.finished:
        return f"{who} {step['action']}: no script_finished within the timeout"
    if reply.exceptions:
        return f"{who} {step['action']}: {reply.exceptions[0]}"
    expected = step.get("prediction")
    if expected is not None and reply.prediction != expected:
        return f"{who} {step['action']}: read {reply.prediction!r}, the recording {expected!r}"
    return None


def source_address(number: int) -> str:
    """The loopback address drawer `number` connects from: one of its own, as browsers on
    different machines have, so that nginx's `hash $remote_addr` tells them apart. The
    same in every row, like the same class coming back."""
    return f"127.1.{number // 250}.{number % 250 + 1}"


async def drawer(number: int, url: str, journey: list[dict], outcome: Outcome,
                 rng: random.Random, source: str | None = None) -> None:
    await asyncio.sleep(rng.uniform(0, ARRIVAL_S))
    who = f"drawer {number}"
    try:
        async with Client(url, source) as client:
            for index, step in enumerate(journey):
                if index:
                    await asyncio.sleep(rng.uniform(*PAUSE_S))
                for message in frames(step):
                    reply = await client.send(message)
                    outcome.reruns += 1
                    outcome.latencies.append(reply.seconds)
                    if step["action"].startswith("stroke"):
                        outcome.strokes += 1
                        outcome.stroke_latencies.append(reply.seconds)
                    problem = check(reply, step, who)
                    if problem:
                        outcome.errors.append(problem)
    except Exception as error:  # noqa: BLE001 (counted as an error; the others go on)
        outcome.errors.append(f"{who}: {type(error).__name__}: {error}")


async def load(urls: list[str], recording: dict, drawers: int, training: bool,
               seed: int, proxy: str | None = None) -> Outcome:
    """`drawers` clients spread over the servers at `urls`, each staying on one, as a
    load balancer with sticky sessions spreads browsers; the training on the first. With
    `proxy` (nginx's URL), all connect to that instead, each from its own address, and
    the proxy spreads them (measure() reads how)."""
    outcome = Outcome(drawers, training)
    if proxy is None:
        outcome.spread = [len(range(index, drawers, len(urls))) for index in range(len(urls))]
        outcome.trainer_server = 1 if training else None
    rng = random.Random(seed)
    trainer = None
    if training:
        trainer = (Client(urls[0]) if proxy is None
                   else Client(proxy, source_address=TRAINER_ADDRESS))
        await trainer.__aenter__()
        for step in recording["train"][:2]:  # open Train, Start
            for message in frames(step):
                reply = await trainer.send(message)
                if problem := check(reply, step, "trainer"):
                    outcome.errors.append(problem)
        await asyncio.sleep(3)  # the training is under way
    try:
        await asyncio.gather(*(
            drawer(number, urls[number % len(urls)], recording["draw"], outcome,
                   random.Random(rng.random()))
            if proxy is None else
            drawer(number, proxy, recording["draw"], outcome, random.Random(rng.random()),
                   source_address(number))
            for number in range(drawers)))
    finally:
        if trainer is not None:
            for message in frames(recording["train"][2]):  # Stop
                await trainer.send(message)
            await trainer.__aexit__()
    return outcome


async def first_visitor(server: Server, recording: dict) -> tuple[float, float, list[float]]:
    """A fresh server's first visitor: Home, a pause while the server warms up in the
    background, then the Draw journey. (Home's seconds, the pause's, each stroke's.)"""
    async with Client(server.url) as client:
        home = await client.send(BackMsg(rerun_script=ClientState()))
        paused = time.perf_counter()
        while time.perf_counter() - paused < 60:  # until the server's CPU is quiet
            before = cpu_seconds(server.pids())
            await asyncio.sleep(1.0)
            if cpu_seconds(server.pids()) - before < 0.05:
                break
        pause = time.perf_counter() - paused
        strokes = []
        for step in recording["draw"]:
            for message in frames(step):
                reply = await client.send(message)
                if step["action"].startswith("stroke"):
                    strokes.append(reply.seconds)
    return home.seconds, pause, strokes


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(servers: list[Server], recording: dict, drawers: int, training: bool,
            seed: int, profile: Path | None = None, nginx: Nginx | None = None) -> Outcome:
    """One load; with `profile`, py-spy samples the (first) server meanwhile (raw stacks
    there). CPU and RSS are those of all the servers together; with `nginx`, the clients
    go through it, and its CPU is counted apart."""
    server = servers[0]
    spy = None
    if profile is not None:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(server.proc.pid), "--format",
                                "raw", "--output", str(profile), "--rate", "200",
                                "--nonblocking"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
        time.sleep(1)
    pids = [pid for each in servers for pid in each.pids()]
    nginx_pids = nginx.pids() if nginx is not None else []
    log_offset = nginx.log_size() if nginx is not None else 0
    server_before, client_before = cpu_seconds(pids), client_cpu()
    nginx_before = cpu_seconds(nginx_pids)
    started = time.perf_counter()
    outcome = asyncio.run(load([each.url for each in servers], recording, drawers, training,
                               seed, nginx.url if nginx is not None else None))
    outcome.seconds = time.perf_counter() - started
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        spy.wait(timeout=60)
        print(f"    py-spy stacks of the server in {profile}; their shares:")
        for share, where in shares(profile):
            print(f"    {share:6.1%}  {where}")
    outcome.server_cores = (cpu_seconds(pids) - server_before) / outcome.seconds
    outcome.client_cores = (client_cpu() - client_before) / outcome.seconds
    outcome.rss_mb = sum(each.rss_mb() for each in servers)
    if nginx is not None:
        outcome.nginx_cores = (cpu_seconds(nginx_pids) - nginx_before) / outcome.seconds
        upstreams = nginx.upstreams_of(log_offset, drawers + int(training))
        addresses = [urlsplit(each.url).netloc for each in servers]
        chosen = [upstreams.get(source_address(number)) for number in range(drawers)]
        outcome.spread = [chosen.count(address) for address in addresses]
        trainer = upstreams.get(TRAINER_ADDRESS)
        outcome.trainer_server = (addresses.index(trainer) + 1 if trainer in addresses
                                  else None)
    return outcome


class Nginx:
    """nginx in front of the app servers, as deploy/README.md has it, on a free port of
    127.0.0.1, in a temporary directory of its own (config, logs, pid, temp files), in the
    foreground as this script's child, stopped by its PID."""

    def __init__(self, servers: list[Server]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.prefix.chmod(0o755)  # when started as root, its workers run as nobody
        self.access_log = self.prefix / "access.log"
        upstreams = "\n".join(f"        server {urlsplit(each.url).netloc};"
                               for each in servers)
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(NGINX_CONF.replace("@prefix@", str(self.prefix))
                             .replace("@port@", str(self.port))
                             .replace("@servers@", upstreams))
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30) -> None:
        """Start it and wait until it forwards a health check to a server."""
        if not NGINX.exists():
            raise RuntimeError(f"--nginx: no {NGINX}; install it: apt-get install -y nginx")
        # -e: its own error log from the start (before the config is read), not /var/log's
        self.proc = subprocess.Popen([str(NGINX), "-p", str(self.prefix), "-c", str(self.conf),
                                      "-e", str(self.prefix / "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.read().decode().strip() == "ok":
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nginx not forwarding after {timeout_s} s:\n{self.log()}")

    def pids(self) -> list[int]:
        """The master's PID and its workers'."""
        assert self.proc is not None
        return process_tree(self.proc.pid)

    def log_size(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def upstreams_of(self, offset: int, sessions: int, wait_s: float = 5.0) -> dict[str, str]:
        """Which upstream (host:port) each client address's websocket went to, from the
        access log past `offset`. A websocket is logged when it closes, just before its
        client sees it closed: this waits (up to `wait_s`) for `sessions` of them."""
        deadline = time.perf_counter() + wait_s
        while True:
            with self.access_log.open() as log:
                log.seek(offset)
                lines = [line.split() for line in log.read().splitlines()]
            streams = [line for line in lines
                       if len(line) >= 3 and line[-2].startswith("/_stcore/stream")]
            if len(streams) >= sessions or time.perf_counter() > deadline:
                break
            time.sleep(0.1)
        # "$upstream_addr" lists every upstream tried ("a, b"): the last one answered
        return {line[0]: line[-3] for line in streams}

    def log(self, lines: int = 30) -> str:
        error_log = self.prefix / "error.log"
        text = error_log.read_text(errors="replace") if error_log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: a fast shutdown, its workers with it
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> Nginx:
        try:
            self.start()
        except BaseException:
            self.stop()  # __exit__ is not called when __enter__ fails
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def shares(profile: Path, top: int = 20) -> list[tuple[float, str]]:
    """The share of the server's sampled time spent in each line of the app's own code
    (pages/, ui/, mnist_core/), inclusive: where a stroke's time goes."""
    inside: dict[str, int] = {}
    total = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        total += int(count)
        for frame in set(stack.split(";")):
            if any(part in frame for part in ("pages/", "/ui/", "mnist_core/", "draw.py")):
                inside[frame] = inside.get(frame, 0) + int(count)
    ranked = sorted(inside.items(), key=lambda item: -item[1])[:top]
    return [(count / max(total, 1), frame) for frame, count in ranked]


def plot(rows: list[dict], path: Path) -> None:
    """p95 against N, one line with and one without a training, as a PNG (via Chromium)."""
    import plotly.graph_objects as go
    from browser import chromium

    figure = go.Figure()
    for training in (False, True):
        points = [row for row in rows if row["training"] == training]
        if points:
            figure.add_scatter(x=[row["drawers"] for row in points],
                               y=[row["p95_s"] for row in points], mode="lines+markers",
                               name="one training running" if training else "no training")
    figure.add_hline(y=1.0, line_dash="dot", annotation_text="target: p95 ≤ 1 s")
    figure.update_layout(title="Drawing on one 2-core server: p95 of a stroke's rerun",
                         xaxis_title="people drawing at once (a stroke every 2–4 s)",
                         yaxis_title="p95 latency (s)", width=900, height=500,
                         template="plotly_white")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 500})
        page.set_content(figure.to_html(include_plotlyjs=True, full_html=True))
        page.wait_for_selector(".main-svg")
        page.screenshot(path=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawers", type=int, nargs="+", default=[1, 5, 10, 20, 40, 80])
    parser.add_argument("--training", choices=["no", "yes", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--plot", type=Path, help="write p95 against N here (PNG)")
    parser.add_argument("--profile", type=Path,
                        help="sample the server with py-spy (pip install py-spy) during the "
                             "largest N without a training, and keep the raw stacks here")
    parser.add_argument("--servers", type=int, default=1,
                        help="app server processes sharing one runs directory, the drawers "
                             "spread over them as a sticky load balancer would")
    parser.add_argument("--nginx", action="store_true",
                        help="put nginx (deploy/README.md's config) in front of the servers; "
                             "every client connects to it from a loopback address of its own")
    args = parser.parse_args()
    recording = json.loads(RECORDING.read_text())
    trainings = {"no": [False], "yes": [True], "both": [False, True]}[args.training]
    rows = []
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(Server(MNIST_SHARED="1"))
        servers = [first] + [stack.enter_context(Server(MNIST_SHARED="1",
                                                        MNIST_RUNS_DIR=first.runs_dir))
                             for _ in range(args.servers - 1)]
        print(machine(), f"· {args.servers} app server process(es)"
              + (" behind nginx" if args.nginx else ""))
        for server in servers:
            server.wait_healthy()
            home, pause, strokes = asyncio.run(first_visitor(server, recording))
            print(f"first visitor of a fresh server: Home answered in {home:.2f} s; the "
                  f"server warmed up in the background for {pause:.0f} s; then strokes took "
                  + ", ".join(f"{seconds:.3f}" for seconds in strokes) + " s")
        nginx = stack.enter_context(Nginx(servers)) if args.nginx else None
        if nginx is not None:
            print(f"nginx on {nginx.url}, upstreams "
                  + ", ".join(urlsplit(each.url).netloc for each in servers))
        print("drawers  training  strokes  p50 s  p95 s  max s  errors  server cores  "
              "client cores  RSS MB" + ("  nginx cores" if nginx else "")
              + "  drawers per server")
        for training in trainings:
            for drawers in args.drawers:
                profile = (args.profile if args.profile and not training
                           and drawers == max(args.drawers) else None)
                outcome = measure(servers, recording, drawers, training, args.seed, profile,
                                  nginx)
                row = outcome.row()
                rows.append(row)
                spread = "+".join(str(count) for count in outcome.spread)
                if outcome.trainer_server is not None:
                    spread += f" (training's session on #{outcome.trainer_server})"
                print(f"{drawers:7d}  {'yes' if training else 'no':8s}  {row['strokes']:7d}  "
                      f"{row['p50_s']:5.2f}  {row['p95_s']:5.2f}  {row['max_s']:5.2f}  "
                      f"{row['errors']:6d}  {row['server_cores']:12.2f}  "
                      f"{row['client_cores']:12.2f}  {row['rss_mb']:6.0f}"
                      + (f"  {outcome.nginx_cores:11.2f}" if nginx else "")
                      + f"  {spread}", flush=True)
                for error in outcome.errors[:3]:
                    print("   ", error)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
