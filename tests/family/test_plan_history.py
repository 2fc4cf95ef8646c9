"""Every change to the plan is kept and can be restored; a gedragen plan is agreed when every
required party signed (both parents with authority, also apart; the young person of 12+; the
coach when a guest with the plan part takes part); a later change starts a new draft."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from babel.dates import format_date
from flask import Flask

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_PARENT, ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, is_problem
from tests.helpers import years_ago
from tests.messaging.test_messaging import SECRET, api_for


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, Any]:
    mother, father, carer = make_user(name="Mama"), make_user(name="Papa"), make_user(name="Stief")
    teen = make_user(name="Sanne")
    coach = make_user(
        name="Coach", kind=KIND_PROFESSIONAL, totp_secret=SECRET, totp_enabled_at=clock.now()
    )
    family = make_family(mother)
    add_member(family, father, ROLE_PARENT, has_authority=True)  # lives elsewhere: signs too
    add_member(family, carer, ROLE_PARENT)
    add_member(family, teen, ROLE_YOUNG_PERSON, birth_date=years_ago(14))
    add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(8), name="Daan")
    now = clock.now()
    with app.app_context():
        db.session.add(
            Grant(
                family_id=family.id,
                grantee_id=coach.id,
                origin="invitation",
                purpose="Plan",
                valid_from=now - timedelta(days=1),
                expires_at=now + timedelta(days=30),
                accepted_at=now,
                approved_at=now,
                parts=[GrantPart(part="plan", level="read")],
            )
        )
        db.session.commit()
        db.session.remove()
    apis = {
        name: api_for(app, user)
        for name, user in [
            ("mama", mother),
            ("papa", father),
            ("stief", carer),
            ("sanne", teen),
            ("coach", coach),
        ]
    }
    return {"family": family, **apis}


def goal(api: Api, fid: int, title: str) -> dict[str, Any]:
    response = api.post(f"/families/{fid}/plan/goals", {"title": title})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_every_change_is_kept_and_can_be_restored(world: dict[str, Any]) -> None:
    fid, mama, papa = world["family"].id, world["mama"], world["papa"]
    created = goal(mama, fid, "Op tijd op school")
    base = f"/families/{fid}/plan/goals/{created['id']}"
    first = papa.patch(base, {"version": created["version"], "title": "Elke dag op tijd"})
    assert first.status_code == 200
    papa.patch(base, {"version": first.get_json()["version"], "phase": "in_progress"})

    history = mama.get(f"/families/{fid}/plan/history?part=goals").get_json()["items"]
    assert [h["change"] for h in history] == ["edited", "edited", "created"]
    assert history[0]["by"] == "Papa" and history[0]["fields"] == [
        {"field": "phase", "before": "not_started", "after": "in_progress"}
    ]
    assert history[1]["fields"] == [
        {"field": "title", "before": "Op tijd op school", "after": "Elke dag op tijd"}
    ]
    page = mama.client.get(f"/families/{fid}/plan/history").get_data(as_text=True)
    assert "<del>Op tijd op school</del> → <ins>Elke dag op tijd</ins>" in page
    # Choices by their words, as in the form (the API keeps the stored values).
    assert "<del>Nog niet begonnen</del> → <ins>Bezig</ins>" in page

    # Back to how it was when it was created: itself a change, nothing is lost.
    restored = mama.post(f"/families/{fid}/plan/history/{history[2]['id']}/restore")
    assert restored.status_code == 200
    now = mama.get(f"/families/{fid}/plan").get_json()["goals"][0]
    assert (now["title"], now["phase"]) == ("Op tijd op school", "not_started")
    latest = mama.get(f"/families/{fid}/plan/history?part=goals").get_json()["items"]
    assert latest[0]["change"] == "restored" and len(latest) == 4
    # A guest who may only read cannot restore; another family's change does not exist.
    assert is_problem(
        world["coach"].post(f"/families/{fid}/plan/history/{history[2]['id']}/restore"), 403
    )
    assert is_problem(mama.post(f"/families/{fid}/plan/history/999999/restore"), 404)

    # A score in the history names its goal (a bare "6" said nothing).
    assert mama.post(f"{base}/scores", {"score": 6}).status_code == 201
    scored = mama.get(f"/families/{fid}/plan/history?part=goals").get_json()["items"][0]
    assert scored["title"] == "Op tijd op school: score 6"
    page = mama.client.get(f"/families/{fid}/plan/history").get_data(as_text=True)
    assert "Op tijd op school: score 6" in page


def test_plan_is_agreed_when_every_required_party_signed(world: dict[str, Any]) -> None:
    fid = world["family"].id
    mama, papa, stief, sanne, coach = (
        world[k] for k in ("mama", "papa", "stief", "sanne", "coach")
    )
    goal(mama, fid, "Rustige ochtenden")
    assert mama.get(f"/families/{fid}/plan/versions").get_json()["status"]["state"] == "draft"
    assert is_problem(coach.post(f"/families/{fid}/plan/versions"), 403)  # the family proposes
    proposed = mama.post(f"/families/{fid}/plan/versions")
    assert proposed.status_code == 201
    version = proposed.get_json()
    # The coach only reads the plan: a guest signs when they write in it.
    assert sorted(p["name"] for p in version["signers"]) == ["Mama", "Papa", "Sanne"]
    assert version["plan"]["goals"][0]["title"] == "Rustige ochtenden"

    sign = {"version": version["number"]}
    for api in (mama, papa):
        assert api.post(f"/families/{fid}/plan/signoffs", sign).status_code == 201
    for api in (stief, coach):
        refused = api.post(f"/families/{fid}/plan/signoffs", sign)
        assert is_problem(refused, 409) and refused.get_json()["reason"] == "not_required"
    assert is_problem(mama.post(f"/families/{fid}/plan/signoffs", sign), 409)  # twice
    state = mama.get(f"/families/{fid}/plan/versions").get_json()["status"]
    assert state["state"] == "proposed" and [p["name"] for p in state["waiting_for"]] == ["Sanne"]
    assert sanne.post(f"/families/{fid}/plan/signoffs", sign).status_code == 201
    state = mama.get(f"/families/{fid}/plan/versions").get_json()["status"]
    assert state == {"state": "agreed", "current": 1, "agreed": 1, "waiting_for": []}
    page = papa.client.get(f"/families/{fid}/plan/versions").get_data(as_text=True)
    assert "Vastgesteld" in page

    # A change after agreement starts a new draft; the agreed version stays readable.
    current = mama.get(f"/families/{fid}/plan").get_json()["goals"][0]
    mama.patch(
        f"/families/{fid}/plan/goals/{current['id']}",
        {"version": current["version"], "title": "Rustige ochtenden en avonden"},
    )
    state = mama.get(f"/families/{fid}/plan/versions").get_json()["status"]
    assert state["state"] == "changed_after_agreement" and state["agreed"] == 1
    agreed = mama.get(f"/families/{fid}/plan/versions/1").get_json()
    assert agreed["plan"]["goals"][0]["title"] == "Rustige ochtenden"
    assert agreed["agreed_at"] is not None
    assert "Rustige ochtenden" in papa.client.get(f"/families/{fid}/plan/versions/1").get_data(
        as_text=True
    )


def test_a_change_outdates_an_open_proposal(world: dict[str, Any]) -> None:
    fid, mama, papa = world["family"].id, world["mama"], world["papa"]
    created = goal(mama, fid, "Samen eten")
    number = mama.post(f"/families/{fid}/plan/versions").get_json()["number"]
    mama.patch(
        f"/families/{fid}/plan/goals/{created['id']}",
        {"version": created["version"], "title": "Samen eten op zondag"},
    )
    outdated = papa.post(f"/families/{fid}/plan/signoffs", {"version": number})
    assert is_problem(outdated, 409) and outdated.get_json()["reason"] == "outdated"
    again = mama.post(f"/families/{fid}/plan/versions").get_json()
    assert again["number"] == number + 1
    assert again["plan"]["goals"][0]["title"] == "Samen eten op zondag"
    assert is_problem(papa.get(f"/families/{fid}/plan/versions/99"), 404)


def test_goals_and_agreements_can_be_taken_out_and_put_back(world: dict[str, Any]) -> None:
    fid, mama = world["family"].id, world["mama"]
    created = goal(mama, fid, "Minder schermtijd")
    url = f"/families/{fid}/plan/goals/{created['id']}"
    scored = mama.post(f"{url}/scores", {"score": 4})
    assert scored.status_code == 201 and scored.get_json()["scores"][0]["score"] == 4
    assert is_problem(mama.post(f"{url}/scores", {"score": 11}), 422)
    assert is_problem(mama.post(f"{url}/scores", {"score": 5, "on": "2999-01-01"}), 422)
    assert mama.get(url).get_json()["title"] == "Minder schermtijd"
    # The page asks first; the API needs the version it read.
    page = mama.client.get(f"/families/{fid}/plan/goals/{created['id']}/remove")
    assert page.status_code == 200 and "Dit doel weghalen?" in page.get_data(as_text=True)
    assert is_problem(mama.delete(f"{url}?version=99"), 409)
    current = mama.get(url).get_json()
    assert mama.delete(f"{url}?version={current['version']}").status_code == 204
    assert is_problem(mama.get(url), 404)
    assert mama.get(f"/families/{fid}/plan").get_json()["goals"] == []
    removed = mama.get(f"/families/{fid}/plan/history?part=goals").get_json()["items"][0]
    assert removed["change"] == "removed"
    items = mama.get(f"/families/{fid}/plan/history?part=goals").get_json()["items"]
    before = next(h for h in items[1:] if h["item"] == "Goal")  # not the score's change
    assert mama.post(f"/families/{fid}/plan/history/{before['id']}/restore").status_code == 200
    assert [g["title"] for g in mama.get(f"/families/{fid}/plan").get_json()["goals"]] == [
        "Minder schermtijd"
    ]


def test_the_flower_safety_and_evaluations_are_kept_too(world: dict[str, Any]) -> None:
    """Every part of the plan: de bloem, veiligheid and evaluatie have a history, can be put
    back, are in a proposed version, and a change to them outdates an open proposal."""
    fid, mama, papa = world["family"].id, world["mama"], world["papa"]
    plan = f"/families/{fid}/plan"
    petal = mama.post(f"{plan}/network", {"name": "Oma Els", "relation": "oma"}).get_json()
    changed = mama.patch(f"{plan}/network/{petal['id']}", {"version": 1, "contact": "06-1"})
    assert changed.status_code == 200
    safety = mama.call("PUT", f"{plan}/safety", {"version": 1, "signals": "Boos worden"})
    assert safety.status_code == 200
    day = (clock.today() + timedelta(days=14)).isoformat()
    made = mama.post(f"{plan}/evaluations", {"title": "Eerste evaluatie", "held_on": day})
    assert made.status_code == 201

    def history(part: str) -> list[dict[str, Any]]:
        return list(mama.get(f"{plan}/history?part={part}").get_json()["items"])

    network = history("network")
    assert [h["change"] for h in network] == ["edited", "created"]
    assert network[0]["fields"] == [{"field": "contact", "before": "", "after": "06-1"}]
    kept = history("safety")  # (its empty row, made when first shown, is not a change)
    assert [h["change"] for h in kept] == ["edited"]
    assert kept[0]["fields"] == [{"field": "signals", "before": "", "after": "Boos worden"}]
    assert [h["item"] for h in history("evaluations")] == ["Evaluation"]
    page = mama.client.get(f"{plan}/history?part=network").get_data(as_text=True)
    assert "Betrokkenen" in page and "<ins>06-1</ins>" in page
    later = clock.today() + timedelta(days=21)
    moved = mama.patch(
        f"{plan}/evaluations/{made.get_json()['id']}", {"version": 1, "held_on": later.isoformat()}
    )
    assert moved.status_code == 200
    moments = mama.client.get(f"{plan}/history?part=evaluations").get_data(as_text=True)
    # The dates written out as the page writes them, not the stored 2026-12-15.
    assert f"<ins>{format_date(later, 'long', locale='nl')}</ins>" in moments
    assert later.isoformat() not in moments

    proposed = mama.post(f"{plan}/versions").get_json()
    snapshot = proposed["plan"]
    assert [p["name"] for p in snapshot["network"]] == ["Oma Els"]
    assert snapshot["safety"][0]["signals"] == "Boos worden"
    assert [e["title"] for e in snapshot["evaluations"]] == ["Eerste evaluatie"]

    # Out of the flower, then back from the history; the open proposal is outdated by it.
    current = mama.get(f"{plan}/network/{petal['id']}").get_json()
    removed = mama.call("DELETE", f"{plan}/network/{petal['id']}", {"version": current["version"]})
    assert removed.status_code == 204
    assert mama.get(f"{plan}/network").get_json()["items"] == []
    outdated = papa.post(f"{plan}/signoffs", {"version": proposed["number"]})
    assert is_problem(outdated, 409) and outdated.get_json()["reason"] == "outdated"
    before = history("network")[1]  # the edit, before the removal
    assert mama.post(f"{plan}/history/{before['id']}/restore").status_code == 200
    back = mama.get(f"{plan}/network").get_json()["items"]
    assert [(p["name"], p["contact"]) for p in back] == [("Oma Els", "06-1")]


def test_an_evaluation_can_be_taken_out_and_put_back(world: dict[str, Any]) -> None:
    fid, mama = world["family"].id, world["mama"]
    plan = f"/families/{fid}/plan"
    day = (clock.today() + timedelta(days=7)).isoformat()
    made = mama.post(f"{plan}/evaluations", {"title": "Netwerkoverleg school", "held_on": day})
    assert made.status_code == 201
    moment = made.get_json()
    one = f"{plan}/evaluations/{moment['id']}"
    assert "Netwerkoverleg school" in mama.client.get(f"{plan}/agenda.ics").get_data(as_text=True)

    # The page asks first (and names what goes); the API needs the version it read.
    page = mama.client.get(f"{plan}/evaluations/{moment['id']}/remove")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Dit moment weghalen?" in text
    assert "Netwerkoverleg school" in text
    plan_page = mama.client.get(plan).get_data(as_text=True)
    assert f"/plan/evaluations/{moment['id']}/remove" in plan_page
    assert is_problem(world["coach"].call("DELETE", f"{one}?version=1"), 403)  # reads only
    assert is_problem(mama.call("DELETE", f"{one}?version=99"), 409)
    assert is_problem(mama.call("DELETE", one), 400)
    assert mama.call("DELETE", f"{one}?version={moment['version']}").status_code == 204
    assert is_problem(mama.get(one), 404)
    assert mama.get(f"{plan}/evaluations").get_json()["items"] == []
    assert "Netwerkoverleg school" not in mama.client.get(f"{plan}/agenda.ics").get_data(
        as_text=True
    )

    kept = mama.get(f"{plan}/history?part=evaluations").get_json()["items"]
    assert [h["change"] for h in kept] == ["removed", "created"]
    # "Put back" on the removal itself (what the history page offers first).
    assert mama.post(f"{plan}/history/{kept[0]['id']}/restore").status_code == 200
    back = mama.get(f"{plan}/evaluations").get_json()["items"]
    assert [e["title"] for e in back] == ["Netwerkoverleg school"]
