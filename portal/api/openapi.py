"""The OpenAPI 3.1 document, kept next to the code it describes (tests check that they match).

Each operation lists what is particular to it; `document()` then adds what every operation shares,
from the code itself: the operationId (the Flask endpoint), the security (session cookie, and the
CSRF header on writes) and the standard problem responses.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from portal.api import ENROLMENT_ENDPOINTS
from portal.api.common import MAX_LIMIT
from portal.api.schemas import INT, SCHEMAS, VERSION, page_of, ref

S = {"type": "string"}
UNSAFE = frozenset({"post", "put", "patch", "delete"})
FAMILY_ERRORS = (400, 401, 403, 404)
PAGING = ("limit", "cursor")

ERRORS = {
    400: "Malformed JSON or query, or the CSRF token is missing (csrf_required), or a bearer "
    "token used where only a session can act (session_required).",
    401: "Not signed in, or a bearer token that is unknown, expired or revoked; for POST "
    "/session also a wrong password or TOTP code (totp_required).",
    403: "Seen but not allowed; or a professional must enrol TOTP first "
    "(totp_enrolment_required); or the e-mail address is not verified yet.",
    404: "No such object, or one of another family, or one you may not see.",
    409: "Stale version (current_version and current say what is stored), or a change the "
    "family's state does not allow.",
    413: "The body is too large.",
    415: "The body is not application/json.",
    422: "Validation failed: errors lists each field and message, in the caller's language.",
    429: "Too many attempts; wait Retry-After seconds.",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    ok: tuple[int, dict[str, Any] | None],
    *,
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    errors: tuple[int, ...] = (),
    params: tuple[str, ...] = (),
    public: bool = False,
    also: dict[int, dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """One operation: its success answer(s), body, particular errors and query parameters.
    Path parameters, security and the shared errors are added by document()."""
    responses: dict[str, Any] = {}
    for status, schema in [ok, *(also or {}).items()]:
        responses[str(status)] = (
            {"description": "OK", **_json(schema)} if schema else {"description": "Done."}
        )
    for code in errors:
        responses[str(code)] = {}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": body_required, **_json(body)}
    if params:
        op["parameters"] = list(params)
    if public:
        op["security"] = []
    return op


def _bytes_op(summary: str, description: str, content_types: tuple[str, ...]) -> dict[str, Any]:
    """A GET that answers with bytes (a file, a preview) instead of JSON."""
    op = _op(summary, (200, None), errors=FAMILY_ERRORS)
    binary = {"schema": {"type": "string", "format": "binary"}}
    op["responses"]["200"] = {
        "description": description,
        "content": {content_type: binary for content_type in content_types},
    }
    return op


def _calendar_op() -> dict[str, Any]:
    op = _op(
        "The agenda as iCalendar (RFC 5545): evaluations and network meetings from today on; "
        "timed ones in UTC, all-day ones as DATE. Also at /families/{fid}/plan/agenda.ics.",
        (200, None),
        errors=FAMILY_ERRORS,
    )
    op["responses"]["200"] = {
        "description": "A VCALENDAR with one VEVENT per moment (CRLF line endings)",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
    return op


def _paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/openapi.json": {
            "get": _op("This document", (200, {"type": "object"}), public=True)
        },
        "/api/v1/accounts": {
            "post": _op(
                "Sign up as a family member or a professional. The answer is the same for new "
                "and existing addresses; the mail tells the owner what to do.",
                (202, ref("SignUpAccepted")),
                body=ref("SignUp"),
                public=True,
            ),
        },
        "/api/v1/session": {
            "get": _op("Who is signed in, and the CSRF token", (200, ref("Session")), public=True),
            "post": _op(
                "Sign in with e-mail and password, plus totp_code when TOTP is on. Sets the "
                "session cookie; the answer carries a fresh CSRF token.",
                (200, ref("Session")),
                body=ref("SignIn"),
                errors=(401, 403, 429),
                public=True,
            ),
            "delete": _op("Sign out; the server-side session ends", (204, None), public=True),
        },
        "/api/v1/me": {
            "get": _op(
                "Who am I: my account, my families with my role, my grants", (200, ref("Me"))
            ),
            "patch": _op(
                "Change my message settings (mails about unread messages, read receipts)",
                (200, ref("User")),
                body=ref("MeChange"),
            ),
        },
        "/api/v1/me/totp": {
            "post": _op(
                "Enrol TOTP: without a code, a new secret and otpauth URI (shown once, kept "
                "pending in the session); then with {code} from the app, confirm and get "
                "recovery codes.",
                (201, ref("TotpEnrolment")),
                also={200: ref("TotpEnabled")},
                body=ref("TotpConfirm"),
                body_required=False,
                errors=(409,),
            ),
        },
        "/api/v1/families": {
            "get": _op("My families", (200, page_of("Family")), params=PAGING, errors=(400,)),
            "post": _op(
                "Start a family space; the caller becomes its parent with authority",
                (201, ref("Family")),
                body=ref("NewFamily"),
            ),
        },
        "/api/v1/families/{fid}": {"get": _op("One family", (200, ref("Family")))},
        "/api/v1/families/{fid}/members": {
            "get": _op(
                "The family's members, in the order they were added",
                (200, page_of("Member")),
                params=PAGING,
                errors=(400,),
            ),
            "post": _op(
                "Add a member, and with invite: true mail them an invitation to log in",
                (201, ref("Member")),
                body=ref("NewMember"),
            ),
        },
        "/api/v1/families/{fid}/members/{mid}": {
            "get": _op("One member", (200, ref("Member"))),
            "patch": _op(
                "Change some of a member's fields; the rest keep their stored values",
                (200, ref("Member")),
                body=ref("MemberChange"),
                errors=(409,),
            ),
            "delete": _op(
                "End a membership (what the person wrote is kept). Send version in the body "
                "or as ?version=.",
                (204, None),
                body=ref("MemberRemoval"),
                body_required=False,
                params=("version",),
                errors=(409, 422),
            ),
        },
        "/api/v1/families/{fid}/plan": {
            "get": _op(
                "The plan: the five questions, goals and agreements",
                (200, ref("Plan")),
                errors=FAMILY_ERRORS,
            ),
            "put": _op(
                "Answer the five questions (send the version you saw; stale is 409)",
                (200, ref("Plan")),
                body=ref("PlanQuestions"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/goals": {
            "get": _op(
                "The plan's goals with their scores, oldest first, a page at a time",
                (200, page_of("Goal")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Add a goal",
                (201, ref("Goal")),
                body=ref("NewGoal"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/goals/{goal_id}": {
            "get": _op("One goal with its scores", (200, ref("Goal")), errors=FAMILY_ERRORS),
            "delete": _op(
                "Take the goal out of the plan (?version=); it stays in the plan's history",
                (204, None),
                params=("version",),
                errors=(*FAMILY_ERRORS, 409),
            ),
            "patch": _op(
                "Change a goal (with its version)",
                (200, ref("Goal")),
                body=ref("GoalChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/agreements": {
            "get": _op(
                "The plan's agreements in the order they were made, a page at a time",
                (200, page_of("Agreement")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Add an agreement: who does what, and when",
                (201, ref("Agreement")),
                body=ref("NewAgreement"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/agreements/{agreement_id}": {
            "get": _op("One agreement", (200, ref("Agreement")), errors=FAMILY_ERRORS),
            "delete": _op(
                "Take the agreement out of the plan (?version=); it stays in the history",
                (204, None),
                params=("version",),
                errors=(*FAMILY_ERRORS, 409),
            ),
            "patch": _op(
                "Mark an agreement done or not done (with its version)",
                (200, ref("Agreement")),
                body=ref("AgreementChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/network": {
            "get": _op(
                "De bloem: the family's petals (paginated) and guests with the plan part",
                (200, ref("Network")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Add a petal: a person or organisation who helps",
                (201, ref("Petal")),
                body=ref("NewPetal"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/network/{petal_id}": {
            "get": _op("One petal", (200, ref("Petal")), errors=FAMILY_ERRORS),
            "patch": _op(
                "Change a petal (with its version); fields left out keep their values",
                (200, ref("Petal")),
                body=ref("PetalChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
            "delete": _op(
                "Take a petal out of de bloem (kept for agreements that name it). Send version "
                "in the body or as ?version=.",
                (204, None),
                body=ref("Removal"),
                body_required=False,
                params=("version",),
                errors=(*FAMILY_ERRORS, 409, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/safety": {
            "get": _op("The safety plan", (200, ref("Safety")), errors=FAMILY_ERRORS),
            "put": _op(
                "Replace the safety plan (send the version you saw; stale is 409)",
                (200, ref("Safety")),
                body=ref("SafetyChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/evaluations": {
            "get": _op(
                "Evaluation moments and network meetings, newest first",
                (200, page_of("Evaluation")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Add an evaluation moment or network meeting",
                (201, ref("Evaluation")),
                body=ref("NewEvaluation"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/evaluations/{evaluation_id}": {
            "delete": _op(
                "Take the moment out of the plan (?version=); it stays in the history",
                (204, None),
                params=("version",),
                errors=(*FAMILY_ERRORS, 409),
            ),
            "get": _op("One evaluation", (200, ref("Evaluation")), errors=FAMILY_ERRORS),
            "patch": _op(
                "Change an evaluation (with its version): what went well, what changes, next steps",
                (200, ref("Evaluation")),
                body=ref("EvaluationChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/agenda.ics": {"get": _calendar_op()},
        "/api/v1/families/{fid}/conversations": {
            "get": _op(
                "Conversations I am in, with unread counts",
                (200, page_of("Conversation")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Start a conversation with chosen people",
                (201, ref("Conversation")),
                body=ref("NewConversation"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/conversations/{cid}": {
            "get": _op("One conversation", (200, ref("Conversation")), errors=FAMILY_ERRORS),
            "patch": _op(
                "A new topic (family members who may add people, from inside); everyone in it "
                "gets conversation.changed with the topic",
                (200, ref("Conversation")),
                body=ref("ConversationChange"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/conversations/{cid}/messages": {
            "get": _op(
                "Messages after a sequence number, oldest first (for reconnecting)",
                (200, page_of("Message")),
                params=("after", "limit"),
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Send a message; a repeated client_key returns the stored one (200)",
                (201, ref("Message")),
                body=ref("NewMessage"),
                errors=(*FAMILY_ERRORS, 415, 422, 429),
                also={200: ref("Message")},
            ),
        },
        "/api/v1/families/{fid}/conversations/{cid}/messages/{seq}": {
            "patch": _op(
                "Edit your own message within 15 minutes (shown as edited)",
                (200, ref("Message")),
                body=ref("MessageEdit"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
            "delete": _op(
                "Delete your own message within 15 minutes (shown as deleted)",
                (200, ref("Message")),
                errors=(*FAMILY_ERRORS, 409),
            ),
        },
        "/api/v1/families/{fid}/conversations/{cid}/participants": {
            "post": _op(
                "Add someone to the conversation (they see its whole history)",
                (200, ref("Conversation")),
                body=ref("NewParticipant"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/conversations/{cid}/participants/{uid}": {
            "delete": _op(
                "Take someone out of the conversation (what they wrote stays); with your own "
                "user id: leave it yourself (anyone in it, also a guest), answered with 204",
                (200, ref("Conversation")),
                also={204: None},
                errors=(*FAMILY_ERRORS, 409),
            ),
        },
        "/api/v1/families/{fid}/messages": {
            "get": _op(
                "Search the messages of the conversations I am in (?q=, newest first)",
                (200, page_of("FoundMessage")),
                params=("q", *PAGING),
                errors=FAMILY_ERRORS,
            ),
        },
        "/api/v1/families/{fid}/plan/goals/{goal_id}/scores": {
            "post": _op(
                "Add a scale score (0-10) to a goal, today or on an earlier day",
                (201, ref("Goal")),
                body=ref("NewScore"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/plan/history": {
            "get": _op(
                "Changes to the plan, newest first (who, when, which fields, before/after)",
                (200, page_of("PlanChange")),
                params=("part", *PAGING),
                errors=FAMILY_ERRORS,
            ),
        },
        "/api/v1/families/{fid}/plan/history/{change_id}/restore": {
            "post": _op(
                "Put an item back as it was after this change (itself a new change)",
                (200, ref("Restored")),
                errors=(*FAMILY_ERRORS, 409),
            ),
        },
        "/api/v1/families/{fid}/plan/versions": {
            "get": _op(
                "Where the plan stands (draft, proposed, agreed) and every proposed version",
                (200, ref("PlanVersions")),
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Propose the plan as it is now for agreement; every signer is mailed (without "
                "anything from the plan)",
                (201, ref("PlanVersion")),
                errors=(*FAMILY_ERRORS, 409),
            ),
        },
        "/api/v1/families/{fid}/plan/versions/{number}": {
            "get": _op(
                "One proposed version with its content and signatures",
                (200, ref("PlanVersion")),
                errors=FAMILY_ERRORS,
            ),
        },
        "/api/v1/families/{fid}/plan/signoffs": {
            "post": _op(
                "Answer a proposed version: sign, niet akkoord (with a reason), or mark a young "
                "person not taking part (parents with authority); the plan is agreed when no "
                "signer is left to sign",
                (201, ref("PlanVersion")),
                body=ref("NewSignoff"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/export": {
            "get": _op(
                "Everything the family holds that I may see, as one zip (gezin.json + files/)",
                (200, None),
                errors=FAMILY_ERRORS,
            )
            | {
                "responses": {
                    "200": {
                        "description": "A zip archive: gezin.json, LEESMIJ.txt and files/.",
                        "content": {
                            "application/zip": {"schema": {"type": "string", "format": "binary"}}
                        },
                    }
                }
            },
        },
        "/api/v1/families/{fid}/dossier": {
            "get": _op(
                "Dossier entries I may read, newest first (?q= searches title and text)",
                (200, page_of("DossierEntry")),
                params=("q_optional", *PAGING),
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Write an entry (Markdown subset), with who may read it and attachments",
                (201, ref("DossierEntry")),
                body=ref("NewDossierEntry"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/dossier/{eid}": {
            "get": _op(
                "One entry with its earlier versions (revisions, newest first)",
                (200, ref("DossierEntry")),
                errors=FAMILY_ERRORS,
            ),
            "patch": _op(
                "The author changes the entry (with its version); the earlier text is kept",
                (200, ref("DossierEntry")),
                body=ref("DossierEntryChange"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
            "delete": _op(
                "The author takes the entry out (?version=); the text is kept",
                (200, ref("DossierEntry")),
                params=("version",),
                errors=(*FAMILY_ERRORS, 409),
            ),
        },
        "/api/v1/families/{fid}/files": {
            "post": {
                **_op(
                    "Upload a file for a conversation; send it with a message's attachments",
                    (201, ref("File")),
                    errors=(*FAMILY_ERRORS, 413, 422),
                ),
                "requestBody": {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": ref("NewFile")}},
                },
            },
        },
        "/api/v1/families/{fid}/files/{file_id}": {
            "get": _bytes_op(
                "Download a file (always as an attachment, never shown inline)",
                "The file's bytes, with its checked content type.",
                ("*/*",),
            ),
        },
        "/api/v1/families/{fid}/files/{file_id}/preview": {
            "get": _bytes_op(
                "A photo's preview (JPEG or PNG, at most 640 pixels; 404 when there is none)",
                "The preview's bytes, shown inline.",
                ("image/jpeg", "image/png"),
            ),
        },
        "/api/v1/families/{fid}/conversations/{cid}/read": {
            "post": _op(
                "Mark read up to a sequence number",
                (200, ref("ReadState")),
                body=ref("ReadMark"),
                errors=(*FAMILY_ERRORS, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/grants": {
            "get": _op(
                "The family's guests (grants), newest first",
                (200, page_of("Grant")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "Invite a professional with parts, levels, purpose and end date",
                (201, ref("Grant")),
                body=ref("NewGrant"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/grants/{gid}": {
            "get": _op("One grant", (200, ref("Grant")), errors=FAMILY_ERRORS),
        },
        "/api/v1/families/{fid}/grants/{gid}/revoke": {
            "post": _op(
                "Revoke at once (content the guest wrote stays)",
                (200, ref("Grant")),
                body=ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/grants/{gid}/renew": {
            "post": _op(
                "Renew (a new last day; also after expiry or revocation)",
                (200, ref("Grant")),
                body=ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/access-requests": {
            "get": _op(
                "Requests from professionals",
                (200, page_of("Grant")),
                params=PAGING,
                errors=FAMILY_ERRORS,
            ),
            "post": _op(
                "A professional asks for access (with the family's code)",
                (201, ref("Grant")),
                body=ref("NewAccessRequest"),
                errors=(*FAMILY_ERRORS, 409, 415, 422, 429),
            ),
        },
        "/api/v1/families/{fid}/access-requests/{rid}/approve": {
            "post": _op(
                "Approve (optionally narrowed); who must approve follows the age rules",
                (200, ref("Grant")),
                body=ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/access-requests/{rid}/deny": {
            "post": _op(
                "Refuse a request",
                (200, ref("Grant")),
                body=ref("Decision"),
                errors=(*FAMILY_ERRORS, 409, 415, 422),
            ),
        },
        "/api/v1/families/{fid}/audit": {
            "get": _op(
                "The family's access log, newest first ('Wie keek mee?')",
                (200, page_of("AuditEvent")),
                params=(*PAGING, "person", "who", "from", "to"),
                errors=(400,),
            ),
        },
    }


ID = {**INT, "minimum": 1}
PARAMETERS = {
    "fid": {"name": "fid", "in": "path", "required": True, "schema": ID},
    "mid": {"name": "mid", "in": "path", "required": True, "schema": ID},
    "gid": {"name": "gid", "in": "path", "required": True, "schema": ID},
    "rid": {"name": "rid", "in": "path", "required": True, "schema": ID},
    "cid": {"name": "cid", "in": "path", "required": True, "schema": ID},
    "goal_id": {"name": "goal_id", "in": "path", "required": True, "schema": ID},
    "agreement_id": {"name": "agreement_id", "in": "path", "required": True, "schema": ID},
    "petal_id": {"name": "petal_id", "in": "path", "required": True, "schema": ID},
    "evaluation_id": {"name": "evaluation_id", "in": "path", "required": True, "schema": ID},
    "seq": {"name": "seq", "in": "path", "required": True, "schema": ID},
    "uid": {"name": "uid", "in": "path", "required": True, "schema": ID},
    "eid": {"name": "eid", "in": "path", "required": True, "schema": ID},
    "change_id": {"name": "change_id", "in": "path", "required": True, "schema": ID},
    "number": {"name": "number", "in": "path", "required": True, "schema": ID},
    "part": {
        "name": "part",
        "in": "query",
        "schema": {
            "type": "string",
            "enum": ["questions", "goals", "agreements", "network", "safety", "evaluations"],
        },
    },
    "q_optional": {
        "name": "q",
        "in": "query",
        "description": "Only entries whose title or text contains this",
        "schema": {"type": "string", "maxLength": 100},
    },
    "file_id": {"name": "file_id", "in": "path", "required": True, "schema": ID},
    "q": {
        "name": "q",
        "in": "query",
        "required": True,
        "description": "2 to 100 characters, found in a message's text or its topic",
        "schema": {"type": "string", "minLength": 2, "maxLength": 100},
    },
    "after": {
        "name": "after",
        "in": "query",
        "description": "The last sequence number the client has; 0 for everything",
        "schema": {**INT, "minimum": 0},
    },
    "limit": {
        "name": "limit",
        "in": "query",
        "schema": {**INT, "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
    },
    "cursor": {
        "name": "cursor",
        "in": "query",
        "description": "next_cursor of the previous page",
        "schema": S,
    },
    "version": {"name": "version", "in": "query", "schema": VERSION},
    "person": {"name": "person", "in": "query", "description": "Only this user", "schema": ID},
    "who": {
        "name": "who",
        "in": "query",
        "description": "others: everyone but the caller; guests: only (former) guests",
        "schema": {"type": "string", "enum": ["others", "guests"]},
    },
    "from": {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    "to": {
        "name": "to",
        "in": "query",
        "description": "Up to and including this day (Europe/Amsterdam)",
        "schema": {"type": "string", "format": "date"},
    },
}


def _endpoints() -> dict[tuple[str, str], str]:
    """(path template, method) -> endpoint, from the routes the app really has."""
    found = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods or ():
                found[(path, method.lower())] = rule.endpoint
    return found


def _complete(path: str, method: str, op: dict[str, Any], endpoint: str | None) -> None:
    """Add what every operation shares: id, path parameters, security, standard errors."""
    if endpoint:
        op["operationId"] = endpoint.removeprefix("api.")
    public = op.get("security") == []
    unsafe = method in UNSAFE
    names = [*re.findall(r"\{(\w+)\}", path), *op.get("parameters", [])]
    if names:
        op["parameters"] = [{"$ref": f"#/components/parameters/{name}"} for name in names]
    if public:
        op["security"] = [{"csrf": []}] if unsafe else []
    else:
        cookie: dict[str, list[str]] = {"session": [], "csrf": []} if unsafe else {"session": []}
        op["security"] = [cookie, {"bearer": []}]
    codes = {int(code) for code, answer in op["responses"].items() if not answer}
    if unsafe:
        codes.add(400)
    if "requestBody" in op:
        codes |= {400, 413, 415, 422}
    codes.add(401)  # also on public paths: a bearer token that does not work is refused
    if not public and endpoint not in ENROLMENT_ENDPOINTS:
        codes.add(403)  # professionals without TOTP, and members without the right
    if "{" in path:
        codes.add(404)
    for code in sorted(codes):
        op["responses"][str(code)] = {"$ref": f"#/components/responses/Problem{code}"}


def _problem_response(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERRORS.get(code, "Problem"),
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }
    if code == 429:
        answer["headers"] = {"Retry-After": {"schema": INT, "description": "Seconds to wait"}}
    return answer


def document() -> dict[str, Any]:
    paths = _paths()
    endpoints = _endpoints()
    for path, operations in paths.items():
        for method, op in operations.items():
            _complete(path, method, op, endpoints.get((path, method)))
    used = sorted(
        {int(code) for ops in paths.values() for op in ops.values() for code in op["responses"]}
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gezinsportaal API",
            "version": "1",
            "description": "The family's own portal. JSON in and out; errors are "
            "application/problem+json (RFC 9457) in the caller's language. Authenticate with "
            "the session cookie from POST /api/v1/session; every write (POST, PUT, PATCH, "
            "DELETE) then needs the X-CSRFToken header with the token from GET /api/v1/session. "
            "Or with a personal token made at /account/api-tokens, sent as Authorization: "
            "Bearer; such requests need no CSRF token and never use the cookie. "
            "Lists take ?limit= (at most 200) and ?cursor=, and return next_cursor.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "responses": {f"Problem{c}": _problem_response(c) for c in used if c >= 400},
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": current_app.config.get("SESSION_COOKIE_NAME", "session"),
                    "description": "Set by POST /api/v1/session, ended by DELETE.",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (gpt_…), made and revoked by its owner "
                    "at /account/api-tokens; it acts with its owner's rights, until it expires.",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "csrf_token from GET /api/v1/session; needed on writes.",
                },
            },
        },
    }
