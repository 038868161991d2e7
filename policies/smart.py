"""The SMART check an action must pass before the board can ratify it."""

from __future__ import annotations

from datetime import date

RAG = ("red", "amber", "green")


def smart_problems(
    description: str, measure: str, owner: str, due: date | None, planned_on: date | None = None
) -> list[str]:
    """What keeps an action from being Specific, Measurable, Agreed (owned) and Timely."""
    problems = []
    if len(description.strip()) < 10:
        problems.append("description: say specifically what will be done (10 characters or more)")
    if len(measure.strip()) < 5:
        problems.append("measure: say how we will know it is done (5 characters or more)")
    if not owner.strip():
        problems.append("owner: name the person who owns the action")
    if due is None:
        problems.append("due: give a due date (YYYY-MM-DD)")
    elif planned_on is not None and due < planned_on:
        problems.append(f"due: {due.isoformat()} is before the action was planned "
                        f"({planned_on.isoformat()})")
    return problems


def rag_problem(rag: str) -> str | None:
    if rag in RAG:
        return None
    return f"RAG status {rag!r} is not allowed; allowed: {', '.join(RAG)}"


def days_overdue(due: date, today: date, completed: bool) -> int:
    if completed or today <= due:
        return 0
    return (today - due).days
