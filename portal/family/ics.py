"""iCalendar (RFC 5545) for the plan's agenda: evaluations and network meetings.

The `icalendar` library writes the file (escaping, folding at 75 octets, CRLF, value types);
this module only says what goes in it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from portal.family.models import Evaluation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MEETING_MINUTES = 60
PRODID = "-//Gezinsportaal//Gezinsplan//NL"


def clean(text: str) -> str:
    """Control characters other than line breaks and tabs have no place in a calendar's TEXT
    (RFC 5545 3.3.11); the library would pass them on, so they are dropped here."""
    return "".join(ch for ch in text if ch in "\r\n\t" or ch >= " ")


def _when(item: Evaluation) -> tuple[date | datetime, date | datetime]:
    """A timed moment starts at its Amsterdam time and is written in UTC; one without a time
    is an all-day event (DATE values, the end the day after)."""
    if item.start_time:
        hour, minute = (int(p) for p in item.start_time.split(":"))
        start = datetime.combine(item.held_on, time(hour, minute), tzinfo=AMSTERDAM)
        start = start.astimezone(UTC)
        return start, start + timedelta(minutes=MEETING_MINUTES)
    return item.held_on, item.held_on + timedelta(days=1)


def _event(
    item: Evaluation, family_id: int, stamp: datetime, host: str, kinds: dict[str, str]
) -> Event:
    start, end = _when(item)
    summary = f"{kinds[item.kind]}: {item.title}" if item.kind in kinds else item.title
    description = "\n\n".join(t for t in (item.participants, item.next_steps) if t)
    return Event.new(
        uid=f"evaluation-{item.id}-family-{family_id}@{host}",
        stamp=stamp,
        start=start,
        end=end,
        summary=clean(summary),
        description=clean(description) or None,
        sequence=max(item.version - 1, 0),
    )


def calendar(
    family_id: int, items: Iterable[Evaluation], now: datetime, host: str, kinds: dict[str, str]
) -> bytes:
    """One VCALENDAR with a VEVENT per moment: timed ones in UTC, all-day ones as DATE."""
    # Calendar() rather than Calendar.new(): .new() adds a random UID to the calendar itself,
    # and the same agenda should give the same file.
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for item in items:
        cal.add_component(_event(item, family_id, stamp, host, kinds))
    return cal.to_ical()
