"""gunicorn config for the portal's server in the benchmarks: only what every production worker
does first (config/gunicorn.conf.py's post_worker_init: portal/core/serving.py, e.g. SQLite's
checkpoints in a thread of their own instead of inside a commit). The other settings (workers,
threads) are given on the command line, the same for the floor and the portal."""


def post_worker_init(worker: object) -> None:
    from portal.core import serving

    serving.prepare(worker.wsgi)  # type: ignore[attr-defined]
