"""Signed digests: a checkpoint of the log to keep outside the database.

A digest records a position of the log, the chain's hash there, how many signed chain heads
the store held up to it, and when it was taken, signed with the ledger's Ed25519 key (the
chain's own, `ledger.signing`). It is the ledger's signed tree head: whoever keeps one can
later prove, with only the public key, that the log still extends it (`verify --digest`).
The signature stops the file being rewritten to match a rewritten log; the count of signed
heads catches signature rows deleted to make a store look unsigned or shorter. The format,
and how to check a signature without this program, is in docs/digest-format.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from .base import LedgerError
from .signing import ChainSigner, SigningKeyError, read_public_key
from .verification import Digest, Verdict

KIND = "audit-ledger log digest"
VERSION = 2
"""Version 2 is signed; version 1 (releases 0.1 and 0.2) was not, and is still read, with a warning."""
CHAIN_ALGORITHM = "sha256-chain-v1"
SIGNATURE_ALGORITHM = "ed25519"
DOMAIN = b"audit-ledger signed digest v2\n"
MAX_BYTES = 64 * 1024


class BadDigest(LedgerError):
    """A --digest file that is not one export-digest wrote: nothing in it can be checked."""


@dataclass(frozen=True)
class DigestSignature:
    public_key: str  # base64 of the raw 32 bytes, as `audit-ledger public-key` prints it
    key_id: str
    value: str  # hex of the 64-byte Ed25519 signature


@dataclass(frozen=True)
class DigestFile:
    """A digest as read from its file: the checkpoint, and its signature when it has one."""

    checkpoint: Digest
    version: int
    signature: DigestSignature | None


def key_id(public_key: str) -> str:
    """A short name for a public key: the first 16 hex digits of SHA-256 over its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def signed_message(position: int, head_hash: str, signed_heads: int, exported_at: str) -> bytes:
    """The bytes a digest's signature covers (docs/digest-format.md)."""
    return DOMAIN + (f"position {position}\nhash {head_hash}\nsigned_heads {signed_heads}\n"
                     f"exported_at {exported_at}\n").encode()


def digest_document(verdict: Verdict, signer: ChainSigner | None, exported_at: str
                    ) -> dict[str, Any]:
    """The digest of a verified log's head, signed when this process holds a key."""
    head, heads = verdict.head, verdict.signatures.count
    signature = None
    if signer is not None:
        value = signer.private.sign(signed_message(head.position, head.hash, heads, exported_at))
        signature = {"algorithm": SIGNATURE_ALGORITHM, "public_key": signer.public,
                     "key_id": key_id(signer.public), "value": value.hex()}
    return {"kind": KIND, "version": VERSION, "algorithm": CHAIN_ALGORITHM,
            "position": head.position, "hash": head.hash, "count": verdict.checked,
            "signed_heads": heads, "exported_at": exported_at, "signature": signature}


def digest_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


# ---- reading ----------------------------------------------------------------------------


def read_digest(path: Path) -> DigestFile:
    """The digest in a file, or BadDigest naming what is wrong with it."""
    def bad(why: str) -> BadDigest:
        return BadDigest(f"{path}: {why}; use a file written by audit-ledger export-digest")

    if path.stat().st_size > MAX_BYTES:
        raise bad("too large to be a digest")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise bad("not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise bad(f"line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})") from None
    except RecursionError:
        raise bad("nested too deeply to be a digest") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise bad(f"not a digest (no \"kind\": \"{KIND}\")")
    version = data.get("version")
    if version not in (1, VERSION) or isinstance(version, bool):
        raise bad(f"digest version {version!r} is not one this ledger reads (1 or {VERSION})")
    position, digest_hash = data.get("position"), data.get("hash")
    if not _whole(position):
        raise bad("\"position\" must be a whole number, 0 or more")
    if not _hex(digest_hash, 64):
        raise bad("\"hash\" must be 64 hexadecimal digits")
    exported = data.get("exported_at")
    if version == 1:
        return DigestFile(Digest(position, digest_hash.lower(),
                                 exported if isinstance(exported, str) else ""), 1, None)
    heads = data.get("signed_heads")
    if not _whole(heads):
        raise bad("\"signed_heads\" must be a whole number, 0 or more")
    if not isinstance(exported, str) or not exported:
        raise bad("\"exported_at\" must be the time it was exported")
    return DigestFile(Digest(position, digest_hash, exported, heads), VERSION,
                      _signature(data.get("signature", "missing"), bad))


def _signature(found: Any, bad: Any) -> DigestSignature | None:
    if found is None:
        return None  # exported without a key: said as unsigned
    if not isinstance(found, dict) or found.get("algorithm") != SIGNATURE_ALGORITHM:
        raise bad(f"\"signature\" must be null or an {SIGNATURE_ALGORITHM} signature "
                  "(algorithm, public_key, key_id, value)")
    public, kid, value = found.get("public_key"), found.get("key_id"), found.get("value")
    if not isinstance(public, str):
        raise bad("\"signature\".\"public_key\" must be a public key")
    try:
        read_public_key(public)
    except SigningKeyError:
        raise bad("\"signature\".\"public_key\" is not a public key") from None
    if not isinstance(kid, str):
        raise bad("\"signature\".\"key_id\" must be text")
    if not _hex(value, 128):
        raise bad("\"signature\".\"value\" must be 128 hexadecimal digits")
    return DigestSignature(public, kid, value.lower())


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _hex(value: Any, digits: int) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == digits and \
        all(ch in "0123456789abcdefABCDEF" for ch in value)


# ---- checking ---------------------------------------------------------------------------


def signature_problem(found: DigestFile, trusted: str, shown: str) -> str | None:
    """Why a signed digest cannot be believed (rewritten after signing, or signed with a key
    other than `trusted`, a public key's text, when one is), or None. An unsigned digest is
    not a problem here: the caller warns about it."""
    from cryptography.exceptions import InvalidSignature

    signature = found.signature
    if signature is None:
        return None
    point = found.checkpoint
    own = read_public_key(signature.public_key)
    if signature.key_id != key_id(signature.public_key):
        return (f"the digest {shown} was changed: its key id {signature.key_id} is not that of "
                f"the public key written in it ({key_id(signature.public_key)})")
    try:
        own.verify(bytes.fromhex(signature.value),
                   signed_message(point.position, point.hash, point.signed_heads or 0,
                                  point.exported_at))
    except InvalidSignature:
        return (f"the digest {shown} was changed after it was signed: its signature does not "
                "match its position, hash, signed heads and time")
    if trusted and not _same_key(signature.public_key, trusted):
        return (f"the digest {shown} is signed with another key (key id {signature.key_id}) "
                f"than the one trusted here (key id {key_id(trusted)}): it was not "
                "written by this ledger")
    return None


def _same_key(a: str, b: str) -> bool:
    return base64.b64decode(a.strip()) == base64.b64decode(b.strip())
