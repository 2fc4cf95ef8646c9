"""A socket refused the same thing again and again: the first refusal is logged at once, the
same refusal again within a minute is only counted, and one more row says how many.

A client that repeats a refused event in a loop (a page gone wrong, or someone trying) would
otherwise write a row per attempt into the family's log, as fast as it can send: the family
could no longer find anything in "Wie keek mee?". "The same" means the same socket and a row
that would be identical but for its time: person, role, basis, action, object, outcome, reason
and address.

Nothing is left out of the log: the first refusal is in it before the refusal is answered; the
repeats are counted in memory and written as one row (its `count`, at the time of the last
repeat) when the minute is over, when the socket goes away, or when the process stops normally
(the live layer calls `take_due` / `take_all` and `write`). A process killed outright can lose
a count, never a first row. A count that could not be written waits for the next try."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from portal import db
from portal.access import audit
from portal.core import clock

WINDOW = timedelta(seconds=60)
# Different refusals counted per socket at a time; a socket that collects more (each one a
# different object, say) has the rest logged one by one, as before there were counts.
KINDS_PER_SOCKET = 100
log = logging.getLogger(__name__)

Key = tuple[tuple[str, Any], ...]


@dataclass
class _Window:
    values: dict[str, Any]  # the row's values (audit.row's arguments), but its time
    opened: datetime
    repeats: int = 0
    last: datetime | None = None


@dataclass
class RepeatCounter:
    """The open windows per socket, and the count rows waiting to be written. One lock guards
    both (a real lock in threading mode, a gevent one when gevent patched `threading`); no I/O
    happens while it is held."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: dict[str, dict[Key, _Window]] = field(default_factory=dict)
    _due: list[dict[str, Any]] = field(default_factory=list)

    def counted(self, sid: str, values: dict[str, Any]) -> bool:
        """Count this refusal if it repeats one logged within the window; False: log it."""
        key, now = _key(values), clock.now()
        with self._lock:
            windows = self._open.get(sid)
            window = windows.get(key) if windows else None
            if window is None:
                return False
            if now - window.opened < WINDOW:
                window.repeats += 1
                window.last = now
                return True
            # The window is over: its count is due, and this refusal starts a new one.
            del windows[key]  # type: ignore[union-attr]
            self._close(window)
            return False

    def opened(self, sid: str, values: dict[str, Any]) -> None:
        """A first refusal is committed: count its repeats from now on."""
        key, now = _key(values), clock.now()
        with self._lock:
            windows = self._open.setdefault(sid, {})
            if key not in windows and len(windows) < KINDS_PER_SOCKET:
                windows[key] = _Window(dict(values), now)

    def socket_closed(self, sid: str) -> None:
        """The socket is gone: its counts are due now."""
        with self._lock:
            for window in self._open.pop(sid, {}).values():
                self._close(window)

    def take_due(self) -> list[dict[str, Any]]:
        """The count rows to write now: of windows that are over, and of closed sockets."""
        now = clock.now()
        with self._lock:
            for sid, windows in list(self._open.items()):
                for key, window in list(windows.items()):
                    if now - window.opened >= WINDOW:
                        del windows[key]
                        self._close(window)
                if not windows:
                    del self._open[sid]
            rows, self._due = self._due, []
        return rows

    def take_all(self) -> list[dict[str, Any]]:
        """Every count, open windows too (the process is stopping)."""
        with self._lock:
            for windows in self._open.values():
                for window in windows.values():
                    self._close(window)
            self._open.clear()
            rows, self._due = self._due, []
        return rows

    def put_back(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._due[:0] = rows

    def _close(self, window: _Window) -> None:
        if window.repeats:
            self._due.append({**window.values, "count": window.repeats, "at": window.last})


counter = RepeatCounter()


def _key(values: dict[str, Any]) -> Key:
    return tuple(sorted(values.items()))


def refused(sid: str, values: dict[str, Any]) -> None:
    """Log a socket's refusal (the values of audit.write) in this transaction, or count it
    when it repeats one logged within the window. The window opens only once the first row
    is committed: a refusal whose row was lost with its transaction is never counted on."""
    if counter.counted(sid, values):
        return
    audit.write(**values)
    db.after_commit(lambda: counter.opened(sid, values))


def write(rows: list[dict[str, Any]]) -> bool:
    """Write count rows in a transaction of their own (in an app context); when that fails
    they wait for the next try. Returns whether they were written."""
    if not rows:
        return True
    try:
        for values in rows:
            audit.write(**values)
        db.commit()
        return True
    except Exception as exc:
        log.warning("could not write %d count(s) of repeated refusals: %s", len(rows), exc)
        try:
            db.rollback()
        except Exception:  # the connection is gone too
            db.session.remove()
        counter.put_back(rows)
        return False
