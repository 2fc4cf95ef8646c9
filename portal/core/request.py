"""The request class: Flask's, except that a failed URL match keeps no traceback."""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import HTTPException


class PortalRequest(Request):
    """Flask stores the NotFound (or MethodNotAllowed) of a failed URL match on the request
    and raises it later. Its traceback holds the matching frames, which hold the request
    context, which holds the request: a reference cycle of some 80 objects (the request, g, the
    signed-in user and their rows) that only the cyclic garbage collector frees. Every Socket.IO
    event makes one (its context is built on the /socket.io/ URL, which has no Flask route), and
    the collector's passes stall every socket of the process. Raised later, the exception gets a
    fresh traceback where it is raised; the matching frames are of no use to anyone."""

    _routing_exception: HTTPException | None = None

    @property
    def routing_exception(self) -> HTTPException | None:
        return self._routing_exception

    @routing_exception.setter
    def routing_exception(self, exc: HTTPException | None) -> None:
        if exc is not None:
            exc.__traceback__ = None
            exc.__context__ = None  # werkzeug's NoMatch, with its own frames
        self._routing_exception = exc
