"""One clock for the whole portal, always UTC; tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current time in UTC, as the access policy and audit log see it."""
    base = _frozen if _frozen is not None else datetime.now(UTC)
    return base + _offset


def today() -> date:
    """Today in the Netherlands: a birthday (and an age band) starts at local midnight."""
    return now().astimezone(_AMSTERDAM).date()


def end_of_day(at: datetime) -> datetime:
    """The first moment of the next day in the Netherlands (in UTC): dates, and with them
    ages and what is overdue, change then."""
    local = at.astimezone(_AMSTERDAM)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), _AMSTERDAM)
    return midnight.astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += delta


def freeze(at: datetime | None) -> None:
    """Stop the clock at `at` (tests only); None lets it run again."""
    global _frozen
    _frozen = at


def reset() -> None:
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None
