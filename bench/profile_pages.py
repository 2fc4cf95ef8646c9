"""Where a request's time goes, in-process: cProfile over the plan page, the dossier list and the
API read of one dossier entry, each request as a real one runs (signed in, through Flask's test
client, its audit row committed). Prints, per page, the CPU per request and its share by
library (the file each function lives in), then the heaviest functions of the portal's own code.

Run: .venv/bin/python bench/profile_pages.py [requests] (BENCH_DATABASE=sqlite|postgresql,
     BENCH_SIZE=10 entries per family). Not part of `make bench`: a tool for looking.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.bench_pages as pages  # noqa: E402
from bench.common import bench_app  # noqa: E402

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SIZE = int(os.environ.get("BENCH_SIZE", "10"))
LIBRARIES = (
    "sqlalchemy",
    "psycopg",
    "jinja2",
    "wtforms",
    "flask_wtf",
    "flask_babel",
    "babel",
    "flask_login",
    "flask",
    "werkzeug",
    "markupsafe",
    "portal",
    "sqlite3",
)


def library_of(filename: str) -> str:
    parts = Path(filename).parts
    for name in LIBRARIES:
        if name in parts:
            return name
    if filename.endswith(".html"):
        return "templates"
    if filename == "~":
        return "C calls"  # built-ins: the driver's, hashing, str methods
    return "other"


def main() -> None:
    pages.FAMILIES = 1
    postgres = None
    if os.environ.get("BENCH_DATABASE", "postgresql") == "postgresql":
        from tests.support.servers import PostgresServer

        postgres = PostgresServer(durable=True).start()
        db_url = postgres.url
    else:
        db_url = f"sqlite:///{tempfile.mkdtemp(prefix='portal-profile-')}/portal.db"
    try:
        facts = pages.seed(db_url, SIZE)
        family_id, entry_id = facts["families"][0]
        app = bench_app(db_url)
        client = app.test_client()
        page = client.get("/signin").get_data(as_text=True)
        client.post(
            "/signin",
            data={
                "csrf_token": pages.CSRF.search(page).group(1),  # type: ignore[union-attr]
                "email": "bench@example.org",
                "password": pages.PASSWORD,
            },
        )
        for name, path in pages.paths(family_id, entry_id).items():
            for _ in range(20):
                assert client.get(path).status_code == 200
            # The CPU per request without the profiler (it adds its own cost per call).
            started = time.process_time()
            for _ in range(REQUESTS):
                client.get(path)
            per_request = (time.process_time() - started) / REQUESTS * 1000
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(REQUESTS):
                client.get(path)
            profile.disable()
            stats = pstats.Stats(profile)
            by_library: dict[str, float] = defaultdict(float)
            total = 0.0
            own: list[tuple[float, str]] = []
            for (filename, line, function), row in stats.stats.items():  # type: ignore[attr-defined]
                tottime = row[2]
                total += tottime
                library = library_of(filename)
                by_library[library] += tottime
                if library == "portal":
                    cumulative = row[3]
                    short = filename.split("/portal/", 1)[-1]
                    own.append((cumulative, f"portal/{short}:{line} {function}"))
            print(f"== {name}, {SIZE} entries: {per_request:.2f} ms CPU per request")
            print("   share of the profiled time, by where the function lives:")
            for library, seconds in sorted(by_library.items(), key=lambda kv: -kv[1]):
                share = 100 * seconds / total
                if share >= 1:
                    print(f"   {library:<12} {share:5.1f} %")
            print("   heaviest portal functions (cumulative, ms per request under the profiler):")
            for cumulative, where in sorted(own, reverse=True)[:12]:
                print(f"     {cumulative / REQUESTS * 1000:7.2f}  {where}")
    finally:
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    main()
