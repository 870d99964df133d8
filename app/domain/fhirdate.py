"""FHIR date/dateTime values as ranges: ``1998`` is all of 1998, ``1998-03`` all of March.

Search prefixes compare ranges (FHIR R4 §3.1.1.4.5.1), so every value becomes the closed
interval ``[lo, hi]`` at microsecond precision in UTC (naive datetimes).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta

_DATE_TIME = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def parse_range(value: str) -> tuple[datetime, datetime]:
    """Return the UTC interval a FHIR date/dateTime (possibly partial) covers.

    Raises ``ValueError`` for anything that is not a real date.

    >>> parse_range("1998-02")
    (datetime.datetime(1998, 2, 1, 0, 0), datetime.datetime(1998, 2, 28, 23, 59, 59, 999999))
    """
    try:
        return _interval(value)
    except OverflowError:
        raise ValueError("date out of range") from None


def _interval(value: str) -> tuple[datetime, datetime]:
    match = _DATE_TIME.match(value.strip())
    if not match:
        raise ValueError("not a FHIR date or dateTime")
    parts = match.groupdict()
    year = int(parts["y"])
    if parts["m"] is None:
        return datetime(year, 1, 1), datetime(year, 12, 31, 23, 59, 59, 999999)
    month = int(parts["m"])
    if parts["d"] is None:
        last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
        return datetime(year, month, 1), datetime(year, month, last, 23, 59, 59, 999999)
    day = datetime(year, month, int(parts["d"]))
    if parts["H"] is None:
        return day, day + timedelta(days=1) - timedelta(microseconds=1)
    start = day.replace(hour=int(parts["H"]), minute=int(parts["M"]))
    width = timedelta(minutes=1)
    if parts["S"] is not None:
        start = start.replace(second=int(parts["S"]))
        width = timedelta(seconds=1)
        if parts["f"] is not None:
            digits = parts["f"]
            start = start.replace(microsecond=int(digits[:6].ljust(6, "0")))
            width = timedelta(microseconds=10 ** max(0, 6 - len(digits)))
    tz = parts["tz"]
    if tz:
        offset = timedelta(0) if tz == "Z" else _offset(tz)
        start = (start - offset).replace(tzinfo=None)
    return start, start + width - timedelta(microseconds=1)


def _offset(tz: str) -> timedelta:
    sign = -1 if tz[0] == "-" else 1
    hours, minutes = int(tz[1:3]), int(tz[4:6])
    return sign * timedelta(hours=hours, minutes=minutes)


def date_range(value: str) -> tuple[date, date]:
    """The calendar days a (partial) FHIR date covers."""
    lo, hi = parse_range(value)
    return lo.date(), hi.date()


def utc_now() -> datetime:
    """The current instant as a naive UTC datetime at millisecond precision (as stored)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def instant(value: datetime) -> str:
    """Format a stored naive-UTC datetime as a FHIR instant."""
    return value.isoformat(timespec="milliseconds") + "Z"
