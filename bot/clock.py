"""Where the bot's and the worker's day comes from: the system's, or one fixed for trying and testing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Where the day comes from: injected, so tests walk it through days and bank holidays."""

    def today(self) -> date: ...


class SystemClock:
    """The real day: the day in England (the working-day calendar's)."""

    zone = ZoneInfo("Europe/London")

    def today(self) -> date:
        return datetime.now(tz=self.zone).date()


@dataclass
class FixedClock:
    """A day that stands still until it is moved (`AUDIT_LEDGER_CLOCK`, or a test walking the
    calendar): which reminders fire then never depends on the day the tests run."""

    day: date

    def today(self) -> date:
        return self.day
