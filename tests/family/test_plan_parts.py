"""De bloem, the safety plan and evaluations on the pages: the flower with escaped names and
accessible petals, guests from their grants with the end date, bad input explained with what
was typed kept, conflicts showing both versions, removal that keeps history, the .ics agenda,
and a plan page whose number of queries does not grow with the number of petals."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import db
from portal.access.models import Grant
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import (
    ROLE_NETWORK,
    Agreement,
    Evaluation,
    Family,
    Member,
    NetworkPetal,
)
from tests.helpers import add_grant, counted_get, csrf_from, post_form, sign_in

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _grant(app: Flask, family: Family, user: User, parts: dict[str, str], days: int = 30) -> None:
    add_grant(app, family.id, user.id, parts, expires_at=clock.now() + timedelta(days=days))


def test_the_flower_its_petals_and_guests(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    grandma = add_member(family, None, ROLE_NETWORK, name="Oma Els")
    coach = make_user(name="Coach Sam", kind=KIND_PROFESSIONAL, organisation="CJG Noord")
    _grant(app, family, coach, {"plan": "read"}, days=20)
    outsider = make_user(name="Alleen Dossier", kind=KIND_PROFESSIONAL)
    _grant(app, family, outsider, {"dossier": "read"})
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    add = f"{plan}/network"

    empty = post_form(client, add, {"name": "", "relation": "school"}, form_path=plan)
    text = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "Vul dit veld in." in text and 'value="school"' in text
    too_long = post_form(client, add, {"name": "Juf", "contact": "0" * 5000}, form_path=plan)
    assert too_long.status_code == 422 and 'value="Juf"' in too_long.get_data(as_text=True)
    nonsense = post_form(client, add, {"name": "Juf", "member_id": "abc"}, form_path=plan)
    assert nonsense.status_code == 422

    added = post_form(
        client,
        add,
        {
            "name": "<b>Juf Anja</b>",
            "relation": "school",
            "contact": "06-12345678",
            "kind": "professional",
        },
        form_path=plan,
    )
    assert added.status_code == 302
    assert (
        post_form(
            client,
            add,
            {"name": "Oma Els", "relation": "oma", "member_id": str(grandma.id)},
            form_path=plan,
        ).status_code
        == 302
    )
    page = client.get(plan).get_data(as_text=True)
    flower = page[page.index('<svg class="flower"') : page.index("</svg>", page.index("flower"))]
    assert "&lt;b&gt;Juf Anja&lt;/b&gt;" in flower and "<b>" not in flower
    assert 'aria-label="&lt;b&gt;Juf Anja&lt;/b&gt;, school (hulpverlener) — wijzigen"' in flower
    assert "Coach Sam" in flower and "Alleen Dossier" not in page  # guests with the plan part
    # The last day as the Dutch calendar has it: from 23:00 UTC (winter) that is a day later.
    until = (
        (clock.now() + timedelta(days=20) - timedelta(microseconds=1)).astimezone(AMSTERDAM).date()
    )
    assert "Toegang tot en met" in page and str(until.day) in page
    assert "06-12345678" in page

    # A removed member cannot be linked; what was typed stays.
    client.get(f"/families/{family.id}/members")
    with app.app_context():
        gone = db.session.get(Member, grandma.id)
        assert gone is not None
        gone.removed_at = clock.now()
        db.session.commit()
        db.session.remove()
    removed_link = post_form(
        client, add, {"name": "Opa Jan", "member_id": str(grandma.id)}, form_path=plan
    )
    text = removed_link.get_data(as_text=True)
    assert removed_link.status_code == 422 and "doet niet meer mee" in text
    assert 'value="Opa Jan"' in text
    # The petal that was linked to her stays in the flower, and says she no longer takes part.
    page = client.get(plan).get_data(as_text=True)
    assert "Oma Els" in page and "Doet niet meer mee in de gezinsruimte." in page


def _flower_of(page: str) -> str:
    start = page.index('<svg class="flower"')
    return page[start : page.index("</svg>", start)]


def test_a_petal_can_stand_for_a_guest_who_then_shows_once(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    """The family put their coach in de bloem by hand, then invited her as a guest: she must not
    be two petals. Chosen on the petal, the guest shows once, on it, with her last day."""
    mother = make_user(name="Mama")
    family = make_family(mother)
    grandma = add_member(family, None, ROLE_NETWORK, name="Oma Els")
    coach = make_user(name="Coach Sam", kind=KIND_PROFESSIONAL, organisation="CJG Noord")
    stranger = make_user(name="Niet Uitgenodigd", kind=KIND_PROFESSIONAL)
    plan = f"/families/{family.id}/plan"
    add = f"{plan}/network"
    sign_in(client, mother)
    # No guests yet: the question is not asked.
    assert 'name="guest_user_id"' not in client.get(plan).get_data(as_text=True)
    sam = {"name": "Sam", "relation": "coach", "kind": "professional"}
    assert post_form(client, add, sam, form_path=plan).status_code == 302
    _grant(app, family, coach, {"plan": "read"}, days=20)
    page = client.get(plan).get_data(as_text=True)
    assert _flower_of(page).count("<ellipse") == 2  # her petal and her as a guest: twice
    assert f'<option value="{coach.id}">Coach Sam (CJG Noord)</option>' in page
    with app.app_context():
        petal = db.session.scalars(select(NetworkPetal)).one()
        petal_id, version = petal.id, petal.version
    edit = f"{plan}/network/{petal_id}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert 'name="guest_user_id"' in form
    base = {"name": "Sam", "relation": "coach", "kind": "professional", "version": str(version)}

    # Someone who never was this family's guest, and a member and a guest at once: refused,
    # with what was typed kept.
    for bad, message in (
        ({"guest_user_id": str(stranger.id)}, "Deze persoon is geen gast van jullie gezin."),
        ({"guest_user_id": "abc"}, "Deze persoon is geen gast van jullie gezin."),
        (
            {"guest_user_id": str(coach.id), "member_id": str(grandma.id)},
            "Kies een gezinslid óf een gast, niet allebei.",
        ),
    ):
        refused = post_form(client, edit, {**base, "relation": "onze coach", **bad})
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and message in text, bad
        assert 'value="onze coach"' in text

    saved = post_form(client, edit, {**base, "guest_user_id": str(coach.id)})
    assert saved.status_code == 302
    page = client.get(plan).get_data(as_text=True)
    flower = _flower_of(page)
    assert flower.count("<ellipse") == 1 and "Coach Sam" not in flower  # once: on her petal
    assert 'aria-label="Sam, coach (hulpverlener, gast) — wijzigen"' in flower
    assert "t/m " in flower  # her last day on the petal
    item = page[page.index(f'id="petal-{petal_id}"') :]
    item = item[: item.index("</li>")]
    assert "Toegang tot en met" in item and ">gast</span>" in item
    assert f'id="guest-{coach.id}"' not in page
    # "Wie doet het?" offers her once too: as the guest she is, not also as her petal.
    assert f'<option value="guest:{coach.id}">Coach Sam</option>' in page
    assert f'value="petal:{petal_id}"' not in page

    # Her access ends: the petal stays the family's own, without an end date; the edit form
    # still names her, as a former guest.
    with app.app_context():
        for grant in db.session.scalars(select(Grant).where(Grant.grantee_id == coach.id)):
            grant.revoked_at = clock.now()
        db.session.commit()
        db.session.remove()
    page = client.get(plan).get_data(as_text=True)
    flower = _flower_of(page)
    assert flower.count("<ellipse") == 1 and "t/m " not in flower
    assert 'aria-label="Sam, coach (hulpverlener) — wijzigen"' in flower
    assert f'value="petal:{petal_id}"' in page  # no guest any more: her petal is offered again
    form = client.get(edit).get_data(as_text=True)
    assert f'<option selected value="{coach.id}">Coach Sam (geen toegang meer)</option>' in form

    # The history names the guest, not a number.
    history = client.get(f"{plan}/history?part=network").get_data(as_text=True)
    assert "<dt>Gast</dt>" in history and "<ins>Coach Sam</ins>" in history


def test_petal_conflict_shows_both_versions_and_removal_keeps_history(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    post_form(client, f"{plan}/network", {"name": "Buurvrouw Ria"}, form_path=plan)
    with app.app_context():
        petal_id = db.session.scalars(select(NetworkPetal.id)).one()
        db.session.remove()
    edit = f"{plan}/network/{petal_id}/edit"
    other = app.test_client()
    sign_in(other, father)
    mine, theirs = client.get(edit).get_data(as_text=True), other.get(edit).get_data(as_text=True)
    base = {"kind": "informal", "version": "1", "member_id": ""}
    saved = client.post(
        edit, data={**base, "csrf_token": csrf_from(mine), "name": "Ria", "contact": "Nr. 12"}
    )
    assert saved.status_code == 302
    stale = other.post(edit, data={**base, "csrf_token": csrf_from(theirs), "name": "Ria de Vries"})
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Nr. 12" in text and 'value="Ria de Vries"' in text
    assert "Mijn versie opslaan" in text and "De opgeslagen versie houden" in text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', text)
    assert version and version.group(1) == "2"
    chosen = other.post(
        edit,
        data={
            **base,
            "csrf_token": csrf_from(text),
            "version": "2",
            "name": "Ria de Vries",
        },
    )
    assert chosen.status_code == 302

    # An agreement owned by the petal; removing asks first and keeps the row.
    page = client.get(plan).get_data(as_text=True)
    assert f'value="petal:{petal_id}"' in page
    assert (
        post_form(
            client,
            f"{plan}/agreements",
            {"what": "Boodschappen doen", "owner": f"petal:{petal_id}"},
            form_path=plan,
        ).status_code
        == 302
    )
    remove = f"{plan}/network/{petal_id}/remove"
    confirm = client.get(remove).get_data(as_text=True)
    assert "staat nog bij 1 afspraak" in confirm
    blind = client.post(remove, data={"csrf_token": csrf_from(confirm)})
    assert blind.status_code == 409
    version = re.search(r'name="version" type="hidden" value="(\d+)"', confirm)
    assert version
    done = client.post(remove, data={"csrf_token": csrf_from(confirm), "version": version.group(1)})
    assert done.status_code == 302
    page = client.get(plan).get_data(as_text=True)
    flower = page[page.index('<svg class="flower"') : page.index("</svg>", page.index("flower"))]
    assert "Ria de Vries" not in flower
    assert "Boodschappen doen" in page and "Ria de Vries" in page  # the agreement keeps the name
    assert "(niet meer in de bloem)" in page
    with app.app_context():
        petal = db.session.get(NetworkPetal, petal_id)
        agreement = db.session.scalars(select(Agreement)).one()
        assert petal is not None and petal.removed_at is not None
        assert agreement.owner_petal_id == petal_id and agreement.owner_name == "Ria de Vries"
        db.session.remove()
    assert client.get(f"{plan}/network/{petal_id}/edit").status_code == 404


def test_safety_plan_conflict_and_who_sees_it(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    mother, father = make_user(name="Mama"), make_user(name="Papa")
    family = make_family(mother)
    add_member(family, father, "parent", has_authority=True)
    sign_in(client, mother)
    edit = f"/families/{family.id}/plan/safety/edit"
    other = app.test_client()
    sign_in(other, father)
    mine, theirs = client.get(edit).get_data(as_text=True), other.get(edit).get_data(as_text=True)
    assert (
        client.post(
            edit,
            data={
                "csrf_token": csrf_from(mine),
                "version": "1",
                "signals": "Daan slaapt slecht",
                "contacts": "Oma: 06-1111",
            },
        ).status_code
        == 302
    )
    stale = other.post(
        edit,
        data={"csrf_token": csrf_from(theirs), "version": "1", "actions": "Samen wandelen"},
    )
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Daan slaapt slecht" in text
    assert "Samen wandelen</textarea>" in text
    big = other.post(
        edit, data={"csrf_token": csrf_from(theirs), "version": "2", "signals": "x" * 6000}
    )
    assert big.status_code == 422 and "x" * 6000 in big.get_data(as_text=True)
    # A 50 MB paste is refused with a clear message, not a 500.
    huge = other.post(
        edit, data={"csrf_token": csrf_from(theirs), "version": "2", "signals": "x" * 50_000_000}
    )
    assert huge.status_code == 413 and "te groot" in huge.get_data(as_text=True)

    reader = make_user(name="Coach Lees", kind=KIND_PROFESSIONAL)
    _grant(app, family, reader, {"plan": "read"})
    with app.app_context():
        pro = db.session.get(User, reader.id)
        assert pro is not None
        pro.totp_secret, pro.totp_enabled_at = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", clock.now()
        db.session.commit()
        db.session.remove()
    guest = app.test_client()
    clock.advance(timedelta(seconds=30))
    sign_in(guest, reader, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    page = guest.get(f"/families/{family.id}/plan").get_data(as_text=True)
    assert "Daan slaapt slecht" in page and "Oma: 06-1111" in page
    assert "Veiligheidsplan aanpassen" not in page
    assert guest.get(edit).status_code == 403


def _unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


def test_evaluations_agenda_and_ics(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    mother = make_user(name="Mama")
    family = make_family(mother, name="Gezin Bakker")
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    add = f"{plan}/evaluations"
    impossible = post_form(
        client, add, {"title": "Evaluatie", "held_on": "2026-02-30"}, form_path=plan
    )
    assert impossible.status_code == 422 and 'value="Evaluatie"' in impossible.get_data(
        as_text=True
    )
    too_old = post_form(client, add, {"title": "Oud", "held_on": "0999-01-01"}, form_path=plan)
    assert too_old.status_code == 422 and "kan niet kloppen" in too_old.get_data(as_text=True)
    bad_time = post_form(
        client,
        add,
        {"title": "Overleg", "held_on": "2027-01-15", "start_time": "25:99"},
        form_path=plan,
    )
    assert bad_time.status_code == 422 and "14:30" in bad_time.get_data(as_text=True)
    no_title = post_form(client, add, {"title": "", "held_on": "2027-01-15"}, form_path=plan)
    assert no_title.status_code == 422

    winter = date(clock.today().year + 1, 1, 15)
    summer = date(clock.today().year + 1, 7, 1)
    for data in (
        {
            "kind": "network_meeting",
            "title": "Netwerk; school, oma\\en coach",
            "held_on": winter.isoformat(),
            "start_time": "14:30",
            "participants": "Mama, oma Els; Coach Sam",
            "next_steps": "Punt 1\r\nPunt 2",
        },
        {"title": "Evaluatie na drie maanden", "held_on": summer.isoformat()},
        {
            "title": "Terugblik",
            "held_on": (clock.today() - timedelta(days=10)).isoformat(),
            "went_well": "Ochtenden gaan beter",
            "changes": "Eerder naar bed",
            "next_steps": "Over drie maanden weer",
        },
    ):
        assert post_form(client, add, data, form_path=plan).status_code == 302
    page = client.get(plan).get_data(as_text=True)
    agenda = page[page.index('id="agenda"') : page.index("Alle momenten")]
    assert "Netwerkoverleg" in agenda and "Evaluatie na drie maanden" in agenda
    assert "Terugblik" not in agenda  # past moments are not in the agenda
    assert "Ochtenden gaan beter" in page and "Eerder naar bed" in page

    response = client.get(f"{plan}/agenda.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data(as_text=True)
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = _unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events: list[dict[str, str]] = []
    for line in lines:
        if line == "BEGIN:VEVENT":
            events.append({})
        elif events and ":" in line and line != "END:VEVENT" and not line.startswith("END:V"):
            name, _sep, value = line.partition(":")
            events[-1][name] = value
    assert len(events) == 2
    meeting, evaluation = events
    assert meeting["DTSTART"] == f"{winter:%Y%m%d}T133000Z"  # 14:30 in Amsterdam, winter time
    assert meeting["SUMMARY"] == "Netwerkoverleg: Netwerk\\; school\\, oma\\\\en coach"
    assert meeting["DESCRIPTION"] == "Mama\\, oma Els\\; Coach Sam\\n\\nPunt 1\\nPunt 2"
    assert evaluation["DTSTART;VALUE=DATE"] == f"{summer:%Y%m%d}"
    for event in events:
        assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
        assert event["UID"].startswith("evaluation-") and "@" in event["UID"]
    assert len({e["UID"] for e in events}) == 2


def test_the_agenda_reads_back_with_icalendar(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    """A calendar program's reading of the file: the icalendar library parses it back to the
    same moments (Amsterdam times in UTC across summer time, all-day ones as dates), texts
    whole (long ones folded, emoji unbroken), one stable UID per moment, and a SEQUENCE that
    follows edits; the same agenda at the same moment gives the same bytes."""
    mother = make_user(name="Mama")
    family = make_family(mother, name="Gezin Bakker")
    sign_in(client, mother)
    plan = f"/families/{family.id}/plan"
    summer = date(clock.today().year + 1, 7, 2)
    winter = date(clock.today().year + 1, 12, 3)
    title = "Overleg 👨‍👩‍👧 met school; oma, opa & coach \\ " + "héél lang " * 15
    for data in (
        {
            "kind": "network_meeting",
            "title": title.strip(),
            "held_on": summer.isoformat(),
            "start_time": "09:30",
            "participants": "Mama, oma Els",
            "next_steps": "Regel 1\r\nRegel 2",
        },
        {"title": "Evaluatie", "held_on": winter.isoformat()},
    ):
        assert post_form(client, f"{plan}/evaluations", data, form_path=plan).status_code == 302
    with app.app_context():
        ids = {e.title: e.id for e in db.session.scalars(select(Evaluation))}
        db.session.remove()
    edit = f"{plan}/evaluations/{ids['Evaluatie']}/edit"
    edited = post_form(
        client,
        edit,
        {"title": "Evaluatie", "held_on": winter.isoformat(), "version": "1", "went_well": "Ja"},
    )
    assert edited.status_code == 302

    clock.freeze(clock.now())
    body = client.get(f"{plan}/agenda.ics").get_data()
    assert client.get(f"{plan}/agenda.ics").get_data() == body
    assert max(len(line) for line in body.split(b"\r\n")) <= 75  # folded, in octets
    calendar = icalendar.Calendar.from_ical(body)
    assert (calendar["VERSION"], calendar["PRODID"]) == ("2.0", "-//Gezinsportaal//Gezinsplan//NL")
    meeting, evaluation = calendar.walk("VEVENT")

    assert meeting["UID"] == f"evaluation-{ids[title.strip()]}-family-{family.id}@localhost"
    assert meeting["SUMMARY"] == f"Netwerkoverleg: {title.strip()}"
    assert meeting["DESCRIPTION"] == "Mama, oma Els\n\nRegel 1\nRegel 2"
    start, end = meeting.decoded("DTSTART"), meeting.decoded("DTEND")
    assert start.utcoffset() == timedelta(0)  # written in UTC ...
    assert start == datetime.combine(summer, time(9, 30), AMSTERDAM)  # ... 9:30 in Amsterdam
    assert start.astimezone(UTC).hour == 7 and end - start == timedelta(hours=1)
    assert meeting.decoded("DTSTAMP") == clock.now().replace(microsecond=0)
    assert meeting.decoded("SEQUENCE") == 0

    assert evaluation["UID"] == f"evaluation-{ids['Evaluatie']}-family-{family.id}@localhost"
    assert evaluation["SUMMARY"] == "Evaluatie: Evaluatie"
    assert evaluation.decoded("DTSTART") == winter and not isinstance(
        evaluation.decoded("DTSTART"), datetime
    )
    assert evaluation.decoded("DTEND") == winter + timedelta(days=1)
    assert evaluation.decoded("SEQUENCE") == 1  # edited once
    assert "DESCRIPTION" not in evaluation


def test_plan_page_queries_do_not_grow_with_the_petals(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    mother = make_user(name="Mama")
    small, large = make_family(mother, name="Klein"), make_family(mother, name="Groot")
    with app.app_context():
        for family, count in ((small, 10), (large, 1000)):
            db.session.add_all(
                NetworkPetal(
                    family_id=family.id,
                    name=f"Persoon {i}",
                    relation="buren",
                    created_by_name="Mama",
                )
                for i in range(count)
            )
        db.session.commit()
        db.session.remove()
    for family in (small, large):
        for i in range(3):
            _grant(
                app, family, make_user(name=f"Gast {i}", kind=KIND_PROFESSIONAL), {"plan": "read"}
            )
    sign_in(client, mother)
    counts = []
    for family in (small, large):
        response, count = counted_get(app, client, f"/families/{family.id}/plan")
        assert response.status_code == 200
        counts.append(count)
    page = response.get_data(as_text=True)
    assert "Persoon 999" in page and "De bloem toont de eerste 12" in page
    assert counts[0] == counts[1], counts
    assert counts[0] < 40, counts
