"""gunicorn settings for production (deployment ladder step 2 and 3).

Pages and the API: `gunicorn -c config/gunicorn.conf.py 'portal:create_app()'`.
One worker per instance with threads: Flask-SocketIO needs sticky sessions, and one process per
instance keeps that simple; scale out by running more instances behind nginx (ip_hash).
"""

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = 1
threads = int(os.environ.get("PORTAL_THREADS", "8"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# The client address for the audit log comes from nginx's X-Forwarded-For (ProxyFix, 1 hop).
forwarded_allow_ips = "127.0.0.1"
