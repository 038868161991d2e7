"""The escalation ladder, working days and reminders: what should happen, decided without I/O.

A concern not acknowledged by its deadline climbs one step; a child at
immediate risk is never left to the ladder (the alert says to call the front
door or emergency services now).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

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
    """The default ladder with a programme's own deadlines (one number per step below the top)."""
    if days is None:
        return DEFAULT_LADDER
    allowed = list(days)
    if len(allowed) != len(DEFAULT_LADDER) - 1 or any(d < 1 for d in allowed):
        raise ValueError(f"escalation needs {len(DEFAULT_LADDER) - 1} whole numbers of working "
                         "days, each 1 or more")
    steps = [Step(s.number, s.who, allowed[i]) for i, s in enumerate(DEFAULT_LADDER[:-1])]
    return (*steps, DEFAULT_LADDER[-1])


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays for a year, from the `holidays` package."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The date n working days after start (start itself does not count)."""
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after start up to and including end."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1)
               if is_working_day(start + timedelta(days=i)))


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


def digest_due(today: date, last_digest: date | None) -> bool:
    """The weekly digest of overdue actions goes out on Mondays, once a week."""
    if today.weekday() != 0:
        return False
    return last_digest is None or (today - last_digest).days >= 7
