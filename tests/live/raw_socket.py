"""A bare Socket.IO client over a WebSocket: it sends frames as written, so it can try what
python-socketio's own client refuses to send (reserved names, names that are not text)."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import requests
import websocket


class RawSocket:
    def __init__(self, base: str, browser: requests.Session) -> None:
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        self.ws = websocket.create_connection(
            base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
            cookie=cookie,
            origin=base,
            timeout=0.2,
        )
        self.frames: list[str] = []
        self.closed = False
        self._next = 1
        self.wait(lambda f: f.startswith("0{"), 5)
        self.ws.send("40/live,")
        self.wait(lambda f: f.startswith("40/live,"), 5)

    def _read(self) -> None:
        try:
            frame = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return
        except (websocket.WebSocketConnectionClosedException, OSError):
            self.closed = True
            return
        if frame == "2":
            self.ws.send("3")  # Engine.IO ping: answer, or the server drops us
        elif isinstance(frame, str):
            self.frames.append(frame)
            if frame.startswith("41/live"):
                self.closed = True

    def wait(self, matches: Any, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for frame in self.frames[seen:]:
                if matches(frame):
                    return frame
            seen = len(self.frames)
            if self.closed:
                break
            self._read()
        raise AssertionError(f"no such frame within {timeout}s; got {self.frames}")

    def call(self, event_and_args: str) -> Any:
        """Send `42/live,<n>[...]` (the JSON array given as text) and return the answer."""
        number = self._next
        self._next += 1
        self.ws.send(f"42/live,{number}{event_and_args}")
        prefix = f"43/live,{number}"
        frame = self.wait(lambda f: f.startswith(prefix), 5)
        return json.loads(frame[len(prefix) :])[0]

    def call_all(self, frames: list[str]) -> list[Any]:
        """Send every event at once (not waiting for answers in between, so the server handles
        them side by side) and return the answers, in the order sent."""
        first = self._next
        for frame in frames:
            self.ws.send(f"42/live,{self._next}{frame}")
            self._next += 1
        answers = []
        for number in range(first, self._next):
            prefix = f"43/live,{number}["
            found = self.wait(lambda f, p=prefix: f.startswith(p), 10)
            answers.append(json.loads(found[len(prefix) - 1 :])[0])
        return answers

    def call_binary(self, event_and_args: str, attachments: list[bytes]) -> Any:
        """Send a binary event (`45<k>-/live,<n>[...]`, then its k attachments as binary
        frames) and return the answer."""
        number = self._next
        self._next += 1
        self.ws.send(f"45{len(attachments)}-/live,{number}{event_and_args}")
        for attachment in attachments:
            self.ws.send_binary(attachment)
        prefix = f"43/live,{number}"
        frame = self.wait(lambda f: f.startswith(prefix), 5)
        return json.loads(frame[len(prefix) :])[0]

    def events(self, name: str) -> list[Any]:
        found = []
        for frame in self.frames:
            if frame.startswith("42/live,"):
                event = json.loads(frame[len("42/live,") :])
                if event[0] == name:
                    found.append(event[1] if len(event) > 1 else None)
        return found

    def wait_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._read()
        return self.closed

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.ws.close()
