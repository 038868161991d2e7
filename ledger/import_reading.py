"""What an import reads of the store: the aggregates its pack might add or change, looked up
together, and the people its pack names but does not list (the directory it is checked
against)."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from .application import AuditLedger
from .pack import PersonIn
from .people import Person

A = TypeVar("A", bound=Aggregate)


class Lookup:
    """Aggregates looked up together: their events read in a few queries (`stored_events_of`)
    instead of one query per aggregate, most of an import's being new. Each `find` replays
    afresh, as the ledger's does, so no two lookups share an aggregate."""

    def __init__(self, app: AuditLedger, aggregate_ids: Iterable[UUID]) -> None:
        self.app = app
        self.ids = app.ids  # the store's id scheme, for what takes a lookup as its app
        self.asked = set(aggregate_ids)
        self.stored = app.stored_events_of(self.asked)

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self.asked:
            return self.app.find(cls, aggregate_id)
        stored = self.stored.get(aggregate_id)
        return None if stored is None else self.app.rebuild(cls, aggregate_id, stored)


_DIRECTORY_READ: weakref.WeakKeyDictionary[AuditLedger, dict[UUID, tuple[Any, PersonIn]]] = \
    weakref.WeakKeyDictionary()
DIRECTORY_REMEMBERED = 50_000


def _directory_read(app: AuditLedger) -> dict[UUID, tuple[Any, PersonIn]]:
    read = _DIRECTORY_READ.get(app)
    if read is None or len(read) > DIRECTORY_REMEMBERED:
        read = _DIRECTORY_READ[app] = {}
    return read


def directory_of(app: AuditLedger, person_ids: set[str], partnership: str,
                 lookup: Lookup | None = None) -> dict[str, PersonIn]:
    """The stored people of these ids in a partnership, as a pack would list them (`lookup`
    reads them).

    Each pack after a partnership's first names most of its directory again: a person is
    replayed once a process, and again only when their last stored event is another (its
    version and stored bytes, which the log never changes), not once a pack."""
    if lookup is None:
        lookup = Lookup(app, (app.ids.person_id(pid, partnership) for pid in person_ids))
    read = _directory_read(app)
    out = {}
    for pid in sorted(person_ids):
        uid = app.ids.person_id(pid, partnership)
        stored = lookup.stored.get(uid) if uid in lookup.asked else None
        last = (stored[-1].originator_version, stored[-1].state) if stored else None
        known = read.get(uid) if last is not None else None
        if known is not None and known[0] == last:
            out[pid] = known[1]
            continue
        person = lookup.find(Person, uid)
        if person is not None:
            out[pid] = PersonIn.model_validate(dict(
                                id=pid, name=person.name, agency=person.agency,
                                roles=list(person.roles), manager=person.manager or None,
                                slack_user=person.slack_user or None))
            if last is not None:
                read[uid] = (last, out[pid])
    return out
