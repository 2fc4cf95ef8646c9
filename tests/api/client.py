"""A small JSON client over Flask's test client: cookies, CSRF header, problem+json checks."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


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
            headers["X-CSRFToken"] = self.csrf()
        if body is not None:
            kwargs["json"] = body
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("DELETE", path, body, **kwargs)

    def sign_in(self, email: str, password: str, totp_code: str | None = None) -> Any:
        body = {"email": email, "password": password}
        if totp_code:
            body["totp_code"] = totp_code
        return self.post("/session", body)


def is_problem(response: Any, status: int) -> bool:
    body = response.get_json(silent=True) or {}
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and body.get("status") == status
        and bool(body.get("title"))
    )
