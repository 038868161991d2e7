"""Verification: the chain recomputed from the stored rows, and checked against a digest.

`verify_log` recomputes the whole chain from the stored rows, in batches and inside one
read snapshot, and names the first position where the stored log no longer matches what
was recorded when it was written. A chain kept inside the database cannot stop someone
who rewrites the events *and* every later hash; a digest (a position and its hash) kept
outside the system can, which is why `verify` also checks the log against one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import ApplicationRecorder

from .chain import BATCH, GENESIS, ChainRow, EventRow, batches, link
from .chain_adoption import ADOPTED_TOPIC
from .recorders import ChainedRecorder
from .signing import SignatureRow, signature_holds, stored_key_holds

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


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
    signed_heads: int | None = None  # signed chain heads up to `position` (signed digests)


@dataclass(frozen=True)
class Signatures:
    """What the signed heads say: how many, from which position, under which public keys."""

    count: int = 0
    first: int | None = None  # the first signed head's position: before it, nothing signed
    keys: tuple[str, ...] = ()  # the public keys stored beside the signatures
    checked_against: str = ""  # "public key" (given or derived from a secret) or "stored keys"


@dataclass(frozen=True)
class Verdict:
    checked: int
    head: Digest
    problem: str | None = None
    bad_position: int | None = None
    digest_problem: str | None = None
    signatures: Signatures = Signatures()
    adoptions: tuple[tuple[Any, ...], ...] = ()
    """(position, by, at) of each `adopt-chain`, and once the log is read, the position of its
    event in the log (None when it has none: adopted by an earlier release)."""

    @property
    def intact(self) -> bool:
        return self.problem is None and self.digest_problem is None


def _mismatch(position: int, event: EventRow | None, record: ChainRow | None,
              computed: bytes | None) -> str | None:
    """Why this position is bad, in words, or None when it matches what was recorded."""
    if record is None and position == 1:
        return ("the hash chain is missing or empty beside stored events: it was dropped or "
                "emptied outside the ledger (a store written before the ledger kept a chain is "
                "taken on with audit-ledger adopt-chain)")
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


class _SignedHeads:
    """The signature rows, walked beside the chain: each must sign the recomputed head at its
    position, with the trusted public key (or, without one, the key stored beside it)."""

    def __init__(self, rows: Iterator[SignatureRow], public: Ed25519PublicKey | None,
                 require_signed: bool) -> None:
        self.rows = rows
        self.public = public
        self.require_signed = require_signed
        self.pending: SignatureRow | None = next(rows, None)
        self.count = 0
        self.first: int | None = None
        self.keys: dict[str, None] = {}
        self.last_good = 0

    def _position(self, row: SignatureRow) -> int | None:
        try:
            return int(row[0])
        except (TypeError, ValueError):
            return None

    def check(self, position: int, computed: bytes) -> tuple[int, str] | None:
        """(bad position, why) when a signed head at this position does not hold."""
        while self.pending is not None and (self._position(self.pending) or 0) <= position:
            row, self.pending = self.pending, next(self.rows, None)
            if self._position(row) != position:
                continue  # a row for no position of the chain: the tail check names the gap
            self.count += 1
            self.first = position if self.first is None else self.first
            self.keys[str(row[2])] = None
            start = self.last_good + 1
            if str(row[1]) != computed.hex():
                return start, (f"the signed head at position {position} does not match the "
                               "chain there: the events or their hashes were rewritten")
            holds = signature_holds(self.public, row) if self.public is not None \
                else stored_key_holds(row)
            if not holds:
                whose = "the public key given" if self.public is not None else "its stored key"
                return start, (f"the events from position {start} to {position} were not "
                               f"signed by {whose}: they were added outside the ledger")
            self.last_good = position
        return None

    def tail(self, checked: int) -> tuple[int, str] | None:
        """(bad position, why) when the log's last events are not covered by a signature."""
        if self.pending is not None:
            return (checked + 1 if checked else 1,
                    f"a signed head records position {self.pending[0]} but the log ends at "
                    f"position {checked}: events were deleted")
        if self.count and self.last_good < checked:
            return (self.last_good + 1,
                    f"the events from position {self.last_good + 1} to {checked} are not "
                    "signed: they were added outside the ledger")
        if self.require_signed and checked and not self.count:
            return (1, "no event in this store is signed, so nothing shows who wrote it: its "
                       "administrator could have rewritten it")
        return None

    def summary(self) -> Signatures:
        return Signatures(self.count, self.first, tuple(self.keys),
                          "public key" if self.public is not None else "stored keys")


def _event_after(position: Any, adopted: list[tuple[int, Any]]) -> int | None:
    """The adoption event stored after an adoption row's position (None: none, or a row
    edited into something that is not a position)."""
    try:
        after = int(position)
    except (TypeError, ValueError):
        return None
    return next((p for p, _ in adopted if p > after), None)


def _adoption_said(state: Any) -> tuple[Any, Any] | None:
    """(position, by) an adoption event records, when its state is readable without a key
    (None when it is encrypted)."""
    try:
        said = json.loads(bytes(state))
    except (TypeError, ValueError):
        return None
    return (said.get("position"), said.get("by")) if isinstance(said, dict) else None


def _adoption_problem(rows: tuple[tuple[Any, ...], ...], adopted: list[tuple[int, Any]]
                      ) -> tuple[int, str] | None:
    """(position, why) when the adoption rows beside the chain no longer say what the adoption
    events in the log say (rows rewritten or removed), as far as they can be read."""
    for position, said in adopted:
        row = next((r for r in rows if r[-1] == position), None)
        if row is None:
            return position, ("the chain's adoption recorded here has no row beside the chain: "
                              "the row was removed outside the ledger")
        if said is not None and (said[0], said[1]) != (row[0], row[1]):
            return position, (f"the chain's adoption recorded here says position {said[0]} by "
                              f"{said[1]}, but the row beside the chain says position {row[0]} "
                              f"by {row[1]}: the row was changed outside the ledger")
    return None


def verify_log(recorder: ApplicationRecorder, against: Digest | None = None,
               batch: int = BATCH, public_key: Ed25519PublicKey | None = None,
               require_signed: bool = False) -> Verdict:
    """Recompute the chain from the stored rows, in batches, and compare it with the record.

    Each signed head must sign the recomputed hash at its position, with `public_key` when
    given (or with the key stored beside it, which proves nothing against the store's
    administrator), and once signing began every event must be under a signed head;
    `require_signed` (an inspector's public key given) makes a store with none a failure.
    With `against` (an exported digest), also prove that the log still extends it: it has at
    least that many positions, and the recomputed hash at that position is the exported one.
    """
    if not isinstance(recorder, ChainedRecorder):
        raise TypeError(f"{type(recorder).__name__} keeps no hash chain; the ledger's settings "
                        "select the chaining recorders")
    previous = GENESIS
    checked = 0
    at_digest = GENESIS if against is not None and against.position == 0 else None
    heads_at_digest = 0
    adopted: list[tuple[int, Any]] = []  # the adoption events: position, what they say
    with recorder.chain_snapshot() as snapshot:
        adoptions = tuple(snapshot.adoptions())
        events = _rows(snapshot.events_after, key=lambda r: r[0], size=batch)
        chain = _rows(snapshot.chain_after, key=lambda r: r[0], size=batch)
        signed = _SignedHeads(_rows(snapshot.signatures_after, key=lambda r: r[0], size=batch),
                              public_key, require_signed)
        for position, (event, record) in enumerate(zip_longest(events, chain), start=1):
            computed = link(previous, event) if event is not None else None
            problem = _mismatch(position, event, record, computed)
            if problem:
                return Verdict(checked, Digest(checked, previous.hex()),
                               f"the log was altered at position {position}: {problem}", position,
                               signatures=signed.summary(), adoptions=adoptions)
            assert computed is not None
            unsigned = signed.check(position, computed)
            if unsigned:
                return Verdict(checked, Digest(checked, previous.hex()),
                               f"the log was altered at position {unsigned[0]}: {unsigned[1]}",
                               unsigned[0], signatures=signed.summary(), adoptions=adoptions)
            previous = computed
            checked = position
            if event is not None and event[3] == ADOPTED_TOPIC:
                adopted.append((position, _adoption_said(event[4])))
            if against is not None and position == against.position:
                at_digest = computed
                heads_at_digest = signed.count
        unsigned = signed.tail(checked)
    adoptions = tuple((*row, _event_after(row[0], adopted)) for row in adoptions)
    head = Digest(checked, previous.hex())
    unsigned = unsigned or _adoption_problem(adoptions, adopted)
    if unsigned:
        return Verdict(checked, head, f"the log was altered at position {unsigned[0]}: "
                                      f"{unsigned[1]}", unsigned[0],
                       signatures=signed.summary(), adoptions=adoptions)
    if against is None:
        return Verdict(checked, head, signatures=signed.summary(), adoptions=adoptions)
    when = f" exported {against.exported_at}" if against.exported_at else ""
    if at_digest is None:
        return Verdict(checked, head, signatures=signed.summary(), adoptions=adoptions,
                       digest_problem=(
            f"the log was altered: the digest{when} records {against.position} events but the "
            f"log now has {checked}: events were removed from its end (positions "
            f"{checked + 1} to {against.position})"))
    if at_digest.hex() != against.hash.lower():
        return Verdict(checked, head, signatures=signed.summary(), adoptions=adoptions,
                       digest_problem=(
            f"the log was altered at or before position {against.position}: its hash there is "
            f"{at_digest.hex()} but the digest{when} records {against.hash}: the chain was "
            "rewritten to hide a change"))
    if against.signed_heads is not None and heads_at_digest != against.signed_heads:
        gone = "every signature row was" if heads_at_digest == 0 else "signature rows were"
        how = f"{gone} deleted" if heads_at_digest < against.signed_heads else \
            "signature rows were added"
        return Verdict(checked, head, signatures=signed.summary(), adoptions=adoptions,
                       digest_problem=(
            f"the log's signatures were altered at or before position {against.position}: the "
            f"digest{when} records {against.signed_heads} signed heads up to there but the "
            f"store holds {heads_at_digest}: {how}"))
    return Verdict(checked, head, signatures=signed.summary(), adoptions=adoptions)
