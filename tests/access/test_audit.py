"""The audit log: one row per access (reads, writes, denials), hash-chained, verified by
`flask portal audit-verify`, shown to the family in 'Wie keek mee?'."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, text

from portal import db
from portal.access import audit
from portal.access.models import AuditChainHead, AuditEvent
from portal.auth.models import User
from portal.family.models import ROLE_NETWORK, Family, Member
from tests.helpers import sign_in


def events(app: Flask, family_id: int | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if family_id is not None:
            query = query.where(AuditEvent.family_id == family_id)
        rows = list(db.session.scalars(query))
        db.session.remove()
    return rows


def test_reads_and_denials_write_one_row_each(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user(name="Anna")
    stranger = make_user(name="Vreemde")
    family = make_family(parent)
    sign_in(client, parent)
    client.get(f"/families/{family.id}")
    client.get(f"/families/{family.id}/members")
    rows = events(app, family.id)
    assert [(r.action, r.outcome, r.actor_name) for r in rows] == [
        ("family.view", "allowed", "Anna"),
        ("member.list", "allowed", "Anna"),
    ]
    assert rows[0].basis.startswith("membership:")
    assert rows[0].actor_role == "parent_with_authority"
    assert rows[0].client_address == "127.0.0.1"
    assert rows[0].at.tzinfo is not None and rows[0].at.utcoffset().total_seconds() == 0

    other = app.test_client()
    sign_in(other, stranger)
    assert other.get(f"/families/{family.id}").status_code == 404
    denied = events(app, family.id)[-1]
    assert (denied.action, denied.outcome, denied.actor_name, denied.reason) == (
        "family.view",
        "denied",
        "Vreemde",
        "no_relation",
    )


def test_a_write_is_audited_with_the_data_in_one_transaction(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    from tests.helpers import post_form

    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    response = post_form(
        client,
        f"/families/{family.id}/members/new",
        {"role": ROLE_NETWORK, "display_name": "Oma Truus", "relation": "oma"},
    )
    assert response.status_code == 302
    rows = events(app, family.id)
    assert ("member.add", "allowed") in [(r.action, r.outcome) for r in rows]


def test_chain_verifies_and_detects_edits_and_deletions(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    for _ in range(4):
        client.get(f"/families/{family.id}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "audit-verify"])
    assert result.exit_code == 0, result.output
    assert "4 rows" in result.output

    engine = app.extensions["portal_engine"]
    with app.app_context():
        rows = events(app, family.id)
        with engine.begin() as conn:
            # The database refuses changes to the log...
            try:
                conn.execute(
                    text("UPDATE audit_event SET actor_name='x' WHERE id=:i"), {"i": rows[1].id}
                )
                raised = False
            except Exception:
                raised = True
        assert raised, "audit_event must be append-only in the database"
    # ...so an attacker with database rights must first lift the guard; verify still notices.
    _tamper(engine, f"UPDATE audit_event SET actor_name='Iemand anders' WHERE id={rows[1].id}")
    result = runner.invoke(args=["portal", "audit-verify"])
    assert result.exit_code == 1
    assert "row was changed" in result.output

    _tamper(engine, f"DELETE FROM audit_event WHERE id={rows[1].id}")
    result = runner.invoke(args=["portal", "audit-verify"])
    assert result.exit_code == 1
    assert "missing" in result.output


def test_deleting_the_newest_rows_is_noticed(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    client.get(f"/families/{family.id}")
    client.get(f"/families/{family.id}")
    last = events(app, family.id)[-1]
    _tamper(app.extensions["portal_engine"], f"DELETE FROM audit_event WHERE id={last.id}")
    with app.app_context():
        _checked, problems = audit.verify()
        db.session.remove()
    assert any("end of the chain" in p.problem for p in problems)


def _tamper(engine, statement: str) -> None:  # type: ignore[no-untyped-def]
    """Lift the append-only guard like an attacker with database rights would, then change."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
            conn.execute(text(statement))
            for verb in ("UPDATE", "DELETE"):
                conn.execute(
                    text(
                        f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON "
                        "audit_event BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
                    )
                )


def test_wie_keek_mee_shows_newest_first_and_filters(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    parent = make_user(name="Anna")
    grandma = make_user(name="Oma Truus")
    family = make_family(parent)
    add_member(family, grandma, ROLE_NETWORK)
    oma = app.test_client()
    sign_in(oma, grandma)
    oma.get(f"/families/{family.id}/members")
    assert oma.get(f"/families/{family.id}/audit").status_code == 403  # network: no log

    sign_in(client, parent)
    page = client.get(f"/families/{family.id}/audit").get_data(as_text=True)
    assert page.index("bekeek wie er meekeek") < page.index("bekeek wie er meedoen")
    # A refusal says what was tried, not what was done ("bekeek" would say she saw it).
    assert "Oma Truus" in page and "wilde bekijken wie er meekeek" in page
    assert "geweigerd" in page

    others = client.get(f"/families/{family.id}/audit?person=others").get_data(as_text=True)
    body = others.split("<tbody>")[1]
    assert "Oma Truus" in body and "Anna" not in body
    assert 'value="others" selected' in others  # the filter stays chosen
    guests = client.get(f"/families/{family.id}/audit?person=guests").get_data(as_text=True)
    assert "Geen regels gevonden" in guests  # Oma is network, not a guest

    mine = client.get(f"/families/{family.id}/audit?person={parent.id}").get_data(as_text=True)
    body = mine.split("<tbody>")[1]
    assert "Anna" in body and "Oma Truus" not in body
    nothing = client.get(f"/families/{family.id}/audit?from=2001-01-01&to=2001-01-02")
    assert "Geen regels gevonden" in nothing.get_data(as_text=True)
    # Garbage in the filters is ignored, never a 500.
    assert (
        client.get(f"/families/{family.id}/audit?from=kapot&person=x&before=-1").status_code == 200
    )


def test_the_same_row_again_and_again_is_one_line(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    """Reloading a page writes a row each time; the page shows them as one line with a count
    (the rows themselves all stay, as the API shows)."""
    parent = make_user(name="Anna")
    family = make_family(parent)
    sign_in(client, parent)
    for _ in range(4):
        client.get(f"/families/{family.id}/members")
    page = client.get(f"/families/{family.id}/audit").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert body.count("bekeek wie er meedoen") == 1
    assert "(4 keer)" in body and "sinds" in body
    rows = [e for e in events(app, family.id) if e.action == "member.list"]
    assert len(rows) == 4


def _row_values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "family_id": None,
        "actor_user_id": 7,
        "actor_name": "Vreemde",
        "actor_role": "none",
        "organisation": None,
        "basis": "none",
        "action": "message.send",
        "object_type": "conversation",
        "object_id": "3",
        "outcome": "denied",
        "reason": "no_relation",
        "client_address": "127.0.0.1",
    }
    values.update(changes)
    return values


def test_rows_from_before_counts_still_verify(app: Flask) -> None:
    """A row as it was written before rows had a count (hashed over the fields alone, no count
    column in the insert): the migration's default makes it a row for one access, and it
    verifies as it did."""
    values = audit.row(**_row_values())  # type: ignore[arg-type]
    values.pop("count")
    values.update(seq=1, prev_hash=audit.GENESIS)
    payload = [values[name] for name in audit.FIELDS]
    payload[2] = values["at"].isoformat(timespec="microseconds")
    values["hash"] = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()
    engine = app.extensions["portal_engine"]
    with engine.begin() as conn:
        conn.execute(insert(AuditEvent.__table__).values(**values))  # type: ignore[arg-type]
        conn.execute(
            insert(AuditChainHead.__table__).values(  # type: ignore[arg-type]
                chain_key=0, last_seq=1, last_hash=values["hash"]
            )
        )
    assert [e.count for e in events(app)] == [1]
    with app.app_context():
        assert audit.verify() == (1, [])
        db.session.remove()


def test_a_count_is_covered_by_the_hash(app: Flask) -> None:
    """A row that counts 49 repeated refusals verifies; changing its count to 1, or another
    row's count from 1 to 5, shows as a changed row."""
    with app.app_context():
        audit.write(**_row_values())
        audit.write(**_row_values(count=49))
        db.commit()
        assert audit.verify() == (2, [])
        db.session.remove()
    one, counted = events(app)
    assert (one.count, counted.count) == (1, 49)
    engine = app.extensions["portal_engine"]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["portal", "audit-verify"]).exit_code == 0
    _tamper(engine, f"UPDATE audit_event SET count=1 WHERE id={counted.id}")
    _tamper(engine, f"UPDATE audit_event SET count=5 WHERE id={one.id}")
    result = runner.invoke(args=["portal", "audit-verify"])
    assert result.exit_code == 1
    assert result.output.count("row was changed") == 2, result.output
