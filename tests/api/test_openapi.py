"""The OpenAPI document describes exactly the API's routes, consistently."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.client import conforms, resolve

UNSAFE = {"post", "put", "patch", "delete"}
CLOSED_BODIES = (
    "SignUp",
    "SignIn",
    "TotpConfirm",
    "NewFamily",
    "NewMember",
    "MemberChange",
    "MemberRemoval",
)


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def registered(app: Flask) -> dict[tuple[str, str], str]:
    """(path template, method) -> endpoint for every rule under /api/v1."""
    found = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found[(path, method)] = rule.endpoint
    return found


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method.upper()): operation
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    }


def test_every_api_route_is_documented_with_the_same_methods(
    app: Flask, client: FlaskClient
) -> None:
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    routes = registered(app)
    assert set(routes) == set(operations(doc))
    for key, operation in operations(doc).items():
        assert f"api.{operation['operationId']}" == routes[key], key


def test_references_resolve_and_path_parameters_are_declared(client: FlaskClient) -> None:
    doc = document(client)
    for ref in re.findall(r"'\$ref': '([^']+)'", str(doc)):
        assert resolve(doc, {"$ref": ref}), ref
    for (path, _method), operation in operations(doc).items():
        declared = {
            resolve(doc, p)["name"]
            for p in operation.get("parameters", [])
            if resolve(doc, p)["in"] == "path"
        }
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path


def test_errors_are_problem_json_and_writes_need_the_csrf_token(
    app: Flask, client: FlaskClient
) -> None:
    doc = document(client)
    schemes = doc["components"]["securitySchemes"]
    assert (schemes["session"]["type"], schemes["session"]["in"]) == ("apiKey", "cookie")
    assert schemes["session"]["name"] == app.config["SESSION_COOKIE_NAME"]
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRFToken"
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    for (path, method), operation in operations(doc).items():
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (path, method)
        for code, answer in responses.items():
            if code.startswith("4"):
                assert list(resolve(doc, answer)["content"]) == ["application/problem+json"]
        security = operation["security"]
        if method.lower() in UNSAFE:
            # A write carries the CSRF token with the cookie, or comes with a bearer token.
            assert security and all(
                "csrf" in option or set(option) == {"bearer"} for option in security
            ), (path, method)
            assert "400" in responses
        if security and any("session" in option for option in security):
            assert {"session": []} in security or {"session": [], "csrf": []} in security
            assert {"bearer": []} in security, (path, method)
        assert "401" in responses, (path, method)  # also a bearer token that does not work
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= set(responses), (path, method)
    for name in CLOSED_BODIES:  # these bodies refuse unknown fields with a 422
        assert doc["components"]["schemas"][name]["additionalProperties"] is False
    too_many = operations(doc)[("/api/v1/session", "POST")]["responses"]["429"]
    assert "Retry-After" in resolve(doc, too_many)["headers"]


def test_the_checker_itself_catches_mismatches(client: FlaskClient) -> None:
    doc = document(client)
    member = {"$ref": "#/components/schemas/Member"}
    for wrong in ({"id": 1}, None, {"id": "1"}):
        try:
            conforms(doc, member, wrong)
        except AssertionError:
            continue
        raise AssertionError(f"{wrong!r} passed")
