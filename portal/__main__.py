"""`python -m portal`: serve the portal in one process (development and small set-ups).

Not `flask run`: Flask-SocketIO's server must own the process for WebSocket support.
With PORTAL_ASYNC_MODE=gevent the process is monkey-patched here, before Flask, the database
drivers or anything else that touches sockets is imported (importing `portal` itself loads only
the settings), and gevent's own WSGI server serves HTTP and WebSocket (simple-websocket).
"""

from __future__ import annotations

from config import Settings

if Settings.from_env().async_mode == "gevent":
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402

from portal import create_app  # noqa: E402
from portal.core import serving  # noqa: E402


def _stop(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _stop_on_signals(mode: str) -> None:
    """SIGTERM (systemd, a container, a test) stops the server as Ctrl-C does: the process ends
    normally, and what it still holds in memory is written first (counts of repeated refusals,
    portal/live/sweep.py). Without this Python ends at once on SIGTERM.

    Under gevent a Python signal handler runs in whichever greenlet happens to run, and an
    exception raised there can be swallowed (Engine.IO's service task ends quietly on
    SystemExit): gevent's own handler stops the WSGI server instead, and `main` returns."""
    if mode == "gevent":
        import gevent

        from portal.extensions import socketio

        for signum in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(signum, socketio.stop)
    else:
        signal.signal(signal.SIGTERM, _stop)


def main() -> None:
    from portal.extensions import socketio

    parser = argparse.ArgumentParser(description="Gezinsportaal")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=5000, type=int)
    args = parser.parse_args()
    app = create_app()
    serving.prepare(app)  # the collector's passes, SQLite's checkpoints: out of the way
    mode = app.config["PORTAL_SETTINGS"].async_mode
    print(f"Gezinsportaal ({mode}): http://{args.host}:{args.port}", flush=True)  # noqa: T201
    _stop_on_signals(mode)
    if mode == "gevent":
        from portal.live.server import NoDelayHandler

        socketio.run(app, host=args.host, port=args.port, handler_class=NoDelayHandler)
    else:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
