"""A minimal Socket.IO-over-WebSocket client (Engine.IO 4, asyncio), cheap enough that a few
hundred connections in one process are not the bottleneck of a benchmark.

It speaks only what the benchmark needs: the WebSocket handshake with a cookie and an Origin,
the namespace connect, events with acknowledgements, Engine.IO pings. Frames from the server are
unmasked; frames to it are masked (RFC 6455). Only for 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import Callable
from typing import Any


class ProtocolError(Exception):
    pass


class Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        namespace: str,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.namespace = namespace
        self.prefix = f"42{namespace},"
        self.ack_prefix = f"43{namespace},"
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.on_event: Callable[[str], None] | None = None  # raw "42/ns,[...]" text
        self.task: asyncio.Task[None] | None = None
        self.closed = False

    # --- frames ---------------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        # XOR with the mask in one big-integer operation (fast enough for small frames).
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
            length, "big"
        )
        self.writer.write(header + mask + masked)

    async def read_text(self) -> str | None:
        while True:
            head = await self.reader.readexactly(2)
            opcode = head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            if head[1] & 0x80:
                raise ProtocolError("masked frame from the server")
            payload = await self.reader.readexactly(length) if length else b""
            if opcode == 0x1:
                return payload.decode()
            if opcode == 0x8:
                return None
            if opcode == 0x9:  # WebSocket ping: pong with the same payload
                self.writer.write(
                    struct.pack("!BB", 0x8A, 0x80 | len(payload)) + b"\0" * 4 + payload
                )
            # continuation frames are not used by Engine.IO for small packets; pongs are ignored

    # --- Socket.IO --------------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        try:
            while True:
                text = await self.read_text()
                if text is None:
                    break
                if text == "2":
                    self.send_text("3")
                elif text.startswith(self.prefix):
                    if self.on_event is not None:
                        self.on_event(text)
                elif text.startswith(self.ack_prefix):
                    rest = text[len(self.ack_prefix) :]
                    bracket = rest.index("[")
                    future = self.pending.pop(int(rest[:bracket]), None)
                    if future is not None and not future.done():
                        future.set_result(json.loads(rest[bracket:])[0])
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("closed"))

    def emit(self, event: str, data: Any) -> None:
        self.send_text(self.prefix + json.dumps([event, data], separators=(",", ":")))

    def call_nowait(self, event: str, data: Any) -> asyncio.Future[Any]:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.send_text(
            f"42{self.namespace},{self.next_id}" + json.dumps([event, data], separators=(",", ":"))
        )
        return future

    async def call(self, event: str, data: Any, timeout: float = 10) -> Any:
        return await asyncio.wait_for(self.call_nowait(event, data), timeout)

    async def close(self) -> None:
        if not self.closed:
            try:
                self.send_text(f"41{self.namespace},")
                self.writer.write(struct.pack("!BB", 0x88, 0x80) + b"\0" * 4)
                await self.writer.drain()
            except (ConnectionError, OSError):
                pass
        self.writer.close()
        if self.task is not None:
            self.task.cancel()


async def connect(
    host: str,
    port: int,
    cookie: str = "",
    origin: str = "",
    namespace: str = "/live",
    timeout: float = 10,
) -> Connection:
    """Open the WebSocket, read Engine.IO's open packet, connect the namespace."""

    async def run() -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin:
            lines.append(f"Origin: {origin}")
        if cookie:
            lines.append(f"Cookie: {cookie}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = await reader.readuntil(b"\r\n\r\n")
        if not response.startswith(b"HTTP/1.1 101"):
            raise ProtocolError(response.split(b"\r\n", 1)[0].decode(errors="replace"))
        conn = Connection(reader, writer, namespace)
        opened = await conn.read_text()
        if not opened or not opened.startswith("0"):
            raise ProtocolError(f"no Engine.IO open packet: {opened!r}")
        conn.send_text(f"40{namespace},")
        while True:
            text = await conn.read_text()
            if text is None:
                raise ProtocolError("closed during namespace connect")
            if text.startswith(f"40{namespace},"):
                break
            if text.startswith(f"44{namespace},"):
                raise ProtocolError(f"namespace refused: {text}")
            if text == "2":
                conn.send_text("3")
        conn.start()
        return conn

    return await asyncio.wait_for(run(), timeout)
