"""PostgreSQL's side of the store: the chaining recorder and the key-checking factory.

A module of its own so that only a PostgreSQL store imports psycopg (`ledger.settings` names
these classes in the library's environment for PostgreSQL alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import retry

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
from .recorders import (
    ADOPTION_TABLE,
    CHAIN_DDL,
    CHAIN_GONE,
    ChainedRecorder,
    LogRow,
    _refuse_adoption,
)
from .signing import SIGNATURE_TABLE, ChainRefused, SignatureRow
from .store_key import KeyCheckingFactory


class PostgresLedgerFactory(KeyCheckingFactory, PostgresFactory):
    """The library's PostgreSQL factory, with the key checked when the store is opened."""


class _PostgresSnapshot:
    def __init__(self, curs: Any, events: Any, chain: Any, signatures: Any = None,
                 adoptions: Any = None) -> None:
        self.curs = curs
        self.events = events
        self.chain = chain
        self.signatures = signatures  # None: the table is not there
        self.adoption_table = adoptions  # None: the table is not there

    def adoptions(self) -> list[tuple[Any, Any, Any]]:
        from psycopg.sql import SQL

        if self.adoption_table is None:
            return []
        self.curs.execute(SQL("SELECT position, adopted_by, adopted_at FROM {} ORDER BY "
                              "position").format(self.adoption_table))
        return [(r[0], r[1], r[2]) for r in self.curs.fetchall()]

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

        if self.chain is None:
            return []  # the table is missing: `verify` names it
        where = SQL("") if position is None else SQL("WHERE position>%s ")
        params: list[Any] = [] if position is None else [position]
        self.curs.execute(SQL("SELECT position, notification_id, hash FROM {} {}"
                              "ORDER BY position LIMIT %s").format(self.chain, where),
                          [*params, limit])
        return [tuple(r) for r in self.curs.fetchall()]

    def signatures_after(self, position: int | None, limit: int) -> list[SignatureRow]:
        from psycopg.sql import SQL

        if self.signatures is None:
            return []
        where = SQL("") if position is None else SQL("WHERE position>%s ")
        params: list[Any] = [] if position is None else [position]
        self.curs.execute(SQL("SELECT position, hash, public_key, signature FROM {} {}"
                              "ORDER BY position LIMIT %s").format(self.signatures, where),
                          [*params, limit])
        return [(r[0], r[1], r[2], r[3]) for r in self.curs.fetchall()]


class ChainedPostgresRecorder(ChainedRecorder, PostgresApplicationRecorder):
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
        self.signature_table = SQL("{}.{}").format(schema, Identifier(SIGNATURE_TABLE))
        self.signature_head_statement = SQL(
            "SELECT position, hash, public_key, signature FROM {} ORDER BY position DESC "
            "LIMIT 1").format(self.signature_table)
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
        rows = ("SELECT notification_id, originator_id::text, originator_version, topic, state "
                "FROM {} WHERE notification_id>%s {}ORDER BY notification_id LIMIT %s")
        self.rows_statement = SQL(rows).format(self.events_table, SQL(""))
        self.rows_until_statement = SQL(rows).format(self.events_table,
                                                     SQL("AND notification_id<=%s "))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_rows(self, start: int, limit: int, stop: int | None = None) -> list[LogRow]:
        """`ChainedRecorder.select_rows` in one statement of our own: the same events as the
        library's `select_notifications`, fetched in binary as plain tuples (its rows are
        dicts in text, the states' bytes spelt in hex by the server and parsed back here,
        and a Notification and a UUID made for each), the originator id as the server spells
        it (`str` of its UUID, what the views key aggregates by). A parallel rebuild reads
        every event of the log in every process."""
        statement = self.rows_statement if stop is None else self.rows_until_statement
        params = [start, limit] if stop is None else [start, stop, limit]
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=_tuple_row(), binary=True) as curs:
            curs.execute(statement, params, prepare=True)
            rows: list[LogRow] = curs.fetchall()
        return rows

    def create_table(self) -> None:
        # Several processes open one store at once (the bot, its worker, a cron job): the
        # library's DDL is not safe to run concurrently ("tuple concurrently updated"), so
        # the openings take turns.
        from psycopg.sql import SQL

        lock = f"audit-ledger create tables {self.datastore.schema}.{self.events_table_name}"
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [lock])
            try:
                super().create_table()
                self._start_chain()
                conn.execute(SQL("CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                                 "hash text NOT NULL, public_key text NOT NULL, signature text "
                                 "NOT NULL)").format(self.signature_table))
                conn.commit()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [lock])

    def _has_chain_table(self, curs: Any) -> bool:
        curs.execute("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname=%s AND tablename=%s",
                     [self.datastore.schema, CHAIN_TABLE])
        return curs.fetchone() is not None

    def _start_chain(self) -> None:
        """Make the chain table beside an empty log. Beside stored events it stays missing
        (and every write refuses) until someone adopts the log with `adopt_chain`."""
        from psycopg.sql import SQL

        with self.datastore.transaction(commit=False) as curs:
            if self._has_chain_table(curs):
                return
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            if self._has_chain_table(curs):
                return
            curs.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(self.events_table))
            if curs.fetchone() is None:
                curs.execute(SQL(CHAIN_DDL).format(self.chain_table))

    def adopt_chain(self, by: str, at: str) -> tuple[int, str]:
        """Chain a log stored without a chain, recording who adopted it and when; refused
        when the log has a chain or was ever signed. Returns the head (position, hash)."""
        from psycopg.sql import SQL, Identifier

        adoptions = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                        Identifier(ADOPTION_TABLE))
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)  # nobody stores events while we chain
            tables = self._tables(curs)
            snapshot = _PostgresSnapshot(
                curs.connection.cursor(row_factory=_tuple_row()), self.events_table,
                self.chain_table if CHAIN_TABLE in tables else None,
                self.signature_table if SIGNATURE_TABLE in tables else None)
            _refuse_adoption(snapshot)
            curs.execute(SQL(CHAIN_DDL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
                         .format(self.chain_table))
            curs.execute(SQL("CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                             "adopted_by text NOT NULL, adopted_at text NOT NULL)")
                         .format(adoptions))
            head = (0, GENESIS)
            for rows in batches(snapshot.events_after, key=lambda r: int(r[0])):
                chained = chain_rows(head, rows)
                self._insert_chain(curs, chained)
                head = (chained[-1][0], bytes.fromhex(chained[-1][2]))
            curs.execute(SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(adoptions),
                         [head[0], by, at])
            signed = self._signed([(head[0], 0, head[1].hex())])
            if signed:
                curs.execute(SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)")
                             .format(self.signature_table), list(signed))
        return head[0], head[1].hex()

    def _tables(self, curs: Any) -> set[str]:
        curs.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname=%s",
                     [self.datastore.schema])
        return {r["tablename"] if isinstance(r, dict) else r[0] for r in curs.fetchall()}

    def _insert_chain(self, curs: Any, chained: list[tuple[int, int, str]]) -> None:
        # Each array given as its literal ('{1,2,3}'): whole numbers and hex digits need no
        # quoting, and psycopg would otherwise dump them value by value in Python.
        curs.execute(self.chain_insert_statement, [_array(r[0] for r in chained),
                                                   _array(r[1] for r in chained),
                                                   _array(r[2] for r in chained)])

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> None:
        """The library's hook, first in the transaction: the save's new case keys."""
        self._store_new_keys(curs, kwargs)
        super()._insert_events(curs, stored_events, **kwargs)

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
        from psycopg.errors import UndefinedTable

        if not stored_events:
            return None
        # Pipelined as the library does it, in two round trips: (lock, notify, insert, read
        # the chain's head), then (insert the chain rows, commit). The table lock, taken
        # first, is held to the commit.
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline, conn.transaction():
                    return self._insert_chained(conn, pipeline, stored_events, **kwargs)
            except UndefinedTable:  # wherever the pipeline reports it
                raise ChainRefused(CHAIN_GONE) from None

    def _insert_chained(self, conn: Any, pipeline: Any, stored_events: Sequence[StoredEvent],
                        **kwargs: Any) -> list[int]:
        """The events, their chain rows and the signed head, in the caller's transaction."""
        from psycopg.sql import SQL

        with conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)  # the library's hook: new keys
        with conn.cursor(row_factory=_tuple_row()) as curs, conn.cursor() as head_curs, \
                conn.cursor(row_factory=_tuple_row()) as signed_curs:
            self._insert_stored_events(curs, stored_events, **kwargs)  # lock, notify, insert
            head_curs.execute(self.chain_head_statement)
            signed_curs.execute(self.signature_head_statement)
            pipeline.sync()  # a duplicate (a concurrent writer) raises IntegrityError here
            # (notification_id, originator_id, originator_version), as returned
            by_event = {(r[1], r[2]): int(r[0]) for r in curs.fetchall()}
            found = head_curs.fetchone()
            last = signed_curs.fetchone()
            ids = [by_event[(e.originator_id, e.originator_version)] for e in stored_events]
            if found is None:
                self._refuse_when_chain_gone(curs, min(ids))
            self._check_tail((found["position"], found["hash"]) if found else None, last)
            head = (int(found["position"]), recorded_hash(found["hash"])) if found \
                else (0, GENESIS)
            rows = sorted((stored_row(i, e) for i, e in zip(ids, stored_events, strict=True)),
                          key=lambda r: int(r[0]))
            chained = chain_rows(head, rows)
            self._insert_chain(curs, chained)
            signed = self._signed(chained)
            if signed:
                curs.execute(SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)")
                             .format(self.signature_table), list(signed))
        return ids

    def _refuse_when_chain_gone(self, curs: Any, first_new: int) -> None:
        """An empty chain is only right before the first event ever stored."""
        from psycopg.sql import SQL

        curs.execute(SQL("SELECT 1 FROM {} WHERE notification_id<%s LIMIT 1")
                     .format(self.events_table), [first_new])
        if curs.fetchone() is not None:
            raise ChainRefused(CHAIN_GONE)

    @contextmanager
    def chain_snapshot(self) -> Iterator[ChainSnapshot]:
        # One REPEATABLE READ transaction: every batch sees the same committed state.
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=_tuple_row()) as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            from psycopg.sql import SQL, Identifier

            tables = self._tables(curs)
            adoptions = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                            Identifier(ADOPTION_TABLE))
            yield _PostgresSnapshot(
                curs, self.events_table, self.chain_table if CHAIN_TABLE in tables else None,
                self.signature_table if SIGNATURE_TABLE in tables else None,
                adoptions if ADOPTION_TABLE in tables else None)


def _array(values: Iterable[int | str]) -> str:
    """An array literal of whole numbers or hex strings (which need no quoting)."""
    return "{" + ",".join(map(str, values)) + "}"


def _tuple_row() -> Any:
    from psycopg.rows import tuple_row

    return tuple_row
