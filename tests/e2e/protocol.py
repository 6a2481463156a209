"""A Streamlit client without a browser: one websocket, BackMsgs out, ForwardMsgs in.

A browser page talks to the server over one websocket (`/_stcore/stream`): it sends
`BackMsg` protobufs (a rerun with the widgets' states) and receives `ForwardMsg`s until
`script_finished`. This client does the same with the protobuf classes that ship with
`streamlit`, so that a load test measures the server, not the browsers: a real
visitor brings their own.

Frames come from a recording of a real Chromium session (`bench/record_journey.py`, in
`bench/recordings/`) and are replayed as they were sent, except the hashes of messages
the browser had cached: a replaying client caches nothing, so the server sends every
message in full. Like a browser, it then fetches the images the run showed (each
`st.image` is a URL the browser loads over HTTP), once the run has finished. Here with
the browser tests, which replay it in CI; the benchmarks borrow it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ("script_finished",)


@dataclass
class Reply:
    """What the server answered one BackMsg with, until its script run finished."""

    seconds: float
    finished: bool = False
    status: str = ""  # ScriptFinishedStatus name
    metrics: dict[str, str] = field(default_factory=dict)  # label → value shown
    exceptions: list[str] = field(default_factory=list)
    query_string: str | None = None  # the address bar as the server set it
    images: list[str] = field(default_factory=list)  # the URLs of the images shown
    images_fetched: int = 0
    messages: int = 0
    bytes: int = 0

    @property
    def prediction(self) -> str | None:
        return self.metrics.get("Prediction")


def replayable(frame: bytes) -> BackMsg | None:
    """A recorded frame as a BackMsg to send again, or None if it is not a rerun."""
    message = BackMsg()
    message.ParseFromString(frame)
    if message.WhichOneof("type") != "rerun_script":
        return None
    del message.rerun_script.cached_message_hashes[:]
    return message


class Client:
    """One visitor: one websocket, hence one Streamlit session of its own."""

    def __init__(self, url: str, source_address: str | None = None) -> None:
        """`source_address`: the local address to connect from (e.g. one of 127.0.0.0/8 of
        its own), so that a proxy hashing the client's address tells visitors apart, as it
        tells apart browsers on different machines; by default the system's choice."""
        self.url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.local_addr = (source_address, 0) if source_address is not None else None
        self.socket: websockets.ClientConnection | None = None
        self.query_string: str | None = None  # the address bar, once the server set it

    async def __aenter__(self) -> Client:
        # websockets passes local_addr on to loop.create_connection
        self.socket = await websockets.connect(self.url, subprotocols=["streamlit"],
                                               max_size=None, open_timeout=60,
                                               local_addr=self.local_addr)
        return self

    async def _get(self, path: str) -> bool:
        """GET a path of the server, as a browser loads an image; whether it answered 200."""
        host, _, port = urlsplit(self.url).netloc.partition(":")
        reader, writer = await asyncio.open_connection(host, int(port or 80),
                                                       local_addr=self.local_addr)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                         .encode())
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
        return response.startswith(b"HTTP/1.1 200")

    async def __aexit__(self, *exc) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def send(self, message: BackMsg, timeout: float = 60.0) -> Reply:
        """Send one rerun and read the server's messages until that run has finished.

        Like a browser, the rerun carries the address bar as the server last set it
        (`?run=` of this session's own run), not the recorded session's.
        """
        assert self.socket is not None
        if self.query_string is not None:
            message.rerun_script.query_string = self.query_string
        started = time.perf_counter()
        await self.socket.send(message.SerializeToString())
        reply = Reply(seconds=0.0)
        deadline = started + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                reply.seconds = time.perf_counter() - started
                return reply
            try:
                data = await asyncio.wait_for(self.socket.recv(), left)
            except asyncio.TimeoutError:
                continue
            if isinstance(data, str):
                continue
            reply.messages += 1
            reply.bytes += len(data)
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "delta":
                _read_delta(forward, reply)
            elif kind == "page_info_changed":
                self.query_string = reply.query_string = forward.page_info_changed.query_string
            elif kind == "script_finished":
                reply.seconds = time.perf_counter() - started
                reply.finished = True
                reply.status = ForwardMsg.ScriptFinishedStatus.Name(forward.script_finished)
                if reply.status != "FINISHED_EARLY_FOR_RERUN":
                    fetched = await asyncio.gather(*(self._get(url) for url in reply.images))
                    reply.images_fetched = sum(fetched)
                    return reply


def _read_delta(forward: ForwardMsg, reply: Reply) -> None:
    delta = forward.delta
    if delta.WhichOneof("type") != "new_element":
        return
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind == "metric":
        reply.metrics[element.metric.label] = element.metric.body
    elif kind == "imgs":
        reply.images.extend(image.url for image in element.imgs.imgs if image.url.startswith("/"))
    elif kind == "exception":
        reply.exceptions.append(f"{element.exception.type}: {element.exception.message}")
