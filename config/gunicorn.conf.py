"""gunicorn settings for production (deployment ladder step 2 and 3).

Pages and the API: `gunicorn -c config/gunicorn.conf.py 'portal:create_app()'`.
One worker per instance with threads: Flask-SocketIO needs sticky sessions, and one process per
instance keeps that simple; scale out by running more instances behind nginx (ip_hash).

PORTAL_ASYNC_MODE picks the worker: `threading` (default) runs gthread with PORTAL_THREADS
threads, for pages and the API; `gevent` runs gunicorn's gevent worker, which monkey-patches the
worker before it loads the app — for the instances nginx sends /socket.io/ to (see README,
"Deployment"). WebSocket frames are handled by simple-websocket on the worker's socket.
"""

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = 1
if os.environ.get("PORTAL_ASYNC_MODE", "threading") == "gevent":
    worker_class = "gevent"  # always one process: its sockets' sessions live in it
    worker_connections = int(os.environ.get("PORTAL_WORKER_CONNECTIONS", "2000"))
else:
    worker_class = "gthread"
    threads = int(os.environ.get("PORTAL_THREADS", "8"))
    # More processes only for page/API instances that nginx does not send /socket.io/ to
    # (deployment step 3): Socket.IO's long-polling keeps a client's session in one process.
    # Threads pay for the GIL: on 2 cores, one API read under `wrk -c8` did 78 req/s at
    # 13.5 ms CPU each with 1 process × 8 threads, 194 req/s at 9.0 ms with 2 × 1 (README).
    workers = int(os.environ.get("PORTAL_WORKERS", "1"))
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"

# The client address for the audit log comes from nginx's X-Forwarded-For (ProxyFix, 1 hop).
forwarded_allow_ips = "127.0.0.1"


def post_worker_init(worker: object) -> None:
    """Each worker, once its app is loaded: see portal/core/serving.py."""
    from portal.core import serving

    serving.prepare(worker.wsgi)  # type: ignore[attr-defined]
