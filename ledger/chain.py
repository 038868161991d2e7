"""Tamper evidence and the store's key: a hash chain kept in the write path of both stores.

Every event the ledger stores takes the next *position* (1, 2, 3 ... in the order the
events were stored, whatever their notification ids: PostgreSQL's may have gaps) and a
hash: SHA-256 over the previous position's hash and the event's stored content, its
notification id, originator id, version, topic and state bytes exactly as stored (so an
encrypted event is chained as its ciphertext, and the chain can be checked without the
key). The hashes go into their own table, `event_chain`, beside the events and in the
same transaction as them, from the one place each store writes events: the application
recorders below, which the settings select with the library's APPLICATION_RECORDER_TOPIC.

`verify_log` recomputes the whole chain from the stored rows, in batches and inside one
read snapshot, and names the first position where the stored log no longer matches what
was recorded when it was written. A chain kept inside the database cannot stop someone
who rewrites the events *and* every later hash; a digest (a position and its hash) kept
outside the system can, which is why `verify` also checks the log against one.

The factories add one duty at wiring time: they check that the configured key (or the
lack of one) opens the stored events, so a wrong, malformed or missing key is said plainly
before any command starts instead of failing deep inside a read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory
from eventsourcing.utils import retry, strtobool

from .base import LedgerError

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
else:
    try:
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
    except ImportError:  # without the postgres extra: the PostgreSQL classes are never used
        PostgresApplicationRecorder = PostgresFactory = object

CHAIN_TABLE = "event_chain"
GENESIS = bytes(32)  # the "previous hash" of position 1
DOMAIN = b"audit-ledger event chain v1\n"
BATCH = 1000
KEY_CHECK = "LEDGER_KEY_CHECK"  # library env: "no" opens the store without checking the key
KEY_SIZES = (16, 24, 32)

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
    return hashlib.sha256(b"".join([DOMAIN, previous, *map(_field, row)])).digest()


def stored_row(notification_id: int, event: StoredEvent) -> EventRow:
    """An event about to be stored, as the row it becomes."""
    oid = event.originator_id
    return (notification_id, oid.hex if isinstance(oid, UUID) else oid,
            event.originator_version, event.topic, event.state)


def _recorded(hash_hex: Any) -> bytes:
    """A recorded hash to chain on from. One edited by hand into something that is not a
    hash still gives a fixed value, so the ledger keeps recording; `verify` names it."""
    try:
        return bytes.fromhex(hash_hex)
    except (TypeError, ValueError):
        return hashlib.sha256(repr(hash_hex).encode()).digest()


def _chain_rows(head: tuple[int, bytes], rows: Sequence[EventRow]) -> list[tuple[int, int, str]]:
    """Chain rows continuing from (position, hash) over rows in notification order."""
    position, previous = head
    out = []
    for row in rows:
        position += 1
        previous = link(previous, row)
        out.append((position, int(row[0]), previous.hex()))
    return out


# ---- the recorders ---------------------------------------------------------------------


class ChainSnapshot(Protocol):
    """The stored log and its chain, read in batches inside one consistent snapshot."""

    def events_after(self, notification_id: int | None, limit: int) -> list[EventRow]: ...

    def chain_after(self, position: int | None, limit: int) -> list[ChainRow]: ...


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


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
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
                    for rows in _batches(snapshot.events_after, key=lambda r: int(r[0])):
                        chained = _chain_rows(head, rows)
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
        head = (int(found[0]), _recorded(found[1])) if found else (0, GENESIS)
        rows = sorted((stored_row(int(i), e) for i, e in zip(ids, stored_events, strict=True)),
                      key=lambda r: int(r[0]))
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?)", _chain_rows(head, rows))
        return ids

    @contextmanager
    def chain_snapshot(self) -> Iterator[ChainSnapshot]:
        # One read transaction: in WAL mode every read in it sees the same committed state.
        with self.datastore.transaction(commit=False) as c:
            yield _SQLiteSnapshot(c, self.events_table_name)


class _PostgresSnapshot:
    def __init__(self, curs: Any, events: Any, chain: Any) -> None:
        self.curs = curs
        self.events = events
        self.chain = chain

    def events_after(self, notification_id: int | None, limit: int) -> list[EventRow]:
        from psycopg.sql import SQL

        where = SQL("") if notification_id is None else SQL("WHERE notification_id>%s ")
        params: list[Any] = [] if notification_id is None else [notification_id]
        self.curs.execute(SQL("SELECT notification_id, originator_id, originator_version, "
                              "topic, state FROM {} {}ORDER BY notification_id LIMIT %s")
                          .format(self.events, where), [*params, limit])
        return [tuple(r) for r in self.curs.fetchall()]

    def chain_after(self, position: int | None, limit: int) -> list[ChainRow]:
        from psycopg.sql import SQL

        where = SQL("") if position is None else SQL("WHERE position>%s ")
        params: list[Any] = [] if position is None else [position]
        self.curs.execute(SQL("SELECT position, notification_id, hash FROM {} {}"
                              "ORDER BY position LIMIT %s").format(self.chain, where),
                          [*params, limit])
        return [tuple(r) for r in self.curs.fetchall()]


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, extending the hash chain in each insert's transaction.

    Always inserts through Python (never the library's optional database function), with the
    library's EXCLUSIVE lock on the events table held from before the insert to the commit,
    so positions follow notification ids and no two writers extend the chain at once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from psycopg.sql import SQL, Identifier

        schema = Identifier(self.datastore.schema)
        self.events_table = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.chain_table = SQL("{}.{}").format(schema, Identifier(CHAIN_TABLE))
        # The library's insert function is never made: every insert goes through this class.
        del self.sql_create_statements[self.create_insert_function_statement_index]
        # Which id went to which event, so the chain never depends on RETURNING's row order.
        self.insert_events_statement += SQL(", originator_id, originator_version")
        self.chain_head_statement = SQL(
            "SELECT position, hash FROM {} ORDER BY position DESC LIMIT 1").format(self.chain_table)
        self.chain_insert_statement = SQL(
            "INSERT INTO {} (position, notification_id, hash) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::text[])").format(self.chain_table)
        # The library's insert, given each column's values as an array rather than one array
        # of its composite type (which psycopg dumps as text, value by value, escaping every
        # byte of every state): the same rows. The arrays are sent in binary (%b), as they are.
        self.insert_columns_statement = SQL(
            "INSERT INTO {} AS t (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id, originator_id, originator_version").format(
            self.events_table, Identifier(self.datastore.originator_id_type))

    def create_table(self) -> None:
        # Several processes open one store at once (the bot, its worker, a cron job): the
        # library's DDL is not safe to run concurrently ("tuple concurrently updated"), so
        # the openings take turns.
        lock = f"audit-ledger create tables {self.datastore.schema}.{self.events_table_name}"
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [lock])
            try:
                super().create_table()
                self._start_chain()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [lock])

    def _has_chain_table(self, curs: Any) -> bool:
        curs.execute("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname=%s AND tablename=%s",
                     [self.datastore.schema, CHAIN_TABLE])
        return curs.fetchone() is not None

    def _start_chain(self) -> None:
        """Make the chain table; on a store written before there was one, chain what is there."""
        from psycopg.sql import SQL

        with self.datastore.transaction(commit=False) as curs:
            if self._has_chain_table(curs):
                return
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)  # nobody stores events while we chain
            if self._has_chain_table(curs):
                return
            curs.execute(SQL("CREATE TABLE {} (position bigint PRIMARY KEY, notification_id "
                             "bigint NOT NULL, hash text NOT NULL)").format(self.chain_table))
            snapshot = _PostgresSnapshot(curs.connection.cursor(row_factory=_tuple_row()),
                                         self.events_table, self.chain_table)
            head = (0, GENESIS)
            for rows in _batches(snapshot.events_after, key=lambda r: int(r[0])):
                chained = _chain_rows(head, rows)
                self._insert_chain(curs, chained)
                head = (chained[-1][0], bytes.fromhex(chained[-1][2]))

    def _insert_chain(self, curs: Any, chained: list[tuple[int, int, str]]) -> None:
        # Each array given as its literal ('{1,2,3}'): whole numbers and hex digits need no
        # quoting, and psycopg would otherwise dump them value by value in Python.
        curs.execute(self.chain_insert_statement, [_array(r[0] for r in chained),
                                                   _array(r[1] for r in chained),
                                                   _array(r[2] for r in chained)])

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> None:
        """The library's: lock the table, notify, insert (`insert_columns_statement`)."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self.insert_columns_statement,
                     [[e.originator_id for e in stored_events],
                      [e.originator_version for e in stored_events],
                      [e.topic for e in stored_events], [e.state for e in stored_events]])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return None
        # Pipelined as the library does it, in two round trips: (lock, notify, insert, read
        # the chain's head), then (insert the chain rows, commit). The table lock, taken
        # first, is held to the commit.
        with self.datastore.get_connection() as conn, conn.pipeline() as pipeline, \
                conn.transaction():
            with conn.cursor() as curs:
                self._insert_events(curs, stored_events, **kwargs)  # the library's hook (no-op)
            with conn.cursor(row_factory=_tuple_row()) as curs, conn.cursor() as head_curs:
                self._insert_stored_events(curs, stored_events, **kwargs)  # lock, notify, insert
                head_curs.execute(self.chain_head_statement)
                pipeline.sync()  # a duplicate (a concurrent writer) raises IntegrityError here
                # (notification_id, originator_id, originator_version), as returned
                by_event = {(r[1], r[2]): int(r[0]) for r in curs.fetchall()}
                found = head_curs.fetchone()
                ids = [by_event[(e.originator_id, e.originator_version)] for e in stored_events]
                head = (int(found["position"]), _recorded(found["hash"])) if found \
                    else (0, GENESIS)
                rows = sorted((stored_row(i, e) for i, e in zip(ids, stored_events, strict=True)),
                              key=lambda r: int(r[0]))
                self._insert_chain(curs, _chain_rows(head, rows))
        return ids

    @contextmanager
    def chain_snapshot(self) -> Iterator[ChainSnapshot]:
        # One REPEATABLE READ transaction: every batch sees the same committed state.
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=_tuple_row()) as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _PostgresSnapshot(curs, self.events_table, self.chain_table)


def _array(values: Iterable[int | str]) -> str:
    """An array literal of whole numbers or hex strings (which need no quoting)."""
    return "{" + ",".join(map(str, values)) + "}"


def _tuple_row() -> Any:
    from psycopg.rows import tuple_row

    return tuple_row


def _batches(fetch: Callable[[Any, int], list[Any]], key: Callable[[Any], Any],
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


def _rows(fetch: Callable[[Any, int], list[Any]], key: Callable[[Any], Any],
          size: int) -> Iterator[Any]:
    for rows in _batches(fetch, key, size):
        yield from rows


# ---- verification ----------------------------------------------------------------------


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
    if not isinstance(recorder, ChainedSQLiteRecorder | ChainedPostgresRecorder):
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


# ---- the key -----------------------------------------------------------------------------


class StoreKeyError(LedgerError):
    """The configured key (or the lack of one) does not fit this store."""


NO_KEY = "this store is encrypted: set AUDIT_LEDGER_KEY to the key it was written with"
OTHER_KEY = "AUDIT_LEDGER_KEY does not open this store: it was written with another key"
PLAIN_STORE = ("AUDIT_LEDGER_KEY is set but this store was written without a key: "
               "unset AUDIT_LEDGER_KEY")
BAD_KEY = "AUDIT_LEDGER_KEY is not a valid key: make one with audit-ledger keygen"


def key_format_problem(key: str) -> str | None:
    """Why a key is not a usable AES key (base64 of 16, 24 or 32 bytes), or None."""
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        return BAD_KEY
    return None if len(raw) in KEY_SIZES else BAD_KEY


def _is_plain(state: bytes) -> bool:
    try:
        json.loads(state)
    except ValueError:
        return False
    return True


def check_key(recorder: ApplicationRecorder, cipher: Cipher | None) -> None:
    """Refuse plainly when the first stored event does not open with the configured key."""
    try:
        first = recorder.select_notifications(start=None, limit=1)
    except ValueError:
        return  # a row edited by hand; `verify` will say where
    if not first:
        return
    state = bytes(first[0].state)
    if cipher is None:
        if not _is_plain(state):
            raise StoreKeyError(NO_KEY)
        return
    try:
        cipher.decrypt(state)
    except ValueError:
        raise StoreKeyError(PLAIN_STORE if _is_plain(state) else OTHER_KEY) from None


def _checked_cipher(key: str | None, make: Callable[[], Cipher | None]) -> Cipher | None:
    if key and key_format_problem(key):
        raise StoreKeyError(BAD_KEY)
    try:
        return make()
    except (ValueError, OSError):
        raise StoreKeyError(BAD_KEY) from None


class KeyCheckingFactory:
    """Checks at wiring time that the key (or its absence) opens the store; mixed into
    each store's factory so the check is written once."""

    env: Any

    def cipher(self) -> Cipher | None:
        return _checked_cipher(self.env.get("CIPHER_KEY"), super().cipher)  # type: ignore[misc]

    def application_recorder(self) -> ApplicationRecorder:
        recorder: ApplicationRecorder = super().application_recorder()  # type: ignore[misc]
        if strtobool(self.env.get(KEY_CHECK) or "yes"):
            try:
                check_key(recorder, self.cipher())
            except StoreKeyError:
                self.close()  # type: ignore[attr-defined]
                raise
        return recorder


class SQLiteLedgerFactory(KeyCheckingFactory, SQLiteFactory):
    """The library's SQLite factory, with the key checked when the store is opened."""


class PostgresLedgerFactory(KeyCheckingFactory, PostgresFactory):
    """The library's PostgreSQL factory, with the key checked when the store is opened."""
