"""How a case's key is stored: wrapped with its partnership's key and bound to its case.

A row of `case_keys` whose key column starts with `CASE_KEY_V2` holds

    CASE_KEY_V2 + nonce (12 bytes) + tag (16 bytes) + ciphertext of the 32-byte case key

made with AES-GCM under the partnership's 256-bit key (`partnership_keys`, itself wrapped
with AUDIT_LEDGER_KEY when one is set), with associated data `bound_to(partnership, case)`:
the JSON array `["audit-ledger case key v2", partnership, programme, case reference]`. So
a row moved or copied to another case (two rows swapped by hand) no longer opens, and
`verify` can say whose key it is by trying the other cases' associated data.

Older rows still open as they did, unbound to any case (`verify` counts them):
- `partnership_keys.MARK` + the library's AESCipher output under the partnership's key;
- no prefix: the AESCipher output under AUDIT_LEDGER_KEY, or the raw 32 bytes without one.
Re-wrapping a key (a key rotation) keeps the case's associated data and makes a new nonce.
"""

from __future__ import annotations

import json

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .nonces import NONCES

CASE_KEY_V2 = b"audit-ledger case key v2\n"
NONCE = 12
TAG = 16


class KeyDoesNotOpen(ValueError):
    """A wrapped case key that does not open with this wrapping key and case."""


# What `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` makes afresh at each call
# (a new encoder for any argument not its default), made once: a save binds every new key.
_BINDING = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def bound_to(partnership: str, programme: str, case_ref: str) -> bytes:
    """The associated data that binds a wrapped case key to its case and partnership."""
    return _BINDING.encode(["audit-ledger case key v2", partnership, programme,
                            case_ref]).encode("utf-8")


def is_bound(wrapped: bytes) -> bool:
    """True for a row in the bound format (older rows are not bound to their case)."""
    return bytes(wrapped).startswith(CASE_KEY_V2)


def wrap_case_key(wrapping_key: bytes | AESGCM, raw: bytes, associated: bytes) -> bytes:
    """The case key `raw` sealed under `wrapping_key` (or an AES-GCM object of it, made once
    for the many keys a save wraps under one partnership's key), bound to `associated`."""
    aead = wrapping_key if isinstance(wrapping_key, AESGCM) else AESGCM(wrapping_key)
    nonce = NONCES.take()
    sealed = aead.encrypt(nonce, raw, associated)
    return CASE_KEY_V2 + nonce + sealed[-TAG:] + sealed[:-TAG]


def unwrap_case_key(wrapping_key: bytes, wrapped: bytes, associated: bytes) -> bytes:
    """The case key inside a bound row; `KeyDoesNotOpen` when the row was made for another
    case, under another key, or damaged."""
    body = bytes(wrapped)[len(CASE_KEY_V2):]
    nonce, tag, sealed = body[:NONCE], body[NONCE:NONCE + TAG], body[NONCE + TAG:]
    if not is_bound(wrapped) or len(nonce) != NONCE or len(tag) != TAG:
        raise KeyDoesNotOpen("not a bound case key")
    try:
        return AESGCM(wrapping_key).decrypt(nonce, sealed + tag, associated)
    except InvalidTag:
        raise KeyDoesNotOpen("does not open with this key and case") from None
