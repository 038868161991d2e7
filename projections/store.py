"""Where views live: documents beside the events, written in one transaction with their position.

A view's documents and its tracking position are committed together and only
if nobody else moved the position first, so a fold is never lost or doubled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.base import LedgerError
from ledger.settings import StoreSettings

Doc = dict[str, Any]
Changes = Mapping[tuple[str, str], Doc | None]


CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
"""How a document is written: compact JSON (UTF-8), keys sorted, so equal documents are equal
bytes. orjson, not the standard library: its encoder was an eighth of a views rebuild."""


def canonical(doc: Doc) -> bytes:
    """A document as stored (before any sealing)."""
    return orjson.dumps(doc, option=CANONICAL)
MANY = 400  # (view, key) pairs per query when reading many documents at once
SETUP_LOCK = 0x61756469746C6764  # "auditlgd": serialises creating tables across processes
HASHED_VIEWS = ("person", "slack", "waiting", "team")
"""Views keyed by people's directory ids and Slack user ids. With a key set they are stored
under a keyed hash of their key (HMAC-SHA256 with a key derived from AUDIT_LEDGER_KEY), so
the ids are not readable in the table; `get` finds them as before, and `scan` lists them
(with their stored keys) only whole, without a prefix."""


SEALING = b"audit-ledger view documents v2"
"""What the key that seals view documents is derived from the store's key with (HMAC-SHA256),
so it is used for nothing else."""
NONCE = 12


class PositionMoved(Exception):
    """Another follower folded these events first; reload and carry on from there."""


class UnopenedView(LedgerError):
    """A sealed view document that does not open where it is stored: altered, or moved there
    from another (view, key) outside the ledger."""

    def __init__(self, view: str, key: str) -> None:
        super().__init__(
            f"the {view} view's document stored under {key!r} does not open with this store's "
            "key where it is: it was changed, or moved there from another document, outside "
            "the ledger. Nothing was read from it. `audit-ledger verify` checks the log; "
            "`audit-ledger projections rebuild` folds the views again from the log (ask "
            "whoever looks after the store)")
        self.view, self.key = view, key


def _bound_to(view: str, stored_key: str) -> bytes:
    """The associated data a document is sealed with: the place it is stored at."""
    return f"{view}\x00{stored_key}".encode()


class ViewStore(ABC):
    """Documents by (view, key), sealed with the store's key when one is set.

    A sealed document is AES-GCM with its (view, stored key) as associated data, so a document
    copied or swapped to another place does not open there (`UnopenedView` names the place).
    """

    def __init__(self, key: str = "") -> None:
        self.sealer = AESGCM(hmac.new(base64.b64decode(key), SEALING, hashlib.sha256)
                             .digest()) if key else None
        self.key_hash = hmac.new(base64.b64decode(key), b"audit-ledger view keys v1",
                                 hashlib.sha256).digest() if key else None

    def hashes(self, view: str) -> bool:
        """Whether this view's keys are stored as keyed hashes (so a prefix finds nothing)."""
        return self.key_hash is not None and view in HASHED_VIEWS

    def stored_key(self, view: str, key: str) -> str:
        """The key a document is stored under: a keyed hash for the HASHED_VIEWS when a key
        is set, else the key itself."""
        if self.key_hash is None or view not in HASHED_VIEWS:
            return key
        return hmac.new(self.key_hash, f"{view}\x00{key}".encode(), hashlib.sha256).hexdigest()

    def _stored(self, keys: list[tuple[str, str]] | Changes) -> dict[tuple[str, str], Any]:
        """Stored (view, key) pairs: to the asked pair (from a list), or to the document."""
        if isinstance(keys, list):
            return {(v, self.stored_key(v, k)): (v, k) for v, k in keys}
        return {(v, self.stored_key(v, k)): doc for (v, k), doc in keys.items()}

    @contextmanager
    def erasing(self) -> Iterator[list[str]]:
        """Around a rebuild after an erasure: what is deleted or overwritten inside leaves no
        trace on disk afterwards. Yields a list that holds, after the block, what could not
        be done (one line each)."""
        yield []

    def encode(self, view: str, stored_key: str, doc: Doc) -> bytes:
        """A document as stored under (view, stored key): sealed to that place with a key."""
        raw = canonical(doc)
        if self.sealer is None:
            return raw
        nonce = os.urandom(NONCE)
        return nonce + self.sealer.encrypt(nonce, raw, _bound_to(view, stored_key))

    def decode(self, view: str, stored_key: str, raw: bytes) -> Doc:
        doc: Doc = orjson.loads(self._plain(view, stored_key, raw))
        return doc

    def _plain(self, view: str, stored_key: str, raw: bytes) -> bytes:
        data = bytes(raw)
        if self.sealer is None:
            return data
        try:
            return self.sealer.decrypt(data[:NONCE], data[NONCE:], _bound_to(view, stored_key))
        except (InvalidTag, ValueError):
            raise UnopenedView(view, stored_key) from None

    @contextmanager
    def setting_up(self) -> Iterator[None]:
        """Held while the ledger creates its tables (a no-op where the database serialises it)."""
        yield

    @abstractmethod
    def positions(self) -> dict[str, int]: ...

    @abstractmethod
    def get(self, view: str, key: str) -> Doc | None: ...

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        """The documents found among these (view, key) pairs; absent ones are left out."""
        found = {k: self.get(*k) for k in keys}
        return {k: d for k, d in found.items() if d is not None}

    @abstractmethod
    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]: ...

    @abstractmethod
    def commit(self, changes: Changes, expected: Mapping[str, int], new: int) -> None:
        """Write the changed documents and move each named position from expected to new."""

    @abstractmethod
    def drop(self) -> None:
        """Forget every document and position (the log is untouched)."""

    @abstractmethod
    def dump(self) -> list[tuple[str, str, bytes]]:
        """Every document in its canonical plain form, for comparing a rebuild byte for byte.

        Sealed documents are opened first: each seal has its own nonce, so the
        stored bytes of two identical documents differ when a key is set.
        """

    @abstractmethod
    def close(self) -> None: ...


def _prefix_end(prefix: str) -> str:
    return prefix + "\U0010ffff"


class SQLiteViewStore(ViewStore):
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS view_docs (view TEXT NOT NULL, key TEXT NOT NULL, "
        "doc BLOB NOT NULL, PRIMARY KEY (view, key)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS view_positions (name TEXT PRIMARY KEY, "
        "position INTEGER NOT NULL) WITHOUT ROWID",
    )

    def __init__(self, path: str, key: str = "") -> None:
        super().__init__(key)
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                                    check_same_thread=False)
        self.lock = threading.RLock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        # The views' commits are not synced to disk one by one (the log's are): a crash of the
        # machine may lose the last few, documents and positions together, which the follower
        # folds again; a rebuild's many commits no longer each wait on the disk.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        with self.lock:
            for statement in self.SCHEMA:
                self.conn.execute(statement)

    def positions(self) -> dict[str, int]:
        with self.lock:
            rows = self.conn.execute("SELECT name, position FROM view_positions").fetchall()
        return {name: pos for name, pos in rows}

    def get(self, view: str, key: str) -> Doc | None:
        stored = self.stored_key(view, key)
        with self.lock:
            row = self.conn.execute("SELECT doc FROM view_docs WHERE view=? AND key=?",
                                    (view, stored)).fetchone()
        return self.decode(view, stored, row[0]) if row else None

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        by_view: dict[str, list[str]] = {}
        stored = self._stored(keys)
        for view, key in stored:
            by_view.setdefault(view, []).append(key)
        found: dict[tuple[str, str], Doc] = {}
        for view, names in by_view.items():  # view=? AND key IN (...): a primary key search
            for i in range(0, len(names), MANY):
                chunk = names[i:i + MANY]
                with self.lock:
                    rows = self.conn.execute(
                        f"SELECT key, doc FROM view_docs WHERE view=? AND key IN "
                        f"({','.join('?' * len(chunk))})", [view, *chunk]).fetchall()
                found.update({stored[(view, k)]: self.decode(view, k, d) for k, d in rows})
        return found

    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT key, doc FROM view_docs WHERE view=? AND key>=? AND key<? ORDER BY key",
                (view, prefix, _prefix_end(prefix))).fetchall()
        return [(k, self.decode(view, k, d)) for k, d in rows]

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def commit(self, changes: Changes, expected: Mapping[str, int], new: int) -> None:
        changes = self._stored(changes)
        names = sorted(expected)
        with self._write() as db:  # a writer alone from here: read, compare, move
            found = dict(db.execute(
                f"SELECT name, position FROM view_positions WHERE name IN "
                f"({','.join('?' * len(names))})", names).fetchall()) if names else {}
            for name, position in expected.items():
                if found.get(name, 0) != position:
                    raise PositionMoved(name)
            if names:
                db.execute(f"INSERT INTO view_positions (name, position) VALUES "
                           f"{','.join(['(?, ?)'] * len(names))} ON CONFLICT (name) DO UPDATE "
                           "SET position=excluded.position",
                           [v for name in names for v in (name, new)])
            db.executemany("DELETE FROM view_docs WHERE view=? AND key=?",
                           [k for k, doc in changes.items() if doc is None])
            db.executemany("INSERT INTO view_docs (view, key, doc) VALUES (?, ?, ?) "
                           "ON CONFLICT (view, key) DO UPDATE SET doc=excluded.doc",
                           [(v, k, self.encode(v, k, doc)) for (v, k), doc in changes.items()
                            if doc is not None])

    def drop(self) -> None:
        with self._write() as db:
            db.execute("DELETE FROM view_docs")
            db.execute("DELETE FROM view_positions")

    def dump(self) -> list[tuple[str, str, bytes]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT view, key, doc FROM view_docs ORDER BY view, key").fetchall()
        return [(v, k, self._plain(v, k, d)) for v, k, d in rows]

    @contextmanager
    def erasing(self) -> Iterator[list[str]]:
        # Zeros over whatever this connection deletes or overwrites meanwhile; then the file
        # written afresh (VACUUM: no free page keeps an old document) and the WAL emptied.
        problems: list[str] = []
        with self.lock:
            before = self.conn.execute("PRAGMA secure_delete").fetchone()[0]
            self.conn.execute("PRAGMA secure_delete=ON")
        try:
            yield problems
        finally:
            with self.lock:
                self.conn.execute(f"PRAGMA secure_delete={int(before)}")
        with self.lock:
            self.conn.execute("VACUUM")
            # A reader in another process keeps the WAL until it is done: each try waits a
            # moment, not the 30 s busy timeout (50 of those held `erase` for 25 minutes).
            self.conn.execute("PRAGMA busy_timeout=100")
            try:
                for _ in range(50):
                    if self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0:
                        return
                    time.sleep(0.1)
            finally:
                self.conn.execute("PRAGMA busy_timeout=30000")
        problems.append("another process is reading the store, so its write-ahead log (the "
                        "-wal file) could not be emptied: old pages stay there until the next "
                        "complete checkpoint; run erase again when the bot and worker are idle")

    def close(self) -> None:
        with self.lock:
            self.conn.close()


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

    def get(self, view: str, key: str) -> Doc | None:
        stored = self.stored_key(view, key)
        with self._conn() as db:
            row = db.execute(f"SELECT doc FROM {self.table} WHERE view=%s AND key=%s",
                             (view, stored)).fetchone()
        return self.decode(view, stored, row[0]) if row else None

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        if not keys:
            return {}
        stored = self._stored(keys)
        with self._conn() as db:
            rows = db.execute(
                f"SELECT d.view, d.key, d.doc FROM {self.table} d JOIN unnest(%s::text[], "
                "%s::text[]) AS k(view, key) ON d.view=k.view AND d.key=k.key",
                ([v for v, _ in stored], [k for _, k in stored])).fetchall()
        return {stored[(v, k)]: self.decode(v, k, d) for v, k, d in rows}

    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]:
        with self._conn() as db:
            rows = db.execute(
                f"SELECT key, doc FROM {self.table} WHERE view=%s AND key>=%s AND key<%s "
                "ORDER BY key COLLATE \"C\"", (view, prefix, _prefix_end(prefix))).fetchall()
        return [(k, self.decode(view, k, d)) for k, d in rows]

    def commit(self, changes: Changes, expected: Mapping[str, int], new: int) -> None:
        changes = self._stored(changes)
        with self._conn() as db, db.transaction():
            if expected:
                self._move(db, expected, new)
            upserts = [(v, k, self.encode(v, k, d)) for (v, k), d in changes.items()
                       if d is not None]
            deletes = [(v, k) for (v, k), d in changes.items() if d is None]
            # One statement each, whatever the number of documents (keys are unique here).
            if upserts:
                db.execute(
                    f"INSERT INTO {self.table} (view, key, doc) SELECT * FROM unnest(%s::text[], "
                    "%s::text[], %s::bytea[]) ON CONFLICT (view, key) DO UPDATE SET "
                    "doc=excluded.doc", [list(column) for column in zip(*upserts, strict=True)])
            if deletes:
                db.execute(f"DELETE FROM {self.table} d USING unnest(%s::text[], %s::text[]) "
                           "AS k(view, key) WHERE d.view=k.view AND d.key=k.key",
                           [list(column) for column in zip(*deletes, strict=True)])

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
        with self._conn() as db, db.transaction():
            db.execute(f"DELETE FROM {self.table}")
            db.execute(f"DELETE FROM {self.positions_table}")

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


def open_view_store(settings: StoreSettings) -> ViewStore:
    if settings.kind == "sqlite":
        return SQLiteViewStore(settings.sqlite_path, settings.key)
    return PostgresViewStore(settings)
