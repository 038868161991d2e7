"""Key epochs: which key wraps the partnerships' keys, so that a rotation can retire one.

Epoch 0 is every store as it was: a partnership's key is wrapped with AUDIT_LEDGER_KEY (the
library's AESCipher) or stored raw without one. `audit-ledger rotate-key` starts epoch 1, 2,
... each with a *wrapping key* of its own (AUDIT_LEDGER_WRAPPING_KEY, never stored): every
partnership gets a new key, wrapped with the new epoch's key, and every case key still alive
is re-wrapped with its partnership's new key (`ledger.rotation`). A key destroyed before the
rotation can then be found in an old WAL segment or backup only wrapped with a partnership
key of an earlier epoch, itself wrapped with that epoch's wrapping key: once that key is gone
from everywhere, what is left there opens with nothing.

A partnership key row of epoch n >= 1 is

    EPOCH_MARK + b"n\\n" + nonce (12 bytes) + tag (16 bytes) + AES-GCM ciphertext of the key

under epoch n's wrapping key, with associated data `["audit-ledger partnership key",
partnership, n]`, so a row moved to another partnership (or relabelled with another epoch)
does not open. `key_epochs(epoch, check_value, started_at, started_by)` lists the epochs; the
check value (HMAC-SHA256 of the epoch's name under its key) lets a wrong key be refused in
words before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .base import LedgerAggregate, Rejected
from .nonces import NONCES

EPOCH_MARK = b"audit-ledger partnership key, epoch "
EPOCH_TABLE = "key_epochs"
NONCE, TAG = 12, 16
WRAPPING_KEY = "LEDGER_WRAPPING_KEY"  # library env: AUDIT_LEDGER_WRAPPING_KEY, as set


class KeyRotation(LedgerAggregate):
    """One key epoch, started by a rotation (`ledger.rotation`): which epoch, who, when, how
    many keys. Here, where every reader of the log imports it, so its events always resolve."""

    TOPIC = "audit-ledger:KeyEpoch"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:StoreKeysRotated"
        epoch: int
        partnership_keys: int
        case_keys: int

    def __init__(self, *, epoch: int, partnership_keys: int, case_keys: int, by: str,
                 occurred_on: str, key: str) -> None:
        self.keys: set[str] = set()
        self.epoch = epoch
        self.partnership_keys = partnership_keys
        self.case_keys = case_keys


class WrongWrappingKey(Rejected):
    """The wrapping key given does not open the keys of the store's epoch."""


BAD_WRAPPING_KEY = ("AUDIT_LEDGER_WRAPPING_KEY is not a valid key: it is the key given to "
                    "rotate-key (made with audit-ledger keygen)")


def key_bytes(key: str) -> bytes | None:
    """A key as keygen prints it (base64 of 32 bytes), or None when it is not one."""
    try:
        raw = base64.b64decode(key.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def wrapping_key_of(env: Any) -> bytes | None:
    """The epoch's wrapping key from the library's environment (None when not set)."""
    given = (env.get(WRAPPING_KEY) or "").strip()
    if not given:
        return None
    raw = key_bytes(given)
    if raw is None:
        raise WrongWrappingKey(BAD_WRAPPING_KEY)
    return raw


def epoch_of(wrapped: bytes) -> int:
    """The epoch a partnership key row was wrapped in (0: before any rotation)."""
    wrapped = bytes(wrapped)
    if not wrapped.startswith(EPOCH_MARK):
        return 0
    number = wrapped[len(EPOCH_MARK):].split(b"\n", 1)[0]
    return int(number) if number.isdigit() else -1


def _bound(partnership: str, epoch: int) -> bytes:
    return json.dumps(["audit-ledger partnership key", partnership, epoch],
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def wrap_partnership_key(wrapping_key: bytes, raw: bytes, partnership: str, epoch: int) -> bytes:
    """A partnership's key sealed under epoch `epoch`'s wrapping key, bound to both."""
    nonce = NONCES.take()  # os.urandom read in bulk (`ledger.nonces`)
    sealed = AESGCM(wrapping_key).encrypt(nonce, raw, _bound(partnership, epoch))
    return EPOCH_MARK + str(epoch).encode() + b"\n" + nonce + sealed[-TAG:] + sealed[:-TAG]


def unwrap_partnership_key(wrapping_key: bytes, wrapped: bytes, partnership: str) -> bytes:
    """The key in a row of epoch >= 1; ValueError when it does not open with this key (or
    was made for another partnership)."""
    epoch = epoch_of(wrapped)
    body = bytes(wrapped).split(b"\n", 1)[1] if epoch > 0 else b""
    nonce, tag, sealed = body[:NONCE], body[NONCE:NONCE + TAG], body[NONCE + TAG:]
    if epoch <= 0 or len(nonce) != NONCE or len(tag) != TAG:
        raise ValueError("not a partnership key of a rotated epoch")
    try:
        return AESGCM(wrapping_key).decrypt(nonce, sealed + tag, _bound(partnership, epoch))
    except InvalidTag:
        raise ValueError("does not open with this key") from None


def check_value(wrapping_key: bytes, epoch: int) -> str:
    """What proves a key is epoch `epoch`'s, without revealing it."""
    return hmac.new(wrapping_key, f"audit-ledger key epoch {epoch}".encode(),
                    hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Epoch:
    number: int
    check: str
    started_at: str
    started_by: str


class EpochTable:
    """`key_epochs` on either store: created by the first rotation."""

    def __init__(self, datastore: Any, postgres: bool) -> None:
        self.datastore = datastore
        self.postgres = postgres
        if postgres:
            from psycopg.sql import SQL, Identifier

            self.table: Any = SQL("{}.{}").format(Identifier(datastore.schema),
                                                  Identifier(EPOCH_TABLE))
        else:
            self.table = EPOCH_TABLE

    def sql(self, text: str) -> Any:
        if not self.postgres:
            return text.format(self.table)
        from psycopg.sql import SQL

        return SQL(text.replace("?", "%s")).format(self.table)  # type: ignore[arg-type]

    def create(self, c: Any) -> None:
        c.execute(self.sql("CREATE TABLE IF NOT EXISTS {} (epoch INTEGER PRIMARY KEY, "
                           "check_value TEXT NOT NULL, started_at TEXT NOT NULL, "
                           "started_by TEXT NOT NULL)"))

    def exists(self, c: Any) -> bool:
        if self.postgres:
            c.execute("SELECT to_regclass(%s) AS found",
                      [f'"{self.datastore.schema}".{EPOCH_TABLE}'])
            row = c.fetchone()
            return (row["found"] if isinstance(row, dict) else row[0]) is not None
        c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name=?", [EPOCH_TABLE])
        return c.fetchone() is not None

    def newest(self, c: Any) -> Epoch | None:
        """The current epoch (None: epoch 0, no rotation yet)."""
        if not self.exists(c):
            return None
        c.execute(self.sql("SELECT epoch, check_value, started_at, started_by FROM {} "
                           "ORDER BY epoch DESC LIMIT 1"))
        row = c.fetchone()
        if row is None:
            return None
        values = list(row.values()) if isinstance(row, dict) else list(row)
        return Epoch(int(values[0]), str(values[1]), str(values[2]), str(values[3]))

    def all(self, c: Any) -> list[Epoch]:
        """Every epoch started, oldest first."""
        if not self.exists(c):
            return []
        c.execute(self.sql("SELECT epoch, check_value, started_at, started_by FROM {} "
                           "ORDER BY epoch"))
        rows = [list(r.values()) if isinstance(r, dict) else list(r) for r in c.fetchall()]
        return [Epoch(int(v[0]), str(v[1]), str(v[2]), str(v[3])) for v in rows]

    def add(self, c: Any, epoch: Epoch) -> None:
        self.create(c)
        c.execute(self.sql("INSERT INTO {} (epoch, check_value, started_at, started_by) "
                           "VALUES (?, ?, ?, ?)"),
                  [epoch.number, epoch.check, epoch.started_at, epoch.started_by])


def _day(moment: str) -> str:
    """A recorded moment's day as people say it (1 December 2026)."""
    from datetime import date

    from babel.dates import format_date

    try:
        return format_date(date.fromisoformat(moment[:10]), "d MMMM y", locale="en_GB")
    except ValueError:
        return "an unrecorded day"


def wrong_key_words(epoch: Epoch | None, number: int, given: bool) -> str:
    """Why the keys of epoch `number` cannot be opened, and what to do."""
    when = f" (rotated on {_day(epoch.started_at)} by {epoch.started_by})" if epoch else ""
    if not given:
        return (f"the keys beside this log are wrapped with the wrapping key of epoch {number}"
                f"{when}: set AUDIT_LEDGER_WRAPPING_KEY_FILE (or AUDIT_LEDGER_WRAPPING_KEY) to "
                "the key given to rotate-key")
    return (f"AUDIT_LEDGER_WRAPPING_KEY does not open the keys beside this log: they are "
            f"wrapped with the key of epoch {number}{when}; give that epoch's key")
