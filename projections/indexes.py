"""The index documents: what waits for each person, each manager's team, each agency's open
concerns, and whom a concern's alert reaches.

They answer "what is waiting for me?" and "whom do I tell?" in a few reads, however large the
log.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ledger.actions import Action
from ledger.concerns import Concern
from ledger.feedback import Feedback
from ledger.ids import DEFAULT_PARTNERSHIP, in_partnership
from ledger.people import Person

from .partitions import PARTS, programme_partition

if TYPE_CHECKING:
    from .views import Doc, Folding


PARTITIONED_INDEXES = ("waiting", "open_concerns")
"""The indexes that list documents of many programmes: one document a person (or agency) and
a partition of the programmes (`projections.partitions`), so that the partitions, folded apart,
never write the same document; whoever reads them reads every partition's (`index_keys`)."""


def index_key(view: str, partnership: str, name: str, programme: str) -> str:
    """The key of the index document listing `name`'s documents of `programme` (a person's or
    an agency's name, in `partnership`): in the programme's partition for the partitioned
    indexes (nothing for no name)."""
    key = in_partnership(partnership, name)
    if not key or view not in PARTITIONED_INDEXES:
        return key
    return f"{key}/{partition_of(programme)}"


def index_keys(view: str, key: str) -> list[tuple[str, str]]:
    """Every document of one person's (or agency's) index, whose lists together are theirs."""
    if view not in PARTITIONED_INDEXES:
        return [(view, key)]
    return [(view, f"{key}/{part}") for part in range(PARTS)]


def merged(docs: dict[tuple[str, str], Doc], view: str, key: str) -> Doc:
    """One person's (or agency's) index document as its partitions hold it together: each
    list the sorted union of theirs (a programme's items are in one partition only)."""
    out: dict[str, list[str]] = {}
    for k in index_keys(view, key):
        for field, items in (docs.get(k) or {}).items():
            out.setdefault(field, []).extend(items)
    return {field: sorted(items) for field, items in out.items()}


def listed(f: Folding, view: str, key: str, field: str, item: str, present: bool) -> None:
    """Keep `item` in (or out of) the list `field` of an index document; an index document
    left with nothing listed is deleted."""
    if not key:
        return
    doc = f.get(view, key) or {}
    items = doc.get(field) or []
    if present == (item in items):
        return
    items = added(items, item) if present else removed(items, item)
    new = {**doc, field: items}
    new = {k: v for k, v in new.items() if v}
    if new:
        f.put(view, key, new)
    else:
        f.delete(view, key)


def added(items: list[str], item: str) -> list[str]:
    """A copy of a sorted list with an item it lacks put in its place (every list an index
    keeps is sorted, without repeats, as this keeps it): no sorting of the whole list again."""
    out = list(items)
    insort(out, item)
    return out


def removed(items: list[str], item: str) -> list[str]:
    """A copy of a sorted list without an item it holds, found by bisection (a due index's
    calendar lists some hundreds of days)."""
    out = list(items)
    at = bisect_left(out, item)
    if at < len(out) and out[at] == item:
        del out[at]
    return out


@lru_cache(maxsize=1 << 16)
def partition_of(programme: str) -> int:
    """`programme_partition`, worked out once a programme (each event of a programme's
    follow-up asks for it, often more than once)."""
    return programme_partition(programme)


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


# ---- who a concern's alert reaches: the alert directory --------------------------------------

ALERT_AGENCY = "alert_agency"
"""By agency's key (`in_partnership`): the person documents of the agency's managers."""
ALERT_PARTNERSHIP = "alert_partnership"
"""By partnership: the person documents of its quality leads, moderators and board members."""
PARTNERSHIP_ROLES = ("quality-lead", "moderator", "board")
"""The roles an alert may climb to beyond the agency's managers (`policies.escalation`)."""


def alert_directory_keys(partnership: str, agency: str) -> list[tuple[str, str]]:
    """The two documents that hold everyone a concern's alert at any step is worked out from
    (the agency's managers, with their own managers named; the partnership's quality leads,
    moderators and board)."""
    return [(ALERT_AGENCY, in_partnership(partnership, agency)), (ALERT_PARTNERSHIP, partnership)]


def keep_alert_directory(f: Folding, e: Any, position: int) -> None:
    """After a person's event: their entry kept in (or taken out of) the alert directory's
    documents, as a copy of their directory entry."""
    index = f.get("ids", f.oid)
    person = f.get("person", str(index["key"])) if index else None
    if person is None:
        return
    partnership = str(person.get("partnership") or DEFAULT_PARTNERSHIP)
    roles = person.get("roles") or []
    agency_key, partnership_key = alert_directory_keys(partnership, str(person.get("agency")))
    _entry(f, agency_key, person, "manager" in roles)
    _entry(f, partnership_key, person, any(r in roles for r in PARTNERSHIP_ROLES))


def _entry(f: Folding, where: tuple[str, str], person: Doc, present: bool) -> None:
    doc = f.get(*where) or {}
    people = dict(doc.get("people") or {})
    name = str(person["person"])
    if present:
        if people.get(name) == person:
            return
        people[name] = dict(person, roles=list(person.get("roles") or []))
    elif name not in people:
        return
    else:
        del people[name]
    if people:
        f.put(*where, {"people": people})
    else:
        f.delete(*where)


def alert_directory_prefetch(f: Folding, e: Any, oid: str) -> list[tuple[str, str]]:
    """The alert directory's documents a person's event may change (its person document is
    in the batch's cache by then; `oid` its aggregate's id)."""
    if not isinstance(e, PERSON_EVENTS):
        return []
    if isinstance(e, Person.Created):
        return alert_directory_keys(e.partnership, e.agency)
    index = f.cache.get(("ids", oid))
    person = f.cache.get(("person", str(index["key"]))) if index else None
    if person is None:
        return []
    return alert_directory_keys(str(person.get("partnership") or DEFAULT_PARTNERSHIP),
                                str(person.get("agency")))


PERSON_EVENTS = (Person.Created, Person.RoleGranted, Person.RoleRevoked, Person.ManagerAssigned,
                 Person.SlackUserLinked)
