"""One worker at a time: a lock file beside an SQLite store, an advisory lock on PostgreSQL."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from typing import Any, Protocol

from ledger.settings import StoreSettings


class Lease(Protocol):
    def hold(self) -> bool: ...

    def release(self) -> None: ...


class FileLease:
    """SQLite: an exclusive lock on a file beside the database, let go when the process ends."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def hold(self) -> bool:
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class PostgresLease:
    """PostgreSQL: a session advisory lock (one per schema), let go when the connection ends."""

    CHECK_EVERY = 5.0

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        digest = hashlib.sha256(f"audit-ledger-worker/{settings.pg_schema}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.conn: Any = None
        self.checked = 0.0

    def hold(self) -> bool:
        import psycopg

        if self.conn is not None:
            if time.monotonic() - self.checked < self.CHECK_EVERY:
                return True
            try:
                self.conn.execute("SELECT 1")
                self.checked = time.monotonic()
                return True
            except psycopg.Error:
                self.release()
        s = self.settings
        try:
            conn = psycopg.connect(host=s.pg_host, port=int(s.pg_port), user=s.pg_user,
                                   password=s.pg_password or None, dbname=s.pg_dbname,
                                   autocommit=True, connect_timeout=5)
        except psycopg.Error:
            return False
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if not row or not row[0]:
            conn.close()
            return False
        self.conn, self.checked = conn, time.monotonic()
        return True

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.conn = None


def lease_for(settings: StoreSettings) -> Lease:
    if settings.kind == "sqlite":
        return FileLease(settings.sqlite_path + ".worker-lock")
    return PostgresLease(settings)
