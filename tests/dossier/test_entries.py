"""The dossier: who may read an entry is the author's choice and the policy's decision (a young
person of 16+ can keep entries from the parents); every change is kept and readable as a diff;
only the author changes or takes out an entry; search; attachments; bounded queries."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.dossier.models import DossierEntry
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, is_problem
from tests.files import samples
from tests.helpers import years_ago
from tests.messaging.test_messaging import SECRET, api_for


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    teen, young = make_user(name="Sanne"), make_user(name="Tim")
    coach = make_user(
        name="Coach", kind=KIND_PROFESSIONAL, totp_secret=SECRET, totp_enabled_at=clock.now()
    )
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)
    add_member(family, teen, ROLE_YOUNG_PERSON, birth_date=years_ago(16, days=10))
    add_member(family, young, ROLE_YOUNG_PERSON, birth_date=years_ago(13))
    now = clock.now()
    with app.app_context():
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=coach.id,
                origin="invitation",
                purpose="Dossier",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
                accepted_at=now,
                approved_at=now,
                parts=[GrantPart(part="dossier", level="write")],
            )
        )
        db.session.commit()
        db.session.remove()
    apis = {
        name: api_for(app, u)
        for name, u in [
            ("mama", mother),
            ("papa", father),
            ("sanne", teen),
            ("tim", young),
            ("coach", coach),
        ]
    }
    people = {"mama": mother, "papa": father, "sanne": teen, "tim": young, "coach": coach}
    return {"family": family, "people": people, **apis}


def write(api: Api, fid: int, title: str, visibility: str = "all", **extra: Any) -> Any:
    response = api.post(
        f"/families/{fid}/dossier",
        {"title": title, "body": f"Over {title}", "visibility": visibility, **extra},
    )
    return response


def titles(api: Api, fid: int, q: str = "") -> list[str]:
    page = api.get(f"/families/{fid}/dossier" + (f"?q={q}" if q else ""))
    assert page.status_code == 200, page.get_json()
    return [e["title"] for e in page.get_json()["items"]]


def test_visibility_is_decided_per_entry(world: dict[str, Any]) -> None:
    fid = world["family"].id
    mama, papa, sanne, tim, coach = (world[k] for k in ("mama", "papa", "sanne", "tim", "coach"))
    ids = {}
    for api, title, visibility in [
        (mama, "voor iedereen", "all"),
        (mama, "alleen gezin", "family"),
        (mama, "alleen ouders", "parents"),
        (mama, "alleen mama", "me"),
        (sanne, "niet voor ouders", "no_parents"),
    ]:
        response = write(api, fid, title, visibility)
        assert response.status_code == 201, response.get_json()
        ids[title] = response.get_json()["id"]
    coach_entry = write(coach, fid, "verslag coach")
    assert coach_entry.status_code == 201
    expected = {
        "mama": {"voor iedereen", "alleen gezin", "alleen ouders", "alleen mama", "verslag coach"},
        "papa": {"voor iedereen", "alleen gezin", "alleen ouders", "verslag coach"},
        "sanne": {"voor iedereen", "alleen gezin", "niet voor ouders", "verslag coach"},
        "tim": {"voor iedereen", "alleen gezin", "niet voor ouders", "verslag coach"},
        "coach": {"voor iedereen", "niet voor ouders", "verslag coach"},
    }
    for name, seen in expected.items():
        assert set(titles(world[name], fid)) == seen, name
    # What is kept from someone does not exist for them: a 404, and their access is logged.
    assert papa.get(f"/families/{fid}/dossier/{ids['niet voor ouders']}").status_code == 404
    assert coach.get(f"/families/{fid}/dossier/{ids['alleen gezin']}").status_code == 404
    assert sanne.get(f"/families/{fid}/dossier/{ids['alleen ouders']}").status_code == 404
    assert papa.client.get(f"/families/{fid}/dossier/{ids['alleen mama']}").status_code == 404
    # A young person of 16+ may keep an entry from the parents; guests write for all.
    assert is_problem(write(tim, fid, "geheim", "no_parents"), 422)
    assert is_problem(write(coach, fid, "alleen coach", "me"), 422)


def test_a_parent_keeps_an_entry_from_the_other_parent(world: dict[str, Any]) -> None:
    """Safety in a separation: papa writes for everyone but the other parent."""
    fid = world["family"].id
    papa = world["papa"]
    created = write(papa, fid, "zonder mama", "no_parents")
    assert created.status_code == 201, created.get_json()
    entry = f"/families/{fid}/dossier/{created.get_json()['id']}"
    assert "zonder mama" in titles(papa, fid)
    assert "zonder mama" not in titles(world["mama"], fid)
    assert world["mama"].get(entry).status_code == 404
    for reader in ("sanne", "tim", "coach"):
        assert "zonder mama" in titles(world[reader], fid), reader
    form = papa.client.get(f"/families/{fid}/dossier/new").get_data(as_text=True)
    assert "Iedereen behalve de andere ouder" in form


def test_only_the_author_changes_and_every_version_is_kept(world: dict[str, Any]) -> None:
    fid = world["family"].id
    mama, papa = world["mama"], world["papa"]
    created = write(mama, fid, "Schoolgesprek").get_json()
    url = f"/families/{fid}/dossier/{created['id']}"
    assert is_problem(papa.patch(url, {"version": created["version"], "body": "anders"}), 403)
    changed = mama.patch(
        url, {"version": created["version"], "body": "Over Schoolgesprek\nMet de mentor."}
    )
    assert changed.status_code == 200
    stale = mama.patch(url, {"version": created["version"], "body": "oude versie"})
    assert is_problem(stale, 409)
    assert stale.get_json()["current"]["body"] == "Over Schoolgesprek\nMet de mentor."
    one = mama.get(url).get_json()
    assert [r["body"] for r in one["revisions"]] == ["Over Schoolgesprek"]
    page = papa.client.get(f"/families/{fid}/dossier/{created['id']}").get_data(as_text=True)
    assert re.search(r'class="added">.*Met de mentor\.</li>', page)
    assert "Geschiedenis" in page

    # Taking it out asks first, needs the version, and keeps the text.
    assert "uit het dossier halen?" in mama.client.get(
        f"{url.replace('/api/v1', '')}/delete"
    ).get_data(as_text=True)
    assert is_problem(mama.delete(f"{url}?version=1"), 409)
    version = one["version"]
    assert mama.delete(f"{url}?version={version}").status_code == 200
    assert papa.get(url).status_code == 404
    assert "Schoolgesprek" not in titles(papa, fid)
    with papa.client.application.app_context():
        from sqlalchemy import select

        from portal.dossier.models import DossierRevision

        kept = db.session.scalars(
            select(DossierRevision.change).where(DossierRevision.entry_id == created["id"])
        ).all()
        db.session.remove()
    assert sorted(kept) == ["deleted", "edited"]


def test_search_and_attachments(world: dict[str, Any]) -> None:
    fid = world["family"].id
    mama, papa, coach = world["mama"], world["papa"], world["coach"]
    uploaded = mama.call(
        "POST",
        f"/families/{fid}/files",
        data={"purpose": "dossier", "file": (io.BytesIO(samples.pdf()), "verslag.pdf")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    file_id = uploaded.get_json()["id"]
    second = mama.call(
        "POST",
        f"/families/{fid}/files",
        data={"purpose": "dossier", "file": (io.BytesIO(samples.pdf()), "bijlage.pdf")},
        content_type="multipart/form-data",
    ).get_json()["id"]
    assert papa.get(f"/families/{fid}/files/{file_id}").status_code == 404  # not attached yet
    entry = write(mama, fid, "Verslag huisarts", "family", attachments=[file_id, second])
    assert [a["id"] for a in entry.get_json()["attachments"]] == [file_id, second]
    # Read back one by one: the entry with both its files, an entry without files with none.
    read = papa.get(f"/families/{fid}/dossier/{entry.get_json()['id']}").get_json()
    assert [a["name"] for a in read["attachments"]] == ["verslag.pdf", "bijlage.pdf"]
    plain = write(mama, fid, "Rapport school 100% goed").get_json()
    assert papa.get(f"/families/{fid}/dossier/{plain['id']}").get_json()["attachments"] == []
    assert titles(papa, fid, "HUISARTS") == ["Verslag huisarts"]
    assert titles(papa, fid, "100%25") == ["Rapport school 100% goed"]
    assert titles(coach, fid, "huisarts") == []  # a family-only entry stays hidden in search
    assert papa.get(f"/families/{fid}/files/{file_id}").status_code == 200
    # The attachment is as private as its entry.
    assert coach.get(f"/families/{fid}/files/{file_id}").status_code == 404
    html = papa.client.get(f"/families/{fid}/dossier?q=huisarts").get_data(as_text=True)
    assert "Verslag huisarts" in html and ">verslag.pdf</a>" in html
    assert "Niets gevonden" in papa.client.get(f"/families/{fid}/dossier?q=olifant").get_data(
        as_text=True
    )


def test_page_keeps_the_text_when_an_attachment_is_refused(world: dict[str, Any]) -> None:
    fid = world["family"].id
    client = world["mama"].client
    page = client.get(f"/families/{fid}/dossier/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    form = {
        "csrf_token": token.group(1),
        "title": "Brief",
        "body": "Zie bijlage",
        "visibility": "all",
    }
    refused = client.post(
        f"/families/{fid}/dossier/new",
        data={**form, "attachments": [(io.BytesIO(samples.SVG), "brief.pdf")]},
        content_type="multipart/form-data",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "brief.pdf: Dit soort bestand kan niet" in html
    assert 'value="Brief"' in html and re.search(r">\s*Zie bijlage</textarea>", html)
    assert titles(world["mama"], fid) == []
    empty = client.post(f"/families/{fid}/dossier/new", data={**form, "title": ""})
    assert empty.status_code == 422 and "Zie bijlage" in empty.get_data(as_text=True)


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.extensions["portal_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_dossier_list_queries_do_not_grow_with_entries(app: Flask, world: dict[str, Any]) -> None:
    fid = world["family"].id
    papa = world["papa"]
    counts = []
    papa.client.get(f"/families/{fid}/dossier")  # the family's first audit row starts its chain
    for total in (10, 1000):
        with app.app_context():
            existing = db.session.query(DossierEntry).filter_by(family_id=fid).count()
            db.session.add_all(
                DossierEntry(
                    family_id=fid,
                    author_name="Coach",
                    author_kind="guest",
                    title=f"Stuk {i}",
                    body="tekst",
                    visibility=("all", "family", "parents")[i % 3],
                )
                for i in range(existing, total)
            )
            db.session.commit()
            db.session.remove()
        for path in (f"/families/{fid}/dossier", f"/api/v1/families/{fid}/dossier"):
            with counted(app) as statements:
                assert papa.client.get(path).status_code == 200
            counts.append((total, path, len(statements)))
    by_path: dict[str, list[int]] = {}
    for _total, path, n in counts:
        by_path.setdefault(path, []).append(n)
    for path, (small, large) in by_path.items():
        assert small == large, (path, counts)


def test_export_holds_what_the_asker_may_see(world: dict[str, Any]) -> None:
    fid = world["family"].id
    mama, sanne, tim = world["mama"], world["sanne"], world["tim"]
    uploaded = mama.call(
        "POST",
        f"/families/{fid}/files",
        data={"purpose": "dossier", "file": (io.BytesIO(samples.png()), "tekening.png")},
        content_type="multipart/form-data",
    ).get_json()
    write(mama, fid, "Voor de ouders", "parents", attachments=[uploaded["id"]])
    write(sanne, fid, "Mijn eigen verhaal", "no_parents")
    response = mama.get(f"/families/{fid}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    document = json.loads(archive.read("gezin.json"))
    assert document["format"] == "gezinsportaal-export/1"
    assert [e["title"] for e in document["dossier"]["entries"]] == ["Voor de ouders"]
    (stored,) = document["files"]
    assert archive.read(stored["path"]) == samples.png()
    assert {m["display_name"] for m in document["members"]} >= {"Mama", "Papa", "Sanne", "Tim"}
    assert any(a["action"] == "family.export" for a in document["audit_log"])
    assert "password_hash" not in json.dumps(document)

    mine = json.loads(
        zipfile.ZipFile(io.BytesIO(sanne.get(f"/families/{fid}/export").get_data())).read(
            "gezin.json"
        )
    )
    assert [e["title"] for e in mine["dossier"]["entries"]] == ["Mijn eigen verhaal"]
    assert mine["files"] == []
    # A young person of 12-15 cannot take the family's archive.
    assert is_problem(tim.get(f"/families/{fid}/export"), 403)


def test_export_holds_every_part_of_the_plan_and_my_conversations(world: dict[str, Any]) -> None:
    """The archive is read back: every part of the gezinsplan as it was written, and the
    conversations of the one asking (not those they are not in)."""
    fid, mama, people = world["family"].id, world["mama"], world["people"]
    plan = f"/families/{fid}/plan"
    version = mama.get(plan).get_json()["version"]
    assert (
        mama.call("PUT", plan, {"version": version, "tomorrow": "Rust in huis"}).status_code == 200
    )
    goal = mama.post(f"{plan}/goals", {"title": "Op tijd naar school"}).get_json()
    petal = mama.post(f"{plan}/network", {"name": "Oma Els", "relation": "oma"}).get_json()
    assert mama.post(f"{plan}/goals/{goal['id']}/scores", {"score": 6}).status_code == 201
    with_owner = {"what": "Wekker zetten", "owner": f"petal:{petal['id']}", "goal_id": goal["id"]}
    assert mama.post(f"{plan}/agreements", with_owner).status_code == 201
    safety = mama.get(f"{plan}/safety").get_json()
    saved = mama.call(
        "PUT", f"{plan}/safety", {"version": safety["version"], "signals": "Deuren slaan"}
    )
    assert saved.status_code == 200
    day = (clock.today() + timedelta(days=20)).isoformat()
    made = mama.post(f"{plan}/evaluations", {"title": "Eerste evaluatie", "held_on": day})
    assert made.status_code == 201

    def conversation(api: Api, topic: str, with_: User, body: str) -> None:
        started = api.post(
            f"/families/{fid}/conversations", {"topic": topic, "participants": [with_.id]}
        )
        assert started.status_code == 201
        sent = api.post(
            f"/families/{fid}/conversations/{started.get_json()['id']}/messages",
            {"client_key": f"export-{topic}", "body": body},
        )
        assert sent.status_code == 201

    conversation(mama, "School", people["papa"], "Ouderavond dinsdag")
    conversation(world["papa"], "Verjaardag", people["sanne"], "Cadeau voor mama")

    archive = zipfile.ZipFile(io.BytesIO(mama.get(f"/families/{fid}/export").get_data()))
    document = json.loads(archive.read("gezin.json"))["plan"]
    assert [q["tomorrow"] for q in document["questions"]] == ["Rust in huis"]
    assert [g["title"] for g in document["goals"]] == ["Op tijd naar school"]
    assert [s["score"] for s in document["goal_scores"]] == [6]
    assert [(a["what"], a["owner_petal_id"], a["goal_id"]) for a in document["agreements"]] == [
        ("Wekker zetten", petal["id"], goal["id"])
    ]
    assert [(n["name"], n["relation"]) for n in document["network"]] == [("Oma Els", "oma")]
    assert [s["signals"] for s in document["safety"]] == ["Deuren slaan"]
    assert [(e["title"], e["held_on"]) for e in document["evaluations"]] == [
        ("Eerste evaluatie", day)
    ]
    assert {c["part"] for c in document["changes"]} >= {
        "questions",
        "goals",
        "agreements",
        "network",
        "safety",
        "evaluations",
    }
    talks = json.loads(archive.read("gezin.json"))["conversations"]
    assert [(c["topic"], [m["body"] for m in c["messages"]]) for c in talks] == [
        ("School", ["Ouderavond dinsdag"])
    ]


def test_a_new_entry_stays_in_the_family_unless_shared(world: dict[str, Any]) -> None:
    """Privacy by default: what a family member writes is for the family until they choose to
    share it with the guests; a guest's own entry is for everyone with dossier access."""
    fid = world["family"].id
    mama, coach = world["mama"], world["coach"]
    form = mama.client.get(f"/families/{fid}/dossier/new").get_data(as_text=True)
    assert re.search(r'<option selected value="family">|<option value="family" selected', form)
    unsaid = mama.post(f"/families/{fid}/dossier", {"title": "Zomaar", "body": "Tekst"})
    assert unsaid.status_code == 201 and unsaid.get_json()["visibility"] == "family"
    assert "Zomaar" not in titles(coach, fid)
    own = coach.post(f"/families/{fid}/dossier", {"title": "Verslag", "body": "Tekst"})
    assert own.status_code == 201 and own.get_json()["visibility"] == "all"
    assert "Verslag" in titles(mama, fid)
