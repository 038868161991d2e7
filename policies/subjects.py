"""The names of what the worker sends: each message's subject and purpose, keys of its delivery.

Pure names, shared by the worker (`bot`) and the due index (`projections.due_dates`), which
files what falls due by the deliveries already made.
"""

from __future__ import annotations

from datetime import date

CONCERN_ALERT = "concern-alert"
FEEDBACK = "feedback"
DIGEST = "overdue-digest"
CHANNEL = "channel:"
"""A recipient that is a channel rather than a person: `channel:<channel>`."""


def concern_subject(ref: str) -> str:
    return f"concern/{ref}"


def concern_purpose(step: int) -> str:
    return CONCERN_ALERT if step <= 1 else f"concern-step-{step}"


def concern_step(purpose: str) -> int:
    """The ladder's step a concern alert was sent at, from its purpose."""
    return 1 if purpose == CONCERN_ALERT else int(purpose.rsplit("-", 1)[1])


def feedback_subject(case: str, agency: str) -> str:
    return f"feedback/{case}/{agency}"


def feedback_reminder_purpose(number: int) -> str:
    return f"feedback-reminder-{number}"


def action_subject(action: str) -> str:
    return f"action/{action}"


def action_purpose(state: str, due: str) -> str:
    return f"action-{state.replace(' ', '-')}-{due}"


def digest_subject(week: date) -> str:
    return f"digest/{week.isoformat()}"


PART = " part "
"""A message too long for one Slack message goes as several: part 1 under the message's own
purpose, part n under `<purpose> part n`, each a delivery of its own (channel and ts)."""


def part_purpose(purpose: str, number: int) -> str:
    return purpose if number <= 1 else f"{purpose}{PART}{number}"


def part_of(purpose: str) -> tuple[str, int]:
    """The message's own purpose and which part of it a delivery holds."""
    base, sep, number = purpose.rpartition(PART)
    if sep and number.isdigit():
        return base, int(number)
    return purpose, 1
