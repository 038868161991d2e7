"""The escalation ladder, working days and reminders: what should happen, decided without I/O.

A concern not acknowledged by its deadline climbs one step; a child at
immediate risk is never left to the ladder (the alert says to call the front
door or emergency services now).
"""

from __future__ import annotations

import importlib.util
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import holidays


@dataclass(frozen=True)
class Step:
    number: int
    who: str
    working_days: int | None  # time allowed at this step before climbing; None at the top


DEFAULT_LADDER: tuple[Step, ...] = (
    Step(1, "the agency's managers", 2),
    Step(2, "manager to manager: the managers' own managers", 5),
    Step(3, "senior leads: the partnership's quality leads", 2),
    Step(4, "an independently chaired meeting: the board", None),
)

FEEDBACK_REMINDER_WORKING_DAYS = 5
ACTION_DUE_SOON_DAYS = 14
CHILD_AT_RISK_ADVICE = ("A child may be at immediate risk: contact the children's services "
                        "front door (MASH) or emergency services (999) now. Do not wait for "
                        "a reply to this message.")


def ladder_from(days: Iterable[int] | None) -> tuple[Step, ...]:
    """The default ladder with a programme's own deadlines (one number per step below the top);
    none (or an empty list) keeps the default 2, 5 and 2 working days."""
    allowed = list(days) if days is not None else []
    if not allowed:
        return DEFAULT_LADDER
    if len(allowed) != len(DEFAULT_LADDER) - 1 or any(d < 1 for d in allowed):
        raise ValueError(f"escalation needs {len(DEFAULT_LADDER) - 1} whole numbers of working "
                         "days, each 1 or more")
    steps = [Step(s.number, s.who, allowed[i]) for i, s in enumerate(DEFAULT_LADDER[:-1])]
    return (*steps, DEFAULT_LADDER[-1])


@lru_cache(maxsize=1)
def _england() -> Callable[[int], Iterable[date]]:
    """The `holidays` package's United Kingdom calendar (England), its module loaded alone.

    `holidays.country_holidays` imports the package's every country first (250 modules, about
    0.3 s: a fifth of a 10k-event views rebuild, which works out due dates). The United
    Kingdom's module is loaded from its file on its own instead, the same calendar class; if
    the package ever lays its modules out otherwise, `country_holidays` as before."""
    path = Path(holidays.__file__).parent / "countries" / "united_kingdom.py"
    try:
        spec = importlib.util.spec_from_file_location("policies._england_bank_holidays", path)
        if spec is None or spec.loader is None:
            raise ImportError(path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        calendar = module.UnitedKingdom
    except (ImportError, OSError, AttributeError):
        return lambda year: holidays.country_holidays("GB", subdiv="ENG", years=year)
    return lambda year: calendar(subdiv="ENG", years=year)


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays for a year, from the `holidays` package."""
    return frozenset(_england()(year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


# Working days are counted by arithmetic, not day by day, so a sweep over many concerns and
# feedback stays cheap whatever the gap: weekdays up to a day follow from its ordinal (day 1,
# 1 January of year 1, was a Monday), and the bank holidays falling on weekdays are counted by
# bisecting their sorted ordinals.


def _weekdays_to(ordinal: int) -> int:
    """Weekdays from day 1 up to and including the day with this ordinal."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _weekday_with_count(count: int) -> int:
    """The ordinal of the first day up to which `count` (>= 1) weekdays have passed."""
    weeks, rest = divmod(count - 1, 5)
    return weeks * 7 + rest + 1


class _WeekdayHolidays:
    """The bank holidays that fall on weekdays, as sorted ordinals, for a growing run of years."""

    def __init__(self) -> None:
        self.first = self.last = 0
        self.ordinals: list[int] = []

    def upto(self, ordinal: int, *, years: tuple[int, int]) -> int:
        """How many fall on or before the day with this ordinal (within the covered years)."""
        if not self.first or years[0] < self.first or years[1] > self.last:
            self._cover(min(years[0], self.first or years[0]), max(years[1], self.last))
        return bisect_right(self.ordinals, ordinal)

    def _cover(self, first: int, last: int) -> None:
        # The list first, then the years it covers: a reader in another thread sees either the
        # old pair or a list at least as wide as the years it reads.
        self.ordinals = sorted(d.toordinal() for y in range(first, last + 1)
                               for d in bank_holidays(y) if d.weekday() < 5)
        self.first, self.last = first, last


_HOLIDAYS = _WeekdayHolidays()


def _working_days_to(day: date, years: tuple[int, int]) -> int:
    ordinal = day.toordinal()
    return _weekdays_to(ordinal) - _HOLIDAYS.upto(ordinal, years=years)


def add_working_days(start: date, n: int) -> date:
    """The date n working days after start (start itself does not count)."""
    if n <= 0:
        return start
    base = _weekdays_to(start.toordinal())
    skipped = 0
    years = (start.year, start.year + 1 + n // 200)
    while True:  # each pass steps over the bank holidays the last one reached; a few at most
        day = date.fromordinal(_weekday_with_count(base + n + skipped))
        if day.year > years[1]:
            years = (years[0], day.year)
        holidays_in = _HOLIDAYS.upto(day.toordinal(), years=years) - \
            _HOLIDAYS.upto(start.toordinal(), years=years)
        if holidays_in == skipped:
            return day
        skipped = holidays_in


def working_days_between(start: date, end: date) -> int:
    """Working days after start up to and including end."""
    if end <= start:
        return 0
    years = (start.year, end.year)
    return _working_days_to(end, years) - _working_days_to(start, years)


@dataclass(frozen=True)
class Escalation:
    step: int
    who: str
    reason: str


def escalation_due(step: int, step_started: date, today: date, acknowledged: bool,
                   closed: bool, ladder: tuple[Step, ...] = DEFAULT_LADDER) -> Escalation | None:
    """The next step, when a concern is still unacknowledged past its step's deadline."""
    if acknowledged or closed or step >= ladder[-1].number:
        return None
    current = ladder[step - 1]
    assert current.working_days is not None
    deadline = add_working_days(step_started, current.working_days)
    if today <= deadline:
        return None
    nxt = ladder[step]
    return Escalation(nxt.number, nxt.who,
                      f"not acknowledged within {current.working_days} working days "
                      f"(deadline {deadline.isoformat()})")


def step_deadline(step: int, step_started: date,
                  ladder: tuple[Step, ...] = DEFAULT_LADDER) -> date | None:
    days = ladder[step - 1].working_days
    return None if days is None else add_working_days(step_started, days)


def recipients(step: int, agency: str, people: Iterable[Mapping[str, object]]) -> list[str]:
    """Who is alerted at each step, from the directory (ids, sorted, never empty if avoidable)."""
    directory = list(people)

    def having(role: str, agency_: str | None = None) -> list[str]:
        return sorted(str(p["person"]) for p in directory
                      if role in p["roles"]  # type: ignore[operator]
                      and (agency_ is None or p["agency"] == agency_))

    managers = having("manager", agency)
    if step == 1:
        return managers or having("quality-lead")
    if step == 2:
        above = sorted({str(p["manager"]) for p in directory
                        if p["person"] in managers and p.get("manager")})
        return above or having("moderator") or having("quality-lead")
    if step == 3:
        return having("quality-lead")
    return having("board") or having("quality-lead")


def alert_recipients(step: int, agency: str, people: Iterable[Mapping[str, object]],
                     chosen: Iterable[str] | None = None) -> tuple[list[str], bool]:
    """Who can be told at this step: its recipients (or those `chosen` when the step was
    recorded) who have a Slack user; when none has, the quality leads who have one, so an alert
    never goes nowhere. The second value says the quality leads stand in."""
    directory = list(people)
    linked = {str(p["person"]) for p in directory if p.get("slack_user")}
    wanted = list(chosen) if chosen is not None else recipients(step, agency, directory)
    reachable = sorted(p for p in set(wanted) if p in linked)
    if reachable:
        return reachable, False
    leads = sorted(str(p["person"]) for p in directory
                   if "quality-lead" in p["roles"]  # type: ignore[operator]
                   and str(p["person"]) in linked)
    return leads, True


def step_started(step: int, raised_on: date, first_alerted_on: date | None,
                 escalated_on: date | None) -> date:
    """When the concern's current step began: for step 1, the day its managers were first told
    (never before it was raised; the day it was raised when nobody could be told); for a later
    step, the day it was escalated to that step."""
    if step > 1 and escalated_on is not None:
        return escalated_on
    if first_alerted_on is not None and first_alerted_on > raised_on:
        return first_alerted_on
    return raised_on


def feedback_reminder_number(delivered_on: date, today: date, acknowledged: bool,
                             after: int = FEEDBACK_REMINDER_WORKING_DAYS) -> int:
    """Which reminder is due now (1 after `after` working days unacknowledged since the
    practitioner received it, 2 after twice that ...), 0 for none. Each number is sent once."""
    if acknowledged:
        return 0
    return working_days_between(delivered_on, today) // after


def feedback_reminder_due(issued_on: date, today: date, acknowledged: bool,
                          reminders_sent: int,
                          after: int = FEEDBACK_REMINDER_WORKING_DAYS) -> bool:
    """One reminder each `after` working days while feedback waits for acknowledgement."""
    if acknowledged:
        return False
    return working_days_between(issued_on, today) >= after * (reminders_sent + 1)


def action_reminder(due: date, today: date, completed: bool) -> str | None:
    """'overdue' or 'due soon' (within 14 days), else nothing."""
    if completed:
        return None
    if today > due:
        return "overdue"
    if (due - today).days <= ACTION_DUE_SOON_DAYS:
        return "due soon"
    return None


def digest_week(today: date) -> date | None:
    """The week (its Monday) whose digest of overdue actions may go out today: the digest goes on
    the week's first working day (Tuesday after a bank-holiday Monday), or on a later working
    day of that week if it could not go then; never on a weekend or a bank holiday."""
    if not is_working_day(today):
        return None
    return today - timedelta(days=today.weekday())


def digest_due(today: date, last_digest: date | None) -> bool:
    """Once a week, on a working day: due when no digest has gone out this week yet."""
    week = digest_week(today)
    if week is None:
        return False
    return last_digest is None or last_digest < week
