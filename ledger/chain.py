"""The hash chain: each stored event's position and hash, linked to the one before it.

Every event the ledger stores takes the next *position* (1, 2, 3 ... in the order the
events were stored, whatever their notification ids: PostgreSQL's may have gaps) and a
hash: SHA-256 over the previous position's hash and the event's stored content, its
notification id, originator id, version, topic and state bytes exactly as stored (so an
encrypted event is chained as its ciphertext, and the chain can be checked without the
key). The hashes go into their own table, `event_chain`, beside the events and in the
same transaction as them, from the one place each store writes events: the recorders of
`ledger.recorders`. `ledger.verification` recomputes the chain and compares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from . import chain_adoption  # noqa: F401 - its event's topic known wherever a store is opened

CHAIN_TABLE = "event_chain"
GENESIS = bytes(32)  # the "previous hash" of position 1
DOMAIN = b"audit-ledger event chain v1\n"
BATCH = 1000

# (notification id, originator id, originator version, topic, state) as stored; Any because
# rows edited by hand may hold anything.
EventRow = tuple[Any, Any, Any, Any, Any]
ChainRow = tuple[Any, Any, Any]  # (position, notification id, hash as hex)


# ---- the hash --------------------------------------------------------------------------


def _field(value: Any) -> bytes:
    """One stored value, typed and length-prefixed, so no two different rows encode alike."""
    kind = type(value)  # the types a stored row holds first, as the general case below does
    if kind is bytes:
        return b"b" + len(value).to_bytes(8, "big") + value
    if kind is str:
        raw = value.encode("utf-8", "surrogatepass")
        return b"s" + len(raw).to_bytes(8, "big") + raw
    if kind is int:
        raw = str(value).encode()
        return b"i" + len(raw).to_bytes(8, "big") + raw
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, UUID):
        value = value.hex
    if isinstance(value, bool) or value is None:
        return b"n" if value is None else b"?" + repr(value).encode()
    if isinstance(value, int):
        raw = str(value).encode()
        return b"i" + len(raw).to_bytes(8, "big") + raw
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogatepass")
        return b"s" + len(raw).to_bytes(8, "big") + raw
    if isinstance(value, bytes):
        return b"b" + len(value).to_bytes(8, "big") + value
    raw = repr(value).encode()
    return b"?" + len(raw).to_bytes(8, "big") + raw


def link(previous: bytes, row: EventRow) -> bytes:
    """The hash of one position: the previous position's hash and this event as stored."""
    n, oid, version, topic, state = row
    if type(n) is int and type(oid) is str and type(version) is int and type(topic) is str \
            and type(state) is bytes:
        # The row as every insert makes it, encoded as `_field` encodes each value, in one
        # join: an import links every event it stores, and a call a value was a third of it.
        ns, vs = str(n).encode(), str(version).encode()
        o, t = oid.encode("utf-8", "surrogatepass"), topic.encode("utf-8", "surrogatepass")
        return hashlib.sha256(b"".join((
            DOMAIN, previous, b"i", len(ns).to_bytes(8, "big"), ns,
            b"s", len(o).to_bytes(8, "big"), o, b"i", len(vs).to_bytes(8, "big"), vs,
            b"s", len(t).to_bytes(8, "big"), t, b"b", len(state).to_bytes(8, "big"), state,
        ))).digest()
    return hashlib.sha256(b"".join([DOMAIN, previous, *map(_field, row)])).digest()


def stored_row(notification_id: int, event: StoredEvent) -> EventRow:
    """An event about to be stored, as the row it becomes."""
    oid = event.originator_id
    return (notification_id, oid.hex if isinstance(oid, UUID) else oid,
            event.originator_version, event.topic, event.state)


def recorded_hash(hash_hex: Any) -> bytes:
    """A recorded hash to chain on from. One edited by hand into something that is not a
    hash still gives a fixed value, so the ledger keeps recording; `verify` names it."""
    try:
        return bytes.fromhex(hash_hex)
    except (TypeError, ValueError):
        return hashlib.sha256(repr(hash_hex).encode()).digest()


def chain_rows(head: tuple[int, bytes], rows: Sequence[EventRow]) -> list[tuple[int, int, str]]:
    """Chain rows continuing from (position, hash) over rows in notification order."""
    position, previous = head
    out = []
    for row in rows:
        position += 1
        previous = link(previous, row)
        out.append((position, int(row[0]), previous.hex()))
    return out


# ---- reading the log and its chain -------------------------------------------------------


class ChainSnapshot(Protocol):
    """The stored log and its chain, read in batches inside one consistent snapshot."""

    def events_after(self, notification_id: int | None, limit: int) -> list[EventRow]: ...

    def chain_after(self, position: int | None, limit: int) -> list[ChainRow]: ...

    def signatures_after(self, position: int | None, limit: int) -> list[Any]: ...

    def adoptions(self) -> list[tuple[Any, Any, Any]]: ...


def batches(fetch: Callable[[Any, int], list[Any]], key: Callable[[Any], Any],
            size: int = BATCH) -> Iterator[list[Any]]:
    """Keyset pagination: each batch starts after the previous batch's last key."""
    after = None
    while True:
        rows = fetch(after, size)
        if not rows:
            return
        yield rows
        after = key(rows[-1])
        if len(rows) < size:
            return

