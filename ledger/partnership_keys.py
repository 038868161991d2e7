"""Each partnership's data key: it wraps the keys of the partnership's cases, so destroying
it erases every sealed text of the partnership at once (the log untouched, `verify` passing).

`partnership_keys(partnership, key, erased_at)` lives beside `case_keys`; a partnership's key
is stored wrapped with the store's key (AUDIT_LEDGER_KEY) when one is set, as case keys were.
A case key wrapped by its partnership's key is stored bound to its case (`ledger.key_wrapping`);
one with the `MARK` prefix was wrapped by it before keys were bound to their case, and one
with neither was wrapped with the store's key directly (made before partnerships had keys)
and is destroyed with the partnership's (`CaseKeys.destroy_programmes`).

After a key rotation a partnership's key is wrapped with the epoch's wrapping key
(AUDIT_LEDGER_WRAPPING_KEY) instead, its row naming the epoch (`ledger.key_epochs`).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher

from .base import Rejected
from .key_epochs import (
    EpochTable,
    WrongWrappingKey,
    check_value,
    epoch_of,
    unwrap_partnership_key,
    wrap_partnership_key,
    wrong_key_words,
)

MARK = b"audit-ledger partnership key v1\n"
TABLE = "partnership_keys"
TTL = 1.0  # seconds a process may go on using a partnership key it has read


class PartnershipKeys:
    """One key per partnership, made on first need; None once destroyed."""

    def __init__(self, datastore: Any, wrap: Cipher | None, postgres: bool,
                 wrapping_key: bytes | None = None) -> None:
        self.datastore = datastore
        self.wrap = wrap
        self.wrapping_key = wrapping_key  # the key epoch's, after a rotation
        self.epochs = EpochTable(datastore, postgres)
        self.postgres = postgres
        self.ready = False
        self.lock = threading.Lock()
        self.cache: dict[str, tuple[float, AESCipher | None, str]] = {}
        if postgres:
            from psycopg.sql import SQL, Identifier

            self.table: Any = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(TABLE))
        else:
            self.table = TABLE

    def _sql(self, text: str) -> Any:
        if not self.postgres:
            return text.format(self.table)
        from psycopg.sql import SQL

        return SQL(text.replace("?", "%s")).format(self.table)  # type: ignore[arg-type]

    def _create(self) -> None:
        if self.ready:
            return
        with self.datastore.transaction(commit=True) as c:
            if self.postgres:
                c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                          [f"audit-ledger {self.datastore.schema}.{TABLE}"])
            blob = "bytea" if self.postgres else "BLOB"
            c.execute(self._sql("CREATE TABLE IF NOT EXISTS {} (partnership TEXT PRIMARY KEY, "
                                f"key {blob}, erased_at TEXT)"))
        self.ready = True

    def _row(self, c: Any, partnership: str) -> tuple[bytes | None, str] | None:
        c.execute(self._sql("SELECT key, erased_at FROM {} WHERE partnership=?"), [partnership])
        row = c.fetchone()
        if row is None:
            return None
        if isinstance(row, dict):
            return row["key"], row["erased_at"] or ""
        return row[0], row[1] or ""

    def raw(self, wrapped: bytes, partnership: str) -> bytes:
        """The partnership's key in its row, unwrapped with the key of the row's epoch."""
        epoch = epoch_of(wrapped)
        if epoch != 0:
            if self.wrapping_key is not None:
                try:
                    return unwrap_partnership_key(self.wrapping_key, wrapped, partnership)
                except ValueError:
                    pass
            with self.datastore.transaction(commit=False) as c:
                newest = self.epochs.newest(c)
            raise WrongWrappingKey(wrong_key_words(newest, epoch, self.wrapping_key is not None))
        try:
            return self.wrap.decrypt(bytes(wrapped)) if self.wrap else bytes(wrapped)
        except (ValueError, OSError):
            raise Rejected("the partnership keys beside this log do not open with "
                           "AUDIT_LEDGER_KEY: use the key the store was written with") from None

    def _cipher(self, wrapped: bytes, partnership: str) -> AESCipher:
        return aes(self.raw(wrapped, partnership))

    def sealed(self, c: Any, raw: bytes, partnership: str) -> bytes:
        """A new partnership key as its row holds it: wrapped with the current epoch's key."""
        newest = self.epochs.newest(c)
        if newest is None:
            return self.wrap.encrypt(raw) if self.wrap else raw
        if self.wrapping_key is None or \
                check_value(self.wrapping_key, newest.number) != newest.check:
            raise WrongWrappingKey(wrong_key_words(newest, newest.number,
                                                   self.wrapping_key is not None))
        return wrap_partnership_key(self.wrapping_key, raw, partnership, newest.number)

    def key(self, partnership: str, fresh: bool = False) -> tuple[AESCipher | None, str]:
        """The partnership's key (None once destroyed, with when; None and "" when it never
        had one), remembered for `TTL` seconds unless `fresh`."""
        now = time.monotonic()
        with self.lock:
            cached = self.cache.get(partnership)
        if cached is not None and not fresh and \
                (now < cached[0] or cached[1] is None and cached[2]):
            return cached[1], cached[2]
        self._create()
        with self.datastore.transaction(commit=False) as c:
            row = self._row(c, partnership)
        found = (None, "") if row is None else (
            (None, row[1]) if row[0] is None else (self._cipher(row[0], partnership), ""))
        with self.lock:
            self.cache[partnership] = (now + TTL, *found)
        return found

    def new_key(self, partnership: str) -> tuple[bytes, AESCipher]:
        """A new partnership key: its row's wrapped bytes (under the current epoch's key),
        and the key. Stored by the save whose case keys it wraps, in the events' transaction
        (`insert`); one wrapped just before a rotation is wrapped again by `rotate-key`."""
        raw = os.urandom(32)
        self._create()
        with self.datastore.transaction(commit=False) as c:
            wrapped = self.sealed(c, raw, partnership)
        return wrapped, aes(raw)

    def insert(self, c: Any, rows: dict[str, bytes]) -> None:
        """Store new partnership keys with cursor `c`, in the caller's transaction: a key
        stored meanwhile by another process makes it fail (IntegrityError) and retry."""
        if self.postgres:
            c.execute(self._sql("INSERT INTO {} (partnership, key) SELECT * FROM "
                                "unnest(%s::text[], %s::bytea[])"),
                      [list(rows), list(rows.values())])
        else:
            c.executemany(self._sql("INSERT INTO {} (partnership, key) VALUES (?, ?)"),
                          [[p, k] for p, k in rows.items()])

    def remember(self, partnership: str, key: AESCipher) -> None:
        """A key this process stored (its save committed)."""
        with self.lock:
            self.cache[partnership] = (time.monotonic() + TTL, key, "")

    def destroy(self, partnership: str) -> bool:
        """Destroy the partnership's key for good (a row with no key stays, so none is made
        again); True when a key was there."""
        self._create()
        erased_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.datastore.transaction(commit=True) as c:
            if not self.postgres:
                c.execute("PRAGMA secure_delete=ON")  # the deleted key's bytes zeroed
            row = self._row(c, partnership)
            c.execute(self._sql("DELETE FROM {} WHERE partnership=?"), [partnership])
            c.execute(self._sql("INSERT INTO {} (partnership, key, erased_at) "
                                "VALUES (?, NULL, ?)"), [partnership, erased_at])
        with self.lock:
            self.cache.pop(partnership, None)
        if self.postgres:  # VACUUM FULL writes the table afresh, without the deleted bytes
            with self.datastore.get_connection() as conn:
                conn.execute(self._sql("VACUUM FULL {}"))
        else:
            with self.datastore.get_connection(commit=True) as conn:
                conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return row is not None and row[0] is not None


def aes(raw: bytes) -> AESCipher:
    """The library's AES-GCM cipher with this key."""
    import base64

    from eventsourcing.utils import Environment

    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: base64.b64encode(raw).decode()}))
