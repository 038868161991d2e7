"""The chaining recorders: each store's write path extending the hash chain as it inserts.

The settings select them with the library's APPLICATION_RECORDER_TOPIC, so every event the
ledger stores goes through one of them, and its chain rows are written in the same
transaction as the events, and (with a key) the commit's signed head (`ledger.signing`).
Each refuses to write beside a missing or emptied chain, or on top of a head it did not
sign; adopts a store written before there was a chain only when asked (`adopt_chain`); and
reads the log, its chain and signatures inside one snapshot for `ledger.verification`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from .case_keys import NEW_KEYS
from .chain import (
    CHAIN_TABLE,
    GENESIS,
    ChainRow,
    ChainSnapshot,
    EventRow,
    batches,
    chain_rows,
    recorded_hash,
)
from .signing import SIGNATURE_TABLE, ChainRefused, ChainSigner, SignatureRow, tail_problem

CHAIN_GONE = ("the record's hash chain is missing or empty beside stored events: it was "
              "dropped or emptied outside the ledger, so nothing was written. Run audit-ledger "
              "verify and ask whoever looks after the store; a store written before the ledger "
              "kept a chain is taken on with audit-ledger adopt-chain")

class _Signing:
    """What both recorders do around the chain: refuse to extend a head that is not theirs to
    extend, and sign each commit's new head when the process holds a signing key."""

    signer: ChainSigner | None = None  # set by the store's factory (`ledger.store_key`)

    def _check_tail(self, found: Any, last: Any) -> None:
        head = (int(found[0]), str(found[1])) if found is not None else None
        problem = tail_problem(head, tuple(last) if last is not None else None, self.signer)
        if problem:
            raise ChainRefused(problem)

    def _signed(self, chained: list[tuple[int, int, str]]) -> SignatureRow | None:
        """The signature row of this commit's new head, when this process signs."""
        if self.signer is None or not chained:
            return None
        position, _, head_hash = chained[-1]
        return (position, head_hash, self.signer.public, self.signer.sign(position, head_hash))


_HEX = re.compile("[0-9a-f]{32}")

ADOPTION_TABLE = "event_chain_adoptions"
CHAIN_DDL = ("CREATE TABLE {} (position bigint PRIMARY KEY, notification_id bigint NOT NULL, "
             "hash text NOT NULL)")
ADOPT_CHAINED = ("this store's log already has a hash chain: there is nothing to adopt (run "
                 "audit-ledger verify to check it)")
ADOPT_SIGNED = ("this store's chain was signed, so it was not written before the ledger kept "
                "a chain: it was removed or emptied outside the ledger. It is not adopted; "
                "restore the store from a backup and ask whoever looks after it")
ADOPT_EMPTY = "this store holds no events: its chain starts with the first one stored"


def _refuse_adoption(snapshot: ChainSnapshot) -> None:
    """Adoption is only for a log stored before the ledger kept a chain."""
    if not snapshot.events_after(None, 1):
        raise ChainRefused(ADOPT_EMPTY)
    if snapshot.chain_after(None, 1):
        raise ChainRefused(ADOPT_CHAINED)
    if snapshot.signatures_after(None, 1):
        raise ChainRefused(ADOPT_SIGNED)


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
        import sqlite3

        where = "" if position is None else "WHERE position>? "
        params: list[Any] = [] if position is None else [position]
        try:
            self.c.execute(f"SELECT position, notification_id, hash FROM {CHAIN_TABLE} {where}"
                           "ORDER BY position LIMIT ?", [*params, limit])
        except sqlite3.OperationalError:
            return []  # the table is missing: `verify` names it
        return [(r[0], r[1], r[2]) for r in self.c.fetchall()]

    def signatures_after(self, position: int | None, limit: int) -> list[SignatureRow]:
        import sqlite3

        where = "" if position is None else "WHERE position>? "
        params: list[Any] = [] if position is None else [position]
        try:
            self.c.execute(f"SELECT position, hash, public_key, signature FROM "
                           f"{SIGNATURE_TABLE} {where}ORDER BY position LIMIT ?",
                           [*params, limit])
        except sqlite3.OperationalError:
            return []  # a store no release since signing has opened: nothing is signed
        return [(r[0], r[1], r[2], r[3]) for r in self.c.fetchall()]

    def adoptions(self) -> list[tuple[Any, Any, Any]]:
        import sqlite3

        try:
            self.c.execute(f"SELECT position, adopted_by, adopted_at FROM {ADOPTION_TABLE} "
                           "ORDER BY position")
        except sqlite3.OperationalError:
            return []  # never adopted
        return [(r[0], r[1], r[2]) for r in self.c.fetchall()]


LogRow = tuple[int, Any, int, str, bytes]
"""One stored event as read for folding: notification id, originator id as the recorder reads
it (a key to route by; `str_id` spells it), version, topic and state as stored."""


class ChainedRecorder(_Signing):
    """What every chaining recorder is (PostgreSQL's is in `ledger.postgres_store`, imported
    only for a PostgreSQL store, so SQLite never loads psycopg)."""

    def select_rows(self, start: int, limit: int, stop: int | None = None) -> list[LogRow]:
        """The log after notification `start` (up to `stop`), at most `limit` events, as plain
        rows: what the views' folding reads, most of it only to route. Here through the
        library's `select_notifications`; SQLite's reads its table directly."""
        found = self.select_notifications(  # type: ignore[attr-defined]
            start=start, limit=limit, stop=stop, inclusive_of_start=False)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in found]

    def str_id(self, originator: Any) -> str:
        """A row's originator id as `str` of its UUID (as the views key aggregates)."""
        return str(originator)

    def chain_snapshot(self) -> Any:  # pragma: no cover - each recorder has its own
        raise NotImplementedError

    @staticmethod
    def _store_new_keys(c: Any, kwargs: dict[str, Any]) -> None:
        """In each insert's transaction, before its events: the case keys the save made
        (`ledger.case_keys.NewKeys`), so a save that fails or is killed leaves no key behind,
        and a key stored meanwhile by another process fails the save (which is retried)."""
        new_keys = kwargs.get(NEW_KEYS)
        if new_keys is not None:
            new_keys.insert(c)


class ChainedSQLiteRecorder(ChainedRecorder, SQLiteApplicationRecorder):
    """The library's SQLite recorder, extending the hash chain in each insert's transaction,
    and signing each commit's new head when the process holds a signing key."""

    def create_table(self) -> None:
        super().create_table()
        self._start_chain()
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {SIGNATURE_TABLE} (position INTEGER PRIMARY "
                      "KEY, hash TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL)")

    def _start_chain(self) -> None:
        """Make the chain table beside an empty log. Beside stored events it stays missing
        (and every write refuses) until someone adopts the log with `adopt_chain`."""
        if self._has_chain_table():
            return
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT 1 FROM {self.events_table_name} LIMIT 1")
            if c.fetchone() is None:
                c.execute(f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY "
                          "KEY, notification_id INTEGER NOT NULL, hash TEXT NOT NULL)")

    def adopt_chain(self, by: str, at: str) -> tuple[int, str]:
        """Chain a log stored without a chain, recording who adopted it and when; refused
        when the log has a chain or was ever signed. Returns the head (position, hash)."""
        with self.datastore.get_connection(commit=True) as conn:
            c = conn.cursor()
            c.execute("BEGIN IMMEDIATE")  # one writer: nobody stores events while we chain
            try:
                _refuse_adoption(_SQLiteSnapshot(c, self.events_table_name))
                c.execute(f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY "
                          "KEY, notification_id INTEGER NOT NULL, hash TEXT NOT NULL)")
                c.execute(f"CREATE TABLE IF NOT EXISTS {ADOPTION_TABLE} (position INTEGER "
                          "PRIMARY KEY, adopted_by TEXT NOT NULL, adopted_at TEXT NOT NULL)")
                snapshot = _SQLiteSnapshot(c, self.events_table_name)
                head = (0, GENESIS)
                for rows in batches(snapshot.events_after, key=lambda r: int(r[0])):
                    chained = chain_rows(head, rows)
                    c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)", chained)
                    head = (chained[-1][0], bytes.fromhex(chained[-1][2]))
                c.execute(f"INSERT INTO {ADOPTION_TABLE} VALUES (?,?,?)", [head[0], by, at])
                signed = self._signed([(head[0], 0, head[1].hex())])
                if signed:
                    c.execute(f"INSERT INTO {SIGNATURE_TABLE} VALUES (?,?,?,?)", signed)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        return head[0], head[1].hex()

    def _has_chain_table(self) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", [CHAIN_TABLE])
            return c.fetchone() is not None

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        # The inserts come first: they take SQLite's write lock, so the head read below is
        # the latest and nobody can add to the chain until this transaction ends.
        import sqlite3

        self._store_new_keys(c, kwargs)
        rows, ordered = self._inserted_rows(c, stored_events)
        try:
            c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
            found = c.fetchone()
            c.execute(f"SELECT position, hash, public_key, signature FROM {SIGNATURE_TABLE} "
                      "ORDER BY position DESC LIMIT 1")
            last = c.fetchone()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                raise ChainRefused(CHAIN_GONE) from None
            raise
        if found is None and rows:
            c.execute(f"SELECT 1 FROM {self.events_table_name} WHERE rowid<? LIMIT 1",
                      [min(int(r[0]) for r in rows)])
            if c.fetchone() is not None:
                raise ChainRefused(CHAIN_GONE)
        self._check_tail(found, last)
        head = (int(found[0]), recorded_hash(found[1])) if found else (0, GENESIS)
        in_order = rows if ordered else sorted(rows, key=lambda r: int(r[0]))
        chained = chain_rows(head, in_order)
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)", chained)
        signed = self._signed(chained)
        if signed:
            c.execute(f"INSERT INTO {SIGNATURE_TABLE} VALUES (?,?,?,?)", signed)
        return [r[0] for r in rows]

    def _inserted_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]
                       ) -> tuple[list[EventRow], bool]:
        """Insert the events in one `executemany` (the library's recorder runs a statement an
        event to read each one's rowid) and return each as the row it became, its rowid
        first, in the order given; and whether that is their rowids' order (it is, but past
        SQLite's largest rowid). One statement inserting in a write transaction gives its
        rows consecutive rowids after the table's largest, so the last one SQLite reports
        (`last_insert_rowid()`) names them all. That is checked (the rows from the first are
        as many as inserted, the last the largest): should SQLite have picked them otherwise
        (its largest possible rowid taken), each event's rowid is read by its key instead."""
        params = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                   s.originator_version, s.topic, s.state) for s in stored_events]
        if not params:
            return [], True
        c.executemany(self.insert_events_statement, params)
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        first = last - len(params) + 1
        c.execute(f"SELECT count(*), max(rowid) FROM {self.events_table_name} WHERE rowid>=?",
                  [first])
        count, largest = c.fetchone()
        if int(count) == len(params) and int(largest) == last:
            return [(n, *p) for n, p in zip(range(first, last + 1), params, strict=True)], True
        out: list[EventRow] = []
        for p in params:  # rowids past the largest SQLite stores (test_save_path)
            c.execute(f"SELECT rowid FROM {self.events_table_name} WHERE originator_id=? AND "
                      "originator_version=?", [p[0], p[1]])
            out.append((int(c.fetchone()[0]), *p))
        return out, False

    def select_rows(self, start: int, limit: int, stop: int | None = None) -> list[LogRow]:
        """`ChainedRecorder.select_rows` in plain SQL on this recorder's own table: the same
        events as the library's `select_notifications`, as tuples, with no `Notification` or
        `UUID` made for each (a parallel rebuild reads every event in every process, and
        decodes only its share); originator ids as stored."""
        statement = (f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                     f"{self.events_table_name} WHERE rowid>? ")
        params = [start]
        if stop is not None:
            statement += "AND rowid<=? "
            params.append(stop)
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor
            cursor.row_factory = None  # plain tuples, not the library's sqlite3.Row
            cursor.execute(statement + "ORDER BY rowid LIMIT ?", params)
            rows: list[LogRow] = cursor.fetchall()
        return rows

    def str_id(self, originator: Any) -> str:
        """A stored originator id as `str` of its UUID: the library stores a UUID's 32 hex
        digits, spelt here as `str` spells them; anything else as the library would read it
        (`UUID`, which fails as its read would), or as stored for a store of text ids."""
        if self.datastore.originator_id_type != "uuid":
            return str(originator)
        h = originator
        if _HEX.fullmatch(h):
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return str(UUID(h))

    @contextmanager
    def chain_snapshot(self) -> Iterator[ChainSnapshot]:
        # One read transaction: in WAL mode every read in it sees the same committed state.
        with self.datastore.transaction(commit=False) as c:
            yield _SQLiteSnapshot(c, self.events_table_name)
