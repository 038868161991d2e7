"""Each store's case key table: SQLite's and PostgreSQL's, each erasing a key without a trace."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Cipher, InfrastructureFactory

from .case_key import Case
from .case_keys import CaseKeys

KEY_TABLE = "case_keys"
KEY_BATCH = 500  # case references a query: within SQLite's oldest limit of bound parameters


class SQLiteCaseKeys(CaseKeys):
    def __init__(self, datastore: Any, wrap: Cipher | None) -> None:
        super().__init__(wrap)
        self.datastore = datastore

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (programme TEXT NOT NULL, "
                      "case_ref TEXT NOT NULL, key BLOB, erased_at TEXT, "
                      "PRIMARY KEY (programme, case_ref))")

    @staticmethod
    def _rows(c: Any, cases: Iterable[Case]) -> dict[Case, tuple[bytes | None, str]]:
        """The rows of those cases that have one: a query per programme and few hundred
        cases, not one per case."""
        by_programme: dict[str, list[str]] = {}
        for programme, ref in cases:
            by_programme.setdefault(programme, []).append(ref)
        out = {}
        for programme, refs in by_programme.items():
            for start in range(0, len(refs), KEY_BATCH):
                batch = refs[start:start + KEY_BATCH]
                c.execute(f"SELECT case_ref, key, erased_at FROM {KEY_TABLE} WHERE programme=? "
                          f"AND case_ref IN ({','.join('?' * len(batch))})", [programme, *batch])
                for row in c.fetchall():
                    out[(programme, row[0])] = (row[1], row[2] or "")
        return out

    def _select(self, cases: list[Case]) -> dict[Case, tuple[bytes | None, str]]:
        with self.datastore.transaction(commit=False) as c:
            return self._rows(c, cases)

    def _insert(self, new: dict[Case, bytes]) -> dict[Case, tuple[bytes | None, str]]:
        with self.datastore.transaction(commit=True) as c:
            # The inserts first: they take the write lock, so the rows read next are the ones
            # stored.
            c.executemany(f"INSERT INTO {KEY_TABLE} (programme, case_ref, key) VALUES (?, ?, ?) "
                          "ON CONFLICT (programme, case_ref) DO NOTHING",
                          [[*case, wrapped] for case, wrapped in new.items()])
            rows = self._rows(c, new)
        return {case: rows[case] for case in new}

    def _insert_new(self, c: Any, rows: dict[Case, bytes]) -> None:
        c.executemany(f"INSERT INTO {KEY_TABLE} (programme, case_ref, key) VALUES (?, ?, ?)",
                      [[*case, wrapped] for case, wrapped in rows.items()])

    @contextmanager
    def _secure(self) -> Iterator[Any]:
        """A connection that overwrites what it deletes with zeros (SQLite's secure_delete)."""
        with self.datastore.get_connection(commit=True) as conn:
            pragma = conn.cursor()
            pragma.execute("PRAGMA secure_delete")
            before = int(pragma.fetchone()[0])
            pragma.execute("PRAGMA secure_delete=ON")
            try:
                yield conn
            finally:
                pragma.execute(f"PRAGMA secure_delete={before}")

    def _destroy(self, case: Case, erased_at: str) -> bool:
        with self._secure() as conn, conn.transaction(commit=True) as c:
            c.execute(f"SELECT key FROM {KEY_TABLE} WHERE programme=? AND case_ref=?", list(case))
            row = c.fetchone()
            if row is not None and row[0] is None:
                return False  # erased before
            c.execute(f"DELETE FROM {KEY_TABLE} WHERE programme=? AND case_ref=?", list(case))
            c.execute(f"INSERT INTO {KEY_TABLE} (programme, case_ref, key, erased_at) "
                      "VALUES (?, ?, NULL, ?)", [*case, erased_at])
        return row is not None and row[0] is not None

    def _destroyed(self) -> dict[Case, str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT programme, case_ref, erased_at FROM {KEY_TABLE} WHERE key IS NULL")
            return {(r[0], r[1]): r[2] or "" for r in c.fetchall()}

    def _destroy_programmes(self, programmes: list[str], erased_at: str) -> int:
        marks = ",".join("?" * len(programmes))
        with self._secure() as conn, conn.transaction(commit=True) as c:
            c.execute(f"SELECT programme, case_ref FROM {KEY_TABLE} WHERE key IS NOT NULL AND "
                      f"programme IN ({marks})", programmes)
            rows = [list(r) for r in c.fetchall()]
            c.executemany(f"DELETE FROM {KEY_TABLE} WHERE programme=? AND case_ref=?", rows)
            c.executemany(f"INSERT INTO {KEY_TABLE} (programme, case_ref, key, erased_at) "
                          "VALUES (?, ?, NULL, ?)", [[*r, erased_at] for r in rows])
        return len(rows)

    def scrub(self) -> bool:
        # The deleted key was zeroed in its page; the WAL's older copies of that page go too.
        # A reader in another process keeps the WAL until it is done: each try waits a moment,
        # not the busy timeout, so `erase` can say so in seconds.
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA busy_timeout")
            before = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA busy_timeout=100")
            try:
                for _ in range(20):
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    if cursor.fetchone()[0] == 0:
                        return True
                    time.sleep(0.1)
            finally:
                cursor.execute(f"PRAGMA busy_timeout={before}")
        return False


class PostgresCaseKeys(CaseKeys):
    def __init__(self, datastore: Any, wrap: Cipher | None) -> None:
        super().__init__(wrap)
        from psycopg.sql import SQL, Identifier

        self.datastore = datastore
        self.table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(KEY_TABLE))
        self.sql = SQL

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            # Processes starting together must not race to create the table.
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         [f"audit-ledger {self.datastore.schema}.{KEY_TABLE}"])
            curs.execute(self.sql("CREATE TABLE IF NOT EXISTS {} (programme text NOT NULL, "
                                  "case_ref text NOT NULL, key bytea, erased_at text, "
                                  "PRIMARY KEY (programme, case_ref))").format(self.table))

    def _select(self, cases: list[Case]) -> dict[Case, tuple[bytes | None, str]]:
        # One statement, so no transaction around it (the connection commits each statement):
        # one round trip rather than three.
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql("SELECT k.programme, k.case_ref, k.key, k.erased_at FROM {} k "
                                  "JOIN unnest(%s::text[], %s::text[]) AS w(programme, case_ref) "
                                  "ON k.programme=w.programme AND k.case_ref=w.case_ref")
                         .format(self.table), [[p for p, _ in cases], [k for _, k in cases]])
            rows = curs.fetchall()
        return {(r["programme"], r["case_ref"]): (r["key"], r["erased_at"] or "") for r in rows}

    def _insert(self, new: dict[Case, bytes]) -> dict[Case, tuple[bytes | None, str]]:
        cases = list(new)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.sql("INSERT INTO {} (programme, case_ref, key) SELECT * FROM "
                                  "unnest(%s::text[], %s::text[], %s::bytea[]) ON CONFLICT "
                                  "(programme, case_ref) DO NOTHING").format(self.table),
                         [[p for p, _ in cases], [k for _, k in cases], list(new.values())])
            curs.execute(self.sql("SELECT k.programme, k.case_ref, k.key, k.erased_at FROM {} k "
                                  "JOIN unnest(%s::text[], %s::text[]) AS w(programme, case_ref) "
                                  "ON k.programme=w.programme AND k.case_ref=w.case_ref")
                         .format(self.table), [[p for p, _ in cases], [k for _, k in cases]])
            rows = curs.fetchall()
        return {(r["programme"], r["case_ref"]): (r["key"], r["erased_at"] or "") for r in rows}

    def _insert_new(self, c: Any, rows: dict[Case, bytes]) -> None:
        cases = list(rows)
        c.execute(self.sql("INSERT INTO {} (programme, case_ref, key) SELECT * FROM "
                           "unnest(%s::text[], %s::text[], %s::bytea[])").format(self.table),
                  [[p for p, _ in cases], [k for _, k in cases], list(rows.values())])

    def _destroy(self, case: Case, erased_at: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.sql("SELECT key FROM {} WHERE programme=%s AND case_ref=%s "
                                  "FOR UPDATE").format(self.table), list(case))
            row = curs.fetchone()
            if row is not None and row["key"] is None:
                return False  # erased before
            curs.execute(self.sql("DELETE FROM {} WHERE programme=%s AND case_ref=%s")
                         .format(self.table), list(case))
            curs.execute(self.sql("INSERT INTO {} (programme, case_ref, key, erased_at) VALUES "
                                  "(%s, %s, NULL, %s)").format(self.table), [*case, erased_at])
        return row is not None and row["key"] is not None

    def _destroyed(self) -> dict[Case, str]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql("SELECT programme, case_ref, erased_at FROM {} WHERE key IS "
                                  "NULL").format(self.table))
            rows = curs.fetchall()
        return {(r["programme"], r["case_ref"]): r["erased_at"] or "" for r in rows}

    def _destroy_programmes(self, programmes: list[str], erased_at: str) -> int:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.sql("UPDATE {} SET key=NULL, erased_at=%s WHERE key IS NOT NULL "
                                  "AND programme = ANY(%s)").format(self.table),
                         [erased_at, programmes])
            return int(curs.rowcount)

    def scrub(self) -> bool:
        # VACUUM FULL writes the table afresh without the deleted row's bytes (a plain VACUUM
        # only marks its space free). The table holds one short row per case: it is quick.
        # (The server's own write-ahead log is beyond it: the README's "When an erasure is final".)
        with self.datastore.get_connection() as conn:
            conn.execute(self.sql("VACUUM FULL {}").format(self.table))
        return True


def case_keys_for(factory: InfrastructureFactory[Any], wrap: Cipher | None) -> CaseKeys | None:
    """The key table of the factory's store, or None for a store that keeps no tables."""
    datastore = getattr(factory, "datastore", None)
    if datastore is None:
        return None
    from eventsourcing.sqlite import SQLiteDatastore

    from .key_epochs import wrapping_key_of
    from .partnership_keys import PartnershipKeys

    sqlite = isinstance(datastore, SQLiteDatastore)
    keys: CaseKeys = SQLiteCaseKeys(datastore, wrap) if sqlite else \
        PostgresCaseKeys(datastore, wrap)
    keys.partnerships = PartnershipKeys(datastore, wrap, postgres=not sqlite,
                                        wrapping_key=wrapping_key_of(factory.env))
    return keys
