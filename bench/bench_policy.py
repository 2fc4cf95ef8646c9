"""The cost of the access policy: microseconds per decide() and queries per family page.

Run: .venv/bin/python bench/bench_policy.py   (or `make bench`). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_app, count_queries, percentiles  # noqa: E402
from portal import db  # noqa: E402
from portal.access.policy import Actor, decide  # noqa: E402
from portal.auth import passwords  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.core import clock  # noqa: E402
from portal.family.models import ROLE_NETWORK, ROLE_PARENT, Family, Member  # noqa: E402

PASSWORD = "bench password 123"


def make_family(members: int) -> tuple[int, str]:
    email = f"bench-{members}@example.org"
    user = User(
        email=email,
        display_name="Bench",
        password_hash=passwords.hash_password(PASSWORD),
        email_verified_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()
    family = Family(name=f"Gezin {members}", created_by_id=user.id)
    db.session.add(family)
    db.session.flush()
    db.session.add(
        Member(
            family_id=family.id,
            user_id=user.id,
            role=ROLE_PARENT,
            display_name="Ouder",
            has_authority=True,
            joined_at=clock.now(),
        )
    )
    db.session.add_all(
        Member(family_id=family.id, role=ROLE_NETWORK, display_name=f"Netwerk {i}")
        for i in range(members - 1)
    )
    db.session.commit()
    return family.id, email


def main() -> None:
    app = bench_app()
    with app.app_context():
        family_ids = {n: make_family(n) for n in (10, 1000)}
        fid, email = family_ids[10]
        user = db.session.query(User).filter_by(email=email).one()
        family = db.session.get(Family, fid)
        assert family is not None
        actor = Actor(user=user)
        decide(actor, "family.view", family)  # warm the per-request membership cache
        rounds = 20_000
        start = time.perf_counter()
        for _ in range(rounds):
            decide(actor, "member.list", family)
        cached = (time.perf_counter() - start) / rounds * 1e6
        samples = []
        for _ in range(2000):
            fresh = Actor(user=user)  # a new request: one membership query
            t0 = time.perf_counter()
            decide(fresh, "member.list", family)
            samples.append((time.perf_counter() - t0) * 1e6)
        p = percentiles(samples)
        print(f"decide(), membership known in this request: {cached:.2f} us/decision")
        print(
            f"decide(), first in a request (1 query):      p50 {p['p50']:.1f} us, "
            f"p99 {p['p99']:.1f} us"
        )
        db.session.remove()

    from tests.helpers import sign_in  # the real sign-in form

    for n, (fid, email) in family_ids.items():
        client = app.test_client()
        sign_in(client, User(email=email), password=PASSWORD)
        with count_queries(app) as statements:
            response = client.get(f"/families/{fid}/members")
        assert response.status_code == 200
        timings = []
        for _ in range(30):
            t0 = time.perf_counter()
            client.get(f"/families/{fid}/members")
            timings.append((time.perf_counter() - t0) * 1000)
        p = percentiles(timings)
        print(
            f"members page, {n:>5} members: {len(statements)} queries, "
            f"p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms (in-process test client)"
        )


if __name__ == "__main__":
    main()
