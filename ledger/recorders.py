"""The chaining recorders: each store's write path extending the hash chain as it inserts.

The settings select them with the library's APPLICATION_RECORDER_TOPIC, so every event the
ledger stores goes through one of them, and its chain rows are written in the same
transaction as the events. Each also chains a store written before there was a chain, and
reads the log and its chain inside one snapshot for `ledger.verification`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from .chain import (
    CHAIN_TABLE,
    GENESIS,
    ChainRow,
    ChainSnapshot,
    EventRow,
    batches,
    chain_rows,
    recorded_hash,
    stored_row,
)


class ChainedRecorder:
    """What every chaining recorder is (PostgreSQL's is in `ledger.postgres_store`, imported
    only for a PostgreSQL store, so SQLite never loads psycopg)."""

    def chain_snapshot(self) -> Any:  # pragma: no cover - each recorder has its own
        raise NotImplementedError


class _SQLiteSnapshot:
    def __init__(self, c: SQLiteCursor, events_table: str) -> None:
        self.c = c
        self.events_table = events_table

    def events_after(self, notification_id: int | None, limit: int) -> list[EventRow]:
        where = "" if notification_id is None else "WHERE rowid>? "
        params: list[Any] = [] if notification_id is None else [notification_id]
        self.c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                       f"{self.events_table} {where}ORDER BY rowid LIMIT ?", [*params, limit])
        return [(r[0], r[1], r[2], r[3], r[4]) for r in self.c.fetchall()]

    def chain_after(self, position: int | None, limit: int) -> list[ChainRow]:
        where = "" if position is None else "WHERE position>? "
        params: list[Any] = [] if position is None else [position]
        self.c.execute(f"SELECT position, notification_id, hash FROM {CHAIN_TABLE} {where}"
                       "ORDER BY position LIMIT ?", [*params, limit])
        return [(r[0], r[1], r[2]) for r in self.c.fetchall()]


class ChainedSQLiteRecorder(ChainedRecorder, SQLiteApplicationRecorder):
    """The library's SQLite recorder, extending the hash chain in each insert's transaction."""

    def create_table(self) -> None:
        super().create_table()
        self._start_chain()

    def _start_chain(self) -> None:
        """Make the chain table; on a store written before there was one, chain what is there."""
        if self._has_chain_table():
            return
        with self.datastore.get_connection(commit=True) as conn:
            c = conn.cursor()
            c.execute("BEGIN IMMEDIATE")  # one writer: nobody stores events while we chain
            try:
                c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                          [CHAIN_TABLE])
                if c.fetchone() is None:
                    c.execute(f"CREATE TABLE {CHAIN_TABLE} (position INTEGER PRIMARY KEY, "
                              "notification_id INTEGER NOT NULL, hash TEXT NOT NULL)")
                    snapshot = _SQLiteSnapshot(c, self.events_table_name)
                    head = (0, GENESIS)
                    for rows in batches(snapshot.events_after, key=lambda r: int(r[0])):
                        chained = chain_rows(head, rows)
                        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)", chained)
                        head = (chained[-1][0], bytes.fromhex(chained[-1][2]))
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _has_chain_table(self) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", [CHAIN_TABLE])
            return c.fetchone() is not None

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        # The inserts come first: they take SQLite's write lock, so the head read below is
        # the latest and nobody can add to the chain until this transaction ends.
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None and len(ids) == len(stored_events)
        c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
        found = c.fetchone()
        head = (int(found[0]), recorded_hash(found[1])) if found else (0, GENESIS)
        rows = sorted((stored_row(int(i), e) for i, e in zip(ids, stored_events, strict=True)),
                      key=lambda r: int(r[0]))
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)", chain_rows(head, rows))
        return ids

    @contextmanager
    def chain_snapshot(self) -> Iterator[ChainSnapshot]:
        # One read transaction: in WAL mode every read in it sees the same committed state.
        with self.datastore.transaction(commit=False) as c:
            yield _SQLiteSnapshot(c, self.events_table_name)
