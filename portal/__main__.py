"""`python -m portal`: serve the portal in one process (development and small set-ups).

Not `flask run`: Flask-SocketIO's server must own the process for WebSocket support.
"""

from __future__ import annotations

import argparse

from portal import create_app
from portal.extensions import socketio


def main() -> None:
    parser = argparse.ArgumentParser(description="Gezinsportaal")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=5000, type=int)
    args = parser.parse_args()
    app = create_app()
    print(f"Gezinsportaal: http://{args.host}:{args.port}", flush=True)  # noqa: T201
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
