"""The store's key: checked by the store factories when a store is opened.

At wiring time the factories check that the configured key (or the lack of one) opens the
stored events, so a wrong, malformed or missing key is said plainly before any command
starts instead of failing deep inside a read. The settings select them with the library's
PERSISTENCE_MODULE.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Cipher
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import strtobool

from .base import LedgerError
from .signing import SigningKeyError, signer_from

KEY_CHECK = "LEDGER_KEY_CHECK"  # library env: "no" opens the store without checking the key
KEY_SIZES = (16, 24, 32)
SIGNING_KEY = "LEDGER_SIGNING_KEY"  # library env: AUDIT_LEDGER_SIGNING_KEY, as set


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


def holds_plain_json(state: bytes) -> bool:
    """True for an event stored without the store's cipher (plain JSON)."""
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
        if not holds_plain_json(state):
            raise StoreKeyError(NO_KEY)
        return
    try:
        cipher.decrypt(state)
    except ValueError:
        raise StoreKeyError(PLAIN_STORE if holds_plain_json(state) else OTHER_KEY) from None


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
        try:
            signer = signer_from(self.env.get("CIPHER_KEY") or "",
                                 self.env.get(SIGNING_KEY) or "")
        except SigningKeyError:
            self.close()  # type: ignore[attr-defined]
            raise
        recorder.signer = signer  # type: ignore[attr-defined]
        if strtobool(self.env.get(KEY_CHECK) or "yes"):
            try:
                check_key(recorder, self.cipher())
            except StoreKeyError:
                self.close()  # type: ignore[attr-defined]
                raise
        return recorder


class SQLiteLedgerFactory(KeyCheckingFactory, SQLiteFactory):
    """The library's SQLite factory, with the key checked when the store is opened."""
