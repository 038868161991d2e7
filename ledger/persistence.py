"""The ledger's plumbing: the library's Application set up to store, load and retry its events."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    OperationalError,
    Recording,
    StoredEvent,
    Transcoding,
)
from eventsourcing.sqlite import SQLiteAggregateRecorder

from .base import LedgerError
from .ids import IdScheme, scheme_of
from .sealed_store import SealingEventStore
from .sealing import SealingMapper, ledger_mapper

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

CONFLICT_PATIENCE = 10.0  # seconds of retrying before a writer gives up on a busy aggregate
CONFLICT_FIRST_WAIT = 0.01  # the first retry's longest wait; doubled each time, up to...
CONFLICT_LONGEST_WAIT = 0.5  # ...this, and each wait drawn at random below it ("full jitter")
LOOKUP_BATCH = 500  # aggregate ids a query: within SQLite's oldest limit of bound parameters


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class TooBusy(LedgerError):
    """Other writers kept changing the same record for longer than a person should wait."""

    def __init__(self) -> None:
        super().__init__(TOO_BUSY)


TOO_BUSY = "too many people changed this at once: try again"


def _busy(e: OperationalError) -> bool:
    """A store busy with other writers (SQLite's lock, PostgreSQL's lock timeout or deadlock):
    the attempt was rolled back, and trying again is safe."""
    said = str(e).lower()
    return "locked" in said or "lock timeout" in said or "deadlock" in said


def _select_events_of(recorder: AggregateRecorder, aggregate_ids: list[UUID]
                      ) -> list[StoredEvent] | None:
    """The stored events of all these aggregates in one query, in version order per
    aggregate; None when the recorder offers no such query (ask it per aggregate then)."""
    if isinstance(recorder, SQLiteAggregateRecorder):  # the ledger's chained one too
        by_hex = {aggregate_id.hex: aggregate_id for aggregate_id in aggregate_ids}
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT originator_id, originator_version, topic, state FROM "
                         f"{recorder.events_table_name} WHERE originator_id IN "
                         f"({','.join('?' * len(by_hex))}) "
                         "ORDER BY originator_id, originator_version", list(by_hex))
            return [StoredEvent(by_hex[row["originator_id"]], row["originator_version"],
                                row["topic"], row["state"]) for row in curs.fetchall()]
    try:
        from eventsourcing.postgres import PostgresAggregateRecorder
    except ImportError:  # without the postgres extra
        return None
    if isinstance(recorder, PostgresAggregateRecorder) and \
            recorder.datastore.originator_id_type == "uuid":
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT originator_id, originator_version, topic, state FROM {}.{} "
                        "WHERE originator_id = ANY(%s) "
                        "ORDER BY originator_id, originator_version").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        # Results in binary: the states' bytes as they are, not hex to be decoded.
        with recorder.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(statement, [aggregate_ids], prepare=True)
            return [StoredEvent(row["originator_id"], row["originator_version"], row["topic"],
                                bytes(row["state"])) for row in curs.fetchall()]
    return None


def store_scheme(recorder: ApplicationRecorder, key: str) -> IdScheme:
    """A store's id scheme (`ledger.ids`) from its first event, made with `key` if keyed."""
    try:
        first = recorder.select_notifications(start=None, limit=1)
    except ValueError:  # a first row edited by hand: `verify` names it
        first = []
    return scheme_of(first[0].originator_id if first else None, key)


AGGREGATE, EVENT, OTHER = "aggregate", "event", "other"
_KINDS: dict[type, str] = {}


def _kind(cls: type) -> str:
    """Whether objects of this class are aggregates, aggregate events or neither (worked out
    once a class: the library's aggregate classes check instances through `ABCMeta`, a call
    into Python each)."""
    found = _KINDS[cls] = (AGGREGATE if issubclass(cls, Aggregate) else
                           EVENT if issubclass(cls, Aggregate.Event) else OTHER)
    return found


class LedgerApplication(Application[UUID]):
    """Events sealed per case on the way in, chained by the store, read back in batches;
    every command's load-decide-save retried when another writer got there first."""

    is_snapshotting_enabled = False

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_mapper(self) -> Mapper[UUID]:
        # Personal text is sealed per case here, in the write path's one place.
        return ledger_mapper(self.factory, self.construct_transcoder())

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        if isinstance(self.mapper, SealingMapper):
            self.mapper.recorder = recorder  # to find the case of an aggregate's later events
            self.mapper.scheme = lambda: self.ids
        return recorder

    _ids: IdScheme | None = None

    @property
    def ids(self) -> IdScheme:
        """How this store names its aggregates (`ledger.ids`): read from its first event once,
        when first asked. Without a lock: two threads asking at once read the same scheme.
        (functools.cached_property before Python 3.12 holds one lock for every instance while
        it reads, so a thread reading one store's scheme could hold up, or wait on, another
        thread holding the store: the bot's threads ask from inside the case keys' lock.)"""
        found = self._ids
        if found is None:
            found = self._ids = store_scheme(self.recorder, self.env.get("CIPHER_KEY") or "")
        return found

    def construct_event_store(self) -> EventStore[UUID]:
        return SealingEventStore(mapper=self.mapper, recorder=self.recorder)

    # ---- loading -------------------------------------------------------------

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, cls)
        return aggregate

    def stored_events_of(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events, in version order, of those of these aggregates that exist.

        A few hundred aggregates a query rather than a query each: an import looks up every
        aggregate of its pack, most of them new. Give them to `rebuild`.
        """
        wanted = list(dict.fromkeys(aggregate_ids))
        out: dict[UUID, list[StoredEvent]] = {}
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start:start + LOOKUP_BATCH]
            events = _select_events_of(self.recorder, batch)
            if events is None:
                for aggregate_id in batch:
                    found = list(self.recorder.select_events(aggregate_id))
                    if found:
                        out[aggregate_id] = found
                continue
            for event in events:
                assert isinstance(event.originator_id, UUID)
                out.setdefault(event.originator_id, []).append(event)
        return out

    def rebuild(self, cls: type[A], aggregate_id: UUID,
                stored: Sequence[StoredEvent]) -> A | None:
        """The aggregate replayed afresh from its events read by `stored_events_of`: what
        `find` gives (`find` itself, should the repository cache or snapshot aggregates)."""
        if self.repository.cache is not None or self.repository.snapshot_store is not None:
            return self.find(cls, aggregate_id)
        # The library's project_aggregate, without its runtime protocol check on each event
        # (the ledger's events are the library's aggregate events, each with `mutate`).
        mapper = self.mapper
        events: Iterable[Any] = (mapper.to_domain_events(stored)
                                 if isinstance(mapper, SealingMapper)
                                 else map(mapper.to_domain_event, stored))
        aggregate: Aggregate | None = None
        for event in events:
            aggregate = event.mutate(aggregate)
        if aggregate is None:
            return None
        assert isinstance(aggregate, cls)
        return aggregate

    # ---- writing -------------------------------------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `Application.save`, without its runtime `Protocol` checks where the
        types are known.

        The library's `ProcessingEvent.collect_events` asks `isinstance(obj,
        DomainEventProtocol)` and `isinstance(obj, CollectEventsProtocol)` of each object saved:
        runtime-checkable protocols, about 10% of an import of thousands of aggregates. The
        ledger saves its own aggregates and aggregate events (`eventsourcing.domain.Aggregate`
        and `Aggregate.Event`, ordinary class checks), so the aggregates' events are collected
        with their public `collect_events`, events are saved as they are (an import saves a
        brand-new aggregate it only writes as its first event alone: `LedgerAggregate.creation`),
        all put in the event store (`EventStore.put`), then the application's `_notify` hook is
        called as the library's save calls it. Anything else, or an application taking
        snapshots or caching aggregates, is saved by the library's own `save`."""
        kinds = [_KINDS.get(type(obj)) or _kind(type(obj)) for obj in objs]
        if (self.snapshots is not None or self.repository.cache is not None
                or OTHER in kinds):
            return super().save(*objs, **kwargs)
        events: list[Any] = []
        for obj, kind in zip(objs, kinds, strict=True):
            if kind is AGGREGATE:
                events += obj.collect_events()
            else:
                events.append(obj)
        recordings = self.events.put(events, **kwargs)
        self._notify(recordings)
        self.notify(events)  # the library's deprecated hook, still called by its save
        return recordings

    def retrying(self, attempt: Callable[[], T]) -> T:
        """Run a load-decide-save attempt again when another writer got there first.

        Waits grow and are drawn at random, so writers that collided do not collide again in
        step; after a few seconds of losing, the person is told to try again (`TooBusy`)."""
        started = time.monotonic()
        for n in itertools.count():
            try:
                return attempt()
            except (IntegrityError, OperationalError) as e:
                if not (isinstance(e, IntegrityError) or _busy(e)):
                    raise
                longest = min(CONFLICT_LONGEST_WAIT, CONFLICT_FIRST_WAIT * 2 ** min(n, 16))
                wait = random.uniform(0, longest)
                if time.monotonic() - started + wait > CONFLICT_PATIENCE:
                    raise TooBusy() from None
                time.sleep(wait)
        raise AssertionError("unreachable")
