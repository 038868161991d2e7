"""Dates and moments as people in the UK read them: "Tuesday 24 June 2009", "due in 3 days",
"overdue by 2 days", "overdue since March 2010", "Tuesday 24 June 2009 at 2:10 pm".

Pure, by babel's British English rather than hand-rolled formats, so that no ISO date reaches
a person. A moment is said in the reader's own time zone (from Slack, see `deliver`), a day as
it stands (a due date is a date, wherever the reader is).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta

LOCALE = Locale.parse("en_GB")
"""Parsed once: babel parses a locale named by a string at every call, which was a fifth of
`/audit progress`'s time (a date or two for each outstanding action)."""
SAID = 4096
"""Days and counts of days remembered as said: they are pure, and a list repeats the same few."""
ENGLAND = ZoneInfo("Europe/London")
"""Whose time a moment is told in when the reader's own zone is not known (a channel)."""

COUNT_DAYS_UP_TO = 31
"""Beyond a month, "overdue since March 2010" reads better than "overdue by 6148 days"."""


def _day(value: date | str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _moment(value: datetime | str) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@lru_cache(maxsize=SAID)
def _said(d: date, pattern: str) -> str:
    return format_date(d, pattern, locale=LOCALE)


def day(value: date | str) -> str:
    """ "Tuesday 24 June 2009"; "an unknown day" for nothing or nonsense."""
    d = _day(value) if value else None
    return _said(d, "EEEE d MMMM y") if d else "an unknown day"


def short_day(value: date | str) -> str:
    """ "24 June 2009", for lists where the weekday would crowd the line."""
    d = _day(value) if value else None
    return _said(d, "d MMMM y") if d else "an unknown day"


def month(value: date | str) -> str:
    d = _day(value) if value else None
    return _said(d, "MMMM y") if d else "an unknown month"


def moment(value: datetime | str, zone: tzinfo | None = None) -> str:
    """ "Tuesday 24 June 2009 at 2:10 pm", in the reader's time zone (England's by default)."""
    m = _moment(value) if value else None
    if m is None:
        return "an unknown time"
    return format_datetime(m, "EEEE d MMMM y 'at' h:mm a", tzinfo=zone or ENGLAND,
                           locale=LOCALE)


@lru_cache(maxsize=SAID)
def days(n: int) -> str:
    """ "1 day", "2 days" (babel's words, never "1 days")."""
    return format_timedelta(timedelta(days=n), granularity="day", threshold=10 ** 6,
                            locale=LOCALE)


def due(due_on: date | str, today: date, done: bool = False) -> str:
    """How a due date stands today: "due today", "due tomorrow", "due in 3 days", "due on
    Tuesday 24 June 2009", "overdue by 2 days", "overdue since March 2010"."""
    d = _day(due_on)
    if d is None:
        return "with no due date"
    if done:
        return f"was due on {day(d)}"
    left = (d - today).days
    if left == 0:
        return "due today"
    if left == 1:
        return "due tomorrow"
    if 1 < left <= COUNT_DAYS_UP_TO:
        return f"due in {days(left)}"
    if left > COUNT_DAYS_UP_TO:
        return f"due on {day(d)}"
    if -left <= COUNT_DAYS_UP_TO:
        return f"overdue by {days(-left)}"
    return f"overdue since {month(d)}"


def overdue(overdue_days: int, due_on: date | str) -> str:
    """ "overdue by 2 days" or, long after, "overdue since March 2010"."""
    if overdue_days <= COUNT_DAYS_UP_TO:
        return f"overdue by {days(overdue_days)}"
    return f"overdue since {month(due_on)}"


def zone_named(name: str | None) -> tzinfo:
    """A reader's zone from its IANA name (Slack's users.info `tz`); England's when unknown."""
    if not name:
        return ENGLAND
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return ENGLAND


ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?\b")


def said(text: str) -> str:
    """Text the ledger wrote (an escalation's reason, "deadline 2026-04-07"), its dates said as
    people say them."""
    return ISO_DAY.sub(lambda m: day(m.group(1)), text)
