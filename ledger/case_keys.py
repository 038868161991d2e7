"""The key table every store keeps its cases' keys in: making, storing, unwrapping,
remembering and destroying them. One case's key and its text: `ledger.case_key`.

Each case key is wrapped with its partnership's key (itself wrapped with AUDIT_LEDGER_KEY
when one is set) and bound to its case (`ledger.key_wrapping`): a row moved to another case
does not open, its text reads "[unreadable]" and `verify` names both cases. A row whose
key is NULL marks a case whose text was erased: no new key is ever made for it, and
recording new text for it is refused. Keys are remembered for `KEY_TTL` seconds, so that a
long-running process (the bot, its worker) stops opening an erased case's text within that
time of the erasure. How each store keeps the table: `ledger.case_key_stores`.
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher, IntegrityError

from .base import Rejected
from .case_key import KEY_BYTES, Case, CaseKey, CaseTextErased, case_cipher, usable
from .key_wrapping import KeyDoesNotOpen, bound_to, is_bound, unwrap_case_key, wrap_case_key
from .memory import LRU
from .partnership_keys import MARK

if TYPE_CHECKING:
    from .partnership_keys import PartnershipKeys

KEY_TTL = 1.0  # seconds a process may go on using a case key it has read
REMEMBERED = 50_000
"""Cases (and aggregates' cases) a process keeps in memory, least recently used forgotten
first: a national log has hundreds of thousands, and a rebuild must not hold them all."""


@dataclass(frozen=True)
class Destroyed:
    """What destroying a case's key did: whether a key was there (else it was destroyed
    before), and whether no copy of it is left on disk in the store's own files (False: another
    process kept SQLite's write-ahead log; destroying again finishes it)."""

    found: bool
    scrubbed: bool


NEW_KEYS = "new_case_keys"  # the keyword a save passes its new keys to the recorder with


class NewKeys:
    """Keys made for one save and not stored yet: the recorder stores them in the events'
    transaction (`insert`, through its `_insert_events` hook), and once that commits the
    process remembers them (`committed`)."""

    def __init__(self, owner: CaseKeys) -> None:
        self.owner = owner
        self.cases: dict[Case, tuple[bytes, CaseKey]] = {}  # case -> (its row's key, the key)
        self.partnerships: dict[str, tuple[bytes, AESCipher]] = {}
        self.wrapping: dict[bytes, AESGCM] = {}  # each partnership key as AES-GCM, made once

    def insert(self, c: Any) -> None:
        """Store the keys with the transaction's cursor `c` (SQLite's or PostgreSQL's)."""
        if self.partnerships:
            assert self.owner.partnerships is not None
            self.owner.partnerships.insert(c, {p: w for p, (w, _) in self.partnerships.items()})
        self.owner._insert_new(c, {case: w for case, (w, _) in self.cases.items()})

    def committed(self) -> None:
        self.owner._remember(self)


class CaseKeys(ABC):
    """`case_keys(programme, case_ref, key, erased_at)`: one key per case, beside the log."""

    def __init__(self, wrap: Cipher | None, ttl: float = KEY_TTL) -> None:
        self.wrap = wrap
        self.ttl = ttl
        self.lock = threading.Lock()
        self.cache: LRU[Case, tuple[float, CaseKey | None]] = LRU(REMEMBERED)
        # Each case's row as last unwrapped (its bytes, the partnership key's, the key).
        self.opened: LRU[Case, tuple[bytes, bytes, CaseKey]] = LRU(REMEMBERED)
        self.opened_lock = threading.Lock()
        self.ready = False
        self.datastore: Any = None  # each store's
        # Each partnership's key wraps its cases' keys (`ledger.partnership_keys`), when set.
        self.partnerships: PartnershipKeys | None = None
        self.partnership_of: Callable[[str], str] | None = None

    # what each store does
    @abstractmethod
    def _create_table(self) -> None: ...

    @abstractmethod
    def _select(self, cases: list[Case]) -> dict[Case, tuple[bytes | None, str]]:
        """The stored (wrapped key or None, erased_at) of those cases that have a row."""

    @abstractmethod
    def _insert(self, new: dict[Case, bytes]) -> dict[Case, tuple[bytes | None, str]]:
        """Store new keys, in one transaction, for the cases with no row yet; return the rows
        that stand (another process may have stored a case's key first)."""

    @abstractmethod
    def _destroy(self, case: Case, erased_at: str) -> bool:
        """Forget the key for good, leaving a row with no key; True when a key was there."""

    @abstractmethod
    def scrub(self) -> bool:
        """Leave no trace on disk of rows deleted from the key table; False when another
        process kept an old copy in the write-ahead log for now (erasing again finishes it)."""

    # what the mapper and the ledger use
    def _table(self) -> None:
        if not self.ready:
            self._create_table()
            self.ready = True

    def _partnership_key(self, case: Case) -> tuple[Any, str]:
        assert self.partnerships is not None and self.partnership_of is not None
        return self.partnerships.key(self.partnership_of(case[0]))

    def bound(self, case: Case) -> bytes:
        """The associated data binding the case's wrapped key to it (`ledger.key_wrapping`)."""
        assert self.partnership_of is not None
        return bound_to(self.partnership_of(case[0]), *case)

    def _from_row(self, row: tuple[bytes | None, str] | None, case: Case) -> CaseKey | None:
        """The case's key from its row as read now. Unwrapping a row is remembered (`opened`)
        for as long as the row holds the same bytes under the same partnership key: a row
        read again (each `ttl`) is compared, not unwrapped again; a changed row (rotated,
        moved), a destroyed key or a destroyed partnership key is never served from memory."""
        if row is None:
            return None
        wrapped, erased_at = row
        if wrapped is None:
            return CaseKey(None, erased_at or "")
        wrapped = bytes(wrapped)
        cipher: Any = None
        if self.partnerships is not None and (is_bound(wrapped) or wrapped.startswith(MARK)):
            cipher, erased_at = self._partnership_key(case)
            if cipher is None:  # the partnership's key is destroyed: its text with it
                return CaseKey(None, erased_at)
        under = bytes(cipher.key) if cipher is not None else b""
        with self.opened_lock:
            known = self.opened.get(case)
        if known is not None and known[0] == wrapped and known[1] == under:
            return known[2]
        key = self._unwrapped(wrapped, case, cipher)
        if not key.damaged:
            with self.opened_lock:
                self.opened[case] = (wrapped, under, key)
        return key

    def _unwrapped(self, wrapped: bytes, case: Case, cipher: Any) -> CaseKey:
        """The key in a row holding one: under its partnership's key `cipher` (bound to its
        case, or in the older MARK format), else under AUDIT_LEDGER_KEY or none."""
        if cipher is not None and is_bound(wrapped):
            try:
                return CaseKey(case_cipher(unwrap_case_key(cipher.key, wrapped, self.bound(case))))
            except KeyDoesNotOpen:
                return CaseKey(None, damaged=True)  # moved from another case: `verify` says
        if cipher is not None:
            try:
                return CaseKey(case_cipher(cipher.decrypt(wrapped[len(MARK):])))
            except ValueError:
                raise Rejected("a case key does not open with its partnership's key: the key "
                               "tables beside this log were changed by hand") from None
        try:
            raw = self.wrap.decrypt(wrapped) if self.wrap else wrapped
            return CaseKey(case_cipher(raw))
        except (ValueError, OSError):
            raise Rejected("the case keys beside this log do not open with AUDIT_LEDGER_KEY "
                           "(or were written with one): use the key the store was written "
                           "with") from None

    def key(self, case: Case) -> CaseKey | None:
        """The case's key as stored (remembered for `ttl` seconds; an erasure for ever)."""
        return self.keys([case])[case]

    def keys(self, cases: Iterable[Case]) -> dict[Case, CaseKey | None]:
        """Each case's key as stored, those not remembered read in one transaction."""
        return self._keys(cases)[0]

    def _keys(self, cases: Iterable[Case]) -> tuple[dict[Case, CaseKey | None], set[Case]]:
        """`keys`, and which of them were read from the store now (not remembered)."""
        now = time.monotonic()
        out: dict[Case, CaseKey | None] = {}
        with self.lock:
            for case in cases:
                cached = self.cache.get(case)
                if cached is not None and (now < cached[0] or (cached[1] and cached[1].erased)):
                    out[case] = cached[1]
        wanted = [case for case in dict.fromkeys(cases) if case not in out]
        if wanted:
            self._table()
            rows = self._select(wanted)
            with self.lock:
                for case in wanted:
                    out[case] = self._from_row(rows.get(case), case)
                    self.cache[case] = (now + self.ttl, out[case])
        return out, set(wanted)

    def ensure(self, case: Case) -> CaseKey:
        """The case's key, made and stored now if it has none (in a transaction of its own:
        a save stores its new keys with its events instead, `prepare`); refused once the
        case's text was erased."""
        found, new = self.prepare([case])
        if new is not None:
            try:
                with self.datastore.transaction(commit=True) as c:
                    new.insert(c)
                new.committed()
            except IntegrityError:  # another process stored this case's key first
                self.forget()
                found = self.keys([case])
        key = found[case]
        assert key is not None
        return usable(case, key)

    def prepare(self, cases: Iterable[Case]) -> tuple[dict[Case, CaseKey | None], NewKeys | None]:
        """Each case's key as it stands, and keys made for those that have none: not stored
        yet (`NewKeys`), so that the save whose events they seal stores them in the events'
        own transaction, and a save that never commits leaves no key behind. An erased
        case's key is returned as such (`usable` refuses it)."""
        found, read_now = self._keys(list(cases))
        missing = [case for case, key in found.items() if key is None]
        again = [case for case in missing if case not in read_now]
        if again:  # read again: another process may have stored some since remembered
            rows = self._select(again)
            for case in again:
                found[case] = self._from_row(rows.get(case), case)
            missing = [case for case in missing if found[case] is None]
        if not missing:
            return found, None
        new = NewKeys(self)
        for case in missing:
            raw = os.urandom(KEY_BYTES)
            found[case] = key = CaseKey(case_cipher(raw))
            new.cases[case] = (self._wrapped(case, raw, new), key)
        return found, new

    def _wrapped(self, case: Case, raw: bytes, new: NewKeys) -> bytes:
        """A new case key as its row stores it: bound to its case under its partnership's
        key (a new one too, when the partnership has none yet)."""
        if self.partnerships is None or self.partnership_of is None:
            return self.wrap.encrypt(raw) if self.wrap else raw
        partnership = self.partnership_of(case[0])
        made = new.partnerships.get(partnership)
        cipher, erased_at = (made[1], "") if made else self.partnerships.key(partnership)
        if cipher is None and not erased_at:  # none yet: made now, stored with the events
            wrapped, cipher = self.partnerships.new_key(partnership)
            new.partnerships[partnership] = (wrapped, cipher)
        if cipher is None:
            raise CaseTextErased(
                f"case {case[1]} in {case[0]}: its partnership's text was erased"
                f"{' on ' + erased_at[:10] if erased_at else ''}; no new text can be "
                "recorded for it")
        aead = new.wrapping.get(cipher.key)
        if aead is None:
            aead = new.wrapping[cipher.key] = AESGCM(cipher.key)
        return wrap_case_key(aead, raw, bound_to(partnership, *case))

    @abstractmethod
    def _insert_new(self, c: Any, rows: dict[Case, bytes]) -> None:
        """Store new case keys with cursor `c`, in the caller's transaction (a row stored
        meanwhile by another process makes it fail with IntegrityError)."""

    def _remember(self, new: NewKeys) -> None:
        expires = time.monotonic() + self.ttl
        with self.lock:
            for case, (_wrapped, key) in new.cases.items():
                self.cache[case] = (expires, key)
        if self.partnerships is not None:
            for partnership, (_wrapped, cipher) in new.partnerships.items():
                self.partnerships.remember(partnership, cipher)

    def destroy(self, case: Case) -> Destroyed:
        """Destroy the case's key: its sealed text can never be opened again. Says whether a
        key was there, and whether its old copy is gone from disk too (`scrub`)."""
        self._table()
        erased_at = datetime.now(UTC).isoformat(timespec="seconds")
        destroyed = self._destroy(case, erased_at)
        with self.lock:
            self.cache.pop(case)
        with self.opened_lock:
            self.opened.pop(case)
        return Destroyed(destroyed, self.scrub())

    @abstractmethod
    def _destroyed(self) -> dict[Case, str]:
        """Every case whose key row holds no key (its key destroyed), with when."""

    def destroyed(self) -> dict[Case, str]:
        """Every case whose key was destroyed, with when (read as stored: no key opened)."""
        self._table()
        return self._destroyed()

    @abstractmethod
    def _destroy_programmes(self, programmes: list[str], erased_at: str) -> int:
        """Forget every key of these programmes' cases (a row with no key stays for each)."""

    def destroy_programmes(self, programmes: list[str]) -> int:
        """Destroy the keys of every case of these programmes; how many were there."""
        self._table()
        erased_at = datetime.now(UTC).isoformat(timespec="seconds")
        destroyed = self._destroy_programmes(programmes, erased_at) if programmes else 0
        self.forget()
        self.scrub()
        return destroyed

    def forget(self) -> None:
        """Drop every remembered key (an erasure elsewhere takes effect at the next read)."""
        with self.lock:
            self.cache.clear()
        with self.opened_lock:
            self.opened.clear()

