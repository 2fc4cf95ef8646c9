"""Numbers from a page's query string, read leniently: a page link someone mangled shows the
nearest sensible page instead of an error (the API is strict instead, `portal.api.common`)."""

from __future__ import annotations

from flask import request

# Every id, sequence number and version is an INTEGER column: 64 bits in SQLite but 32 in
# PostgreSQL, where a bigger number in a query is an error, not "no such row". Anything from
# here up cannot exist, and is answered as such (404, or "does not exist" for a field).
MAX_ID = 2**31


def positive_int_arg(name: str, *, at_most: int | None = None) -> int | None:
    """`?name=` as a whole number from 1 (an id: below MAX_ID), else None. With `at_most` (a
    page number), a larger number — however long — gives `at_most`."""
    raw = request.args.get(name, "")
    # isdecimal, not isdigit: "²" is a digit to str.isdigit() but not to int().
    if not raw.isdecimal():
        return None
    value = int(raw) if len(raw) <= 19 else MAX_ID  # (int() refuses 4,300+ digits)
    if at_most is not None:
        return min(value, at_most) if value > 0 else None
    return value if 0 < value < MAX_ID else None
