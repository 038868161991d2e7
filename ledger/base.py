"""What every audit fact carries: who did it, when it happened in the world, and its idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate


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
