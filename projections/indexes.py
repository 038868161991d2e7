"""The index documents: what waits for each person, each manager's team, each agency's open concerns.

They answer "what is waiting for me?" in a few reads, however large the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.actions import Action
from ledger.concerns import Concern
from ledger.feedback import Feedback
from ledger.people import Person

if TYPE_CHECKING:
    from .views import Doc, Folding


def listed(f: Folding, view: str, key: str, field: str, item: str, present: bool) -> None:
    """Keep `item` in (or out of) the list `field` of an index document; an index document
    left with nothing listed is deleted."""
    if not key:
        return
    doc = f.get(view, key) or {}
    items = list(doc.get(field) or [])
    if present == (item in items):
        return
    items = sorted({*items, item}) if present else [i for i in items if i != item]
    new = {**doc, field: items}
    new = {k: v for k, v in new.items() if v}
    if new:
        f.put(view, key, new)
    else:
        f.delete(view, key)


def feedback_open(doc: Doc) -> bool:
    """Feedback waits for its practitioner until acknowledged and every issue answered."""
    answered = doc.get("responses") or {}
    return not doc.get("acknowledged_by") or any(str(i["number"]) not in answered
                                                 for i in doc.get("issues") or [])


def concern_open(doc: Doc) -> bool:
    """A concern waits for its agency's managers until acknowledged and acted on, or closed."""
    return not doc.get("closed") and (not doc.get("acknowledged_by") or not doc.get("actions"))


INDEXES = {"feedback": ("practitioner", "waiting"), "action": ("owner", "waiting"),
           "concern": ("agency", "open_concerns"), "person": ("manager", "team")}
"""For each document an index lists: the field naming whom it waits for, and the index."""
INDEXED_BY_EVENT: dict[type, tuple[str, str]] = {
    Feedback.Created: ("feedback", "practitioner"), Action.Created: ("action", "owner"),
    Action.Replanned: ("action", "owner"), Concern.Created: ("concern", "agency"),
    Person.Created: ("person", "manager"), Person.ManagerAssigned: ("person", "manager")}
"""Events naming the person or agency an index document is kept under."""
