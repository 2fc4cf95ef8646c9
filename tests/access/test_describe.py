"""'Wie keek mee?' speaks plain language: every action and role the log can hold has words in
both languages, found by reading the code that writes log rows (so a new action cannot slip in
as a raw key like "dossier.view")."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

from portal.access import policy
from portal.access.describe import action_text, role_text

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# The calls that decide and log: their action argument is a string literal "part.verb".
_LOGGING_CALL = re.compile(
    r"\b(?:record_decision|record_grant_event|authorize|load_family|load_in_family|load_member"
    r"|not_found|recorded_if_refused|enforce|decide|audit\.write)\(([^)]*)\)",
    re.S,
)
_ACTION = re.compile(r'"([a-z_]+\.[a-z_]+)"')


def _logged_actions() -> set[str]:
    found = set(policy.RULES)
    for path in PORTAL.rglob("*.py"):
        for call in _LOGGING_CALL.finditer(path.read_text()):
            found.update(_ACTION.findall(call.group(1)))
    return found


def _roles() -> set[str]:
    names = ("PARENT_WITH_AUTHORITY", "PARENT", "YOUNG_12_15", "YOUNG_16_17", "YOUNG_ADULT")
    names += ("YOUNG_UNDER_12", "NETWORK", "GUEST", "FORMER_GUEST")
    return {getattr(policy, n) for n in names} | {"none", "anonymous", "system"}


def test_every_logged_action_and_role_has_words_in_dutch_and_english(app: Flask) -> None:
    actions = _logged_actions()
    # The scan itself must find the actions outside the rules too (guests' own steps, files).
    assert {"file.download", "file.purge", "grant.accept", "live.subscribe"} <= actions
    with app.test_request_context("/"):
        for locale in ("nl", "en"):
            with force_locale(locale):
                texts = {a: action_text(a) for a in actions}
                raw = sorted(a for a, t in texts.items() if t == a)
                assert not raw, f"{locale}: no words for {raw}"
        with force_locale("nl"):  # (in English "guest" is both the key and the word)
            roles = {r: role_text(r) for r in _roles()}
            assert not [r for r, t in roles.items() if t == r], roles
        with force_locale("en"):
            assert action_text("dossier.view") == "read in the dossier"
        with force_locale("nl"):
            assert action_text("dossier.view") == "las in het dossier"
