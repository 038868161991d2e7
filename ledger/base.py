"""What every audit fact carries: who did it, when it happened in the world, and its idempotency key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar
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


E = TypeVar("E", bound=Aggregate.Event)
F = TypeVar("F")
_FIELDS: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def frozen_made(cls: type[F], state: dict[str, Any]) -> F:
    """The object a frozen dataclass's constructor makes of these fields, made without running
    it: its generated `__init__` sets each field through `object.__setattr__`, most of what
    making one costs. The state is laid out in the class's field order, as that `__init__`
    lays it out (an event's stored JSON follows it). Only for classes with no `__post_init__`
    to run and no field computed at `__init__`: fields missing or unknown go to the
    constructor, which says what is wrong."""
    known = _FIELDS.get(cls)
    if known is None:
        names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        known = _FIELDS[cls] = (names, frozenset(names))
    names, expected = known
    if state.keys() != expected:
        return cls(**state)
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", {name: state[name] for name in names})
    return made


def made(event_class: type[E], state: dict[str, Any]) -> E:
    """The event its class's constructor makes of these fields, made as `frozen_made` makes
    it: an import makes thousands, of fifteen fields each. The library's `__post_init__`
    checks the id is a UUID: one that is not goes to the constructor, which refuses it."""
    if type(state.get("originator_id")) is not UUID:
        return event_class(**state)
    return frozen_made(event_class, state)


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
        fields.update(originator_topic=get_topic(cls), originator_id=aggregate_id,
                      originator_version=cls.INITIAL_VERSION,
                      timestamp=event_class.create_timestamp())
        return made(event_class, fields)

    @classmethod
    def following(cls, event_class: type[Aggregate.Event], aggregate_id: UUID, version: int,
                  **fields: Any) -> Aggregate.Event:
        """A later event of a brand-new aggregate made by `creation`, as `trigger_event` makes
        it at this version (the time now), without the aggregate: for an import's returns on
        the cases it adds. Replaying `creation`'s event and these gives the aggregate that
        `_create` and `record` give."""
        fields.update(originator_id=aggregate_id, originator_version=version,
                      timestamp=event_class.create_timestamp())
        return made(event_class, fields)

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
