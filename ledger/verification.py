"""Verification: the chain recomputed from the stored rows, and checked against a digest.

`verify_log` recomputes the whole chain from the stored rows, in batches and inside one
read snapshot, and names the first position where the stored log no longer matches what
was recorded when it was written. A chain kept inside the database cannot stop someone
who rewrites the events *and* every later hash; a digest (a position and its hash) kept
outside the system can, which is why `verify` also checks the log against one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from eventsourcing.persistence import ApplicationRecorder

from .chain import BATCH, GENESIS, ChainRow, EventRow, batches, link
from .recorders import ChainedRecorder


def _rows(fetch: Callable[[Any, int], list[Any]], key: Callable[[Any], Any],
          size: int) -> Iterator[Any]:
    for rows in batches(fetch, key, size):
        yield from rows


@dataclass(frozen=True)
class Digest:
    """A position of the log and its hash: what a digest kept outside the system records."""

    position: int
    hash: str
    exported_at: str = ""


@dataclass(frozen=True)
class Verdict:
    checked: int
    head: Digest
    problem: str | None = None
    bad_position: int | None = None
    digest_problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None and self.digest_problem is None


def _mismatch(position: int, event: EventRow | None, record: ChainRow | None,
              computed: bytes | None) -> str | None:
    """Why this position is bad, in words, or None when it matches what was recorded."""
    if record is None:
        assert event is not None
        return f"notification {event[0]} has no recorded hash: it was added outside the ledger"
    if event is None:
        return (f"the chain records notification {record[1]} here but the log ends at position "
                f"{position - 1}: events were deleted")
    if record[0] != position:
        return "the chain has no record of this position: its record was removed"
    if event[0] != record[1]:
        try:
            inserted = int(event[0]) < int(record[1])
        except (TypeError, ValueError):
            inserted = False
        if inserted:
            return f"notification {event[0]} is not in the chain: it was put there by hand"
        return (f"notification {record[1]}, recorded at this position, is missing from the log "
                f"(found notification {event[0]})")
    if computed is None or computed.hex() != record[2]:
        return "its content does not match its recorded hash"
    return None


def verify_log(recorder: ApplicationRecorder, against: Digest | None = None,
               batch: int = BATCH) -> Verdict:
    """Recompute the chain from the stored rows, in batches, and compare it with the record.

    With `against` (an exported digest), also prove that the log still extends it: it has at
    least that many positions, and the recomputed hash at that position is the exported one.
    """
    if not isinstance(recorder, ChainedRecorder):
        raise TypeError(f"{type(recorder).__name__} keeps no hash chain; the ledger's settings "
                        "select the chaining recorders")
    previous = GENESIS
    checked = 0
    at_digest = GENESIS if against is not None and against.position == 0 else None
    with recorder.chain_snapshot() as snapshot:
        events = _rows(snapshot.events_after, key=lambda r: r[0], size=batch)
        chain = _rows(snapshot.chain_after, key=lambda r: r[0], size=batch)
        for position, (event, record) in enumerate(zip_longest(events, chain), start=1):
            computed = link(previous, event) if event is not None else None
            problem = _mismatch(position, event, record, computed)
            if problem:
                return Verdict(checked, Digest(checked, previous.hex()),
                               f"the log was altered at position {position}: {problem}", position)
            assert computed is not None
            previous = computed
            checked = position
            if against is not None and position == against.position:
                at_digest = computed
    head = Digest(checked, previous.hex())
    if against is None:
        return Verdict(checked, head)
    when = f" exported {against.exported_at}" if against.exported_at else ""
    if at_digest is None:
        return Verdict(checked, head, digest_problem=(
            f"the log was altered: the digest{when} records {against.position} events but the "
            f"log now has {checked}: events were removed from its end"))
    if at_digest.hex() != against.hash.lower():
        return Verdict(checked, head, digest_problem=(
            f"the log was altered at or before position {against.position}: its hash there is "
            f"{at_digest.hex()} but the digest{when} records {against.hash}: the chain was "
            "rewritten to hide a change"))
    return Verdict(checked, head)
