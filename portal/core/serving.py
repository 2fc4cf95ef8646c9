"""What a serving process does once, before it takes traffic: `python -m portal` and every
gunicorn worker (config/gunicorn.conf.py, post_worker_init)."""

from __future__ import annotations

import gc

from flask import Flask

from portal.core import wal

# Python's cyclic collector stops the whole process while it looks at objects; a full pass
# looks at every long-lived one. In a live instance those are mostly its open sockets: with 500
# of them a full pass took 6-27 ms (about 80,000 objects, bench/bench_messaging.py), every 15 s
# under load, and no socket was served meanwhile. The default starts a full pass after 10
# passes over the younger objects; 100 makes those stalls ten times rarer. Cycles of closed
# sockets wait longer to be freed: memory, not correctness (a full pass still comes).
FULL_PASS_AFTER = 100


def settle_memory() -> None:
    """Keep what start-up loaded (modules, the app, its compiled statements) out of the
    collector's passes — it lives as long as the process — and make full passes rarer."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_AFTER)


def prepare(app: Flask) -> None:
    settle_memory()
    engine = app.extensions["portal_engine"]
    app.extensions["portal_checkpointer"] = wal.checkpoint_in_background(engine)
