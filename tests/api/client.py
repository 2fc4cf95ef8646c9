"""A small JSON client over Flask's test client: cookies, the CSRF header, and a check of every
answer against the OpenAPI document (status documented, body matching its schema)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from portal.auth.models import User
from tests.helpers import PASSWORD

_documents: dict[int, dict[str, Any]] = {}

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def conforms(
    document: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$"
) -> None:
    """Assert that `value` matches `schema` (the subset of JSON Schema the document uses)."""
    schema = resolve(document, schema)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        allowed = tuple(t for name in names for t in JSON_TYPES[name])
        is_bool_as_number = isinstance(value, bool) and "boolean" not in names
        assert isinstance(value, allowed) and not is_bool_as_number, f"{where}: {value!r} {names}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "const" in schema:
        assert value == schema["const"], f"{where}: {value!r} != {schema['const']!r}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: {key} missing"
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                conforms(document, properties[key], item, f"{where}.{key}")
            else:
                assert schema.get("additionalProperties", True), f"{where}: unexpected {key}"
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            conforms(document, schema["items"], item, f"{where}[{index}]")


def operation_for(document: dict[str, Any], path: str, method: str) -> dict[str, Any] | None:
    for template, operations in document["paths"].items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            operation: dict[str, Any] | None = operations.get(method.lower())
            return operation
    return None


def check_against_document(app: Flask, method: str, url: str, response: Any) -> None:
    document = _documents.get(id(app))
    if document is None:
        document = _documents[id(app)] = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = operation_for(document, urlsplit(url).path, method)
    if operation is None or method == "HEAD":
        return
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {url}: status {response.status_code} is not documented"
    documented = resolve(document, documented)
    content = documented.get("content")
    if content is None:
        assert not response.get_data(), f"{method} {url}: a body where none is documented"
        return
    media = response.mimetype if response.mimetype in content else "*/*"
    assert media in content, f"{method} {url}: {response.mimetype} not documented"
    schema = content[media]["schema"]
    if schema.get("format") == "binary":
        return  # a file's bytes: its headers are checked by the tests that fetch it
    body = response.get_json() if response.is_json else response.get_data(as_text=True)
    conforms(document, schema, body)


class Api:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf(self) -> str:
        return str(self.client.get("/api/v1/session").get_json()["csrf_token"])

    def call(
        self, method: str, path: str, body: Any = None, *, csrf: bool = True, **kwargs: Any
    ) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRFToken", self.csrf())
        if body is not None:
            kwargs["json"] = body
        url = f"/api/v1{path}"
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        check_against_document(self.client.application, method, url, response)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("DELETE", path, body, **kwargs)

    def raw(self, method: str, path: str, data: bytes | str, content_type: str) -> Any:
        """Send a body as it is (for malformed JSON), with a valid CSRF token."""
        return self.call(method, path, data=data, headers={"Content-Type": content_type})

    def sign_in(self, email: str, password: str = PASSWORD, totp_code: str | None = None) -> Any:
        body = {"email": email, "password": password}
        if totp_code is not None:
            body["totp_code"] = totp_code
        return self.post("/session", body)


def signed_in_api(app: Flask, user: User, **kwargs: Any) -> Api:
    api = Api(app.test_client())
    response = api.sign_in(user.email, **kwargs)
    assert response.status_code == 200, response.get_json()
    return api


def is_problem(response: Any, status: int) -> bool:
    body = response.get_json(silent=True) or {}
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and body.get("status") == status
        and bool(body.get("title"))
        and bool(body.get("detail"))
    )


def error_fields(response: Any) -> set[str]:
    return {error["field"] for error in response.get_json().get("errors", [])}
