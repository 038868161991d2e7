"""One case's key: sealing and opening its text with it, and refusing new text once the case's
text was erased. Where the keys are kept, made and remembered: `ledger.case_keys`."""

from __future__ import annotations

import base64
from binascii import b2a_base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from .base import Rejected
from .nonces import NONCE, NONCES
from .personal import ERASED, SEALED, UNREADABLE

KEY_BYTES = 32
NONCES_A_SEALER = 16  # nonces a sealer takes at once (a case's texts in one save: a dozen or so)

Case = tuple[str, str]  # (programme, case reference)


class CaseTextErased(Rejected):
    """New personal text for a case whose text was erased: refused, nothing written."""


class CaseCipher(AESCipher):
    """The library's AESCipher, keeping its AES-GCM object: the library's makes one at each
    call, which was most of the time sealing a text took (an import seals a text or two an
    event). The same layout as the library's (nonce, tag, ciphertext), so each opens what the
    other sealed (tests/test_encryption.py)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.aead = AESGCM(self.key)

    def encrypt(self, plaintext: bytes) -> bytes:
        return self.encrypt_with(NONCES.take(), plaintext)  # os.urandom read in bulk

    def encrypt_with(self, nonce: bytes, plaintext: bytes) -> bytes:
        """`encrypt` with this fresh nonce (`ledger.nonces`; never one used before)."""
        sealed = self.aead.encrypt(nonce, plaintext, None)
        return nonce + sealed[-16:] + sealed[:-16]

    def decrypt(self, ciphertext: bytes) -> bytes:
        if len(ciphertext) < 28:
            return super().decrypt(ciphertext)  # the library's words for a damaged text
        try:
            return self.aead.decrypt(ciphertext[:12], ciphertext[28:] + ciphertext[12:28], None)
        except InvalidTag as e:
            raise ValueError("Invalid cipher tag") from e


@dataclass(frozen=True)
class CaseKey:
    """A case's key (None once destroyed), and when its text was erased; `damaged` when its
    row does not open as this case's key (changed by hand: `verify` names it)."""

    cipher: AESCipher | None
    erased_at: str = ""
    damaged: bool = False

    @property
    def erased(self) -> bool:
        return self.cipher is None and not self.damaged

    def seal(self, text: str) -> dict[str, str]:
        assert self.cipher is not None
        raw = self.cipher.encrypt(text.encode("utf-8"))
        return {SEALED: base64.b64encode(raw).decode("ascii")}

    def sealer(self) -> Callable[[Any], Any]:
        """`seal` for each value of an event's personal fields: a text that is not empty is
        sealed, anything else is left as it is (one call a text, not three)."""
        assert self.cipher is not None
        cipher = self.cipher
        if not isinstance(cipher, CaseCipher):
            encrypt = cipher.encrypt

            def seal(value: Any) -> Any:
                if isinstance(value, str) and value:
                    return {SEALED: b2a_base64(encrypt(value.encode("utf-8")),
                                               newline=False).decode("ascii")}
                return value

            return seal
        # A case cipher's: nonces taken a few dozen at a time for this sealer alone (one lock
        # a text was about a fifth of sealing one), those left over when it is done unused.
        encrypt_with = cipher.encrypt_with
        pool, at = b"", 0

        def seal_fast(value: Any) -> Any:
            nonlocal pool, at
            if isinstance(value, str) and value:
                if at == len(pool):
                    pool, at = NONCES.take(NONCES_A_SEALER), 0
                nonce = pool[at:at + NONCE]
                at += NONCE
                return {SEALED: b2a_base64(encrypt_with(nonce, value.encode("utf-8")),
                                           newline=False).decode("ascii")}
            return value

        return seal_fast

    def open(self, sealed: str) -> str:
        if self.cipher is None:
            return UNREADABLE if self.damaged else ERASED
        try:
            return self.cipher.decrypt(base64.b64decode(sealed)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return UNREADABLE  # damaged by hand: `verify` names where


def case_cipher(raw: bytes) -> AESCipher:
    """The cipher of a case key's raw bytes."""
    return CaseCipher(Environment(env={AESCipher.CIPHER_KEY: base64.b64encode(raw).decode()}))


def usable(case: Case, key: CaseKey) -> CaseKey:
    """The key, to seal new text with; refused once the case's text was erased, or when its
    row no longer opens as its key."""
    if key.damaged:
        raise Rejected(
            f"case {case[1]} in {case[0]}: its key row does not open as this case's key (it "
            "was changed outside the ledger), so no new text can be recorded for it; nothing "
            "was written. Run audit-ledger verify and ask whoever looks after the store")
    if key.erased:
        raise CaseTextErased(
            f"case {case[1]} in {case[0]}: its personal text was erased"
            f"{' on ' + key.erased_at[:10] if key.erased_at else ''}; "
            "no new text can be recorded for it")
    return key
