"""The gevent server's handler sends each write at once (no Nagle delay on acks and frames)."""

from __future__ import annotations

import socket

from gevent import pywsgi

from portal.live.server import NoDelayHandler


def test_handler_turns_off_nagle_on_the_accepted_connection() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, address = listener.accept()
        probe = accepted.dup()  # the same connection; the handler closes its own descriptor
        with client, accepted, probe:
            assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            client.close()  # the handler reads end-of-stream and returns
            server = pywsgi.WSGIServer(("127.0.0.1", 0), lambda environ, start: [])
            NoDelayHandler(accepted, address, server).handle()
            assert probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
