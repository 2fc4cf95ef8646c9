"""The gevent WSGI server's connection handler for `python -m portal` in gevent mode."""

from __future__ import annotations

import socket

from gevent import pywsgi


class NoDelayHandler(pywsgi.WSGIHandler):
    """Writes go out at once (TCP_NODELAY).

    Without it, Nagle's algorithm holds a small write while an earlier one waits for its ACK, and
    the client delays that ACK by up to 40 ms: a sender got its own message.new and then the ack
    for it ~40 ms late, and a receiver that fell behind got its next messages in 40 ms steps.
    (gunicorn sets the option on its listening socket; gevent's server does not.)"""

    def handle(self) -> None:
        if self.socket.family in (socket.AF_INET, socket.AF_INET6):
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()
