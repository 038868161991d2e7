from datetime import date

import pytest

from policies.escalation import (
    action_reminder,
    add_working_days,
    alert_recipients,
    digest_due,
    digest_week,
    escalation_due,
    feedback_reminder_due,
    feedback_reminder_number,
    ladder_from,
    recipients,
    step_started,
    working_days_between,
)

PEOPLE = [
    {"person": "hv.mgr", "agency": "health-visiting", "roles": ["manager"], "manager": "hv.head"},
    {"person": "hv.head", "agency": "health-visiting", "roles": ["manager"], "manager": ""},
    {"person": "ql", "agency": "lscb", "roles": ["quality-lead"], "manager": ""},
    {"person": "chair", "agency": "lscb", "roles": ["board"], "manager": ""},
]


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    # Thursday 2 April 2026; Good Friday 3 April and Easter Monday 6 April are bank holidays.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 2), 2) == date(2026, 4, 8)
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 8)) == 2
    # Christmas 2026: Friday 25 December, Boxing Day substitute Monday 28 December.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_escalation_climbs_only_after_the_deadline() -> None:
    raised = date(2026, 4, 2)  # Thursday before Easter: deadline two working days on, 8 April
    assert escalation_due(1, raised, date(2026, 4, 8), False, False) is None
    up = escalation_due(1, raised, date(2026, 4, 9), False, False)
    assert up is not None and up.step == 2 and "deadline 2026-04-08" in up.reason
    assert escalation_due(1, raised, date(2026, 4, 20), True, False) is None
    assert escalation_due(4, raised, date(2027, 1, 1), False, False) is None


def test_a_programme_may_set_its_own_deadlines() -> None:
    ladder = ladder_from([1, 1, 1])
    assert escalation_due(1, date(2026, 3, 2), date(2026, 3, 4), False, False, ladder) is not None
    with pytest.raises(ValueError):
        ladder_from([2, 5])


def test_recipients_at_each_step() -> None:
    assert recipients(1, "health-visiting", PEOPLE) == ["hv.head", "hv.mgr"]
    assert recipients(2, "health-visiting", PEOPLE) == ["hv.head"]
    assert recipients(3, "health-visiting", PEOPLE) == ["ql"]
    assert recipients(4, "health-visiting", PEOPLE) == ["chair"]
    assert recipients(1, "housing", PEOPLE) == ["ql"]  # no manager known: never nobody


def test_reminders() -> None:
    issued = date(2026, 3, 2)  # Monday
    assert not feedback_reminder_due(issued, date(2026, 3, 6), False, 0)
    assert feedback_reminder_due(issued, date(2026, 3, 9), False, 0)
    assert not feedback_reminder_due(issued, date(2026, 3, 9), False, 1)
    assert not feedback_reminder_due(issued, date(2026, 3, 9), True, 0)
    assert action_reminder(date(2026, 3, 20), date(2026, 3, 10), False) == "due soon"
    assert action_reminder(date(2026, 3, 20), date(2026, 3, 21), False) == "overdue"
    assert action_reminder(date(2026, 6, 20), date(2026, 3, 21), False) is None
    assert digest_due(date(2026, 3, 2), None)  # a Monday, never sent
    assert not digest_due(date(2026, 3, 3), date(2026, 3, 2))  # sent this week already
    assert digest_due(date(2026, 3, 4), date(2026, 2, 23))  # missed on Monday: goes Wednesday
    assert digest_due(date(2026, 3, 9), date(2026, 3, 5))  # a new week
    assert not digest_due(date(2026, 3, 7), None)  # never on a weekend


def test_the_digest_waits_for_a_working_day() -> None:
    assert digest_week(date(2026, 4, 6)) is None  # Easter Monday
    assert digest_week(date(2026, 4, 7)) == date(2026, 4, 6)  # Tuesday, for that week
    assert digest_week(date(2026, 4, 11)) is None  # Saturday


def test_who_can_be_told_and_when_a_step_began() -> None:
    linked = [{**p, "slack_user": "U" + str(p["person"]).upper().replace(".", "")}
              if p["person"] in ("hv.mgr", "ql") else p for p in PEOPLE]
    assert alert_recipients(1, "health-visiting", linked) == (["hv.mgr"], False)
    # nobody at step 2 has Slack: the quality leads stand in
    assert alert_recipients(2, "health-visiting", linked) == (["ql"], True)
    assert alert_recipients(4, "housing", linked, chosen=["chair"]) == (["ql"], True)
    raised = date(2026, 4, 2)
    assert step_started(1, raised, None, None) == raised
    assert step_started(1, raised, date(2026, 4, 7), None) == date(2026, 4, 7)
    assert step_started(1, raised, date(2026, 4, 1), None) == raised
    assert step_started(2, raised, raised, date(2026, 4, 9)) == date(2026, 4, 9)
    assert feedback_reminder_number(date(2026, 3, 2), date(2026, 3, 6), False) == 0
    assert feedback_reminder_number(date(2026, 3, 2), date(2026, 3, 9), False) == 1
    assert feedback_reminder_number(date(2026, 3, 2), date(2026, 3, 16), False) == 2
    assert feedback_reminder_number(date(2026, 3, 2), date(2026, 3, 16), True) == 0
    assert ladder_from([]) == ladder_from(None)


def _counted_day_by_day(start: date, end: date) -> int:
    """The old definition, one day at a time, kept here as the reference."""
    from datetime import timedelta

    from policies.escalation import is_working_day

    return sum(1 for i in range(1, (end - start).days + 1)
               if is_working_day(start + timedelta(days=i)))


def _added_day_by_day(start: date, n: int) -> date:
    from datetime import timedelta

    from policies.escalation import is_working_day

    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += is_working_day(day)
    return day


def test_working_days_by_arithmetic_agree_with_counting_day_by_day() -> None:
    import random

    rng = random.Random(16)
    # Many random pairs, and pairs starting and ending on or around every bank holiday.
    from policies.escalation import bank_holidays

    near = [d for y in range(2019, 2031) for d in bank_holidays(y)]
    starts = [date.fromordinal(date(2015, 1, 1).toordinal() + rng.randrange(6000))
              for _ in range(1500)]
    starts += [date.fromordinal(d.toordinal() + rng.randrange(-3, 4)) for d in near]
    for start in starts:
        end = date.fromordinal(start.toordinal() + rng.choice(
            [rng.randrange(0, 15), rng.randrange(0, 400), rng.randrange(-5, 1)]))
        assert working_days_between(start, end) == _counted_day_by_day(start, end), (start, end)
        n = rng.choice([0, 1, 2, 5, rng.randrange(0, 300)])
        assert add_working_days(start, n) == _added_day_by_day(start, n), (start, n)
    for holiday in near:  # ending on a bank holiday, starting on one, across it
        for before in (1, 2, 7):
            start = date.fromordinal(holiday.toordinal() - before)
            assert working_days_between(start, holiday) == _counted_day_by_day(start, holiday)
            assert working_days_between(holiday, start.replace(year=start.year + 1)) == \
                _counted_day_by_day(holiday, start.replace(year=start.year + 1))


def test_bank_holidays_are_the_packages_england_calendar() -> None:
    # Loaded from the United Kingdom's module alone (the package's lookup imports every
    # country first): the same days as the package's own lookup, year by year.
    import holidays

    from policies.escalation import bank_holidays

    for year in range(1990, 2041):
        assert bank_holidays(year) == frozenset(
            holidays.country_holidays("GB", subdiv="ENG", years=year)), year
    assert date(2022, 9, 19) in bank_holidays(2022)  # the Queen's state funeral
    assert date(2020, 5, 8) in bank_holidays(2020) and date(2020, 5, 4) not in bank_holidays(2020)
