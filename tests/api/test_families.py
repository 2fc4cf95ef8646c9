"""Families: create, list with pagination, view; 401, 404 for other families, audit rows."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from portal import db
from portal.access.models import AuditEvent
from portal.auth.models import User
from portal.family.models import Family, Member
from tests.api.client import Api, error_fields, is_problem


def audit_rows(app: Flask, family_id: int | None = None) -> list[tuple[str, str, str]]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if family_id is not None:
            query = query.where(AuditEvent.family_id == family_id)
        rows = [(e.action, e.outcome, e.reason or "") for e in db.session.scalars(query)]
        db.session.remove()
        return rows


def test_create_view_and_list_families(
    app: Flask, api_for: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    api = api_for(make_user(name="Anna"))
    created = api.post("/families", {"name": "  Gezin Jansen ", "my_name": "Mama"})
    assert created.status_code == 201
    family = created.get_json()
    assert family["name"] == "Gezin Jansen" and family["my_role"] == "parent_with_authority"
    assert family["version"] == 1
    assert api.get(f"/families/{family['id']}").get_json() == family
    members = api.get(f"/families/{family['id']}/members").get_json()["items"]
    assert [(m["display_name"], m["role"], m["has_login"]) for m in members] == [
        ("Mama", "parent", True)
    ]
    assert ("family.create", "allowed", "role_allowed") in audit_rows(app, family["id"])

    ids = [family["id"]]
    for name in ("Gezin B", "Gezin C"):
        ids.append(api.post("/families", {"name": name}).get_json()["id"])
    first = api.get("/families?limit=2").get_json()
    assert [f["id"] for f in first["items"]] == ids[:2] and first["next_cursor"]
    rest = api.get(f"/families?limit=2&cursor={first['next_cursor']}").get_json()
    assert [f["id"] for f in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    everything = api.get("/families?limit=200").get_json()
    assert len(everything["items"]) == 3 and everything["next_cursor"] is None


def test_family_validation(api_for: Callable[..., Api], make_user: Callable[..., User]) -> None:
    api = api_for(make_user())
    empty = api.post("/families", {"name": " "})
    assert is_problem(empty, 422)
    assert empty.get_json()["errors"] == [{"field": "name", "message": "Vul dit veld in."}]
    assert error_fields(api.post("/families", {"name": "x" * 101})) == {"name"}
    assert error_fields(api.post("/families", {"name": ["Gezin"]})) == {"name"}
    assert error_fields(api.post("/families", {"name": "Gezin", "version": 1})) == {"version"}
    assert error_fields(api.post("/families", {"name": "Gezin", "household": 3})) == {"household"}
    assert api.get("/families").get_json()["items"] == []
    for query in ("limit=0", "limit=201", "limit=abc", "cursor=abc", "cursor=-1", "limit="):
        response = api.get(f"/families?{query}")
        assert is_problem(response, 400), query
        assert error_fields(response) == {query.split("=")[0]}


def test_anonymous_callers_get_401_everywhere(
    api: Api, make_user: Callable[..., User], make_family: Callable[..., Family]
) -> None:
    family = make_family(make_user())
    for method, path in (
        ("GET", "/me"),
        ("POST", "/me/totp"),
        ("GET", "/families"),
        ("POST", "/families"),
        ("GET", f"/families/{family.id}"),
        ("GET", f"/families/{family.id}/members"),
        ("POST", f"/families/{family.id}/members"),
        ("GET", f"/families/{family.id}/members/1"),
        ("PATCH", f"/families/{family.id}/members/1"),
        ("DELETE", f"/families/{family.id}/members/1"),
        ("GET", f"/families/{family.id}/audit"),
    ):
        body: dict[str, object] | None = {} if method in ("POST", "PATCH") else None
        assert is_problem(api.call(method, path, body), 401), (method, path)


def test_another_familys_data_is_404_and_the_refusal_is_audited(
    app: Flask,
    api_for: Callable[..., Api],
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    owner, stranger = make_user(), make_user()
    family = make_family(owner)
    child = add_member(family, None, "young_person", birth_date=None, name="Sanne")
    make_family(stranger, "Eigen gezin")
    outsider = api_for(stranger)
    paths = [
        f"/families/{family.id}",
        f"/families/{family.id}/members",
        f"/families/{family.id}/members/{child.id}",
        f"/families/{family.id}/audit",
    ]
    for path in paths:
        assert is_problem(outsider.get(path), 404), path
    for method, body in (("PATCH", {"version": 1, "display_name": "x"}), ("DELETE", None)):
        response = outsider.call(method, f"/families/{family.id}/members/{child.id}", body)
        assert is_problem(response, 404)
    added = outsider.post(
        f"/families/{family.id}/members", {"role": "network", "display_name": "x"}
    )
    assert is_problem(added, 404)
    # Looks exactly like a family that does not exist.
    missing = outsider.get("/families/999999")
    assert is_problem(missing, 404)
    assert missing.get_json() == outsider.get(f"/families/{family.id}").get_json()
    denied = [row for row in audit_rows(app, family.id) if row[1] == "denied"]
    assert len(denied) == 8 and {row[2] for row in denied} == {"no_relation"}
