"""The authorization matrix: every registered route x every kind of actor -> expected status.

A route that is not in ROUTES fails the test, so nothing new slips in unchecked. Every refusal
of family data (403/404 on a family route) must leave exactly one 'denied' audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import db
from portal.access.models import AuditEvent, Grant, GrantPart
from portal.auth import api_tokens
from portal.auth.models import KIND_PROFESSIONAL, ApiToken, User
from portal.core import clock
from portal.core.tokens import new_token, token_hash
from portal.dossier.models import DossierEntry
from portal.family.models import (
    ROLE_NETWORK,
    ROLE_PARENT,
    ROLE_YOUNG_PERSON,
    Agreement,
    Evaluation,
    Family,
    Goal,
    Member,
    NetworkPetal,
)
from portal.family.plan_history_models import PlanChange, PlanVersion
from portal.files import previews
from portal.files.models import FileContent, StoredFile
from portal.messaging.models import Conversation, Message, Participant
from tests.files import samples
from tests.helpers import csrf_token, sign_in, years_ago

ACTORS = (
    "anonymous",
    "parent",  # parent with authority, created the family
    "other_parent",  # the second parent with authority, another household
    "carer",  # parent/carer without authority
    "young_12_15",
    "young_16_17",
    "network",
    "other_family",  # parent of another family
    "professional",  # professional without any relation to the family
    # Professionals with a grant in this family, in every state that matters:
    "guest_read",  # active grant, plan: read
    "guest_write",  # active grant, plan: write, dossier: write
    "guest_expired",  # expired one second ago
    "guest_not_yet",  # becomes valid tomorrow
    "guest_revoked",  # revoked one second ago
    "guest_other_family",  # active grant, but in the other family
)
FAMILY_MEMBERS = ("parent", "other_parent", "carer", "young_12_15", "young_16_17", "network")
GUESTS_ACTIVE = ("guest_read", "guest_write")
GUESTS_ENDED = ("guest_expired", "guest_not_yet", "guest_revoked")
STRANGERS = ("other_family", "professional", "guest_other_family")
PROFESSIONALS = ("professional", *GUESTS_ACTIVE, *GUESTS_ENDED, "guest_other_family")

OK, CREATED, NO_CONTENT, REDIRECT, LOGIN, UNAUTHORIZED, FORBIDDEN, NOT_FOUND = (
    200,
    201,
    204,
    302,
    "login",
    401,
    403,
    404,
)
CONFLICT, GONE, INVALID = 409, 410, 422
PRO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def everyone(status: object) -> dict[str, object]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: object, anonymous: object = LOGIN) -> dict[str, object]:
    return {**everyone(status), "anonymous": anonymous}


def family_route(allowed: tuple[str, ...], ok: object = OK) -> dict[str, object]:
    """Members and active guests in `allowed` get `ok`; other members, active guests and
    former guests 403 (they know the family); strangers 404; anonymous a sign-in."""
    expected: dict[str, object] = {"anonymous": LOGIN}
    expected.update(dict.fromkeys(STRANGERS, NOT_FOUND))
    expected.update(dict.fromkeys(GUESTS_ENDED, FORBIDDEN))
    for actor in FAMILY_MEMBERS + GUESTS_ACTIVE:
        expected[actor] = ok if actor in allowed else FORBIDDEN
    return expected


EVERY_MEMBER = FAMILY_MEMBERS
MANAGERS = ("parent", "other_parent")
GUEST_INVITERS = ("parent", "other_parent", "young_16_17")
APPROVERS = ("parent", "other_parent", "young_12_15", "young_16_17")
GRANT_READERS = ("parent", "other_parent", "carer", "young_12_15", "young_16_17")
PLAN_READERS = (*FAMILY_MEMBERS, *GUESTS_ACTIVE)
PLAN_WRITERS = ("parent", "other_parent", "carer", "young_12_15", "young_16_17", "guest_write")
DOSSIER = ("parent", "other_parent", "carer", "young_12_15", "young_16_17", "guest_write")
EXPORTERS = ("parent", "other_parent", "young_16_17")
PLAN_PROPOSERS = ("parent", "other_parent", "carer", "young_12_15", "young_16_17")
AUDIT_READERS = ("parent", "other_parent", "carer", "young_12_15", "young_16_17")
FAMILY_USERS = (
    "parent",
    "other_parent",
    "carer",
    "young_12_15",
    "young_16_17",
    "network",
    "other_family",
)


IN_CONVERSATION = ("parent", "other_parent", "young_12_15", "network", "guest_write")
CONVERSATION_STARTERS = ("parent", "other_parent", "carer", "young_12_15", "young_16_17")


def conversation_route(ok: object) -> dict[str, object]:
    """Participants get `ok`; a member who is not in it gets 404 (it does not exist for them);
    a guest without the messages part 403; strangers 404."""
    expected = family_route((*FAMILY_MEMBERS, "guest_write"), ok)
    for actor in FAMILY_MEMBERS:
        if actor not in IN_CONVERSATION:
            expected[actor] = NOT_FOUND
    return expected


def own_message_route(ok: object) -> dict[str, object]:
    """The parent wrote message 1: only the author may change it; other participants 403."""
    expected = conversation_route(ok)
    for actor in IN_CONVERSATION:
        if actor != "parent":
            expected[actor] = FORBIDDEN
    return expected


def manage_route(ok: object) -> dict[str, object]:
    """Adding or removing people: family members who may start conversations, from inside it.
    A network member or a guest in it may not (403)."""
    return {**conversation_route(ok), "network": FORBIDDEN, "guest_write": FORBIDDEN}


def family_users(ok: object, professional: object) -> dict[str, object]:
    return {
        **dict.fromkeys(FAMILY_USERS, ok),
        **dict.fromkeys(PROFESSIONALS, professional),
        "anonymous": LOGIN,
    }


@dataclass(frozen=True)
class Route:
    method: str
    expected: dict[str, object]
    family_data: bool = False  # refusals must be audited
    json: bool = False  # an API route: JSON body, CSRF header, 401 instead of a sign-in page


def api(method: str, expected: dict[str, object], family_data: bool = False) -> Route:
    """An API route: anonymous callers get 401 where pages would redirect to sign-in."""
    fixed = {
        actor: (UNAUTHORIZED if status == LOGIN else status) for actor, status in expected.items()
    }
    return Route(method, fixed, family_data, json=True)


ROUTES: dict[tuple[str, str], Route] = {
    ("/", "GET"): Route("GET", {**everyone(REDIRECT), "anonymous": OK}),
    ("/health", "GET"): Route("GET", everyone(OK)),
    ("/static/<path:filename>", "GET"): Route("GET", everyone(OK)),
    ("/locale", "POST"): Route("POST", everyone(REDIRECT)),
    ("/dev/outbox", "GET"): Route("GET", everyone(NOT_FOUND)),
    ("/signup", "GET"): Route("GET", everyone(OK)),
    ("/signup/professional", "GET"): Route("GET", everyone(OK)),
    ("/signup/check-your-mail", "GET"): Route("GET", everyone(OK)),
    ("/verify/<token>", "GET"): Route("GET", everyone(NOT_FOUND)),
    ("/verify/resend", "GET"): Route("GET", everyone(OK)),
    ("/signin", "GET"): Route("GET", {**everyone(REDIRECT), "anonymous": OK}),
    ("/signin/code", "GET"): Route("GET", everyone(REDIRECT)),
    ("/signin/oidc/<name>", "POST"): Route("POST", everyone(NOT_FOUND)),
    ("/signin/oidc/<name>/callback", "GET"): Route("GET", everyone(NOT_FOUND)),
    ("/signout", "POST"): Route("POST", everyone(REDIRECT)),
    ("/reset", "GET"): Route("GET", everyone(OK)),
    ("/reset/<token>", "GET"): Route("GET", everyone(REDIRECT)),
    ("/reset/new", "GET"): Route("GET", everyone(NOT_FOUND)),
    ("/account/two-factor", "GET"): Route("GET", signed_in(OK)),
    ("/account/notifications", "GET"): Route("GET", signed_in(OK)),
    ("/account/notifications", "POST"): Route("POST", signed_in(INVALID)),
    ("/account/api-tokens", "GET"): Route("GET", signed_in(OK)),
    ("/account/api-tokens", "POST"): Route("POST", signed_in(INVALID)),
    # The parent's own token; anyone else's is not there for them.
    ("/account/api-tokens/<int:token_id>/revoke", "GET"): Route(
        "GET", {**signed_in(NOT_FOUND), "parent": OK}
    ),
    ("/account/api-tokens/<int:token_id>/revoke", "POST"): Route(
        "POST", {**signed_in(NOT_FOUND), "parent": REDIRECT}
    ),
    ("/professional", "GET"): Route("GET", {**family_users(REDIRECT, OK)}),
    ("/families", "GET"): Route("GET", family_users(OK, REDIRECT)),
    ("/families/new", "GET"): Route("GET", family_users(OK, REDIRECT)),
    ("/invite", "GET"): Route("GET", everyone(GONE)),
    ("/invite/<token>", "GET"): Route("GET", everyone(REDIRECT)),
    ("/families/<int:family_id>", "GET"): Route("GET", family_route(PLAN_READERS), True),
    ("/families/<int:family_id>/edit", "GET"): Route("GET", family_route(MANAGERS), True),
    ("/families/<int:family_id>/members", "GET"): Route("GET", family_route(EVERY_MEMBER), True),
    ("/families/<int:family_id>/members/new", "GET"): Route("GET", family_route(MANAGERS), True),
    ("/families/<int:family_id>/members/<int:member_id>/edit", "GET"): Route(
        "GET", family_route(MANAGERS), True
    ),
    ("/families/<int:family_id>/members/<int:member_id>/remove", "GET"): Route(
        "GET", family_route(MANAGERS), True
    ),
    ("/families/<int:family_id>/members/<int:member_id>/invite", "POST"): Route(
        "POST", family_route(MANAGERS, REDIRECT), True
    ),
    ("/families/<int:family_id>/audit", "GET"): Route("GET", family_route(AUDIT_READERS), True),
    # Form posts carrying only a CSRF token: validation answers 422, never a 500.
    ("/signup", "POST"): Route("POST", everyone(INVALID)),
    ("/signup/professional", "POST"): Route("POST", everyone(INVALID)),
    ("/verify/resend", "POST"): Route("POST", everyone(INVALID)),
    ("/signin", "POST"): Route("POST", {**everyone(REDIRECT), "anonymous": INVALID}),
    ("/signin/code", "POST"): Route("POST", everyone(REDIRECT)),
    ("/reset", "POST"): Route("POST", everyone(INVALID)),
    ("/reset/new", "POST"): Route("POST", everyone(NOT_FOUND)),
    ("/account/two-factor", "POST"): Route(
        "POST", {**signed_in(INVALID), **dict.fromkeys(PROFESSIONALS, REDIRECT)}
    ),
    ("/families/new", "POST"): Route("POST", family_users(INVALID, REDIRECT)),
    ("/invite", "POST"): Route("POST", everyone(GONE)),
    ("/families/<int:family_id>/edit", "POST"): Route(
        "POST", family_route(MANAGERS, INVALID), True
    ),
    ("/families/<int:family_id>/members/new", "POST"): Route(
        "POST", family_route(MANAGERS, INVALID), True
    ),
    ("/families/<int:family_id>/members/<int:member_id>/edit", "POST"): Route(
        "POST", family_route(MANAGERS, INVALID), True
    ),
    # One's own details: every member; a post with only a CSRF token lacks the name.
    ("/families/<int:family_id>/me", "GET"): Route("GET", family_route(EVERY_MEMBER), True),
    ("/families/<int:family_id>/me", "POST"): Route(
        "POST", family_route(EVERY_MEMBER, INVALID), True
    ),
    # No version sent: treated as stale, a conflict rather than a silent removal.
    ("/families/<int:family_id>/members/<int:member_id>/remove", "POST"): Route(
        "POST", family_route(MANAGERS, CONFLICT), True
    ),
    # Guest access, family side ("Toegang").
    ("/families/<int:family_id>/access", "GET"): Route("GET", family_route(GRANT_READERS), True),
    ("/families/<int:family_id>/access/new", "GET"): Route(
        "GET", family_route(GUEST_INVITERS), True
    ),
    ("/families/<int:family_id>/access/new", "POST"): Route(
        "POST", family_route(GUEST_INVITERS, INVALID), True
    ),
    ("/families/<int:family_id>/access/<int:grant_id>", "GET"): Route(
        "GET", family_route(GRANT_READERS), True
    ),
    # Decisions without the version the person saw are stale: 409, never a blind change.
    ("/families/<int:family_id>/access/<int:grant_id>/approve", "POST"): Route(
        "POST", family_route(APPROVERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/access/<int:grant_id>/deny", "POST"): Route(
        "POST", family_route(APPROVERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/access/<int:grant_id>/renew", "POST"): Route(
        "POST", family_route(GUEST_INVITERS, INVALID), True
    ),
    ("/families/<int:family_id>/access/<int:grant_id>/revoke", "GET"): Route(
        "GET", family_route(GUEST_INVITERS), True
    ),
    ("/families/<int:family_id>/access/<int:grant_id>/revoke", "POST"): Route(
        "POST", family_route(GUEST_INVITERS, CONFLICT), True
    ),
    # The parts of the family's space.
    ("/families/<int:family_id>/plan", "GET"): Route("GET", family_route(PLAN_READERS), True),
    ("/families/<int:family_id>/plan/edit", "GET"): Route("GET", family_route(PLAN_WRITERS), True),
    ("/families/<int:family_id>/plan/edit", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/plan/goals", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/goals/<int:goal_id>/edit", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/goals/<int:goal_id>/edit", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/goals/<int:goal_id>/scores", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/agreements", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/agreements/<int:agreement_id>/done", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    # De bloem, veiligheid, evaluatie.
    ("/families/<int:family_id>/plan/network", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/network/<int:petal_id>/edit", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/network/<int:petal_id>/edit", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/network/<int:petal_id>/remove", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    # No version sent: stale, a conflict rather than a blind removal.
    ("/families/<int:family_id>/plan/network/<int:petal_id>/remove", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/plan/safety/edit", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/safety/edit", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/plan/evaluations", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/evaluations/<int:evaluation_id>/edit", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/evaluations/<int:evaluation_id>/edit", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/families/<int:family_id>/plan/agenda.ics", "GET"): Route(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/families/<int:family_id>/dossier", "GET"): Route("GET", family_route(DOSSIER), True),
    ("/families/<int:family_id>/dossier/new", "GET"): Route("GET", family_route(DOSSIER), True),
    ("/families/<int:family_id>/dossier/new", "POST"): Route(
        "POST", family_route(DOSSIER, INVALID), True
    ),
    ("/families/<int:family_id>/export", "GET"): Route("GET", family_route(EXPORTERS), True),
    ("/families/<int:family_id>/plan.pdf", "GET"): Route("GET", family_route(PLAN_READERS), True),
    # Taking the goal out asks first; without the version it read, a POST is a conflict.
    ("/families/<int:family_id>/plan/goals/<int:item_id>/remove", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/goals/<int:item_id>/remove", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/plan/agreements/<int:item_id>/remove", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/agreements/<int:item_id>/remove", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/plan/evaluations/<int:item_id>/remove", "GET"): Route(
        "GET", family_route(PLAN_WRITERS), True
    ),
    ("/families/<int:family_id>/plan/evaluations/<int:item_id>/remove", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, CONFLICT), True
    ),
    ("/families/<int:family_id>/plan/history", "GET"): Route(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/families/<int:family_id>/plan/history/<int:change_id>/restore", "POST"): Route(
        "POST", family_route(PLAN_WRITERS, REDIRECT), True
    ),
    ("/families/<int:family_id>/plan/versions", "GET"): Route(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/families/<int:family_id>/plan/versions", "POST"): Route(
        "POST", family_route(PLAN_PROPOSERS, REDIRECT), True
    ),
    ("/families/<int:family_id>/plan/versions/<int:number>", "GET"): Route(
        "GET", family_route(PLAN_READERS), True
    ),
    # The matrix's version 1 needs nobody's signature from most actors: a clear refusal.
    ("/families/<int:family_id>/plan/versions/<int:number>/sign", "POST"): Route(
        "POST", family_route(PLAN_READERS, 303), True
    ),
    # The parent's entry, visible to everyone with dossier access; only its author changes it.
    ("/families/<int:family_id>/dossier/<int:entry_id>", "GET"): Route(
        "GET", family_route(DOSSIER), True
    ),
    ("/families/<int:family_id>/dossier/<int:entry_id>/edit", "GET"): Route(
        "GET", family_route(("parent",)), True
    ),
    ("/families/<int:family_id>/dossier/<int:entry_id>/edit", "POST"): Route(
        "POST", family_route(("parent",), INVALID), True
    ),
    ("/families/<int:family_id>/dossier/<int:entry_id>/delete", "GET"): Route(
        "GET", family_route(("parent",)), True
    ),
    # Without the version it read, the author's take-out is a conflict (nothing happens).
    ("/families/<int:family_id>/dossier/<int:entry_id>/delete", "POST"): Route(
        "POST", family_route(("parent",), CONFLICT), True
    ),
    # Conversations (pages).
    ("/families/<int:family_id>/messages", "GET"): Route(
        "GET", family_route((*FAMILY_MEMBERS, "guest_write")), True
    ),
    ("/families/<int:family_id>/messages", "POST"): Route(
        "POST",
        {
            **family_route(CONVERSATION_STARTERS, INVALID),
            "network": FORBIDDEN,
            "guest_write": FORBIDDEN,
        },
        True,
    ),
    ("/families/<int:family_id>/messages/<int:conversation_id>", "GET"): Route(
        "GET", conversation_route(OK), True
    ),
    ("/families/<int:family_id>/messages/<int:conversation_id>", "POST"): Route(
        "POST", conversation_route(INVALID), True
    ),
    ("/families/<int:family_id>/messages/<int:conversation_id>/people", "GET"): Route(
        "GET", conversation_route(OK), True
    ),
    ("/families/<int:family_id>/messages/<int:conversation_id>/people", "POST"): Route(
        "POST", manage_route(INVALID), True
    ),
    # The young person of 12-15 left the conversation on the route just before this one in
    # the matrix's order (…/people/<user_id>/remove): it no longer exists for them.
    ("/families/<int:family_id>/messages/<int:conversation_id>/topic", "POST"): Route(
        "POST", {**manage_route(INVALID), "young_12_15": NOT_FOUND}, True
    ),
    # The user in the URL is the young person of 12-15 (who may leave the conversation).
    (
        "/families/<int:family_id>/messages/<int:conversation_id>/people/<int:user_id>/remove",
        "GET",
    ): Route("GET", manage_route(OK), True),
    (
        "/families/<int:family_id>/messages/<int:conversation_id>/people/<int:user_id>/remove",
        "POST",
    ): Route("POST", manage_route(REDIRECT), True),
    ("/families/<int:family_id>/messages/search", "GET"): Route(
        "GET", family_route((*FAMILY_MEMBERS, "guest_write")), True
    ),
    # The parent's attachment on message 1: as visible as the conversation.
    ("/families/<int:family_id>/files/<int:file_id>", "GET"): Route(
        "GET", conversation_route(OK), True
    ),
    ("/families/<int:family_id>/files/<int:file_id>/preview", "GET"): Route(
        "GET", conversation_route(OK), True
    ),
    ("/families/<int:family_id>/messages/<int:conversation_id>/<int:seq>/edit", "GET"): Route(
        "GET", own_message_route(OK), True
    ),
    ("/families/<int:family_id>/messages/<int:conversation_id>/<int:seq>/edit", "POST"): Route(
        "POST", own_message_route(INVALID), True
    ),
    # Guest access, professional side.
    ("/guest-invite", "GET"): Route("GET", everyone(GONE)),
    ("/guest-invite", "POST"): Route("POST", everyone(GONE)),
    ("/guest-invite/<token>", "GET"): Route("GET", everyone(REDIRECT)),
    ("/professional/request", "GET"): Route("GET", family_users(REDIRECT, OK)),
    ("/professional/request", "POST"): Route("POST", family_users(REDIRECT, INVALID)),
    ("/professional/grants/<int:grant_id>/withdraw", "POST"): Route("POST", signed_in(REDIRECT)),
    ("/professional/grants/<int:grant_id>/renewal", "POST"): Route("POST", signed_in(REDIRECT)),
    # The JSON API, called with an empty JSON object as body where there is one.
    ("/api/v1/openapi.json", "GET"): api("GET", everyone(OK)),
    ("/api/v1/accounts", "POST"): api("POST", everyone(INVALID)),
    ("/api/v1/session", "GET"): api("GET", everyone(OK)),
    ("/api/v1/session", "POST"): api("POST", everyone(INVALID)),
    ("/api/v1/session", "DELETE"): api("DELETE", everyone(NO_CONTENT)),
    ("/api/v1/me", "GET"): api("GET", signed_in(OK)),
    ("/api/v1/me", "PATCH"): api("PATCH", signed_in(OK)),
    ("/api/v1/me/totp", "POST"): api(
        "POST", {**signed_in(CREATED), **dict.fromkeys(PROFESSIONALS, CONFLICT)}
    ),
    ("/api/v1/families", "GET"): api("GET", signed_in(OK)),
    ("/api/v1/families", "POST"): api("POST", family_users(INVALID, FORBIDDEN)),
    ("/api/v1/families/<int:fid>", "GET"): api("GET", family_route(PLAN_READERS), True),
    ("/api/v1/families/<int:fid>/members", "GET"): api("GET", family_route(EVERY_MEMBER), True),
    ("/api/v1/families/<int:fid>/members", "POST"): api(
        "POST", family_route(MANAGERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/members/<int:mid>", "GET"): api(
        "GET", family_route(EVERY_MEMBER), True
    ),
    ("/api/v1/families/<int:fid>/members/<int:mid>", "PATCH"): api(
        "PATCH", family_route(MANAGERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/members/<int:mid>", "DELETE"): api(
        "DELETE", family_route(MANAGERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/audit", "GET"): api("GET", family_route(AUDIT_READERS), True),
    ("/api/v1/families/<int:fid>/grants", "GET"): api("GET", family_route(GRANT_READERS), True),
    ("/api/v1/families/<int:fid>/plan", "GET"): api("GET", family_route(PLAN_READERS), True),
    ("/api/v1/families/<int:fid>/plan", "PUT"): api(
        "PUT", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/goals", "GET"): api("GET", family_route(PLAN_READERS), True),
    ("/api/v1/families/<int:fid>/plan/agreements", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/goals", "POST"): api(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/goals/<int:goal_id>", "PATCH"): api(
        "PATCH", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/agreements", "POST"): api(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/agreements/<int:agreement_id>", "PATCH"): api(
        "PATCH", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/network", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/network", "POST"): api(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/network/<int:petal_id>", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/network/<int:petal_id>", "PATCH"): api(
        "PATCH", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/network/<int:petal_id>", "DELETE"): api(
        "DELETE", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/safety", "GET"): api("GET", family_route(PLAN_READERS), True),
    ("/api/v1/families/<int:fid>/plan/safety", "PUT"): api(
        "PUT", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/evaluations", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/evaluations", "POST"): api(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/evaluations/<int:evaluation_id>", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/evaluations/<int:evaluation_id>", "PATCH"): api(
        "PATCH", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/evaluations/<int:evaluation_id>", "DELETE"): api(
        "DELETE", family_route(PLAN_WRITERS, 400), True
    ),
    ("/api/v1/families/<int:fid>/plan/agenda.ics", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/conversations", "GET"): api(
        "GET", family_route((*FAMILY_MEMBERS, "guest_write")), True
    ),
    ("/api/v1/families/<int:fid>/conversations", "POST"): api(
        "POST", family_route(CONVERSATION_STARTERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>", "GET"): api(
        "GET", conversation_route(OK), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/messages", "GET"): api(
        "GET", conversation_route(OK), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/messages", "POST"): api(
        "POST", conversation_route(INVALID), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/messages/<int:seq>", "PATCH"): api(
        "PATCH", own_message_route(INVALID), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/messages/<int:seq>", "DELETE"): api(
        "DELETE", own_message_route(OK), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/read", "POST"): api(
        "POST", conversation_route(INVALID), True
    ),
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/participants", "POST"): api(
        "POST", manage_route(INVALID), True
    ),
    # The user in the URL is a neighbour in the conversation (not an actor). Leaving yourself
    # is tested in tests/messaging/test_conversation_people.py.
    ("/api/v1/families/<int:fid>/conversations/<int:cid>/participants/<int:uid>", "DELETE"): api(
        "DELETE", manage_route(OK), True
    ),
    # A new topic: as adding people (an empty body is a 422 for those who may).
    ("/api/v1/families/<int:fid>/conversations/<int:cid>", "PATCH"): api(
        "PATCH", manage_route(INVALID), True
    ),
    # Search without a query is a 400 for those who may search at all.
    ("/api/v1/families/<int:fid>/messages", "GET"): api(
        "GET", family_route((*FAMILY_MEMBERS, "guest_write"), 400), True
    ),
    ("/api/v1/families/<int:fid>/export", "GET"): api("GET", family_route(EXPORTERS), True),
    ("/api/v1/families/<int:fid>/plan/goals/<int:goal_id>", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/goals/<int:goal_id>", "DELETE"): api(
        "DELETE", family_route(PLAN_WRITERS, 400), True
    ),
    ("/api/v1/families/<int:fid>/plan/goals/<int:goal_id>/scores", "POST"): api(
        "POST", family_route(PLAN_WRITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/plan/agreements/<int:agreement_id>", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/agreements/<int:agreement_id>", "DELETE"): api(
        "DELETE", family_route(PLAN_WRITERS, 400), True
    ),
    ("/api/v1/families/<int:fid>/plan/history", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/history/<int:change_id>/restore", "POST"): api(
        "POST", family_route(PLAN_WRITERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/versions", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    # Proposing: the family (not guests); the matrix's world has no agreed plan, so 201.
    ("/api/v1/families/<int:fid>/plan/versions", "POST"): api(
        "POST", family_route(PLAN_PROPOSERS, CREATED), True
    ),
    ("/api/v1/families/<int:fid>/plan/versions/<int:number>", "GET"): api(
        "GET", family_route(PLAN_READERS), True
    ),
    ("/api/v1/families/<int:fid>/plan/signoffs", "POST"): api(
        "POST", family_route(PLAN_READERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/dossier", "GET"): api("GET", family_route(DOSSIER), True),
    ("/api/v1/families/<int:fid>/dossier", "POST"): api(
        "POST", family_route(DOSSIER, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/dossier/<int:eid>", "GET"): api(
        "GET", family_route(DOSSIER), True
    ),
    ("/api/v1/families/<int:fid>/dossier/<int:eid>", "PATCH"): api(
        "PATCH", family_route(("parent",), INVALID), True
    ),
    ("/api/v1/families/<int:fid>/dossier/<int:eid>", "DELETE"): api(
        "DELETE", family_route(("parent",), 400), True
    ),
    ("/api/v1/families/<int:fid>/files", "POST"): api(
        "POST", family_route((*FAMILY_MEMBERS, "guest_write"), INVALID), True
    ),
    ("/api/v1/families/<int:fid>/files/<int:file_id>", "GET"): api(
        "GET", conversation_route(OK), True
    ),
    ("/api/v1/families/<int:fid>/files/<int:file_id>/preview", "GET"): api(
        "GET", conversation_route(OK), True
    ),
    ("/api/v1/families/<int:fid>/grants", "POST"): api(
        "POST", family_route(GUEST_INVITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/grants/<int:gid>", "GET"): api(
        "GET", family_route(GRANT_READERS), True
    ),
    ("/api/v1/families/<int:fid>/grants/<int:gid>/revoke", "POST"): api(
        "POST", family_route(GUEST_INVITERS, CONFLICT), True
    ),
    ("/api/v1/families/<int:fid>/grants/<int:gid>/renew", "POST"): api(
        "POST", family_route(GUEST_INVITERS, INVALID), True
    ),
    ("/api/v1/families/<int:fid>/access-requests", "GET"): api(
        "GET", family_route(GRANT_READERS), True
    ),
    # Without the family's code a professional learns nothing: 404, whatever the id. Each
    # refusal is logged like every other (one row).
    ("/api/v1/families/<int:fid>/access-requests", "POST"): api(
        "POST", family_users(FORBIDDEN, NOT_FOUND), True
    ),
    ("/api/v1/families/<int:fid>/access-requests/<int:rid>/approve", "POST"): api(
        "POST", family_route(APPROVERS, CONFLICT), True
    ),
    ("/api/v1/families/<int:fid>/access-requests/<int:rid>/deny", "POST"): api(
        "POST", family_route(APPROVERS, CONFLICT), True
    ),
}


def registered_routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            found.add((rule.rule, method))
    return found


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    table = set(ROUTES)
    missing = sorted(registered_routes(app) - table)
    assert not missing, f"routes without an authorization-matrix entry: {missing}"
    stale = sorted(table - registered_routes(app))
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


@pytest.fixture
def world(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> dict[str, object]:
    users = {
        "parent": make_user(name="Ouder Een"),
        "other_parent": make_user(name="Ouder Twee"),
        "carer": make_user(name="Stiefouder"),
        "young_12_15": make_user(name="Jongere Dertien"),
        "young_16_17": make_user(name="Jongere Zestien"),
        "network": make_user(name="Oma"),
        "other_family": make_user(name="Andere Ouder"),
        "professional": make_user(name="Coach", kind=KIND_PROFESSIONAL),
    }
    family = make_family(users["parent"])
    add_member(family, users["other_parent"], ROLE_PARENT, has_authority=True)
    add_member(family, users["carer"], ROLE_PARENT, has_authority=False)
    add_member(family, users["young_12_15"], ROLE_YOUNG_PERSON, birth_date=years_ago(13))
    add_member(family, users["young_16_17"], ROLE_YOUNG_PERSON, birth_date=years_ago(16))
    add_member(family, users["network"], ROLE_NETWORK)
    # In the conversation, not an actor: whom the API's "take someone out" route takes out
    # (an actor taking themselves out would leave, and miss the routes after it).
    users["neighbour"] = make_user(name="Buurman")
    add_member(family, users["neighbour"], ROLE_NETWORK)
    child = add_member(family, None, ROLE_YOUNG_PERSON, birth_date=years_ago(8), name="Kind")
    other = make_family(users["other_family"], name="Gezin Ander")
    for actor in PROFESSIONALS:
        if actor != "professional":
            users[actor] = make_user(name=actor, kind=KIND_PROFESSIONAL)
    now = clock.now()
    second = timedelta(seconds=1)
    day = timedelta(days=1)
    grants = {
        "guest_read": (family, {"plan": "read"}, {}),
        "guest_write": (family, {"plan": "write", "dossier": "write", "messages": "write"}, {}),
        "guest_expired": (family, {"plan": "write"}, {"expires_at": now - second}),
        "guest_not_yet": (family, {"plan": "write"}, {"valid_from": now + day}),
        "guest_revoked": (family, {"plan": "write"}, {"revoked_at": now - second}),
        "guest_other_family": (other, {"plan": "write", "dossier": "write"}, {}),
    }
    with app.app_context():
        # Professionals must have TOTP to get past enrolment; mark it done for this matrix.
        for actor in PROFESSIONALS:
            pro = db.session.get(User, users[actor].id)
            assert pro is not None
            pro.totp_secret = PRO_TOTP_SECRET
            pro.totp_enabled_at = now
        grant_ids = {}
        for actor, (target, parts, dates) in grants.items():
            grant = Grant(
                family_id=target.id,
                grantee_id=users[actor].id,
                invited_email=users[actor].email,
                origin="invitation",
                purpose="Opvoedondersteuning",
                valid_from=dates.get("valid_from", now - day),
                expires_at=dates.get("expires_at", now + 30 * day),
                revoked_at=dates.get("revoked_at"),
                accepted_at=now - day,
                approved_at=now - day,
                parts=[GrantPart(part=p, level=lvl) for p, lvl in parts.items()],
            )
            db.session.add(grant)
            db.session.flush()
            grant_ids[actor] = grant.id
        # An open request from a professional who is not one of the actors.
        requester = User(email="vraagt@example.org", display_name="Vraagt", kind="professional")
        db.session.add(requester)
        db.session.flush()
        request = Grant(
            family_id=family.id,
            grantee_id=requester.id,
            origin="request",
            purpose="Kennismaking",
            valid_from=now,
            expires_at=now + 30 * day,
            accepted_at=now,
            parts=[GrantPart(part="plan", level="read")],
        )
        db.session.add(request)
        db.session.flush()
        request_id = request.id
        conversation = Conversation(
            family_id=family.id, topic="School", created_by_id=users["parent"].id
        )
        db.session.add(conversation)
        db.session.flush()
        db.session.add_all(
            Participant(conversation_id=conversation.id, user_id=users[actor].id)
            for actor in (*IN_CONVERSATION, "neighbour")
        )
        conversation_id = conversation.id
        goal = Goal(family_id=family.id, title="Op tijd op school", created_by_name="Ouder Een")
        db.session.add(goal)
        db.session.flush()
        agreement = Agreement(
            family_id=family.id,
            what="Wekker zetten",
            owner_name="Kind",
            created_by_name="Ouder Een",
            goal_id=goal.id,
        )
        db.session.add(agreement)
        db.session.flush()
        goal_id, agreement_id = goal.id, agreement.id
        petal = NetworkPetal(
            family_id=family.id, name="Juf Anja", relation="school", created_by_name="Ouder Een"
        )
        evaluation = Evaluation(
            family_id=family.id,
            title="Evaluatie na drie maanden",
            held_on=clock.today() + timedelta(days=30),
            created_by_name="Ouder Een",
        )
        db.session.add_all([petal, evaluation])
        db.session.flush()
        petal_id, evaluation_id = petal.id, evaluation.id
        conversation.last_seq = 1
        message = Message(
            conversation_id=conversation.id,
            family_id=family.id,
            seq=1,
            author_id=users["parent"].id,
            author_name="Ouder Een",
            client_key="matrix-0001",
            body="Hallo",
        )
        db.session.add(message)
        db.session.flush()
        photo = samples.png(4, 3)
        attachment = StoredFile(
            family_id=family.id,
            uploaded_by_id=users["parent"].id,
            uploader_name="Ouder Een",
            name="rooster.png",
            content_type="image/png",
            size=len(photo),
            sha256="0" * 64,
            conversation_id=conversation.id,
            message_id=message.id,
        )
        db.session.add(attachment)
        db.session.flush()
        db.session.add(FileContent(file_id=attachment.id, data=photo))
        previews.make(attachment, photo)  # a photo: its preview is as visible as the file
        file_id = attachment.id
        entry = DossierEntry(
            family_id=family.id,
            author_id=users["parent"].id,
            author_name="Ouder Een",
            author_kind="member",
            title="Verslag",
            body="Het gaat goed.",
        )
        db.session.add(entry)
        db.session.flush()
        entry_id = entry.id
        # The goal's creation is the plan's first change; version 1 is proposed by a parent.
        change_id = db.session.scalar(select(func.min(PlanChange.id)))
        db.session.add(
            PlanVersion(
                family_id=family.id,
                number=1,
                snapshot="{}",
                last_change_id=10**9,
                required="[]",
                proposed_by_name="Ouder Een",
            )
        )
        # An API token per actor, for the same matrix over bearer requests.
        bearer = {}
        for actor, user in users.items():
            secret = api_tokens.PREFIX + new_token()
            token = ApiToken(
                user_id=user.id,
                name=f"Token van {actor}",
                token_hash=token_hash(secret),
                prefix=secret[: api_tokens.SHOWN_PREFIX],
                created_with="totp" if actor in PROFESSIONALS else "password",
                expires_at=now + timedelta(days=30),
            )
            db.session.add(token)
            db.session.flush()
            bearer[actor] = (secret, token.id)
        db.session.commit()
        db.session.remove()
    return {
        "bearer": {actor: secret for actor, (secret, _id) in bearer.items()},
        "token_id": bearer["parent"][1],
        "users": users,
        "family": family,
        "child": child,
        "grant_id": grant_ids["guest_read"],
        "request_id": request_id,
        "conversation_id": conversation_id,
        "goal_id": goal_id,
        "agreement_id": agreement_id,
        "file_id": file_id,
        "entry_id": entry_id,
        "change_id": change_id,
        "petal_id": petal_id,
        "evaluation_id": evaluation_id,
    }


def url_for_rule(rule: str, world: dict[str, object]) -> str:
    family = world["family"]
    child = world["child"]
    users = world["users"]
    assert isinstance(users, dict)
    assert isinstance(family, Family) and isinstance(child, Member)
    return (
        rule.replace("<int:family_id>", str(family.id))
        .replace("<int:fid>", str(family.id))
        .replace("<int:member_id>", str(child.id))
        .replace("<int:mid>", str(child.id))
        .replace("<int:grant_id>", str(world["grant_id"]))
        .replace("<int:gid>", str(world["grant_id"]))
        .replace("<int:rid>", str(world["request_id"]))
        .replace("<int:cid>", str(world["conversation_id"]))
        .replace("<int:conversation_id>", str(world["conversation_id"]))
        .replace("<int:seq>", "1")
        .replace("<int:file_id>", str(world["file_id"]))
        .replace("<int:entry_id>", str(world["entry_id"]))
        .replace("<int:eid>", str(world["entry_id"]))
        .replace("<int:change_id>", str(world["change_id"]))
        .replace("agreements/<int:item_id>", f"agreements/{world['agreement_id']}")
        .replace("evaluations/<int:item_id>", f"evaluations/{world['evaluation_id']}")
        .replace("<int:item_id>", str(world["goal_id"]))
        .replace("<int:number>", "1")
        .replace("<int:uid>", str(users["neighbour"].id))
        .replace("<int:user_id>", str(users["young_12_15"].id))
        .replace("<int:goal_id>", str(world["goal_id"]))
        .replace("<int:agreement_id>", str(world["agreement_id"]))
        .replace("<int:petal_id>", str(world["petal_id"]))
        .replace("<int:evaluation_id>", str(world["evaluation_id"]))
        .replace("<int:token_id>", str(world["token_id"]))
        .replace("<path:filename>", "css/portal.css")
        .replace("<token>", "not-a-real-token")
        .replace("<name>", "no-such-provider")
    )


def audit_counts(app: Flask) -> tuple[int, int]:
    """(all rows, denied rows) in the audit log."""
    with app.app_context():
        total, denied = db.session.execute(
            select(func.count(), func.count().filter(AuditEvent.outcome == "denied")).select_from(
                AuditEvent
            )
        ).one()
        db.session.remove()
    return int(total), int(denied)


def client_for(app: Flask, actor: str, world: dict[str, object]) -> FlaskClient:
    client = app.test_client()
    if actor != "anonymous":
        users = world["users"]
        assert isinstance(users, dict)
        secret = PRO_TOTP_SECRET if actor in PROFESSIONALS else None
        if secret:
            clock.advance(timedelta(seconds=30))  # a fresh TOTP step: codes are single-use
        sign_in(client, users[actor], totp_secret=secret)
    return client


def check(
    app: Flask, route: Route, expected: object, response: Any, before: tuple[int, int]
) -> str | None:
    """What is wrong with this answer to this route (its status, its audit rows), if anything."""
    if expected == LOGIN:
        ok = response.status_code == 302 and "/signin" in (response.location or "")
    else:
        ok = response.status_code == expected
    if not ok:
        return f"expected {expected}, got {response.status_code}"
    if not route.family_data or expected in (LOGIN, UNAUTHORIZED):
        return None
    total, denied = audit_counts(app)
    if expected in (FORBIDDEN, NOT_FOUND):
        if (total, denied) != (before[0] + 1, before[1] + 1):
            return "refusal without exactly one audit row"
    elif total == before[0]:
        return "family data touched without an audit row"
    return None


@pytest.mark.parametrize("actor", ACTORS)
def test_matrix(app: Flask, world: dict[str, object], actor: str) -> None:
    failures = []
    for (rule, method), route in sorted(ROUTES.items()):
        client = client_for(app, actor, world)
        url = url_for_rule(rule, world)
        before = audit_counts(app)
        if route.json:
            headers = {"X-CSRFToken": client.get("/api/v1/session").get_json()["csrf_token"]}
            body = {} if method in ("POST", "PATCH", "PUT") else None
            response = client.open(url, method=method, json=body, headers=headers)
        elif method == "POST":
            token = csrf_token(client, "/signup")
            response = client.post(url, data={"csrf_token": token})
        else:
            response = client.get(url)
        problem = check(app, route, route.expected[actor], response, before)
        if problem:
            failures.append(f"{method} {rule}: {problem}")
    assert not failures, f"{actor}:\n" + "\n".join(failures)


# What only a cookie session does; with a bearer token these are a 400 (session_required).
SESSION_ONLY = {
    ("/api/v1/session", "POST"),
    ("/api/v1/session", "DELETE"),
    ("/api/v1/me/totp", "POST"),
}


@pytest.mark.parametrize("actor", [actor for actor in ACTORS if actor != "anonymous"])
def test_matrix_with_bearer_tokens(app: Flask, world: dict[str, object], actor: str) -> None:
    """Every API route answers a token exactly as it answers its owner's cookie session: the
    token changes who is asking, never what they may do (and it needs no CSRF token)."""
    tokens = world["bearer"]
    assert isinstance(tokens, dict)
    headers = {"Authorization": f"Bearer {tokens[actor]}"}
    failures = []
    for (rule, method), route in sorted(ROUTES.items()):
        if not route.json:
            continue
        client = app.test_client()  # no cookie at all
        before = audit_counts(app)
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = client.open(url_for_rule(rule, world), method=method, json=body, headers=headers)
        expected = 400 if (rule, method) in SESSION_ONLY else route.expected[actor]
        problem = check(app, route, expected, response, before)
        if problem:
            failures.append(f"{method} {rule}: {problem}")
    assert not failures, f"{actor} (bearer):\n" + "\n".join(failures)
