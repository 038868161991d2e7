"""Deterministic aggregate ids from natural keys, so the same thing twice is found, not doubled."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from uuid import UUID

NAMESPACE = UUID("5d0c1a52-6a3e-4f0e-9a59-2a7f1c3b0d11")
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


@lru_cache(maxsize=4096)  # an import asks for most of its ids more than once
def _id(*parts: str) -> UUID:
    return name_uuid("/".join(parts))


def key_epoch_id(epoch: int) -> UUID:
    """A key epoch's record (`ledger.rotation`): one per epoch, so two rotations to the same
    epoch cannot both be recorded."""
    return _id("key-epoch", str(epoch))


def directory_id(partnership: str) -> UUID:
    """A partnership's directory, opened once by the first pack that brings people into it
    (`people.DirectoryOpened`): one id, so two first packs saved at once cannot both."""
    return _id("directory", partnership)


def programme_id(programme: str) -> UUID:
    return _id("programme", programme)


def partnership_id(partnership: str) -> UUID:
    return _id("partnership", partnership)


def person_id(person: str, partnership: str = DEFAULT_PARTNERSHIP) -> UUID:
    """A person is someone within one partnership: the same directory id in another
    partnership is another person."""
    if partnership == DEFAULT_PARTNERSHIP:
        return _id("person", person)
    return _id("person", partnership, person)


def in_partnership(partnership: str, name: str) -> str:
    """A person's or agency's key among every partnership's (the views key their documents by
    it): the name itself in the default partnership, else `partnership/name` (a name holds no
    `/`, so the two never meet)."""
    if not name or partnership == DEFAULT_PARTNERSHIP:
        return name
    return f"{partnership}/{name}"


def case_id(programme: str, case: str) -> UUID:
    return _id("case", programme, case)


def feedback_id(programme: str, case: str, agency: str) -> UUID:
    return _id("feedback", programme, case, agency)


def concern_id(programme: str, ref: str) -> UUID:
    return _id("concern", programme, ref)


def concern_ref(case: str, agency: str, summary: str, raised_on: str) -> str:
    """A short reference people can type, stable for the same concern raised twice."""
    digest = hashlib.sha256("/".join((case, agency, summary.strip(), raised_on)).encode()).hexdigest()
    return f"{case}-{digest[:6]}"


def recommendation_id(programme: str, number: int) -> UUID:
    return _id("recommendation", programme, str(number))


def action_id(programme: str, action: str) -> UUID:
    return _id("action", programme, action)


def delivery_id(programme: str, subject: str, purpose: str, recipient: str) -> UUID:
    """One message per subject, purpose and person: the same alert is never recorded twice."""
    return _id("delivery", programme, subject, purpose, recipient)


def overview_report_id(programme: str) -> UUID:
    return _id("overview-report", programme)
