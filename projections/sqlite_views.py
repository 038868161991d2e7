"""The views in SQLite: documents and positions in two tables of the ledger's own file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager

from ledger.wal import wal_kept

from .store import MANY, Changes, Doc, PositionMoved, ViewStore, positions_with_head


class SQLiteViewStore(ViewStore):
    ONE_WRITER = True
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
        # Deleted documents are zeroed only where that writes nothing more (Debian's SQLite
        # zeroes every freed page by default: a rebuild's drop of 100k events' views wrote 60 MB
        # of zeros to the WAL, 0.26 s, then checkpointed them). A freed page keeps a document
        # the log holds too, its personal text sealed with the case's key as the log's is;
        # `erasing` below zeroes everything, and the file is written afresh.
        self.conn.execute("PRAGMA secure_delete=FAST")
        with self.lock:
            for statement in self.SCHEMA:
                self.conn.execute(statement)

    def positions(self) -> dict[str, int]:
        with self.lock:
            rows = self.conn.execute("SELECT name, position FROM view_positions").fetchall()
        return {name: pos for name, pos in rows}

    def positions_and_head(self, events_table: str) -> tuple[dict[str, int], int | None]:
        """One statement on this connection (the log is in this file): the library's own read
        of the head takes a connection from its pool and a transaction, about 0.3 ms of CPU,
        and the bot asks at every request."""
        try:
            with self.lock:
                rows = self.conn.execute(
                    "SELECT name, position FROM view_positions UNION ALL "
                    f"SELECT NULL, MAX(rowid) FROM {events_table}").fetchall()
        except sqlite3.OperationalError:  # no such table here (a log kept elsewhere)
            return self.positions(), None
        return positions_with_head(rows)

    def get(self, view: str, key: str) -> Doc | None:
        stored = self.stored_key(view, key)
        with self.lock:
            row = self.conn.execute("SELECT doc FROM view_docs WHERE view=? AND key=?",
                                    (view, stored)).fetchone()
        return self.decode_at(view, key, stored, row[0]) if row else None

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
                found.update({stored[(view, k)]: self.decode_at(view, stored[(view, k)][1], k, d)
                              for k, d in rows})
        return found

    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT key, doc FROM view_docs WHERE view=? AND key>=? AND key<? ORDER BY key",
                (view, *self.scan_range(view, prefix))).fetchall()
        return self.found(view, rows)

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

    def commit(self, changes: Changes, expected: Mapping[str, int], new: int,
               absent: Collection[tuple[str, str]] = ()) -> None:
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
        problems.append(wal_kept("old pages of the views", "partnership erase"))

    def close(self) -> None:
        with self.lock:
            self.conn.close()
