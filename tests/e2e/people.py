"""People the browser journeys share: a parent (Marieke) with a family, and a coach who is a
guest there with the given parts."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from playwright.sync_api import Page

from portal import db
from portal.access.models import Grant, GrantPart
from portal.auth import passwords
from portal.auth.models import KIND_PROFESSIONAL, User
from portal.core import clock
from portal.family.models import ROLE_PARENT, Family, Member

PASSWORD = "een sterk wachtwoord"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def family_with_coach(
    parts: dict[str, str], purpose: str = "Opvoedvragen"
) -> tuple[Family, User, User]:
    """Inside an app context: the family, the parent and the coach (flushed, not committed)."""
    now = clock.now()
    parent = User(
        email="marieke@example.org",
        display_name="Marieke",
        password_hash=passwords.hash_password(PASSWORD),
        email_verified_at=now,
    )
    coach = User(
        email="coach@cjg.example",
        display_name="Coach Linda",
        kind=KIND_PROFESSIONAL,
        organisation="CJG Utrecht",
        password_hash=passwords.hash_password(PASSWORD),
        email_verified_at=now,
        totp_secret=SECRET,
        totp_enabled_at=now,
    )
    db.session.add_all([parent, coach])
    db.session.flush()
    family = Family(name="Gezin Jansen", created_by_id=parent.id)
    db.session.add(family)
    db.session.flush()
    db.session.add(
        Member(
            family_id=family.id,
            user_id=parent.id,
            role=ROLE_PARENT,
            display_name="Mama",
            has_authority=True,
            joined_at=now,
        )
    )
    db.session.add(
        Grant(
            family_id=family.id,
            grantee_id=coach.id,
            origin="invitation",
            purpose=purpose,
            valid_from=now - timedelta(days=1),
            expires_at=now + timedelta(days=60),
            accepted_at=now,
            approved_at=now,
            parts=[GrantPart(part=part, level=level) for part, level in parts.items()],
        )
    )
    db.session.flush()
    return family, parent, coach


def sign_in(page: Page, email: str, totp: bool = False) -> None:
    """Sign in through the page (with the TOTP step for a professional)."""
    page.goto("/signin")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    if totp:
        clock.advance(timedelta(seconds=30))
        page.get_by_label("Code").fill(pyotp.TOTP(SECRET).at(clock.now()))
        page.get_by_role("button", name="Verder").click()
