"""The views in PostgreSQL: documents and positions in two tables beside the log's (in its
schema, when one is named)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from ledger.settings import StoreSettings

from .store import SETUP_LOCK, Changes, Doc, PositionMoved, ViewStore, positions_with_head


class PostgresViewStore(ViewStore):
    def __init__(self, settings: StoreSettings) -> None:
        super().__init__(settings.key)
        import psycopg

        self.psycopg = psycopg
        self.settings = settings
        self.lock = threading.RLock()
        self.conn = self._connect()
        schema = settings.pg_schema
        self.table = f"{schema}.view_docs" if schema else "view_docs"
        self.positions_table = f"{schema}.view_positions" if schema else "view_positions"
        with self.lock, self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            if schema:
                self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (view TEXT NOT NULL, key TEXT NOT "
                "NULL, doc BYTEA NOT NULL, PRIMARY KEY (view, key))")
            self.conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.positions_table} (name TEXT PRIMARY KEY, "
                "position BIGINT NOT NULL)")

    @contextmanager
    def setting_up(self) -> Iterator[None]:
        """Hold the setup lock while the ledger creates its event tables.

        Processes starting together would otherwise race to create the same
        tables and PostgreSQL answers 'tuple concurrently updated'.
        """
        with self.lock:
            self.conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
        try:
            yield
        finally:
            with self.lock:
                self.conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))

    def _connect(self) -> Any:
        s = self.settings
        return self.psycopg.connect(
            host=s.pg_host, port=int(s.pg_port), user=s.pg_user, password=s.pg_password or None,
            dbname=s.pg_dbname, autocommit=True, connect_timeout=5)

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        """The connection, made again if the server dropped it."""
        with self.lock:
            if self.conn.closed or self.conn.broken:
                self.conn = self._connect()
            yield self.conn

    def positions(self) -> dict[str, int]:
        with self._conn() as db:
            rows = db.execute(f"SELECT name, position FROM {self.positions_table}").fetchall()
        return {name: int(pos) for name, pos in rows}

    def positions_and_head(self, events_table: str) -> tuple[dict[str, int], int | None]:
        """One round trip (the log's table is in the views' schema): the bot asks at every
        request, and the library's own read of the head is another from its pool."""
        schema = self.settings.pg_schema
        table = f"{schema}.{events_table}" if schema else events_table
        with self._conn() as db:
            rows = db.execute(f"SELECT name, position FROM {self.positions_table} UNION ALL "
                              f"SELECT NULL, MAX(notification_id) FROM {table}").fetchall()
        return positions_with_head(rows)

    def get(self, view: str, key: str) -> Doc | None:
        stored = self.stored_key(view, key)
        with self._conn() as db:
            row = db.execute(f"SELECT doc FROM {self.table} WHERE view=%s AND key=%s",
                             (view, stored)).fetchone()
        return self.decode_at(view, key, stored, row[0]) if row else None

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        if not keys:
            return {}
        stored = self._stored(keys)
        with self._conn() as db:
            rows = db.execute(
                f"SELECT d.view, d.key, d.doc FROM {self.table} d JOIN unnest(%s::text[], "
                "%s::text[]) AS k(view, key) ON d.view=k.view AND d.key=k.key",
                ([v for v, _ in stored], [k for _, k in stored])).fetchall()
        return {stored[(v, k)]: self.decode_at(v, stored[(v, k)][1], k, d) for v, k, d in rows}

    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]:
        with self._conn() as db:
            rows = db.execute(
                f"SELECT key, doc FROM {self.table} WHERE view=%s AND key>=%s AND key<%s "
                "ORDER BY key COLLATE \"C\"", (view, *self.scan_range(view, prefix))).fetchall()
        return self.found(view, rows)

    def commit(self, changes: Changes, expected: Mapping[str, int], new: int,
               absent: Collection[tuple[str, str]] = ()) -> None:
        """`absent` documents (a rebuild's, known not to be here) are inserted plainly, and
        their deletes left out: an upsert first looks for its key in the index, and in a
        rebuild from dropped views nearly every document is new (a rebuild of a 100k log
        commits 109k changes, 88k of them new, 19k deletes of documents it never wrote)."""
        inserts: list[tuple[str, str, bytes]] = []
        upserts: list[tuple[str, str, bytes]] = []
        deletes: list[tuple[str, str]] = []
        for (v, k), doc in changes.items():
            stored = self.stored_key(v, k)
            if doc is None:
                if (v, k) not in absent:
                    deletes.append((v, stored))
                continue
            row = (v, stored, self.encode(v, stored, cast(Doc | bytes, self.with_key(v, k, doc))))
            (inserts if (v, k) in absent else upserts).append(row)
        with self._conn() as db, db.transaction():
            if expected:
                self._move(db, expected, new)
            # One statement each, whatever the number of documents (keys are unique here);
            # the arrays sent in binary (%b): as text, psycopg escaped every document's bytes
            # with a regular expression, a tenth of a rebuild's CPU.
            if inserts:
                db.execute(f"INSERT INTO {self.table} (view, key, doc) SELECT * FROM unnest("
                           "%b::text[], %b::text[], %b::bytea[])", _columns(inserts))
            if upserts:
                db.execute(
                    f"INSERT INTO {self.table} (view, key, doc) SELECT * FROM unnest(%b::text[], "
                    "%b::text[], %b::bytea[]) ON CONFLICT (view, key) DO UPDATE SET "
                    "doc=excluded.doc", _columns(upserts))
            if deletes:
                db.execute(f"DELETE FROM {self.table} d USING unnest(%b::text[], %b::text[]) "
                           "AS k(view, key) WHERE d.view=k.view AND d.key=k.key",
                           _columns(deletes))

    def _move(self, db: Any, expected: Mapping[str, int], new: int) -> None:
        """Each named position moved from expected to new, in three statements however many
        positions (a fold of every partition names nine; three statements each were most of
        the worker's time on PostgreSQL). Rows are locked in name order, as every follower
        locks them, so two followers never deadlock; a position another follower moved
        raises PositionMoved."""
        names = sorted(expected)
        db.execute(f"INSERT INTO {self.positions_table} (name, position) SELECT name, 0 FROM "
                   "unnest(%s::text[]) AS n(name) ON CONFLICT (name) DO NOTHING", (names,))
        at = dict(db.execute(f"SELECT name, position FROM {self.positions_table} WHERE name = "
                             "ANY(%s) ORDER BY name FOR UPDATE", (names,)).fetchall())
        for name in names:
            if int(at[name]) != expected[name]:
                raise PositionMoved(name)
        db.execute(f"UPDATE {self.positions_table} SET position=%s WHERE name = ANY(%s)",
                   (new, names))

    def drop(self) -> None:
        """TRUNCATE, not DELETE: deleted rows stay in the table's pages and its index until
        vacuumed (a rebuild's upserts then step over every dead version of the same keys, and
        each rebuild grew the table by its whole size), and the statement is a fraction of
        deleting row by row. The positions first, as a commit locks them before the documents
        (the same order, so the two never deadlock)."""
        with self._conn() as db, db.transaction():
            db.execute(f"TRUNCATE {self.positions_table}, {self.table}")

    def dump(self) -> list[tuple[str, str, bytes]]:
        with self._conn() as db:
            rows = db.execute(f"SELECT view, key, doc FROM {self.table} "
                              "ORDER BY view, key COLLATE \"C\"").fetchall()
        return [(v, k, self._plain(v, k, d)) for v, k, d in rows]

    @contextmanager
    def erasing(self) -> Iterator[list[str]]:
        yield []
        # Deleted rows stay in the table's pages until vacuumed; VACUUM FULL writes the table
        # (and its TOAST) afresh, so no old document is left in its files.
        with self._conn() as db:
            db.execute(f"VACUUM FULL {self.table}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as their columns' lists (what `unnest` takes, an array each)."""
    return [list(column) for column in zip(*rows, strict=True)]
