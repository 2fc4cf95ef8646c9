"""The OpenAPI 3.1 document, kept next to the code it describes (a test checks they match)."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


PROBLEM = {"content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _op(
    summary: str,
    ok: tuple[int, dict[str, Any] | None],
    *,
    body: dict[str, Any] | None = None,
    errors: tuple[int, ...] = (401,),
    params: tuple[str, ...] = (),
    public: bool = False,
) -> dict[str, Any]:
    status, schema = ok
    responses: dict[str, Any] = {
        str(status): {"description": "OK", **(_json(schema) if schema else {})}
    }
    for code in errors:
        responses[str(code)] = {"description": "Problem", **PROBLEM}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if public:
        op["security"] = []
    return op


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


S = {"type": "string"}
S_NULL = {"type": ["string", "null"]}
INT = {"type": "integer"}
B = {"type": "boolean"}
DATE_NULL = {"type": ["string", "null"], "format": "date"}
TIME = {"type": "string", "format": "date-time"}
TIME_NULL = {"type": ["string", "null"], "format": "date-time"}
ROLE = {"type": "string", "enum": ["parent", "young_person", "network"]}

SCHEMAS: dict[str, Any] = {
    "Problem": _obj(
        ["type", "title", "status"],
        type=S,
        title=S,
        status=INT,
        detail=S,
        errors={
            "type": "array",
            "items": _obj(["field", "message"], field=S, message=S),
        },
        totp_required=B,
        current_version=INT,
        current={"type": "object"},
    ),
    "User": _obj(
        ["id", "email", "display_name", "kind"],
        id=INT,
        email=S,
        display_name=S,
        kind={"type": "string", "enum": ["family", "professional"]},
        locale=S,
        email_verified=B,
        totp_enabled=B,
        profession=S_NULL,
        organisation=S_NULL,
        register_number=S_NULL,
    ),
    "Session": _obj(
        ["authenticated", "csrf_token"], authenticated=B, csrf_token=S, user=_ref("User")
    ),
    "SignUp": _obj(
        ["email", "password", "display_name"],
        email=S,
        password={"type": "string", "minLength": 10, "maxLength": 200},
        display_name=S,
        kind={"type": "string", "enum": ["family", "professional"], "default": "family"},
        profession={
            "type": "string",
            "enum": [
                "cjg_coach",
                "jeugdverpleegkundige",
                "huisarts",
                "poh_jeugd",
                "gedragswetenschapper",
                "other",
            ],
        },
        organisation=S,
        register_number=S,
    ),
    "SignIn": _obj(["email", "password"], email=S, password=S, totp_code=S),
    "Family": _obj(
        ["id", "name", "version"], id=INT, name=S, created_at=TIME, version=INT, my_role=S
    ),
    "NewFamily": _obj(["name"], name=S, my_name=S, household=S),
    "Member": _obj(
        ["id", "family_id", "role", "display_name", "version"],
        id=INT,
        family_id=INT,
        role=ROLE,
        display_name=S,
        birth_date=DATE_NULL,
        has_authority=B,
        household=S_NULL,
        relation=S_NULL,
        email=S_NULL,
        has_login=B,
        invited_at=TIME_NULL,
        joined_at=TIME_NULL,
        version=INT,
    ),
    "NewMember": _obj(
        ["role", "display_name"],
        role=ROLE,
        display_name=S,
        birth_date={"type": "string", "format": "date"},
        has_authority=B,
        household=S,
        relation=S,
        email=S,
        invite=B,
    ),
    "MemberChange": {
        "allOf": [
            {"$ref": "#/components/schemas/NewMember"},
            _obj(["version"], version=INT),
        ]
    },
    "AuditEvent": _obj(
        ["id", "at", "actor", "action", "outcome"],
        id=INT,
        at=TIME,
        actor=_obj(
            ["name", "role"],
            user_id={"type": ["integer", "null"]},
            name=S,
            role=S,
            organisation=S_NULL,
        ),
        basis=S,
        action=S,
        object=_obj(["type"], type=S, id=S_NULL),
        outcome={"type": "string", "enum": ["allowed", "denied"]},
        reason=S_NULL,
        client_address=S_NULL,
    ),
    "Grant": _obj(
        ["id", "family_id", "state", "parts", "purpose", "expires_at", "version"],
        id=INT,
        family_id=INT,
        state={
            "type": "string",
            "enum": [
                "active",
                "pending",
                "not_yet_valid",
                "expired",
                "revoked",
                "denied",
                "withdrawn",
            ],
        },
        origin={"type": "string", "enum": ["invitation", "request"]},
        grantee_id={"type": ["integer", "null"]},
        invited_email=S_NULL,
        purpose=S,
        subject_member_id={"type": ["integer", "null"]},
        parts={"type": "object", "additionalProperties": {"enum": ["read", "write"]}},
        valid_from=TIME,
        expires_at=TIME,
        accepted_at=TIME_NULL,
        approved_at=TIME_NULL,
        revoked_at=TIME_NULL,
        renewal_requested_at=TIME_NULL,
        version=INT,
    ),
    "NewGrant": _obj(
        ["email", "parts", "purpose"],
        email=S,
        parts={
            "type": "object",
            "additionalProperties": {"enum": ["read", "write"]},
            "propertyNames": {"enum": ["plan", "dossier", "messages", "modules", "documents"]},
        },
        purpose={"type": "string", "maxLength": 500},
        valid_from={"type": "string", "format": "date"},
        expires_on={
            "type": "string",
            "format": "date",
            "description": "Last day of access; default 3 months, at most 12",
        },
        subject_member_id=INT,
    ),
    "NewAccessRequest": _obj(
        ["code", "parts", "purpose"],
        code={"type": "string", "description": "The family's code, e.g. K7MQ-9XPA"},
        parts={"type": "object", "additionalProperties": {"enum": ["read", "write"]}},
        purpose=S,
        expires_on={"type": "string", "format": "date"},
    ),
    "Decision": _obj(
        ["version"],
        version=INT,
        parts={
            "type": "object",
            "additionalProperties": {"enum": ["read", "write"]},
            "description": "approve only: narrow the parts or levels",
        },
        expires_on={
            "type": "string",
            "format": "date",
            "description": "approve: an earlier end; renew: the new last day",
        },
    ),
    "Me": _obj(
        ["user", "families", "grants"],
        user=_ref("User"),
        families={"type": "array", "items": _ref("Family")},
        grants={
            "type": "array",
            "items": {"type": "object"},
            "description": "A professional's grants; ended ones carry no family data",
        },
    ),
    "TotpEnrolment": _obj(
        [], secret=S, otpauth_uri=S, totp_enabled=B, recovery_codes={"type": "array", "items": S}
    ),
}

PARAMETERS = {
    "fid": {"name": "fid", "in": "path", "required": True, "schema": INT},
    "mid": {"name": "mid", "in": "path", "required": True, "schema": INT},
    "gid": {"name": "gid", "in": "path", "required": True, "schema": INT},
    "rid": {"name": "rid", "in": "path", "required": True, "schema": INT},
    "limit": {"name": "limit", "in": "query", "schema": {**INT, "minimum": 1, "maximum": 200}},
    "cursor": {"name": "cursor", "in": "query", "schema": S},
    "version": {"name": "version", "in": "query", "schema": INT},
    "person": {"name": "person", "in": "query", "schema": INT},
    "from": {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    "to": {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
}

FAMILY_ERRORS = (400, 401, 403, 404)
PAGING = ("limit", "cursor")


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {"get": _op("This document", (200, None), errors=(), public=True)},
        "/api/v1/accounts": {
            "post": _op(
                "Sign up (the same answer for new and existing addresses)",
                (202, _obj(["status"], status=S, email=S)),
                body=_ref("SignUp"),
                errors=(400, 415, 422),
                public=True,
            ),
        },
        "/api/v1/session": {
            "get": _op(
                "Who is signed in, and the CSRF token",
                (200, _ref("Session")),
                errors=(),
                public=True,
            ),
            "post": _op(
                "Sign in (password, then TOTP code when enabled)",
                (200, _ref("Session")),
                body=_ref("SignIn"),
                errors=(400, 401, 403, 415, 422, 429),
                public=True,
            ),
            "delete": _op("Sign out; the server-side session ends", (204, None), errors=(400,)),
        },
        "/api/v1/me": {"get": _op("Who am I, my families, my grants", (200, _ref("Me")))},
        "/api/v1/me/totp": {
            "post": _op(
                "Enrol TOTP: without body a new secret, with {code} confirm",
                (201, _ref("TotpEnrolment")),
                errors=(400, 401, 409, 422),
            ),
        },
        "/api/v1/families": {
            "get": _op("My families", (200, _page_of("Family")), params=PAGING, errors=(400, 401)),
            "post": _op(
                "Create a family space",
                (201, _ref("Family")),
                body=_ref("NewFamily"),
                errors=(400, 401, 403, 415, 422),
            ),
        },
        "/api/v1/families/{fid}": {
            "get": _op("One family", (200, _ref("Family")), params=("fid",), errors=FAMILY_ERRORS),
        },
        "/api/v1/families/{fid}/members": {
            "get": _op(
                "The family's members",
                (200, _page_of("Member")),
                params=("fid", *PAGING),
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Add a member (optionally invite to log in)",
                (201, _ref("Member")),
                params=("fid",),
                body=_ref("NewMember"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/members/{mid}": {
            "get": _op(
                "One member", (200, _ref("Member")), params=("fid", "mid"), errors=FAMILY_ERRORS
            ),
            "patch": _op(
                "Change a member (send the version you saw; stale is 409)",
                (200, _ref("Member")),
                params=("fid", "mid"),
                body=_ref("MemberChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
            "delete": _op(
                "End a membership (history is kept)",
                (204, None),
                params=("fid", "mid", "version"),
                errors=(*FAMILY_ERRORS, 409, 422),
            ),
        },
        "/api/v1/families/{fid}/grants": {
            "get": _op(
                "The family's guests (grants), newest first",
                (200, _page_of("Grant")),
                params=("fid", *PAGING),
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Invite a professional with parts, levels, purpose and end date",
                (201, _ref("Grant")),
                params=("fid",),
                body=_ref("NewGrant"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/grants/{gid}": {
            "get": _op(
                "One grant", (200, _ref("Grant")), params=("fid", "gid"), errors=FAMILY_ERRORS
            ),
        },
        "/api/v1/families/{fid}/grants/{gid}/revoke": {
            "post": _op(
                "Revoke at once (content the guest wrote stays)",
                (200, _ref("Grant")),
                params=("fid", "gid"),
                body=_ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/grants/{gid}/renew": {
            "post": _op(
                "Renew (a new last day; also after expiry or revocation)",
                (200, _ref("Grant")),
                params=("fid", "gid"),
                body=_ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/access-requests": {
            "get": _op(
                "Requests from professionals",
                (200, _page_of("Grant")),
                params=("fid", *PAGING),
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "A professional asks for access (with the family's code)",
                (201, _ref("Grant")),
                params=("fid",),
                body=_ref("NewAccessRequest"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/access-requests/{rid}/approve": {
            "post": _op(
                "Approve (optionally narrowed); who must approve follows the age rules",
                (200, _ref("Grant")),
                params=("fid", "rid"),
                body=_ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/access-requests/{rid}/deny": {
            "post": _op(
                "Refuse a request",
                (200, _ref("Grant")),
                params=("fid", "rid"),
                body=_ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/audit": {
            "get": _op(
                "The family's access log, newest first ('Wie keek mee?')",
                (200, _page_of("AuditEvent")),
                params=("fid", *PAGING, "person", "from", "to"),
                errors=FAMILY_ERRORS,
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gezinsportaal API",
            "version": "1",
            "description": "The family's own portal. Errors are application/problem+json "
            "(RFC 9457). Cookie-authenticated writes need the X-CSRFToken header "
            "(GET /api/v1/session returns the token).",
        },
        "servers": [{"url": "/"}],
        "security": [{"session": [], "csrf": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "portal_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
    }
