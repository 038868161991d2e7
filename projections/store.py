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
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.base import LedgerError
from ledger.nonces import NONCES
from ledger.settings import StoreSettings

from .view_keys import KEY, ViewKeys

Doc = dict[str, Any]
Changes = Mapping[tuple[str, str], Doc | bytes | None]
"""Documents to write (or, as bytes, already in their canonical form), None to delete."""


CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
"""How a document is written: compact JSON (UTF-8), keys sorted, so equal documents are equal
bytes. orjson, not the standard library: its encoder was an eighth of a views rebuild."""


def canonical(doc: Doc) -> bytes:
    """A document as stored (before any sealing). Tried first without OPT_NON_STR_KEYS, which
    costs a fifth of the encoding whether or not a key needs it (the folds key everything by
    text): the same bytes either way, and a document with another key encoded with it."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return orjson.dumps(doc, option=CANONICAL)


MANY = 400  # (view, key) pairs per query when reading many documents at once
SETUP_LOCK = 0x61756469746C6764  # "auditlgd": serialises creating tables across processes
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


class ViewStore(ViewKeys, ABC):
    """Documents by (view, key), sealed with the store's key when one is set.

    A sealed document is AES-GCM with its (view, stored key) as associated data, so a document
    copied or swapped to another place does not open there (`UnopenedView` names the place).
    Where a document is stored, and its key hidden, is `projections.view_keys`.
    """

    ONE_WRITER = False
    """Whether the store lets one writer in at a time, others waiting in sleeps (SQLite's busy
    handler): then a rebuild's processes take turns to commit by a lock of their own, which
    wakes the next at once (`projections.follower`)."""

    def __init__(self, key: str = "") -> None:
        super().__init__(key)
        self.sealer = AESGCM(hmac.new(base64.b64decode(key), SEALING, hashlib.sha256)
                             .digest()) if key else None

    def _stored(self, keys: list[tuple[str, str]] | Changes) -> dict[tuple[str, str], Any]:
        """Stored (view, key) pairs: to the asked pair (from a list), or to the document (in a
        hidden view, holding its key)."""
        if isinstance(keys, list):
            return {(v, self.stored_key(v, k)): (v, k) for v, k in keys}
        return {(v, self.stored_key(v, k)): self.with_key(v, k, doc)
                for (v, k), doc in keys.items()}

    def scan_range(self, view: str, prefix: str) -> tuple[str, str]:
        """The stored keys a scan of `prefix` reads: from the prefix as stored to its end."""
        stored = self.stored_prefix(view, prefix)
        return stored, prefix_end(stored)

    def found(self, view: str, rows: list[tuple[str, Any]]) -> list[tuple[str, Doc]]:
        """A scan's stored rows as (key, document), in the order of their keys."""
        out = [(k, self.decode(view, k, d)) for k, d in rows]
        if not self.hides(view):
            return out
        return sorted(((doc.pop(KEY, stored), doc) for stored, doc in out), key=lambda kd: kd[0])

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
        nonce = NONCES.take()  # os.urandom read in bulk (`ledger.nonces`)
        return nonce + self.sealer.encrypt(nonce, raw, _bound_to(view, stored_key))

    def decode(self, view: str, stored_key: str, raw: bytes) -> Doc:
        """A stored document (in a hidden view, still holding its key under KEY)."""
        doc: Doc = orjson.loads(self._plain(view, stored_key, raw))
        return doc

    def decode_at(self, view: str, key: str, stored_key: str, raw: bytes) -> Doc:
        """The document stored for (view, key), as folded."""
        doc = self.decode(view, stored_key, raw)
        if self.hides(view) and doc.pop(KEY, None) != key:
            raise UnopenedView(view, stored_key)
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

    def positions_and_head(self, events_table: str) -> tuple[dict[str, int], int | None]:
        """The positions and, where the log's events table `events_table` is in the same
        database, the log's head read in the same statement (None: ask the log itself)."""
        return self.positions(), None

    @abstractmethod
    def get(self, view: str, key: str) -> Doc | None: ...

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        """The documents found among these (view, key) pairs; absent ones are left out."""
        found = {k: self.get(*k) for k in keys}
        return {k: d for k, d in found.items() if d is not None}

    @abstractmethod
    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]: ...

    @abstractmethod
    def commit(self, changes: Changes, expected: Mapping[str, int], new: int,
               absent: Collection[tuple[str, str]] = ()) -> None:
        """Write the changed documents and move each named position from expected to new.
        `absent`: keys of `changes` known not to be in the store (a rebuild's, from its
        memory): a store may write them without looking for them first and leave out their
        deletes."""

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


def positions_with_head(rows: list[tuple[str | None, Any]]) -> tuple[dict[str, int], int]:
    """`positions_and_head`'s rows (each position by name, then the head as a row with no
    name) as the positions and the head."""
    return ({name: int(pos) for name, pos in rows if name is not None},
            next((int(pos or 0) for name, pos in rows if name is None), 0))


def open_view_store(settings: StoreSettings) -> ViewStore:
    if settings.kind == "sqlite":
        from .sqlite_views import SQLiteViewStore

        return SQLiteViewStore(settings.sqlite_path, settings.key)
    from .postgres_views import PostgresViewStore

    return PostgresViewStore(settings)
