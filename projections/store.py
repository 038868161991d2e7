"""Where views live: documents beside the events, written in one transaction with their position.

A view's documents and its tracking position are committed together and only
if nobody else moved the position first, so a fold is never lost or doubled. What every store
does (sealing documents, hashing keys) is here; the SQLite and PostgreSQL stores are in
`projections.sqlite_views` and `projections.postgres_views`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
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
Changes = Mapping[tuple[str, str], Doc | bytes | None]
"""Documents to write (or, as bytes, already in their canonical form), None to delete."""


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

    def encode(self, view: str, stored_key: str, doc: Doc | bytes) -> bytes:
        """A document (or its canonical bytes) as stored under (view, stored key): sealed to
        that place with a key."""
        raw = doc if isinstance(doc, bytes) else canonical(doc)
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


def prefix_end(prefix: str) -> str:
    return prefix + "\U0010ffff"


def open_view_store(settings: StoreSettings) -> ViewStore:
    if settings.kind == "sqlite":
        from .sqlite_views import SQLiteViewStore

        return SQLiteViewStore(settings.sqlite_path, settings.key)
    from .postgres_views import PostgresViewStore

    return PostgresViewStore(settings)
