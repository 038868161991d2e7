"""What one catch-up has committed, kept between its batches so that a document is read from
the store at most once, and, when the fold began from nothing, what it need never read at all.

A batch of folding reads the documents its events change (`projections.views.Folding`). Read
from the store, each costs a query's share, a decoding and, with a key, an opening; a
rebuild's batches read the same programmes, summaries, indexes and ids again and again, and
mostly asked for documents that were not there yet. Kept here as committed (the canonical
bytes the store holds before any sealing), a document is read back exactly as the store would
give it (`orjson.loads` of the same bytes), so folding from here is folding from the store.

Only documents this catch-up committed itself are kept, and only while nobody else moves its
partitions' positions (anyone who writes their documents moves them: the positions are
compared before every batch). When the catch-up began with its partitions dropped (a
rebuild), everything of theirs in the store is what it wrote, so a document it does not hold
is not there: nothing is read. Past the memory limit it lets what it holds go, remembering
which documents it let go (a few bits each), and reads only those from the store again.
Documents another partition keeps (a parallel rebuild's other processes write them
meanwhile) are read from the store as before.

Such a catch-up reads nothing from the store, so it commits each batch on a thread of its own
while it folds the next (`Committing`): SQLite's writing, or the PostgreSQL server's, beside
the folding, rather than after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import orjson

from .partitions import DIRECTORY, DIRECTORY_VIEWS, PARTITIONS
from .store import PositionMoved

if TYPE_CHECKING:
    from .store import ViewStore

Doc = dict[str, Any]
Key = tuple[str, str]

LIMIT = 24 * 1024 * 1024
"""The memory documents kept may take at most, as `_cost` counts it (beyond it everything
kept is let go, `Remembered.evict`, and read from the store again as needed): a rebuild of a
million events must stay well within the memory of a small host. The process's memory grows about ten times
what is counted (the kept bytes pin the small-object arenas the fold's passing objects were
made in): a rebuild of a million events on SQLite peaked at 1.5 GB with 128 MB counted by bytes
alone, at 341 MB with this limit, in the same time (57 s; 2026-12-02, load 2). A log of 100k
events keeps all its views within it in a parallel rebuild (in one process, it passes the
limit at about 64k)."""
ENTRY = 200
"""What keeping a document costs beside its bytes: its key's tuple and string, the bytes
object's header and its slot in the dict (about 200 bytes on CPython 3.11)."""
DIRECTORY_FAMILY = DIRECTORY_VIEWS | {"alert_agency", "alert_partnership"}
"""Views only the directory partition writes (its people's events fold into them)."""
EVICTED_BITS = 1 << 24
"""The bits (2 MB) that remember which documents were let go for the limit: three a document,
so that at a million of them about one absent document in a hundred is looked for in the
store (where it is not found) rather than known absent."""
UNKEPT = frozenset({"delivery"})
"""Views not kept: every message delivered has a document, which only its rare updates read."""


class Remembered:
    """The documents one catch-up committed for its partitions, as the store holds them."""

    def __init__(self, store: ViewStore, parts: frozenset[int],
                 before_reading: Callable[[], None] = lambda: None, limit: int | None = None
                 ) -> None:
        self.store = store
        self.before_reading = before_reading
        """Called before the store is read (a commit under way must be in it first)."""
        self.parts = parts
        self.limit = LIMIT if limit is None else limit
        self.docs: dict[Key, bytes] = {}
        self.size = 0
        self.at: dict[int, int] | None = None
        """The positions this catch-up last left its partitions at (None: before its first)."""
        self.whole = False
        """Whether everything its partitions hold in the store is here or among the evicted
        (their fold began from nothing and nothing was forgotten since)."""
        self.evicted: bytearray | None = None
        """Which documents were let go (`evict`), as bits of their keys' hashes: one whose
        bits are not all set was never let go (a few that were not seem to be). None: none
        was."""
        self.directory = DIRECTORY in parts
        self.others = bool(parts - {DIRECTORY})

    def begin(self, at: Mapping[int, int], fresh: bool) -> None:
        """Before a batch: the partitions' positions as read now. Anyone else having moved
        them (they wrote documents of ours), everything kept is forgotten. `fresh`: the
        partitions were dropped just before this catch-up."""
        now = {p: at[p] for p in self.parts}
        if self.at is None:
            self.whole = fresh and not any(now.values())
        elif now != self.at:
            self.forget()
        self.at = now

    def forget(self) -> None:
        self.docs.clear()
        self.size = 0
        self.whole = False
        self.evicted = None

    def evict(self) -> None:
        """Let every kept document go, past the limit, remembering that it was (read from the
        store when next asked for): the fold still knows a document it never wrote is not
        there, and its commits still go on beside the folding."""
        if self.evicted is None:
            self.evicted = bytearray(EVICTED_BITS // 8)
        bits = self.evicted
        for k in self.docs:
            for bit in _bits(k):
                bits[bit >> 3] |= 1 << (bit & 7)
        self.docs.clear()
        self.size = 0

    def _absent(self, key: Key) -> bool:
        """Whether a document not kept here is known not to be in the store."""
        if not (self.whole and self._ours(key[0])):
            return False
        bits = self.evicted
        if bits is None:
            return True
        return not all(bits[bit >> 3] & (1 << (bit & 7)) for bit in _bits(key))

    def _ours(self, view: str) -> bool:
        """Whether a view's documents of the partitions folded are all kept here."""
        if view in UNKEPT:
            return False
        if self.parts == PARTITIONS or view == "ids":  # a fold reads its own aggregate's
            return True
        return self.directory if view in DIRECTORY_FAMILY else self.others

    def get(self, view: str, key: str) -> Doc | None:
        raw = self.docs.get((view, key))
        if raw is not None:
            found: Doc = orjson.loads(raw)
            return found
        if self._absent((view, key)):
            return None
        self.before_reading()
        return self.store.get(view, key)

    def get_many(self, keys: list[Key]) -> dict[Key, Doc]:
        found: dict[Key, Doc] = {}
        asked = []
        for k in keys:
            raw = self.docs.get(k)
            if raw is not None:
                found[k] = orjson.loads(raw)
            elif not self._absent(k):
                asked.append(k)
        if asked:
            self.before_reading()
            found.update(self.store.get_many(asked))
        return found

    def absent(self, keys: Iterable[Key]) -> frozenset[Key]:
        """Those of these keys known not to be in the store (their partitions' fold began
        from nothing and never wrote them since): before `committed` of the batch they are in.
        A store writes them without looking for them first, and need not delete them (a
        document let go past the limit, `evict`, is not among them)."""
        if not self.whole:
            return frozenset()
        docs = self.docs
        return frozenset(k for k in keys if k not in docs and self._absent(k))

    def committed(self, plain: Mapping[Key, bytes | None], parts: frozenset[int],
                  new: int) -> None:
        """After a commit of these documents (None: deleted) moving `parts` to `new`."""
        docs = self.docs
        for k, raw in plain.items():
            before = docs.pop(k, None)
            if before is not None:
                self.size -= _cost(k, before)
            if raw is not None and k[0] not in UNKEPT:
                docs[k] = raw
                self.size += _cost(k, raw)
        assert self.at is not None
        self.at.update({p: new for p in parts if p in self.at})
        if self.size > self.limit:
            self.evict()


def _bits(key: Key) -> tuple[int, int, int]:
    """The three bits of `Remembered.evicted` that stand for a document's key."""
    h = hash(key) & 0xFFFFFFFFFFFFFFFF
    mask = EVICTED_BITS - 1
    return h & mask, (h >> 20) & mask, (h >> 40) & mask


def _cost(key: Key, raw: bytes) -> int:
    """The memory one kept document takes, near enough (`ENTRY`)."""
    return ENTRY + len(key[1]) + len(raw)


class Committing:
    """A rebuild's commits, each on a thread of its own while the next batch is folded (the
    store's work, SQLite's or the PostgreSQL server's, beside the folding's): the positions a
    commit moves are checked in its transaction as ever, so one that another follower moved
    first fails there, and what was folded after it is not committed (`settled`)."""

    def __init__(self, store: ViewStore, turns: AbstractContextManager[Any] | None = None
                 ) -> None:
        self.store = store
        self.turns = turns if turns is not None else nullcontext()
        """Held around each commit: a parallel rebuild's processes' turn to write, on a store
        of one writer at a time (`ViewStore.ONE_WRITER`)."""
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.count = 0
        self.failed = 0

    def start(self, plain: Mapping[tuple[str, str], bytes | None], expected: Mapping[str, int],
              new: int, count: int, absent: frozenset[tuple[str, str]] = frozenset()) -> None:
        assert self.thread is None

        def commit() -> None:
            try:
                with self.turns:
                    self.store.commit(plain, expected, new, absent)
            except BaseException as e:  # noqa: BLE001 - handed to the folding thread
                self.error = e

        self.count = count
        self.thread = threading.Thread(target=commit, name="views commit", daemon=True)
        self.thread.start()

    def under_way(self) -> bool:
        return self.thread is not None

    def wait(self) -> None:
        """Until the commit under way is done (before reading the store)."""
        if self.thread is not None:
            self.thread.join()

    def settled(self) -> bool:
        """Whether the commit under way (if any) landed, once it is done: False when another
        follower moved a position first (`lost` says how many events it held); any other
        failure is raised here."""
        if self.thread is None:
            return self.failed == 0
        self.thread.join()
        self.thread = None
        error, self.error = self.error, None
        if error is None:
            return self.failed == 0
        if isinstance(error, PositionMoved):
            self.failed = self.count
            return False
        raise error

    def lost(self) -> int:
        """How many events the last failed commit held (0: none failed); then forgotten."""
        lost, self.failed = self.failed, 0
        return lost
