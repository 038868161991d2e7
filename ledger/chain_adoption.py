"""The chain's adoption as an event: who took on a log stored before the ledger kept a chain.

`adopt-chain` chains such a log in one transaction (`ledger.recorders`), recording the
adoption in a row beside the chain that `verify` reads with no key; then this event records
the same in the log itself, so it is chained and signed like any other fact and cannot be
removed or reworded unnoticed. A store adopts at most once, so it is one aggregate.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from .base import Act, LedgerAggregate
from .ids import NAMESPACE

ADOPTED_TOPIC = "audit-ledger:ChainAdopted"


def adoption_id() -> UUID:
    """One id in every store, public on purpose: only a store older than the chain is adopted,
    and every such store names its records by the public rule (`ledger.ids`). The name holds
    nothing about anyone, and is never a store's first event, which decides its rule."""
    return uuid5(NAMESPACE, "chain-adoption")


class ChainAdoption(LedgerAggregate):
    TOPIC = "audit-ledger:ChainAdoption"

    class Created(LedgerAggregate.Created):
        """The log up to `position` (whose chain hash is `head`) taken on by `by`: the events
        up to it were stored before the ledger kept a chain."""

        TOPIC = ADOPTED_TOPIC
        position: int
        head: str

    def __init__(self, *, position: int, head: str, by: str, occurred_on: str,
                 key: str) -> None:
        self.keys: set[str] = set()
        self.position = position
        self.head = head

    @classmethod
    def adopted(cls, position: int, head: str, act: Act) -> ChainAdoption:
        return cls._create(cls.Created, id=adoption_id(), position=position, head=head,
                           **act.fields())

