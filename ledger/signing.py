"""Signed chain heads: each commit's chain head signed with a key the database does not hold.

The hash chain alone cannot stop someone who holds the database: they can append events
and extend the chain with its public algorithm, or rewrite an event and every later hash.
So each commit also signs its new head (position and hash) with Ed25519, and the signature
goes into `event_chain_signatures` in the same transaction. The signing key is never stored:
it is derived from AUDIT_LEDGER_KEY (HKDF, with a label of its own, so it is not the
encryption key) or read from AUDIT_LEDGER_SIGNING_KEY, which wins when both are set. Anyone
with the public key (`audit-ledger public-key`) can check the signatures without a secret.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import LedgerError

if TYPE_CHECKING:  # imported where used: a keyless process never loads them
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

SIGNATURE_TABLE = "event_chain_signatures"
HEAD_DOMAIN = b"audit-ledger signed chain head v1\n"
HKDF_LABEL = b"audit-ledger chain signing key v1"
SEED_SIZE = 32
SIGNING_KEY_PROBLEM = ("AUDIT_LEDGER_SIGNING_KEY is not a valid signing key: make one with "
                       "audit-ledger keygen")
# (position, hash as hex, public key as base64, signature as hex), as stored
SignatureRow = tuple[Any, Any, Any, Any]


class SigningKeyError(LedgerError):
    """A signing or verifying key that is not one."""


def _raw(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def public_text(public: Ed25519PublicKey) -> str:
    """The verifying key as people pass it around: base64 of its 32 raw bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def read_public_key(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = _raw(text)
    if raw is None or len(raw) != 32:
        raise SigningKeyError(f"{text.strip()[:60]!r} is not a public key: give the one line "
                              "that audit-ledger public-key prints")
    return Ed25519PublicKey.from_public_bytes(raw)


def head_message(position: int, head_hash: str) -> bytes:
    """What is signed: the domain, the head's position and its hash."""
    return HEAD_DOMAIN + int(position).to_bytes(8, "big") + bytes.fromhex(head_hash)


@dataclass(frozen=True)
class ChainSigner:
    """The process's signing key, and the public key people check it with."""

    private: Ed25519PrivateKey
    public: str

    def sign(self, position: int, head_hash: str) -> str:
        return self.private.sign(head_message(position, head_hash)).hex()


def signer_from(store_key: str = "", signing_key: str = "") -> ChainSigner | None:
    """The signer from AUDIT_LEDGER_SIGNING_KEY, or else derived from AUDIT_LEDGER_KEY; None
    when neither is set (then nothing is signed, and `verify` says what that means)."""
    if signing_key.strip():
        seed = _raw(signing_key)
        if seed is None or len(seed) < SEED_SIZE:
            raise SigningKeyError(SIGNING_KEY_PROBLEM)
        seed = seed[:SEED_SIZE] if len(seed) == SEED_SIZE else _derive(seed)
    elif store_key.strip():
        raw = _raw(store_key)
        if raw is None:
            return None  # the store key's own check says what is wrong with it
        seed = _derive(raw)
    else:
        return None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(seed)
    return ChainSigner(private, public_text(private.public_key()))


def _derive(secret: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=SEED_SIZE, salt=None,
                info=HKDF_LABEL).derive(secret)


def signature_holds(public: Ed25519PublicKey, row: SignatureRow) -> bool:
    """Whether a stored signature row is the given key's signature of its position and hash."""
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(bytes.fromhex(row[3]), head_message(int(row[0]), row[1]))
    except (InvalidSignature, TypeError, ValueError, OverflowError):
        return False
    return True


def stored_key_holds(row: SignatureRow) -> bool:
    """Whether a row's signature is that of the public key stored beside it (which proves
    nothing against someone who can write the table: `verify --public-key` does)."""
    try:
        return signature_holds(read_public_key(str(row[2])), row)
    except SigningKeyError:
        return False


class ChainRefused(LedgerError):
    """The chain is not in a state this process may extend: nothing is written."""


def tail_problem(head: tuple[int, str] | None, last: SignatureRow | None,
                 signer: ChainSigner | None) -> str | None:
    """Why this process must not extend the chain from this head, or None.

    Once a store is signed every commit signs its head, so the head must be signed, by the
    key this process holds: otherwise events were added outside the ledger (or the process
    has another key) and signing on top of them would vouch for them.
    """
    if last is None:
        return None  # nothing signed yet: a store from before signing, or one kept keyless
    if signer is None:
        return ("this store's record is signed but no key is set: set AUDIT_LEDGER_KEY or "
                "AUDIT_LEDGER_SIGNING_KEY to the key it was written with")
    if str(last[2]) != signer.public:
        return ("this store's record is signed with another key than the one set here "
                f"(its public key is {last[2]}): set the key it was written with")
    position, head_hash = head if head is not None else (0, "")
    if int(last[0]) != position or str(last[1]) != head_hash or \
            not signature_holds(signer.private.public_key(), last):
        first = int(last[0]) + 1 if int(last[0]) < position else position
        return (f"the record's last events (from position {first}) were not signed by this "
                "ledger: they were added outside it. Nothing was written; run "
                "audit-ledger verify and ask whoever looks after the store")
    return None
