"""Deterministic aggregate ids from natural keys, so the same thing twice is found, not doubled.

Two schemes, one a store, chosen when its first event is written and kept for its life:

- *public*: uuid5 under a published namespace. Anyone can compute an id from names, so with
  the database alone a dictionary of programme, case and agency names tells which agencies
  work with each case and confirms staff ids. Stores written without a key, and every store
  written before keyed ids existed, use it, so they read as they always did.
- *keyed*: HMAC-SHA256 under a key derived from the store's key (AUDIT_LEDGER_KEY) for ids
  alone, cut to a UUID of version 8 (RFC 9562's own-use version). Without the key an id says
  nothing about the names it was made from. New stores written with a key use it.

The scheme is recorded by the log itself: a keyed store's first event belongs to an
aggregate with a keyed id (version 8), a public one's to a uuid5 id. The first event is
chained and signed like every other (`ledger.chain`), so the choice cannot be changed
without `verify` naming position 1. `scheme_of` reads it when a store is opened; each
application keeps its own scheme (`LedgerApplication.ids`), so one process may open stores
of either kind side by side.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import b64decode
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from .base import LedgerError

NAMESPACE = UUID("5d0c1a52-6a3e-4f0e-9a59-2a7f1c3b0d11")
OVERRIDE_NAMESPACE = UUID("0b7f2d0e-4b8a-4c55-9a0e-1d5c0f6e2a77")
DEFAULT_PARTNERSHIP = "default"
"""The partnership of everything stored before partnerships were named, and of every pack
that names none: its ids are exactly those of the release before, so old stores read as
they did."""

_NAMESPACE_BYTES = NAMESPACE.bytes
# uuid5's version (5) and variant (RFC 4122) bits, set on the first 16 bytes of the SHA-1.
_KEEP = ((1 << 128) - 1) & ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_5 = (5 << 76) | (0x8000 << 48)


def name_uuid(name: str) -> UUID:
    """`uuid5(NAMESPACE, name)`, the same value at half its cost: the standard library's
    imports hashlib and converts bytes at each call, and an import makes an id or two an
    event (tests/test_ids.py compares the two)."""
    digest = hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()
    return UUID(int=(int.from_bytes(digest[:16], "big") & _KEEP) | _VERSION_5)


IDS_LABEL = b"audit-ledger aggregate ids v1"
"""What the key that makes keyed ids is derived from the store's key with, so it is used for
nothing else."""
KEYED_VERSION = 8


class KeyedIdsWithoutKey(LedgerError):
    """A store whose ids are keyed, opened without its key."""

    def __init__(self) -> None:
        super().__init__("this store's records are named with its key: set AUDIT_LEDGER_KEY "
                         "to the key it was written with")


class IdScheme:
    """How one store names its aggregates: `keyed` or `public` (see the module's words)."""

    def __init__(self, id_key: bytes | None = None, *, keyed: bool | None = None) -> None:
        self.keyed = id_key is not None if keyed is None else keyed
        self._key = id_key
        # One cache a scheme, so two stores' ids never meet in it.
        self._id = lru_cache(maxsize=4096)(self._derive)  # an import asks for most ids twice

    @property
    def can_name(self) -> bool:
        """Whether ids can be made here (a keyed scheme needs its key)."""
        return not self.keyed or self._key is not None

    @property
    def name(self) -> str:
        return "keyed" if self.keyed else "public"

    def _derive(self, *parts: str) -> UUID:
        if not self.keyed:
            return name_uuid("/".join(parts))
        if self._key is None:
            raise KeyedIdsWithoutKey()
        raw = bytearray(hmac.new(self._key, "/".join(parts).encode("utf-8", "surrogatepass"),
                                 hashlib.sha256).digest()[:16])
        raw[6] = (raw[6] & 0x0F) | (KEYED_VERSION << 4)
        raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC's variant
        return UUID(bytes=bytes(raw))

    def key_epoch_id(self, epoch: int) -> UUID:
        """A key epoch's record (`ledger.rotation`): one per epoch, so two rotations to the
        same epoch cannot both be recorded."""
        return self._id("key-epoch", str(epoch))

    def directory_id(self, partnership: str) -> UUID:
        """A partnership's directory, opened once by the first pack that brings people into it
        (`people.DirectoryOpened`): one id, so two first packs saved at once cannot both."""
        return self._id("directory", partnership)

    def programme_id(self, programme: str) -> UUID:
        return self._id("programme", programme)

    def partnership_id(self, partnership: str) -> UUID:
        return self._id("partnership", partnership)

    def person_id(self, person: str, partnership: str = DEFAULT_PARTNERSHIP) -> UUID:
        """A person is someone within one partnership: the same directory id in another
        partnership is another person."""
        if partnership == DEFAULT_PARTNERSHIP:
            return self._id("person", person)
        return self._id("person", partnership, person)

    def case_id(self, programme: str, case: str) -> UUID:
        return self._id("case", programme, case)

    def feedback_id(self, programme: str, case: str, agency: str) -> UUID:
        return self._id("feedback", programme, case, agency)

    def concern_id(self, programme: str, ref: str) -> UUID:
        return self._id("concern", programme, ref)

    def recommendation_id(self, programme: str, number: int) -> UUID:
        return self._id("recommendation", programme, str(number))

    def action_id(self, programme: str, action: str) -> UUID:
        return self._id("action", programme, action)

    def delivery_id(self, programme: str, subject: str, purpose: str, recipient: str) -> UUID:
        """One message per subject, purpose and person: the same alert is never recorded
        twice."""
        return self._id("delivery", programme, subject, purpose, recipient)

    def overview_report_id(self, programme: str) -> UUID:
        return self._id("overview-report", programme)

    def override_id(self, programme: str, natural: str) -> UUID:
        """The override of one text of a file (`ledger.overrides`), found again when the same
        file is imported again."""
        if not self.keyed:  # under the namespace overrides had before keyed ids
            return uuid5(OVERRIDE_NAMESPACE, f"{programme}/{natural}")
        return self._id("override", programme, natural)


PUBLIC = IdScheme()
"""The public scheme: that of stores without a key and of every store written before. The
ledger asks each store's own scheme (`LedgerApplication.ids`); PUBLIC is named only where the
public rule itself is meant (a store's scheme read from its first event, tests of that rule)."""


def keyed_scheme(store_key: str) -> IdScheme:
    """The keyed scheme of a store key (base64, as AUDIT_LEDGER_KEY holds it)."""
    return IdScheme(hmac.new(b64decode(store_key.strip()), IDS_LABEL, hashlib.sha256).digest())


def is_keyed_id(oid: Any) -> bool:
    """Whether a stored aggregate id was made by the keyed scheme (its version)."""
    try:
        return (oid if isinstance(oid, UUID) else UUID(str(oid))).version == KEYED_VERSION
    except ValueError:
        return False


def scheme_of(first_oid: Any | None, store_key: str) -> IdScheme:
    """A store's scheme, from its first event's aggregate id (None: no events yet) and its key.

    A store with no events takes the keyed scheme when it has a key and the public one
    otherwise, as its first write will record; a store with events keeps the scheme its
    first event was named by."""
    if first_oid is None:
        return keyed_scheme(store_key) if store_key else PUBLIC
    if not is_keyed_id(first_oid):
        return PUBLIC
    return keyed_scheme(store_key) if store_key else IdScheme(keyed=True)


def in_partnership(partnership: str, name: str) -> str:
    """A person's or agency's key among every partnership's (the views key their documents by
    it): the name itself in the default partnership, else `partnership/name` (a name holds no
    `/`, so the two never meet)."""
    if not name or partnership == DEFAULT_PARTNERSHIP:
        return name
    return f"{partnership}/{name}"


def concern_ref(case: str, agency: str, summary: str, raised_on: str) -> str:
    """A short reference people can type, stable for the same concern raised twice."""
    digest = hashlib.sha256("/".join((case, agency, summary.strip(), raised_on)).encode()).hexdigest()
    return f"{case}-{digest[:6]}"
