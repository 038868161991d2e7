"""Following the log: fold new events into the views from their tracking positions, in batches.

Each partition of the views (`projections.partitions`) has its own position. Followed as usual,
every partition is at the same position and a batch folds every event for all of them; a
rebuild folds the partitions in one process per CPU, each reading the log and folding only its
own partitions' events, and the positions meet at the head.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast
from uuid import UUID

from ledger.memory import collecting_later
from ledger.persistence import LedgerApplication
from ledger.recorders import ChainedRecorder, LogRow
from policies.escalation import bank_holidays

from .fold_processes import SPAWN_FROM, Opened, Turns, balanced, fold_share, forkable, worth_splitting
from .partitions import PARTITIONS, Router, programme_partition
from .remembered import Committing, Remembered
from .sealed_text import folded_events, folded_rows
from .store import PositionMoved, UnopenedView, ViewStore, canonical
from .views import RETIRED, Folding, position_name

log = logging.getLogger(__name__)

BATCH = 2000
FRESH_BATCH = 10_000
"""Events a batch of a fold from dropped views (a rebuild) reads: each batch's commit writes
every page of the documents' table its changes fall in, so fewer, larger commits write far
fewer pages (a share of the kept 100k log's rebuild: 96k -> 58k page writes, 62k -> 45k page
reads, 16k -> 9k futex waits, against batches of 2000)."""
@dataclass(frozen=True)
class Status:
    position: int
    head: int

    @property
    def behind(self) -> int:
        return max(0, self.head - self.position)


class Follower:
    """Brings the views up to the log's head; any number may run, none folds an event twice."""

    def __init__(self, app: LedgerApplication, store: ViewStore, batch: int = BATCH,
                 opener: Callable[[], Opened] | None = None) -> None:
        self.app = app
        self.store = store
        self.batch = batch
        self.fresh_batch = FRESH_BATCH if batch == BATCH else batch
        """The batch of a fold from dropped views (`FRESH_BATCH`, unless told a batch)."""
        self.opener = opener
        """Opens the same store afresh: what a parallel rebuild's processes fold with."""
        self.checked = False
        self.processes = 1
        """How many processes folded the last rebuild."""
        self.parallel_from: int | None = None
        """The shortest log rebuilt in several processes (None: as `rebuild` judges)."""
        self.committing: Committing | None = None
        """The commit under way on a thread of its own (a rebuild's), if any."""
        self.log = cast(ChainedRecorder, app.recorder)
        """The ledger's recorder: its rows are what the folds read."""
        self.router = Router(self._stored_docs, self.first_event, self.log.str_id)
        self.turns: Turns | None = None
        """A parallel rebuild's turns to commit, shared by its processes, on a store of one
        writer at a time (None: not in one)."""

    def retire_old_views(self) -> bool:
        """Views folded by an earlier version (a retired position name, none of ours) are
        dropped, to be folded again from the log in the shape this version reads. Once per
        follower; True when it dropped them."""
        if self.checked:
            return False
        dropped = False
        with self.store.setting_up():
            names = self.store.positions()
            ours = {position_name(p) for p in PARTITIONS}
            if not ours & set(names) and any(n in names for n in RETIRED):
                log.info("the views were folded by an earlier version; folding them again")
                self.store.drop()
                dropped = True
        self.checked = True
        return dropped

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def positions(self, names: dict[str, int] | None = None) -> dict[int, int]:
        """Each partition's position (0 for one never folded), from the store's positions by
        name (read now, unless given)."""
        names = self.store.positions() if names is None else names
        return {p: names.get(position_name(p), 0) for p in PARTITIONS}

    def position(self) -> int:
        """How far every partition has folded."""
        return min(self.positions().values())

    def is_behind(self) -> bool:
        """Whether the log holds events the views have not folded yet: the positions and the
        log's head read together where the store can (the bot asks before every answer)."""
        table = getattr(self.app.recorder, "events_table_name", "")
        names, head = self.store.positions_and_head(table) if table else \
            (self.store.positions(), None)
        return (self.head() if head is None else head) > min(self.positions(names).values())

    def status(self) -> Status:
        return Status(self.position(), self.head())

    def catch_up(self, until: int | None = None, parts: frozenset[int] = PARTITIONS,
                 fresh: bool = False) -> int:
        """Fold every event after the positions of these partitions (all of them unless
        told), up to `until`; returns how many events were read. `fresh`: the views were
        dropped just before (a rebuild), so while their positions are still at nothing, no
        document of these partitions is in the store but what this catch-up writes; then
        each batch is committed on a thread of its own while the next is folded."""
        self.retire_old_views()
        committing = self.committing = Committing(self.store, self.turns)
        memory = Remembered(self.store, parts, committing.wait)
        try:
            return self._catch_up(until, parts, fresh, memory, committing)
        finally:
            committing.wait()
            self.committing = None

    def _stored_docs(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """Documents read from the store, once the commit under way (if any) is in it."""
        if self.committing is not None:
            self.committing.wait()
        return self.store.get_many(keys)

    def _catch_up(self, until: int | None, parts: frozenset[int], fresh: bool,
                  memory: Remembered, committing: Committing) -> int:
        read = 0
        while True:
            if memory.whole and memory.at is not None and committing.under_way():
                at = dict(memory.at)  # as the commit under way leaves them (it checks them)
            else:
                if not committing.settled():  # another follower got there first
                    read -= committing.lost()
                    memory.forget()
                at = self.positions()
                memory.begin(at, fresh)
            lowest = min(at[p] for p in parts)
            level = frozenset(p for p in parts if at[p] == lowest)
            ahead = [at[p] for p in parts if p not in level]
            stops = [x for x in (min(ahead) if ahead else None, until) if x is not None]
            batch = None
            if until is None or lowest < until:
                with collecting_later():  # the lowest first, only until they meet the others
                    batch = self._fold_batch(lowest, level, min(stops) if stops else None,
                                             memory)
            if batch is None or not committing.settled():
                lost = committing.lost()
                if not lost:  # at the head (or `until`), the last commit landed
                    return read
                read -= lost  # it did not: carry on from where the other follower left
                memory.forget()
                continue
            plain, new, count = batch
            expected = {position_name(p): lowest for p in level}
            if memory.whole:
                committing.start(plain, expected, new, count, memory.absent(plain))
            else:
                try:
                    with committing.turns:
                        self.store.commit(plain, expected, new)
                except PositionMoved:
                    memory.forget()
                    continue  # another follower got there first; carry on from where it left
            memory.committed(plain, level, new)
            read += count

    def _fold_batch(self, position: int, parts: frozenset[int], stop: int | None,
                    memory: Remembered) -> tuple[dict[tuple[str, str], bytes | None], int, int
                                                 ] | None:
        """Fold the next batch after `position` for these partitions (all at that position):
        the documents it changed (canonical bytes; None: deleted), the position it reaches
        and how many events it read; None at the head. Documents are read through `memory`,
        which keeps what is committed."""
        rows = self.log.select_rows(position, self.fresh_batch if memory.whole else self.batch,
                                    stop)
        if not rows:
            return None
        folding = Folding(memory.get, self.first_event)
        if parts == PARTITIONS:
            self._fold(folding, rows, memory)
        else:
            self._fold_some(folding, rows, parts, memory)
        plain = {k: None if doc is None else canonical(doc)
                 for k, doc in folding.changes().items()}
        return plain, rows[-1][0], len(rows)

    def _fold(self, folding: Folding, rows: Sequence[LogRow], memory: Remembered,
              decoded: dict[int, Any] | None = None, belongs: dict[int, int] | None = None
              ) -> None:
        """Fold these rows' events (those already decoded taken from `decoded` by position;
        each folded for its partition in `belongs`, when given)."""
        if decoded:
            fresh = iter(self._decoded([r for r in rows if r[0] not in decoded]))
            events = [decoded[r[0]] if r[0] in decoded else next(fresh) for r in rows]
        else:
            events = self._decoded(rows)
        str_id = self.log.str_id
        oids = [str_id(r[1]) for r in rows]
        if not memory.whole:  # else every document is read from memory, or known absent
            folding.prefetch(events, oids, memory.get_many)
        fold = folding.fold
        if belongs is None:
            for row, event, oid in zip(rows, events, oids, strict=True):
                fold(event, row[0], oid)
        else:
            for row, event, oid in zip(rows, events, oids, strict=True):
                folding.part = belongs[row[0]]
                fold(event, row[0], oid)

    def _fold_some(self, folding: Folding, rows: Sequence[LogRow], parts: frozenset[int],
                   memory: Remembered) -> None:
        """Fold only these partitions' events, writing only their documents. Aggregates'
        first events are looked into to learn where they and their later events belong;
        events are decoded only when they are these partitions'."""
        router = self.router
        decoded: dict[int, Any] = {}
        belongs: dict[int, int] = {}
        later: list[LogRow] = []
        for row in rows:  # in the log's order: a programme is learnt before its cases
            if row[2] != 1:
                later.append(row)
                continue
            found = router.peek(row, self.app.mapper)
            if found is None:  # a class with upcasters (a programme's opening): decoded
                decoded[row[0]] = self._decoded([row])[0]
                found = router.first(decoded[row[0]], row[1])
            part, also = found
            if part in parts or also in parts:
                belongs[row[0]] = part
        for row, known in zip(later, router.later([r[1] for r in later]), strict=True):
            if known is not None and known in parts:
                belongs[row[0]] = known
        mine = [r for r in rows if r[0] in belongs]
        folding.only = parts
        self._fold(folding, mine, memory, decoded, belongs)

    def _decoded(self, rows: Sequence[LogRow]) -> list[Any]:
        return folded_rows(self.app.mapper, rows)  # personal text kept sealed

    def first_event(self, originator: str) -> Any | None:
        """An aggregate's first event, read from the log (one indexed read), its personal
        text kept sealed as the folds take it."""
        stored = self.app.recorder.select_events(UUID(originator), limit=1)
        return folded_events(self.app.mapper, stored)[0] if stored else None

    def rebuild(self) -> int:
        """Drop the views and fold the whole log again: in one process per CPU, each folding
        its share of the partitions (this one too; the others opened with `opener`, which
        must pickle), when the log is long enough and its partitions split evenly enough to
        gain from it; whatever they leave (nothing, unless one failed) is folded here after."""
        self.retire_old_views()
        weights = self._weights()
        self.store.drop()
        self.processes = 1
        workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1, len(PARTITIONS))
        import multiprocessing  # here: a command that only reads never starts processes

        # Forked when nothing else runs in this process but, at most, the PostgreSQL pool's
        # threads (`forkable`): quick to start. Otherwise started afresh, as forking beside
        # other threads is unsafe, which costs each process its imports (about 0.5 s of CPU,
        # and at 100k on PostgreSQL the second process began folding 1.9 s after the first).
        alone = threading.active_count() == 1
        forking = forkable() and "fork" in multiprocessing.get_all_start_methods()
        shares = balanced(weights, workers)
        if self.opener is None or len(shares) < 2 or self.head() < (
                self.parallel_from if self.parallel_from is not None
                else 2 * self.batch if forking and alone else SPAWN_FROM) or (
                self.parallel_from is None and not worth_splitting(weights, shares)):
            return self.catch_up(fresh=True)
        if forking:
            bank_holidays(date.today().year)  # imported once, not in each process forked
        context = (multiprocessing.get_context("fork") if forking
                   else multiprocessing.get_context("spawn"))
        results = context.SimpleQueue()
        # On SQLite the processes take turns to commit by this lock: waiting for the database's
        # own, a commit slept in its busy handler (1, 2, 5, 10 ms...), about a fifth of a 10k
        # rebuild's time.
        turns = context.Lock() if self.store.ONE_WRITER else None
        mine, *theirs = shares
        processes = [context.Process(target=fold_share, args=(self.opener, share, results,
                                                               turns),
                                     name=f"fold-{w}") for w, share in enumerate(theirs, 1)]
        self.processes = len(processes) + 1
        for p in processes:
            p.start()
        self.turns = Turns(turns) if turns is not None else None
        try:
            read = self.catch_up(parts=mine, fresh=True)
        finally:
            self.turns = None
            for p in processes:
                p.join()
        read = max([read, *(results.get() for p in processes if p.exitcode == 0)])
        failed = [p.name for p in processes if p.exitcode != 0]
        if failed:
            log.warning("%s did not finish folding; folding the rest here", ", ".join(failed))
        return read + self.catch_up()

    def _weights(self) -> dict[int, int]:
        """How much each partition is expected to hold: one for each, and ten for each of its
        programmes in the views before a rebuild drops them (a rebuild after tampering finds
        some unreadable: then the same for all)."""
        weights = dict.fromkeys(PARTITIONS, 1)
        try:
            programmes = self.store.scan("programme")
        except UnopenedView:
            return weights
        for key, doc in programmes:
            weights[programme_partition(str(doc.get("programme") or key))] += 10
        return weights

    def follow(self, stop: threading.Event, interval: float = 0.1) -> None:
        """Keep folding until stopped; a lost connection is waited out, not fatal."""
        failures = 0
        while not stop.is_set():
            try:
                self.catch_up()
                failures = 0
            except Exception as e:  # noqa: BLE001 - supervise: log the kind, wait, go on
                failures += 1
                log.warning("views could not catch up (%s); trying again", type(e).__name__)
                stop.wait(min(5.0, 0.2 * 2 ** min(failures, 5)))
                continue
            stop.wait(interval)


def wait_for(follower: Follower, position: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while follower.position() < position:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
