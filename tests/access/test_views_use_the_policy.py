"""How views use the access policy, each rule kept here:
an entry's earlier text stays kept from whom it was kept from (page, API, export); member
changes through the pages are logged; a guest's dashboard counts only entries they may read;
only someone whose yes a grant needs may renew it (both ways round for a 16-year-old); "approve"
cannot change a grant in use; another family's ids in every nested path are an audited 404.
(The socket read receipt, logged since, is tested in tests/messaging/test_live_messages.py.)"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import db
from portal.access.models import AuditEvent, Grant, GrantPart
from portal.core import clock
from portal.dossier.models import DossierEntry
from portal.family.models import Member
from tests.access import test_matrix
from tests.access.test_matrix import client_for
from tests.helpers import csrf_from, csrf_token, post_form

World = dict[str, Any]
world = test_matrix.world  # the matrix's family with every kind of person (a fixture)
SECRET = "GEHEIM-VOOR-OUDERS"


def _api(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRFToken": client.get("/api/v1/session").get_json()["csrf_token"]}


def _audit(app: Flask, **where: object) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        count = db.session.scalar(query)
        db.session.remove()
    return int(count or 0)


def _later(days: int = 60) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


# --- an entry's history keeps each version's own visibility ----------------------------------


def test_an_entry_once_kept_from_parents_keeps_that_text_from_them_in_its_history(
    app: Flask, world: World
) -> None:
    fid = world["family"].id
    young = client_for(app, "young_16_17", world)
    headers = _api(young)
    made = young.post(
        f"/api/v1/families/{fid}/dossier",
        json={"title": "Mijn stuk", "body": SECRET, "visibility": "no_parents"},
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    eid, version = made.get_json()["id"], made.get_json()["version"]
    parent = client_for(app, "parent", world)
    assert parent.get(f"/api/v1/families/{fid}/dossier/{eid}").status_code == 404
    shared = young.patch(
        f"/api/v1/families/{fid}/dossier/{eid}",
        json={"version": version, "body": "Openbare tekst", "visibility": "all"},
        headers=headers,
    )
    assert shared.status_code == 200, shared.get_json()
    # The parent now reads the entry, but not the text that was kept from them.
    api = parent.get(f"/api/v1/families/{fid}/dossier/{eid}").get_json()
    assert api["body"] == "Openbare tekst"
    assert SECRET not in json.dumps(api)
    page = parent.get(f"/families/{fid}/dossier/{eid}").get_data(as_text=True)
    assert "Openbare tekst" in page and SECRET not in page
    guest_page = client_for(app, "guest_write", world).get(f"/families/{fid}/dossier/{eid}")
    # "Everyone but my parents" included the guests with dossier access: they saw it then.
    assert guest_page.status_code == 200 and SECRET in guest_page.get_data(as_text=True)
    with zipfile.ZipFile(io.BytesIO(parent.get(f"/families/{fid}/export").data)) as archive:
        document = json.loads(archive.read("gezin.json"))
    assert SECRET not in json.dumps(document["dossier"])
    # The author still sees their own earlier version, in the API and in the history.
    own = young.get(f"/api/v1/families/{fid}/dossier/{eid}").get_json()
    assert [r["body"] for r in own["revisions"]] == [SECRET]
    assert SECRET in young.get(f"/families/{fid}/dossier/{eid}").get_data(as_text=True)


# --- member changes through the pages are logged ---------------------------------------------


def test_editing_and_removing_a_member_through_the_pages_is_logged(
    app: Flask, world: World
) -> None:
    fid = world["family"].id
    child = world["child"]
    parent = client_for(app, "parent", world)
    path = f"/families/{fid}/members/{child.id}/edit"
    page = parent.get(path).get_data(as_text=True)
    before = _audit(app, action="member.edit", object_id=str(child.id))
    with app.app_context():
        member = db.session.get(Member, child.id)
        assert member is not None and member.birth_date is not None
        version, birth = member.version, member.birth_date.isoformat()
        db.session.remove()
    saved = parent.post(
        path,
        data={
            "csrf_token": csrf_from(page),
            "version": str(version),
            "role": "young_person",
            "display_name": "Kind Hernoemd",
            "birth_date": birth,
        },
    )
    assert saved.status_code == 302
    assert _audit(app, action="member.edit", object_id=str(child.id)) == before + 1
    with app.app_context():
        member = db.session.get(Member, child.id)
        assert member is not None and member.display_name == "Kind Hernoemd"
        version = member.version
        db.session.remove()
    path = f"/families/{fid}/members/{child.id}/remove"
    page = parent.get(path).get_data(as_text=True)
    removed = parent.post(path, data={"csrf_token": csrf_from(page), "version": str(version)})
    assert removed.status_code == 302
    assert _audit(app, action="member.remove", object_id=str(child.id)) == 1


# --- a guest's dashboard counts only what the guest may read ---------------------------------


def test_a_guests_dashboard_counts_only_entries_the_guest_may_read(
    app: Flask, world: World
) -> None:
    fid = world["family"].id
    guest = client_for(app, "guest_write", world)
    assert guest.get(f"/families/{fid}/dossier").status_code == 200  # the guest's last visit
    clock.advance(timedelta(seconds=5))
    parent = client_for(app, "parent", world)
    headers = _api(parent)
    for visibility in ("family", "parents", "me"):
        made = parent.post(
            f"/api/v1/families/{fid}/dossier",
            json={"title": f"Prive {visibility}", "body": "x", "visibility": visibility},
            headers=headers,
        )
        assert made.status_code == 201
    clock.advance(timedelta(seconds=5))
    dashboard = client_for(app, "guest_write", world).get("/professional").get_data(as_text=True)
    assert not re.findall(r'data-testid="unread">([^<]*)<', dashboard)
    # One the guest may read is counted.
    made = parent.post(
        f"/api/v1/families/{fid}/dossier",
        json={"title": "Voor iedereen", "body": "x", "visibility": "all"},
        headers=headers,
    )
    assert made.status_code == 201
    clock.advance(timedelta(seconds=5))
    dashboard = client_for(app, "guest_write", world).get("/professional").get_data(as_text=True)
    badge = re.findall(r'data-testid="unread">([^<]*)<', dashboard)
    assert len(badge) == 1 and re.search(r"\b1\b", badge[0]), badge


# --- renewing a grant: only whose yes it needs -----------------------------------------------


def _renew(client: FlaskClient, fid: int, gid: int, version: int) -> Any:
    return post_form(
        client,
        f"/families/{fid}/access/{gid}/renew",
        {"version": str(version), "expires_on": _later()},
        form_path=f"/families/{fid}/access/{gid}",
    )


def _grant_of(app: Flask, world: World, actor: str) -> tuple[int, int]:
    with app.app_context():
        grant = db.session.scalar(select(Grant).where(Grant.grantee_id == world["users"][actor].id))
        assert grant is not None
        found = grant.id, grant.version
        db.session.remove()
    return found


def test_a_16_year_old_cannot_reopen_a_family_wide_grant_but_a_parent_can(
    app: Flask, world: World
) -> None:
    fid = world["family"].id
    gid, version = _grant_of(app, world, "guest_revoked")  # about the family, revoked
    young = client_for(app, "young_16_17", world)
    refused = _renew(young, fid, gid, version)
    assert refused.status_code == 422
    assert "Alleen wie toestemming geeft" in refused.get_data(as_text=True)
    assert client_for(app, "guest_revoked", world).get(f"/families/{fid}/plan").status_code == 403
    renewed = _renew(client_for(app, "parent", world), fid, gid, version)
    assert renewed.status_code == 302
    assert client_for(app, "guest_revoked", world).get(f"/families/{fid}/plan").status_code == 200


def test_a_parent_cannot_reopen_a_grant_a_16_year_old_revoked_but_they_can(
    app: Flask, world: World
) -> None:
    fid = world["family"].id
    users = world["users"]
    with app.app_context():
        young = db.session.scalar(select(Member).where(Member.user_id == users["young_16_17"].id))
        assert young is not None
        professional, now = users["professional"], clock.now()
        grant = Grant(
            family_id=fid,
            grantee_id=professional.id,
            invited_email=professional.email,
            origin="invitation",
            purpose="Alleen voor mij",
            subject_member_id=young.id,
            valid_from=now - timedelta(days=1),
            expires_at=now + timedelta(days=30),
            accepted_at=now,
            approved_at=now,
            revoked_at=now - timedelta(seconds=1),
            revoked_by_id=users["young_16_17"].id,
            parts=[GrantPart(part="dossier", level="read")],
        )
        db.session.add(grant)
        db.session.commit()
        gid, version = grant.id, grant.version
        db.session.remove()
    assert _renew(client_for(app, "parent", world), fid, gid, version).status_code == 422
    guest = client_for(app, "professional", world)
    assert guest.get(f"/families/{fid}/dossier").status_code == 403
    assert _renew(client_for(app, "young_16_17", world), fid, gid, version).status_code == 302
    assert client_for(app, "professional", world).get(f"/families/{fid}/dossier").status_code == 200


def test_approve_cannot_change_the_parts_of_a_grant_in_use(app: Flask, world: World) -> None:
    fid = world["family"].id
    gid, version = _grant_of(app, world, "guest_write")  # active: plan, dossier, messages
    parent = client_for(app, "parent", world)
    page = parent.get(f"/families/{fid}/access/{gid}").get_data(as_text=True)
    answer = parent.post(
        f"/families/{fid}/access/{gid}/approve",
        data={"csrf_token": csrf_from(page), "version": str(version), "part_plan": "read"},
    )
    assert answer.status_code == 409
    assert "Deze toegang loopt al." in answer.get_data(as_text=True)
    with app.app_context():
        grant = db.session.get(Grant, gid)
        assert grant is not None
        assert {(p.part, p.level) for p in grant.parts} == {
            ("plan", "write"),
            ("dossier", "write"),
            ("messages", "write"),
        }
        db.session.remove()


# --- another family's objects in this family's nested paths: an audited 404, nothing shown --

SUBST = {
    "<int:member_id>": "member",
    "<int:mid>": "member",
    "<int:grant_id>": "grant",
    "<int:gid>": "grant",
    "<int:rid>": "grant",
    "<int:cid>": "conversation",
    "<int:conversation_id>": "conversation",
    "<int:file_id>": "file",
    "<int:entry_id>": "entry",
    "<int:eid>": "entry",
    "<int:change_id>": "change",
    "<int:goal_id>": "goal",
    "<int:agreement_id>": "agreement",
    "<int:petal_id>": "petal",
    "<int:evaluation_id>": "evaluation",
}


def test_nested_ids_of_another_family_are_an_audited_404(app: Flask, world: World) -> None:
    from portal.access.models import GrantPart
    from portal.family.models import ROLE_YOUNG_PERSON, Agreement, Evaluation, Goal, NetworkPetal
    from portal.family.plan_history_models import PlanChange
    from portal.files.models import FileContent, StoredFile
    from portal.messaging.models import Conversation, Message, Participant
    from tests.access.test_matrix import ROUTES
    from tests.files import samples

    users = world["users"]
    with app.app_context():
        other = db.session.scalar(
            select(Member).where(Member.user_id == users["other_family"].id)
        ).family_id  # type: ignore[union-attr]
        kid = Member(family_id=other, role=ROLE_YOUNG_PERSON, display_name="ANDERKIND")
        db.session.add(kid)
        goal = Goal(family_id=other, title="ANDERDOEL", created_by_name="x")
        db.session.add(goal)
        db.session.flush()
        ag = Agreement(
            family_id=other,
            what="ANDERAFSPRAAK",
            owner_name="x",
            created_by_name="x",
            goal_id=goal.id,
        )
        petal = NetworkPetal(family_id=other, name="ANDERPETAL", relation="x", created_by_name="x")
        ev = Evaluation(
            family_id=other, title="ANDEREVAL", held_on=clock.today(), created_by_name="x"
        )
        conv = Conversation(
            family_id=other,
            topic="ANDERGESPREK",
            created_by_id=users["other_family"].id,
            last_seq=1,
        )
        db.session.add_all([ag, petal, ev, conv])
        db.session.flush()
        # the parent of family A is (wrongly, if ever) a participant: tests the family scope only
        db.session.add(Participant(conversation_id=conv.id, user_id=users["parent"].id))
        db.session.add(Participant(conversation_id=conv.id, user_id=users["other_family"].id))
        msg = Message(
            conversation_id=conv.id,
            family_id=other,
            seq=1,
            author_id=users["parent"].id,
            author_name="x",
            client_key="other-0001",
            body="ANDERBERICHT",
        )
        db.session.add(msg)
        db.session.flush()
        data = samples.png(4, 3)
        f = StoredFile(
            family_id=other,
            uploaded_by_id=users["parent"].id,
            uploader_name="x",
            name="ander.png",
            content_type="image/png",
            size=len(data),
            sha256="0" * 64,
            conversation_id=conv.id,
            message_id=msg.id,
        )
        db.session.add(f)
        db.session.flush()
        db.session.add(FileContent(file_id=f.id, data=data))
        entry = DossierEntry(
            family_id=other,
            author_id=users["parent"].id,
            author_name="x",
            author_kind="member",
            title="ANDERDOSSIER",
            body="ANDERDOSSIER",
        )
        db.session.add(entry)
        g = Grant(
            family_id=other,
            grantee_id=users["guest_write"].id,
            origin="request",
            purpose="ANDERGRANT",
            valid_from=clock.now(),
            expires_at=clock.now() + timedelta(days=9),
            accepted_at=clock.now(),
            parts=[GrantPart(part="plan", level="read")],
        )
        db.session.add(g)
        db.session.flush()
        change = db.session.scalar(
            select(func.max(PlanChange.id)).where(PlanChange.family_id == other)
        )
        o = dict(
            member=kid.id,
            goal=goal.id,
            agreement=ag.id,
            petal=petal.id,
            evaluation=ev.id,
            conversation=conv.id,
            file=f.id,
            entry=entry.id,
            grant=g.id,
            change=change,
        )
        db.session.commit()
        db.session.remove()
    from tests.access.test_matrix import url_for_rule

    bad = []
    for actor in ("parent", "guest_write"):
        for (rule, method), route in sorted(ROUTES.items()):
            present = [k for k in SUBST if k in rule]
            if not present or not rule.startswith(
                ("/families/<int:family_id>", "/api/v1/families/<int:fid>")
            ):
                continue
            url = rule
            for k in present:
                url = url.replace(k, str(o[SUBST[k]]))
            url = url_for_rule(url, world)
            client = client_for(app, actor, world)
            before = _audit(app)
            if route.json:
                h = _api(client)
                body = {} if method in ("POST", "PATCH", "PUT") else None
                r = client.open(url, method=method, json=body, headers=h)
            elif method == "POST":
                r = client.post(url, data={"csrf_token": csrf_token(client, "/signup")})
            else:
                r = client.get(url)
            text = r.get_data(as_text=True)
            leaked = "ANDER" in text
            rows = _audit(app) - before
            # A guest refused at the family level (403, whatever the id) learns nothing.
            wrong = r.status_code != 404 and not (actor == "guest_write" and r.status_code == 403)
            if wrong or leaked or rows < 1:
                bad.append(
                    f"{actor} {method} {url}: {r.status_code} leaked={leaked} audit_rows={rows}"
                )
    assert not bad
