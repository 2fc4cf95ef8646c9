"""This instance's open sockets: who they are and which families they follow."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Connection:
    sid: str
    user_id: int
    session_hash: str
    families: dict[int, set[str]] = field(default_factory=dict)  # family id -> parts


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}

    def add(self, connection: Connection) -> None:
        with self._lock:
            self._connections[connection.sid] = connection

    def remove(self, sid: str) -> Connection | None:
        with self._lock:
            return self._connections.pop(sid, None)

    def subscribe(self, sid: str, family_id: int, parts: set[str]) -> None:
        with self._lock:
            connection = self._connections.get(sid)
            if connection is not None:
                connection.families[family_id] = set(parts)

    def unsubscribe(self, sid: str, family_id: int) -> None:
        with self._lock:
            connection = self._connections.get(sid)
            if connection is not None:
                connection.families.pop(family_id, None)

    def get(self, sid: str) -> Connection | None:
        with self._lock:
            return self._connections.get(sid)

    def snapshot(self) -> list[Connection]:
        with self._lock:
            return [
                Connection(
                    c.sid, c.user_id, c.session_hash, {k: set(v) for k, v in c.families.items()}
                )
                for c in self._connections.values()
            ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._connections)


registry = Registry()
