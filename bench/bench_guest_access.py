"""Guest access cost: a family with 20 active grants, pages with 50 objects.

Reports microseconds per policy decision for a guest (grants known in the request and the first
decision of a request) and queries per dossier page with 10 and 1,000 entries. Prints numbers;
asserts nothing. Run: .venv/bin/python bench/bench_guest_access.py (or `make bench`).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_app, count_queries, percentiles  # noqa: E402
from portal import db  # noqa: E402
from portal.access.models import Grant, GrantPart  # noqa: E402
from portal.access.policy import Actor, decide  # noqa: E402
from portal.auth import passwords  # noqa: E402
from portal.auth.models import KIND_PROFESSIONAL, User  # noqa: E402
from portal.core import clock  # noqa: E402
from portal.dossier.models import DossierEntry
from portal.family.models import ROLE_PARENT, Family, Member  # noqa: E402

PASSWORD = "bench password 123"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
GRANTS = 20


def family_with_guests(entries: int) -> tuple[int, list[str]]:
    now = clock.now()
    parent = User(
        email=f"parent-{entries}@example.org",
        display_name="Ouder",
        password_hash=passwords.hash_password(PASSWORD),
        email_verified_at=now,
    )
    db.session.add(parent)
    db.session.flush()
    family = Family(name=f"Gezin {entries}", created_by_id=parent.id)
    db.session.add(family)
    db.session.flush()
    db.session.add(
        Member(
            family_id=family.id,
            user_id=parent.id,
            role=ROLE_PARENT,
            display_name="Ouder",
            has_authority=True,
            joined_at=now,
        )
    )
    emails = []
    for i in range(GRANTS):
        pro = User(
            email=f"pro-{entries}-{i}@example.org",
            display_name=f"Coach {i}",
            kind=KIND_PROFESSIONAL,
            password_hash=passwords.hash_password(PASSWORD),
            email_verified_at=now,
            totp_secret=SECRET,
            totp_enabled_at=now,
        )
        db.session.add(pro)
        db.session.flush()
        emails.append(pro.email)
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=pro.id,
                origin="invitation",
                purpose="Meekijken",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=60),
                accepted_at=now,
                approved_at=now,
                parts=[
                    GrantPart(part="plan", level="read"),
                    GrantPart(part="dossier", level="write"),
                ],
            )
        )
    db.session.add_all(
        DossierEntry(
            family_id=family.id,
            author_id=parent.id,
            author_name="Ouder",
            author_kind="member",
            title=f"Stuk {i}",
            body="Tekst **vet**.",
        )
        for i in range(entries)
    )
    db.session.commit()
    return family.id, emails


def main() -> None:
    app = bench_app()
    with app.app_context():
        families = {n: family_with_guests(n) for n in (10, 1000)}
        fid, emails = families[10]
        guest = db.session.query(User).filter_by(email=emails[7]).one()
        family = db.session.get(Family, fid)
        assert family is not None
        entries = list(db.session.query(DossierEntry).filter_by(family_id=fid).limit(10))
        actor = Actor(user=guest)
        decide(actor, "dossier.view", family)
        rounds = 20_000
        start = time.perf_counter()
        for i in range(rounds):
            decide(actor, "dossier.view", entries[i % len(entries)])
        known = (time.perf_counter() - start) / rounds * 1e6
        samples = []
        for _ in range(1000):
            fresh = Actor(user=guest)
            t0 = time.perf_counter()
            decide(fresh, "dossier.view", family)
            samples.append((time.perf_counter() - t0) * 1e6)
        p = percentiles(samples)
        print(
            f"guest decide(), {GRANTS} active grants in the family, grants known in the "
            f"request: {known:.2f} us/decision"
        )
        print(
            f"guest decide(), first in a request (membership + grants queries): "
            f"p50 {p['p50']:.0f} us, p99 {p['p99']:.0f} us"
        )
        db.session.remove()

    from tests.helpers import sign_in

    for n, (fid, emails) in families.items():
        client = app.test_client()
        clock.advance(timedelta(seconds=30))
        sign_in(client, User(email=emails[3]), password=PASSWORD, totp_secret=SECRET)
        for path in (f"/families/{fid}/dossier", f"/families/{fid}/plan"):
            with count_queries(app) as statements:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            timings = []
            for _ in range(30):
                t0 = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - t0) * 1000)
            p = percentiles(timings)
            shown = min(n, 50)
            print(
                f"{path.split('/')[-1]:>8} page as guest, {n:>5} entries ({shown} shown): "
                f"{len(statements)} queries, p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms"
            )


if __name__ == "__main__":
    main()
