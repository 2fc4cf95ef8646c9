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

from portal import create_app  # noqa: E402
from portal.core import serving  # noqa: E402


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
    if mode == "gevent":
        from portal.live.server import NoDelayHandler

        socketio.run(app, host=args.host, port=args.port, handler_class=NoDelayHandler)
    else:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
