"""Age rules as data: bands computed from the birth date on the day of the request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask

from portal.access.age import AGE_BANDS, DECIDES_PARENTS, DECIDES_YOUNG_PERSON, age_on, band_for
from portal.auth.models import User
from portal.core import clock
from portal.family.models import ROLE_YOUNG_PERSON, Family, Member
from tests.helpers import sign_in


@pytest.mark.parametrize(
    ("born", "day", "age", "band"),
    [
        (date(2014, 6, 1), date(2026, 5, 31), 11, "under_12"),
        (date(2014, 6, 1), date(2026, 6, 1), 12, "12_15"),
        (date(2010, 6, 1), date(2026, 5, 31), 15, "12_15"),
        (date(2010, 6, 1), date(2026, 6, 1), 16, "16_17"),
        (date(2008, 6, 1), date(2026, 6, 1), 18, "adult"),
        (date(2012, 2, 29), date(2024, 2, 28), 11, "under_12"),
        (date(2012, 2, 29), date(2024, 2, 29), 12, "12_15"),
    ],
)
def test_bands(born: date, day: date, age: int, band: str) -> None:
    assert age_on(born, day) == age
    assert band_for(born, day).key == band


def test_who_decides_follows_the_law_table() -> None:
    decides = {band.key: set(band.decides) for band in AGE_BANDS}
    assert decides == {
        "under_12": {DECIDES_PARENTS},
        "12_15": {DECIDES_PARENTS, DECIDES_YOUNG_PERSON},
        "16_17": {DECIDES_YOUNG_PERSON},
        "adult": {DECIDES_YOUNG_PERSON},
    }
    assert [b.may_have_login for b in AGE_BANDS] == [False, True, True, True]


def test_band_changes_on_the_birthday_itself(
    app: Flask,
    make_user: Callable[..., User],
    make_family: Callable[..., Family],
    add_member: Callable[..., Member],
) -> None:
    """A young person's role is computed per request: the clock crossing midnight of the 16th
    birthday (Amsterdam time) changes what the policy sees, without any stored state changing."""
    parent = make_user()
    teen = make_user(name="Sanne")
    family = make_family(parent)
    add_member(family, teen, ROLE_YOUNG_PERSON, birth_date=date(2010, 11, 23))
    client = app.test_client()
    # 22 November 2026, 22:59 UTC = 23:59 in Amsterdam: still 15.
    clock.freeze(datetime(2026, 11, 22, 22, 59, tzinfo=UTC))
    sign_in(client, teen)
    client.get(f"/families/{family.id}")
    clock.freeze(datetime(2026, 11, 22, 23, 1, tzinfo=UTC))  # 00:01 on the birthday
    client.get(f"/families/{family.id}")

    from sqlalchemy import select

    from portal import db
    from portal.access.models import AuditEvent

    with app.app_context():
        roles = db.session.scalars(
            select(AuditEvent.actor_role)
            .where(AuditEvent.family_id == family.id)
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    assert roles == ["young_person_12_15", "young_person_16_17"]
