"""What every audit fact carries: who did it, when it happened in the world, and its idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic


@dataclass(frozen=True)
class Act:
    """The actor and the world-time of a command, stamped on each event it records."""

    by: str
    occurred_on: str
    key: str = ""

    def fields(self) -> dict[str, Any]:
        return {"by": self.by, "occurred_on": self.occurred_on, "key": self.key}


class LedgerAggregate(Aggregate):
    class Event(Aggregate.Event):
        by: str
        occurred_on: str
        key: str

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            if self.key and aggregate is not None:
                aggregate.keys.add(self.key)
            return aggregate

    class Created(Event, Aggregate.Created):
        """Every aggregate's first event carries the actor and world date too."""

    @classmethod
    def creation(cls, event_class: type[Aggregate.Created], aggregate_id: UUID,
                 **fields: Any) -> Aggregate.Created:
        """The first event of a brand-new aggregate of this class as the library's `_create`
        makes it (the class's topic, version 1, the time now), without making the aggregate:
        for a writer that only saves it, such as an import's feedback, concerns and actions
        (building each aggregate from its event was a fifth of an import). Saved as it is
        (`Application.save` takes events); replaying it gives the aggregate `_create` gives."""
        return event_class(originator_topic=get_topic(cls), originator_id=aggregate_id,
                           originator_version=cls.INITIAL_VERSION,
                           timestamp=event_class.create_timestamp(), **fields)

    @classmethod
    def following(cls, event_class: type[Aggregate.Event], aggregate_id: UUID, version: int,
                  **fields: Any) -> Aggregate.Event:
        """A later event of a brand-new aggregate made by `creation`, as `trigger_event` makes
        it at this version (the time now), without the aggregate: for an import's returns on
        the cases it adds. Replaying `creation`'s event and these gives the aggregate that
        `_create` and `record` give."""
        return event_class(originator_id=aggregate_id, originator_version=version,
                           timestamp=event_class.create_timestamp(), **fields)

    def record(self, event_class: type[Aggregate.Event], act: Act, **fields: Any) -> None:
        self.trigger_event(event_class, **act.fields(), **fields)

    def has_key(self, key: str) -> bool:
        """True when an event with this idempotency key is already in this aggregate."""
        return bool(key) and key in self.__dict__.get("keys", ())


class LedgerError(Exception):
    """A command the ledger will not carry out; `problems` are lines a person can act on."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class NotFound(LedgerError):
    pass


class NotPermitted(LedgerError):
    pass


class Rejected(LedgerError):
    pass
