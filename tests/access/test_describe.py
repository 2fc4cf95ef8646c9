"""'Wie keek mee?' speaks plain language: every action and role the log can hold has words in
both languages, found by reading the code that writes log rows (so a new action cannot slip in
as a raw key like "dossier.view")."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

from portal.access import policy
from portal.access.describe import action_text, attempt_text, role_text

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# The calls that decide and log: their action argument is a string literal "part.verb".
_LOGGING_CALL = re.compile(
    r"\b(?:record_decision|record_grant_event|authorize|load_family|load_in_family|load_member"
    r"|load_file|not_found|recorded_if_refused|enforce|decide|audit\.write)\("
)
_ACTION = re.compile(r'"([a-z_]+\.[a-z_]+)"')


def _arguments(text: str, start: int) -> str:
    """The text between a call's "(" (just before `start`) and its matching ")": arguments may
    hold calls of their own, e.g. record_decision(current_actor(), "message.send", …)."""
    depth = 1
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    return text[start:]


def _actions_in(text: str) -> set[str]:
    found: set[str] = set()
    for call in _LOGGING_CALL.finditer(text):
        found.update(_ACTION.findall(_arguments(text, call.end())))
    return found


def _logged_actions() -> set[str]:
    found = set(policy.RULES)
    for path in PORTAL.rglob("*.py"):
        found |= _actions_in(path.read_text())
    return found


def _roles() -> set[str]:
    names = ("PARENT_WITH_AUTHORITY", "PARENT", "YOUNG_12_15", "YOUNG_16_17", "YOUNG_ADULT")
    names += ("YOUNG_UNDER_12", "NETWORK", "GUEST", "FORMER_GUEST", "PARTNER")
    return {getattr(policy, n) for n in names} | {"none", "anonymous", "system", "operator"}


def test_every_logged_action_and_role_has_words_in_dutch_and_english(app: Flask) -> None:
    actions = _logged_actions()
    # The scan itself must find the actions outside the rules too (guests' own steps, files).
    assert {"file.download", "file.purge", "grant.accept", "live.subscribe"} <= actions
    # … also where an argument before the action is a call itself (it once stopped there).
    assert _actions_in('x = record_decision(current_actor(), "a.b", f(y))\nemit("c.d")') == {"a.b"}
    with app.test_request_context("/"):
        for locale in ("nl", "en"):
            with force_locale(locale):
                for words in (action_text, attempt_text):  # done, and tried but refused
                    texts = {a: words(a) for a in actions}
                    raw = sorted(a for a, t in texts.items() if t == a)
                    assert not raw, f"{locale}, {words.__name__}: no words for {raw}"
        with force_locale("nl"):  # (in English "guest" is both the key and the word)
            roles = {r: role_text(r) for r in _roles()}
            assert not [r for r, t in roles.items() if t == r], roles
        with force_locale("en"):
            assert action_text("dossier.view") == "read in the dossier"
        with force_locale("nl"):
            assert action_text("dossier.view") == "las in het dossier"


def test_a_row_for_many_refusals_says_how_many(app: Flask) -> None:
    """A socket refused the same again and again (portal/access/repeats.py): its count row
    says how often, in plain words."""
    from portal.access.describe import outcome_text

    with app.test_request_context("/"):
        with force_locale("nl"):
            assert outcome_text("denied", 37) == "37 keer geweigerd"
            assert outcome_text("denied") == "geweigerd"
        with force_locale("en"):
            assert outcome_text("denied", 37) == "refused 37 times"
            assert outcome_text("denied") == "refused"
            assert outcome_text("allowed") == "allowed"
