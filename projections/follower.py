"""Following the log: fold new events into the views from their tracking position, in batches."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.persistence import LedgerApplication
from ledger.sealing import SealingMapper

from .store import PositionMoved, ViewStore
from .views import RETIRED, TRACKING_NAME, Folding

log = logging.getLogger(__name__)

BATCH = 2000


@dataclass(frozen=True)
class Status:
    position: int
    head: int

    @property
    def behind(self) -> int:
        return max(0, self.head - self.position)


@contextmanager
def collecting_later() -> Iterator[None]:
    """The cyclic garbage collector held off while a batch is read, folded and written: a
    batch makes tens of thousands of short-lived objects and no cycles, and the collections
    they triggered (each walking every object of the process) were a sixth of a rebuild's
    CPU. Whatever a batch leaves is collected once it is done."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Follower:
    """Brings the views up to the log's head; any number may run, none folds an event twice."""

    def __init__(self, app: LedgerApplication, store: ViewStore, batch: int = BATCH) -> None:
        self.app = app
        self.store = store
        self.batch = batch
        self.checked = False

    def retire_old_views(self) -> bool:
        """Views folded by an earlier version (a retired position name, none of ours) are
        dropped, to be folded again from the log in the shape this version reads. Once per
        follower; True when it dropped them."""
        if self.checked:
            return False
        dropped = False
        with self.store.setting_up():
            names = self.store.positions()
            if TRACKING_NAME not in names and any(n in names for n in RETIRED):
                log.info("the views were folded by an earlier version; folding them again")
                self.store.drop()
                dropped = True
        self.checked = True
        return dropped

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def position(self) -> int:
        return self.store.positions().get(TRACKING_NAME, 0)

    def status(self) -> Status:
        return Status(self.position(), self.head())

    def catch_up(self, until: int | None = None) -> int:
        """Fold every event after our position (up to `until`); returns how many were read."""
        self.retire_old_views()
        read = 0
        while True:
            position = self.position()
            if until is not None and position >= until:
                return read
            with collecting_later():
                folded = self._fold_batch(position)
            if folded is None:
                return read
            read += folded

    def _fold_batch(self, position: int) -> int | None:
        """Fold the next batch after `position` and commit it with the new position: how
        many events it read (0 when another follower got there first), None at the head."""
        notifications = self.app.recorder.select_notifications(
            start=position, limit=self.batch, inclusive_of_start=False)
        if not notifications:
            return None
        folding = Folding(self.store.get, self.first_event)
        mapper = self.app.mapper
        events = (mapper.to_domain_events(notifications) if isinstance(mapper, SealingMapper)
                  else [mapper.to_domain_event(n) for n in notifications])
        oids = [str(e.originator_id) for e in events]
        folding.prefetch(events, oids, self.store.get_many)
        for n, event, oid in zip(notifications, events, oids, strict=True):
            folding.fold(event, n.id, oid)
        try:
            self.store.commit(folding.changes(), {TRACKING_NAME: position}, notifications[-1].id)
        except PositionMoved:
            return 0  # another follower got there first; carry on from where it left
        return len(notifications)

    def first_event(self, originator: str) -> Any | None:
        """An aggregate's first event, read from the log (one indexed read)."""
        stored = self.app.recorder.select_events(UUID(originator), limit=1)
        return self.app.mapper.to_domain_event(stored[0]) if stored else None

    def rebuild(self) -> int:
        self.store.drop()
        return self.catch_up()

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
