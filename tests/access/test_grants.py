"""Professionals as guests: invitations, requests, approvals by the age rules, expiry and
revocation by the server clock, content that outlives access, reminders and renewal."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import db
from portal.access import grants
from portal.access.models import AuditEvent, Grant
from portal.auth.models import KIND_PROFESSIONAL, LinkToken, User
from portal.core import clock
from portal.core.tokens import token_hash
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member
from tests.api.client import Api, is_problem
from tests.helpers import PASSWORD, csrf_from, post_form, sign_in, years_ago
from tests.support.servers import SmtpServer, find_link

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def coach(make_user: Callable[..., User]) -> User:
    return make_user(
        email="coach@cjg.example",
        name="Coach Marieke",
        kind=KIND_PROFESSIONAL,
        totp_secret=SECRET,
        totp_enabled_at=clock.now(),
    )


def coach_client(app: Flask, coach: User) -> FlaskClient:
    client = app.test_client()
    clock.advance(timedelta(seconds=30))  # a fresh TOTP step for each sign-in
    sign_in(client, coach, totp_secret=SECRET)
    return client


def invite(client: FlaskClient, family: Family, **overrides: str) -> object:
    data = {
        "email": "coach@cjg.example",
        "purpose": "Hulp bij de ruzies over huiswerk",
        "part_plan": "read",
        "expires_on": (clock.today() + timedelta(days=90)).isoformat(),
        **overrides,
    }
    return post_form(client, f"/families/{family.id}/access/new", data)


def accept(app: Flask, coach: User, smtp_server: SmtpServer) -> FlaskClient:
    mail = smtp_server.wait_for(lambda m: m["To"] == coach.email)
    link = find_link(mail, "http://localhost/guest-invite/").replace("http://localhost", "")
    client = coach_client(app, coach)
    response = client.get(link)
    # The token is exchanged for the session and leaves the URL at once.
    assert response.status_code == 302 and response.location.endswith("/guest-invite")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/guest-invite").get_data(as_text=True)
    assert "Hulp bij de ruzies over huiswerk" in page
    assert client.post("/guest-invite", data={"csrf_token": csrf_from(page)}).status_code == 302
    return client


def the_grant(app: Flask) -> Grant:
    with app.app_context():
        grant = db.session.scalars(select(Grant).order_by(Grant.id.desc())).first()
        assert grant is not None
        db.session.expunge(grant)
        db.session.remove()
    return grant


def test_invite_accept_see_only_what_was_granted_then_revoke(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user(name="Anna")
    family = make_family(parent)
    sign_in(client, parent)
    assert invite(client, family).status_code == 302
    guest = accept(app, coach, smtp_server)

    dashboard = guest.get("/professional").get_data(as_text=True)
    assert family.name in dashboard and "Gezinsplan (lezen)" in dashboard
    plan = guest.get(f"/families/{family.id}/plan")
    assert plan.status_code == 200
    assert "Je bent hier te gast. Je toegang loopt tot en met" in plan.get_data(as_text=True)
    dossier = guest.get(f"/families/{family.id}/dossier")
    assert dossier.status_code == 403
    assert "niet met je gedeeld" in dossier.get_data(as_text=True)
    assert guest.get(f"/families/{family.id}/plan/edit").status_code == 403  # read only
    assert guest.get(f"/families/{family.id}/members").status_code == 403

    grant = the_grant(app)
    page = client.get(f"/families/{family.id}/access/{grant.id}/revoke").get_data(as_text=True)
    response = client.post(
        f"/families/{family.id}/access/{grant.id}/revoke",
        data={"csrf_token": csrf_from(page), "version": str(grant.version)},
    )
    assert response.status_code == 302
    # The guest's very next request: refused, with the reason and no family data.
    after = guest.get(f"/families/{family.id}/plan")
    assert after.status_code == 403
    text = after.get_data(as_text=True)
    assert "Toegang ingetrokken" in text and family.name not in text
    dashboard = guest.get("/professional").get_data(as_text=True)
    assert "Toegang beëindigd" in dashboard and family.name not in dashboard

    log = client.get(f"/families/{family.id}/audit").get_data(as_text=True)
    assert "Coach Marieke" in log and "geweigerd" in log


def test_invitation_token_is_random_hashed_single_use_and_expires(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    invite(client, family)
    mail = smtp_server.wait_for(lambda m: m["To"] == coach.email)
    token = find_link(mail, "http://localhost/guest-invite/").rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes: 256 bits
    with app.app_context():
        row = db.session.scalar(select(LinkToken).where(LinkToken.purpose == "guest_invite"))
        assert (
            row is not None and row.token_hash == token_hash(token) and token not in row.token_hash
        )
        db.session.remove()
    accept(app, coach, smtp_server)

    second = coach_client(app, coach)
    second.get(f"/guest-invite/{token}")
    used = second.get("/guest-invite")
    assert used.status_code == 410 and "al gebruikt" in used.get_data(as_text=True)

    smtp_server.clear()
    invite(client, family, email="other@cjg.example")
    mail = smtp_server.wait_for(lambda m: m["To"] == "other@cjg.example")
    link = find_link(mail, "http://localhost/guest-invite/").replace("http://localhost", "")
    clock.advance(timedelta(days=7, seconds=1))
    late = coach_client(app, coach)
    late.get(link)
    expired = late.get("/guest-invite")
    assert expired.status_code == 410 and "verlopen" in expired.get_data(as_text=True)


def test_expiry_and_start_are_evaluated_per_request_by_the_clock(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    start = clock.today() + timedelta(days=2)
    invite(
        client,
        family,
        valid_from=start.isoformat(),
        expires_on=(start + timedelta(days=10)).isoformat(),
    )
    guest = accept(app, coach, smtp_server)
    early = guest.get(f"/families/{family.id}/plan")
    assert early.status_code == 403 and "nog niet begonnen" in early.get_data(as_text=True)
    clock.advance(timedelta(days=3))
    guest = coach_client(app, coach)  # sessions last hours, not days: sign in again
    assert guest.get(f"/families/{family.id}/plan").status_code == 200
    clock.advance(timedelta(days=10))
    guest = coach_client(app, coach)
    late = guest.get(f"/families/{family.id}/plan")
    assert late.status_code == 403 and "verlopen" in late.get_data(as_text=True)


def test_bad_invitations_are_explained_and_nothing_is_half_written(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user(email="anna@example.org")
    family = make_family(parent)
    sign_in(client, parent)
    today = clock.today()
    cases = [
        ({"expires_on": (today - timedelta(days=1)).isoformat()}, "De einddatum moet na"),
        (
            {
                "valid_from": (today + timedelta(days=10)).isoformat(),
                "expires_on": (today + timedelta(days=5)).isoformat(),
            },
            "De einddatum moet na",
        ),
        ({"expires_on": (today + timedelta(days=400)).isoformat()}, "hoogstens 12 maanden"),
        ({"part_plan": ""}, "Kies minstens één deel"),
        ({"part_plan": "admin"}, "Ongeldige keuze"),
        ({"email": "anna@example.org"}, "Je kunt jezelf niet uitnodigen."),
        ({"purpose": ""}, "Vul dit veld in."),
    ]
    for overrides, message in cases:
        response = invite(client, family, **overrides)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, overrides
        assert message in page, (overrides, message)
        assert "coach@cjg.example" in page or overrides.get("email")
    with app.app_context():
        assert db.session.scalars(select(Grant)).all() == []
        db.session.remove()
    assert invite(client, family).status_code == 302
    twice = invite(client, family)
    assert twice.status_code == 422
    assert "al uitgenodigd" in twice.get_data(as_text=True)


def test_a_guest_can_never_change_their_own_grant(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    invite(client, family)
    guest = accept(app, coach, smtp_server)
    grant = the_grant(app)
    base = f"/families/{family.id}/access/{grant.id}"
    token = csrf_from(guest.get(f"/families/{family.id}/plan").get_data(as_text=True))
    for path, data in (
        (f"{base}/renew", {"expires_on": (clock.today() + timedelta(days=300)).isoformat()}),
        (f"{base}/approve", {"part_plan": "write", "part_dossier": "write"}),
        (f"{base}/revoke", {}),
        (f"/families/{family.id}/access/new", {"email": "x@example.org", "part_plan": "write"}),
    ):
        response = guest.post(
            path, data={"csrf_token": token, "version": str(grant.version), **data}
        )
        assert response.status_code == 403, path
    api = Api(guest)
    assert is_problem(
        api.post(
            f"/families/{family.id}/grants/{grant.id}/renew",
            {"version": grant.version, "expires_on": "2027-10-01"},
        ),
        403,
    )
    assert is_problem(
        api.post(f"/families/{family.id}/grants/{grant.id}/revoke", {"version": grant.version}), 403
    )
    assert is_problem(api.get(f"/families/{family.id}/grants"), 403)
    after = the_grant(app)
    assert (after.expires_at, after.version, after.revoked_at) == (
        grant.expires_at,
        grant.version,
        None,
    )
    assert {p.part: p.level for p in after.parts} == {"plan": "read"}


def test_what_a_guest_wrote_stays_marked_as_former_guest(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    invite(client, family, part_dossier="write")
    guest = accept(app, coach, smtp_server)
    response = post_form(
        guest,
        f"/families/{family.id}/dossier/new",
        {"title": "Verslag huisbezoek", "body": "Het ging **goed**."},
    )
    assert response.status_code == 302
    page = client.get(f"/families/{family.id}/dossier").get_data(as_text=True)
    assert "Verslag huisbezoek" in page and "<strong>goed</strong>" in page and ">gast<" in page
    grant = the_grant(app)
    api = Api(client)
    assert (
        api.post(
            f"/families/{family.id}/grants/{grant.id}/revoke", {"version": grant.version}
        ).status_code
        == 200
    )
    page = client.get(f"/families/{family.id}/dossier").get_data(as_text=True)
    assert "Verslag huisbezoek" in page and "Coach Marieke" in page and "oud-gast" in page


@pytest.mark.parametrize(
    ("age", "needed"),
    [(8, {"parent"}), (13, {"parent", "young"}), (16, {"young"})],
)
def test_who_approves_a_request_follows_the_age_rules(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
    coach: User,
    age: int,
    needed: set[str],
) -> None:
    from portal.access import grants as grant_services

    parent_user, young_user = make_user(), make_user()
    family = make_family(parent_user)
    young = add_member(family, young_user, ROLE_YOUNG_PERSON, birth_date=years_ago(age))
    with app.test_request_context():
        fam = db.session.get(Family, family.id)
        pro = db.session.get(User, coach.id)
        assert fam is not None and pro is not None
        grant = grant_services.request_access(
            fam,
            pro,
            grant_services.GrantData(
                email=pro.email,
                parts={"plan": "read"},
                purpose="Gesprek",
                subject_member_id=young.id,
            ),
        )
        kinds = {"parents_with_authority": "parent", "young_person": "young"}
        assert {kinds[k] for k in grant_services.missing_approvals(grant)} == needed
        parent_member = db.session.scalar(select(Member).where(Member.user_id == parent_user.id))
        young_member = db.session.get(Member, young.id)
        assert parent_member is not None and young_member is not None
        approvers = {"parent": parent_member, "young": young_member}
        for kind, member in approvers.items():
            if kind not in needed:
                with pytest.raises(grant_services.GrantError, match="not_an_approver"):
                    grant_services.approve(grant, member, pro, grant.version)
        for kind in sorted(needed):
            assert grant.approved_at is None
            grant_services.approve(grant, approvers[kind], pro, grant.version)
        assert grant.approved_at is not None
        db.session.rollback()
        db.session.remove()


def test_request_by_code_approved_narrower_and_withdrawn_requests(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user(email="anna@example.org")
    family = make_family(parent)
    sign_in(client, parent)
    code = re.search(
        r'data-testid="family-code">([A-Z0-9-]+)<',
        client.get(f"/families/{family.id}/access").get_data(as_text=True),
    )
    assert code
    guest = coach_client(app, coach)
    wrong = post_form(
        guest, "/professional/request", {"code": "AAAA-AAAA", "purpose": "x", "part_plan": "read"}
    )
    assert wrong.status_code == 422 and "geen gezin met deze code" in wrong.get_data(as_text=True)
    response = post_form(
        guest,
        "/professional/request",
        {
            "code": code.group(1).lower().replace("-", ""),
            "purpose": "Kennismaking na verwijzing",
            "part_plan": "write",
            "part_dossier": "read",
        },
    )
    assert response.status_code == 302
    smtp_server.wait_for(lambda m: m["To"] == "anna@example.org" and "toegang" in m["Subject"])
    grant = the_grant(app)
    assert guest.get(f"/families/{family.id}/plan").status_code == 403  # not yet approved

    detail = client.get(f"/families/{family.id}/access/{grant.id}").get_data(as_text=True)
    assert "Kennismaking na verwijzing" in detail and "Toestemming geven" in detail
    widened = client.post(
        f"/families/{family.id}/access/{grant.id}/approve",
        data={
            "csrf_token": csrf_from(detail),
            "version": str(grant.version),
            "part_plan": "write",
            "part_dossier": "write",
        },
    )
    assert widened.status_code == 422 and "niet meer" in widened.get_data(as_text=True)
    approved = client.post(
        f"/families/{family.id}/access/{grant.id}/approve",
        data={"csrf_token": csrf_from(detail), "version": str(grant.version), "part_plan": "read"},
    )
    assert approved.status_code == 302
    assert guest.get(f"/families/{family.id}/plan").status_code == 200
    assert guest.get(f"/families/{family.id}/plan/edit").status_code == 403  # narrowed to read
    assert guest.get(f"/families/{family.id}/dossier").status_code == 403  # dropped

    # Asking again while access runs is refused clearly.
    api = Api(coach_client(app, coach))
    again = api.post(
        f"/families/{family.id}/access-requests",
        {"code": code.group(1), "parts": {"plan": "read"}, "purpose": "Nog een"},
    )
    assert is_problem(again, 409)  # already has access


def test_approving_a_withdrawn_request_says_so(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
) -> None:
    parent = make_user()
    family = make_family(parent)
    with app.app_context():
        code = db.session.get(Family, family.id).invite_code  # type: ignore[union-attr]
        db.session.remove()
    guest = coach_client(app, coach)
    api = Api(guest)
    created = api.post(
        f"/families/{family.id}/access-requests",
        {"code": code, "parts": {"plan": "read"}, "purpose": "Gesprek"},
    )
    assert created.status_code == 201
    assert is_problem(
        api.post(
            f"/families/{family.id + 1}/access-requests",
            {"code": code, "parts": {"plan": "read"}, "purpose": "x"},
        ),
        404,
    )
    rid = created.get_json()["id"]
    assert (
        post_form(
            guest, f"/professional/grants/{rid}/withdraw", {}, form_path="/professional"
        ).status_code
        == 302
    )
    sign_in(client, parent)
    listing = client.get(f"/families/{family.id}/access").get_data(as_text=True)
    assert "ingetrokken door de professional" in listing
    family_api = Api(client)
    stale = family_api.post(
        f"/families/{family.id}/access-requests/{rid}/approve",
        {"version": created.get_json()["version"]},
    )
    assert is_problem(stale, 409) and stale.get_json()["current"]["state"] == "withdrawn"
    late = family_api.post(
        f"/families/{family.id}/access-requests/{rid}/approve", {"version": the_grant(app).version}
    )
    assert is_problem(late, 409)
    assert "ingetrokken" in late.get_json()["detail"]


def test_reminders_14_and_3_days_before_the_end_and_renewal(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user(email="anna@example.org")
    family = make_family(parent)
    sign_in(client, parent)
    invite(client, family, expires_on=(clock.today() + timedelta(days=30)).isoformat())
    guest = accept(app, coach, smtp_server)
    runner = app.test_cli_runner()
    smtp_server.clear()
    assert "0 grant" in runner.invoke(args=["portal", "send-reminders"]).output
    clock.advance(timedelta(days=17))
    assert "1 grant" in runner.invoke(args=["portal", "send-reminders"]).output
    assert "0 grant" in runner.invoke(args=["portal", "send-reminders"]).output  # once only
    smtp_server.wait_for(lambda m: m["To"] == coach.email and "loopt bijna af" in m["Subject"])
    smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    clock.advance(timedelta(days=11))
    assert "1 grant" in runner.invoke(args=["portal", "send-reminders"]).output

    # One click from the professional; the family renews.
    guest = coach_client(app, coach)  # days passed: both sign in again
    client = app.test_client()
    sign_in(client, parent)
    assert (
        post_form(
            guest,
            f"/professional/grants/{the_grant(app).id}/renewal",
            {},
            form_path="/professional",
        ).status_code
        == 302
    )
    grant = the_grant(app)
    assert grant.renewal_requested_at is not None
    detail = client.get(f"/families/{family.id}/access/{grant.id}").get_data(as_text=True)
    assert "vroeg op" in detail
    new_end = clock.today() + timedelta(days=60)
    response = client.post(
        f"/families/{family.id}/access/{grant.id}/renew",
        data={
            "csrf_token": csrf_from(detail),
            "version": str(grant.version),
            "expires_on": new_end.isoformat(),
        },
    )
    assert response.status_code == 302
    clock.advance(timedelta(days=20))
    assert coach_client(app, coach).get(f"/families/{family.id}/plan").status_code == 200


def test_professional_with_another_role_cannot_accept(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    invite(client, family, email="neighbour@example.org")
    neighbour = make_user(email="neighbour@example.org")
    mail = smtp_server.wait_for(lambda m: m["To"] == "neighbour@example.org")
    link = find_link(mail, "http://localhost/guest-invite/").replace("http://localhost", "")
    other = app.test_client()
    sign_in(other, neighbour, PASSWORD)
    other.get(link)
    page = other.get("/guest-invite").get_data(as_text=True)
    response = other.post("/guest-invite", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 409
    assert "Alleen een professional" in response.get_data(as_text=True)


def test_dashboard_counts_changes_since_the_guests_last_visit(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    invite(client, family)
    guest = accept(app, coach, smtp_server)
    guest.get(f"/families/{family.id}/plan")
    for answer in ("Minder ruzie", "Minder ruzie aan tafel"):
        page = client.get(f"/families/{family.id}/plan/edit").get_data(as_text=True)
        version = re.search(r'name="version" type="hidden" value="(\d+)"', page)
        assert version
        response = client.post(
            f"/families/{family.id}/plan/edit",
            data={"csrf_token": csrf_from(page), "version": version.group(1), "tomorrow": answer},
        )
        assert response.status_code == 302
    dashboard = guest.get("/professional").get_data(as_text=True)
    assert "2 nieuwe wijzigingen" in dashboard
    plan = guest.get(f"/families/{family.id}/plan").get_data(as_text=True)
    assert "Minder ruzie aan tafel" in plan
    assert "nieuwe wijziging" not in guest.get("/professional").get_data(as_text=True)


def test_request_by_a_parents_address_answers_the_same_either_way(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user(email="anna@example.org")
    family = make_family(parent)
    guest = coach_client(app, coach)
    form = {"purpose": "Na verwijzing door de huisarts", "part_plan": "read"}
    known = post_form(guest, "/professional/request", {**form, "parent_email": "anna@example.org"})
    unknown = post_form(guest, "/professional/request", {**form, "parent_email": "x@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    smtp_server.wait_for(lambda m: m["To"] == "anna@example.org")
    grant = the_grant(app)
    assert (grant.family_id, grant.origin, grant.purpose) == (
        family.id,
        "request",
        "Na verwijzing door de huisarts",
    )
    bad = post_form(guest, "/professional/request", {"purpose": "x", "part_plan": ""})
    assert bad.status_code == 422 and "Kies minstens één deel" in bad.get_data(as_text=True)
    neither = post_form(guest, "/professional/request", form)
    assert neither.status_code == 422
    assert "gezinscode of het e-mailadres" in neither.get_data(as_text=True)


def test_api_refuses_unknown_parts_and_bad_dates_without_writing(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
) -> None:
    parent = make_user()
    family = make_family(parent)
    sign_in(client, parent)
    api = Api(client)
    base = {"email": "coach@cjg.example", "purpose": "Meekijken"}
    for body, field in (
        ({**base, "parts": {"salaris": "read"}}, "parts"),
        ({**base, "parts": {"plan": "admin"}}, "parts"),
        ({**base, "parts": ["plan"]}, "parts"),
        ({**base, "parts": {"plan": "read"}, "expires_on": "2020-01-01"}, "expires_on"),
        ({**base, "parts": {"plan": "read"}, "expires_on": "morgen"}, "expires_on"),
        (
            {
                **base,
                "parts": {"plan": "read"},
                "expires_on": (clock.today() + timedelta(days=500)).isoformat(),
            },
            "expires_on",
        ),
    ):
        response = api.post(f"/families/{family.id}/grants", body)
        assert is_problem(response, 422), body
        assert field in {e["field"] for e in response.get_json().get("errors", [])}, body
    assert api.get(f"/families/{family.id}/grants").get_json()["items"] == []


def test_an_invitation_nobody_took_up_says_so_and_can_be_taken_back(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    parent = make_user(name="Anna")
    family = make_family(parent)
    sign_in(client, parent)
    assert invite(client, family).status_code == 302
    grant = the_grant(app)
    listing = client.get(f"/families/{family.id}/access").get_data(as_text=True)
    # The list says what the grant page says: it waits for the professional, not for a yes.
    assert "uitnodiging verstuurd, nog niet aangenomen" in listing
    assert "wacht op toestemming" not in listing
    # And what it is for and how long, without opening it.
    last = grants.last_day(grant)
    assert "Gezinsplan (lezen)" in listing
    assert f"tot en met {last.day} " in listing
    page = client.get(f"/families/{family.id}/access/{grant.id}").get_data(as_text=True)
    assert "uitnodiging verstuurd, nog niet aangenomen" in page
    assert "Uitnodiging intrekken" in page
    assert "Verlengen" not in page  # nothing to renew before it has started
    confirm = client.get(f"/families/{family.id}/access/{grant.id}/revoke").get_data(as_text=True)
    response = client.post(
        f"/families/{family.id}/access/{grant.id}/revoke",
        data={"csrf_token": csrf_from(confirm), "version": str(grant.version)},
    )
    assert response.status_code == 302
    # The link in the mail no longer opens anything.
    mail = smtp_server.wait_for(lambda m: m["To"] == coach.email)
    link = find_link(mail, "http://localhost/guest-invite/").replace("http://localhost", "")
    guest = coach_client(app, coach)
    guest.get(link)
    offer = guest.get("/guest-invite").get_data(as_text=True)
    refused = guest.post("/guest-invite", data={"csrf_token": csrf_from(offer)})
    assert refused.status_code != 302
    assert "Deze toegang is al beëindigd." in refused.get_data(as_text=True)


def test_the_family_and_the_professional_see_the_same_last_day(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
    smtp_server: SmtpServer,
) -> None:
    """The grant ends at the end of its last day (midnight after it): the family's page showed
    the day after as "tot en met", one day later than the professional's pages."""
    parent = make_user(name="Anna")
    family = make_family(parent)
    sign_in(client, parent)
    last = clock.today() + timedelta(days=90)
    assert invite(client, family, expires_on=last.isoformat()).status_code == 302
    guest = accept(app, coach, smtp_server)
    with app.test_request_context():
        day = app.jinja_env.filters["day"]
        shown, day_after = day(last), day(last + timedelta(days=1))
    grant = the_grant(app)
    family_page = client.get(f"/families/{family.id}/access/{grant.id}").get_data(as_text=True)
    assert f"tot en met {shown}" in family_page and day_after not in family_page
    assert f"tot en met {shown}" in guest.get("/professional").get_data(as_text=True)


def test_every_refused_access_request_is_logged(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    coach: User,
) -> None:
    """A request by someone who is not a professional, or with a wrong code, writes one row
    each, like every other refusal (in the log of the family it named)."""
    parent = make_user()
    family = make_family(parent)
    with app.app_context():
        code = db.session.get(Family, family.id).invite_code  # type: ignore[union-attr]
        db.session.remove()

    def refusals() -> list[tuple[int | None, str | None]]:
        with app.app_context():
            rows = db.session.execute(
                select(AuditEvent.family_id, AuditEvent.reason).where(
                    AuditEvent.action == "grant.request", AuditEvent.outcome == "denied"
                )
            ).all()
            db.session.remove()
        return [(row.family_id, row.reason) for row in rows]

    path = f"/families/{family.id}/access-requests"
    body = {"code": code, "parts": {"plan": "read"}, "purpose": "Gesprek"}
    not_professional = Api(app.test_client())
    assert not_professional.sign_in(parent.email).status_code == 200
    assert is_problem(not_professional.post(path, body), 403)
    assert refusals() == [(family.id, "not_professional")]
    pro = Api(coach_client(app, coach))
    assert is_problem(pro.post(path, {**body, "code": "AAAA-BBBB"}), 404)
    assert is_problem(pro.post(f"/families/{family.id + 99}/access-requests", body), 404)
    assert refusals() == [
        (family.id, "not_professional"),
        (family.id, "wrong_code"),
        (None, "wrong_code"),  # no such family: logged outside any family's log
    ]
    assert pro.post(path, body).status_code == 201
    assert len(refusals()) == 3
