"""Key rotation: every key still alive re-wrapped under a new epoch's wrapping key, in one
transaction, so that what an erasure destroyed, wherever a copy of it survives (an old WAL
segment, a backup), opens with nothing once the previous epoch's key is gone.

Each partnership gets a new key, wrapped with the new epoch's key (`ledger.key_epochs`); each
case key still alive is opened with its partnership's old key (or with AUDIT_LEDGER_KEY, for
keys made before partnerships had keys) and wrapped again with its partnership's new key.
Keys already destroyed stay destroyed (a row with no key). Nothing is written unless every
row opens: a row that does not is named and the rotation refused. The epoch is recorded in
`key_epochs`, in each partnership key row, and as a `StoreKeysRotated` event.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .base import Rejected
from .case_keys import KEY_TTL, CaseKeys
from .key_epochs import (
    Epoch,
    WrongWrappingKey,
    check_value,
    epoch_of,
    unwrap_partnership_key,
    wrap_partnership_key,
    wrong_key_words,
)
from .key_wrapping import bound_to, is_bound, unwrap_case_key, wrap_case_key
from .partnership_keys import MARK, PartnershipKeys, aes

LATE_WAIT = KEY_TTL + 0.5
"""Seconds after the rotation before looking for keys another process wrapped with a key it
read before the rotation (it may use one for `KEY_TTL` seconds)."""


@dataclass
class Rotated:
    epoch: int
    partnership_keys: int = 0
    case_keys: int = 0
    late: int = 0
    old: dict[str, bytes] = field(default_factory=dict, repr=False)
    new: dict[str, bytes] = field(default_factory=dict, repr=False)


def _values(row: Any) -> list[Any]:
    return list(row.values()) if isinstance(row, dict) else list(row)


class Rotation:
    """The rotation of one store's keys to a new wrapping key."""

    def __init__(self, keys: CaseKeys, new_key: bytes) -> None:
        if keys.partnerships is None or keys.partnership_of is None:
            raise Rejected("this store keeps no keys beside its log, so none can be rotated")
        self.keys = keys
        self.partnerships: PartnershipKeys = keys.partnerships
        self.partnership_of: Callable[[str], str] = keys.partnership_of
        self.new_key = new_key
        self.datastore = self.partnerships.datastore
        self.postgres = self.partnerships.postgres
        self.previous_key = self.partnerships.wrapping_key  # None: AUDIT_LEDGER_KEY's epoch

    def _sql(self, text: str, table: str) -> Any:
        if not self.postgres:
            return text.replace("{}", table)
        from psycopg.sql import SQL, Identifier

        return SQL(text.replace("?", "%s")).format(
            SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(table)))

    def unrecorded(self, recorded: Callable[[int], object]) -> list[Epoch]:
        """Epochs whose rotation committed its keys but stopped before its event."""
        if not self.partnerships.ready:
            self.partnerships._create()
        with self.datastore.transaction(commit=False) as c:
            epochs = self.partnerships.epochs.all(c)
        return [e for e in epochs if recorded(e.number) is None]

    def _lock(self, c: Any) -> None:
        """Hold off every other writer of the key tables until the rotation commits."""
        if self.postgres:
            c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                      [f"audit-ledger {self.datastore.schema} rotate-key"])
            c.execute(self._sql("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", "case_keys"))
            c.execute(self._sql("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
                                "partnership_keys"))
        else:
            c.execute("PRAGMA secure_delete=ON")  # old rows' bytes zeroed where they were
        self.partnerships.epochs.create(c)
        # On SQLite a write takes the store's write lock now, before anything is read.
        c.execute(self.partnerships.epochs.sql("DELETE FROM {} WHERE epoch < 0"))

    def _refuse_wrong_keys(self, newest: Epoch | None) -> None:
        current = self.partnerships.wrapping_key
        if newest is not None and (current is None or
                                   check_value(current, newest.number) != newest.check):
            raise WrongWrappingKey(wrong_key_words(newest, newest.number, current is not None))
        store_key = getattr(self.partnerships.wrap, "key", None)
        if self.new_key in (current, store_key):
            raise Rejected("the new key is the key in use now: make a new one with "
                           "audit-ledger keygen, so the old one can be destroyed")

    def _rows(self, c: Any, table: str, columns: str) -> list[list[Any]]:
        c.execute(self._sql(f"SELECT {columns} FROM {{}} WHERE key IS NOT NULL", table))
        return [_values(r) for r in c.fetchall()]

    def _case_raw(self, wrapped: bytes, partnership_key: bytes | None,
                  case: tuple[str, str, str]) -> bytes:
        """A case key as its row holds it, opened with its partnership's key of the epoch it
        was wrapped in (or AUDIT_LEDGER_KEY, for keys made before partnership keys); `case`
        is (partnership, programme, case reference), which a bound row is bound to."""
        wrapped = bytes(wrapped)
        if is_bound(wrapped):
            if partnership_key is None:
                raise ValueError("no partnership key")
            return unwrap_case_key(partnership_key, wrapped, bound_to(*case))
        if wrapped.startswith(MARK):
            if partnership_key is None:
                raise ValueError("no partnership key")
            return bytes(aes(partnership_key).decrypt(wrapped[len(MARK):]))
        wrap = self.partnerships.wrap
        return bytes(wrap.decrypt(wrapped)) if wrap else wrapped

    @staticmethod
    def _case_row(raw: bytes, partnership_key: bytes, case: tuple[str, str, str]) -> bytes:
        """Every row written again is bound to its case (`ledger.key_wrapping`), older
        formats included."""
        return wrap_case_key(partnership_key, raw, bound_to(*case))

    def rotate(self, by: str, at: str) -> Rotated:
        """Re-wrap every key still alive under `new_key`, in one transaction; the new epoch."""
        self.keys._table()
        self.partnerships._create()
        with self.datastore.transaction(commit=True) as c:
            self._lock(c)
            newest = self.partnerships.epochs.newest(c)
            self._refuse_wrong_keys(newest)
            done = Rotated((newest.number if newest else 0) + 1)
            for partnership, wrapped in self._rows(c, "partnership_keys", "partnership, key"):
                done.old[partnership] = self.partnerships.raw(wrapped, partnership)
                done.new[partnership] = os.urandom(32)
            cases = self._rows(c, "case_keys", "programme, case_ref, key")
            rewrapped = []
            for programme, ref, wrapped in cases:
                partnership = self.partnership_of(programme)
                try:
                    raw = self._case_raw(wrapped, done.old.get(partnership),
                                         (partnership, programme, ref))
                except (ValueError, OSError):
                    raise Rejected(f"case {ref} in {programme}: its key row does not open with "
                                   "its partnership's key (changed outside the ledger?); "
                                   "nothing was rotated: run audit-ledger verify") from None
                new = done.new.setdefault(partnership, os.urandom(32))
                rewrapped.append([self._case_row(raw, new, (partnership, programme, ref)),
                                  programme, ref])
            c.executemany(self._sql("UPDATE {} SET key=? WHERE programme=? AND case_ref=?",
                                    "case_keys"), rewrapped)
            self._store_partnership_keys(c, done)
            self.partnerships.epochs.add(c, Epoch(done.epoch, check_value(self.new_key,
                                                                          done.epoch), at, by))
        done.partnership_keys, done.case_keys = len(done.new), len(rewrapped)
        self._now_using_new_key()
        return done

    def _store_partnership_keys(self, c: Any, done: Rotated) -> None:
        rows = [[wrap_partnership_key(self.new_key, raw, partnership, done.epoch), partnership]
                for partnership, raw in done.new.items()]
        # A partnership whose key was destroyed keeps no key: never one made again here.
        c.executemany(self._sql("UPDATE {} SET key=? WHERE partnership=? AND key IS NOT NULL",
                                "partnership_keys"), rows)
        c.executemany(self._sql("INSERT INTO {} (partnership, key) VALUES (?, ?) ON CONFLICT "
                                "(partnership) DO NOTHING", "partnership_keys"),
                      [[p, k] for k, p in rows])

    def _now_using_new_key(self) -> None:
        self.partnerships.wrapping_key = self.new_key
        with self.partnerships.lock:
            self.partnerships.cache.clear()
        self.keys.forget()

    def rewrap_late(self, done: Rotated) -> int:
        """Keys another process wrapped with a key it read before the rotation committed
        (within `KEY_TTL`): wrapped again, in a second transaction, after `LATE_WAIT`."""
        time.sleep(LATE_WAIT)
        late = 0
        with self.datastore.transaction(commit=True) as c:
            self._lock(c)
            for partnership, wrapped in self._rows(c, "partnership_keys", "partnership, key"):
                if epoch_of(wrapped) == done.epoch:
                    continue  # made in this epoch, or re-wrapped by it
                old = self._old_epoch_raw(wrapped, partnership)
                done.new[partnership] = old  # its cases' keys were wrapped with it
                c.execute(self._sql("UPDATE {} SET key=? WHERE partnership=?",
                                    "partnership_keys"),
                          [wrap_partnership_key(self.new_key, old, partnership, done.epoch),
                           partnership])
                late += 1
            for programme, ref, wrapped in self._rows(c, "case_keys",
                                                      "programme, case_ref, key"):
                partnership = self.partnership_of(programme)
                new = done.new.get(partnership)
                try:
                    self._case_raw(wrapped, new, (partnership, programme, ref))
                    continue
                except (ValueError, OSError):
                    pass
                try:
                    raw = self._case_raw(wrapped, done.old.get(partnership),
                                         (partnership, programme, ref))
                except (ValueError, OSError):
                    continue  # not ours to mend: `verify` names it
                new = new or done.new.setdefault(partnership, os.urandom(32))
                c.execute(self._sql("UPDATE {} SET key=? WHERE programme=? AND case_ref=?",
                                    "case_keys"),
                          [self._case_row(raw, new, (partnership, programme, ref)), programme,
                           ref])
                late += 1
        done.late = late
        self._now_using_new_key()
        return late

    def _old_epoch_raw(self, wrapped: bytes, partnership: str) -> bytes:
        if epoch_of(wrapped) == 0:
            return self.partnerships.raw(wrapped, partnership)
        return unwrap_partnership_key(self.previous_key or b"", wrapped, partnership)

    def scrub(self) -> None:
        """The old rows' bytes gone from the live tables (not from WAL already archived or
        backups: the old epoch's key, once destroyed, is what makes those useless)."""
        if self.postgres:
            with self.datastore.get_connection() as conn:
                for table in ("case_keys", "partnership_keys"):
                    conn.execute(self._sql("VACUUM FULL {}", table))
            return
        with self.datastore.get_connection(commit=True) as conn:
            conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
