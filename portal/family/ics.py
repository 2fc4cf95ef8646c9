"""iCalendar (RFC 5545) for the plan's agenda: evaluations and network meetings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.family.models import Evaluation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CRLF = "\r\n"
MEETING_MINUTES = 60


def escape(text: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped; other
    control characters have no place in a calendar and are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets are folded (CRLF + one space), never inside a character."""
    out: list[str] = []
    current = b""
    limit = 75
    for ch in line:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > limit:
            out.append(current.decode("utf-8"))
            current = b""
            limit = 74  # the leading space of a continuation line counts
        current += encoded
    out.append(current.decode("utf-8"))
    return (CRLF + " ").join(out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def calendar(
    family_id: int, items: Iterable[Evaluation], now: datetime, host: str, kinds: dict[str, str]
) -> str:
    """One VCALENDAR with a VEVENT per moment: timed ones in UTC, all-day ones as DATE."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Gezinsportaal//Gezinsplan//NL",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for item in items:
        lines += [
            "BEGIN:VEVENT",
            f"UID:evaluation-{item.id}-family-{family_id}@{host}",
            f"DTSTAMP:{_utc(now)}",
        ]
        if item.start_time:
            hour, minute = (int(p) for p in item.start_time.split(":"))
            start = datetime.combine(item.held_on, time(hour, minute), tzinfo=AMSTERDAM)
            lines += [
                f"DTSTART:{_utc(start)}",
                f"DTEND:{_utc(start + timedelta(minutes=MEETING_MINUTES))}",
            ]
        else:
            lines += [
                f"DTSTART;VALUE=DATE:{_day(item.held_on)}",
                f"DTEND;VALUE=DATE:{_day(item.held_on + timedelta(days=1))}",
            ]
        summary = f"{kinds.get(item.kind, '')}: {item.title}" if item.kind in kinds else item.title
        lines.append(f"SUMMARY:{escape(summary)}")
        description = "\n\n".join(t for t in (item.participants, item.next_steps) if t)
        if description:
            lines.append(f"DESCRIPTION:{escape(description)}")
        lines += [f"SEQUENCE:{max(item.version - 1, 0)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF
