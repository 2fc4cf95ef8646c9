"""Age rules as data (WGBO / Jeugdwet, see ../shared/DOMAIN.md): who decides about a young
person's data, by age on the day of the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Who must consent to sharing a young person's data with a third party.
DECIDES_PARENTS = "parents_with_authority"
DECIDES_YOUNG_PERSON = "young_person"


@dataclass(frozen=True)
class AgeBand:
    key: str
    min_age: int
    max_age: int | None  # exclusive
    decides: tuple[str, ...]
    may_have_login: bool


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("under_12", 0, 12, (DECIDES_PARENTS,), may_have_login=False),
    AgeBand("12_15", 12, 16, (DECIDES_YOUNG_PERSON, DECIDES_PARENTS), may_have_login=True),
    AgeBand("16_17", 16, 18, (DECIDES_YOUNG_PERSON,), may_have_login=True),
    AgeBand("adult", 18, None, (DECIDES_YOUNG_PERSON,), may_have_login=True),
)


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def band_for(birth_date: date, day: date) -> AgeBand:
    age = age_on(birth_date, day)
    for band in AGE_BANDS:
        if age >= band.min_age and (band.max_age is None or age < band.max_age):
            return band
    return AGE_BANDS[0]  # a birth date in the future counts as the youngest band
