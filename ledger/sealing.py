"""Erasable personal text: each case's free text sealed with a key of the case's own.

The log never forgets: an event once stored stays exactly as it was (the hash chain proves
it). So a case's free text (comments, reasons, summaries, responses, actions, outcomes) and
the child's details (gender, ethnicity, age band) are stored *sealed*: encrypted with a key
that belongs to that case alone and lives beside the log, in the `case_keys` table, never in
the log. Destroying a case's key (`audit-ledger erase`) leaves its sealed values in the log
for good but unreadable by anyone, while the grades, counts, dates, references and areas
around them stay in the clear and the hash chain still verifies (no event was touched).

- Event classes declare their personal fields: `PERSONAL = ("summary",)`. A field holding a
  text is sealed whole; a dict or list of texts has each text sealed (dict keys, such as
  areas, stay in the clear); `"issues[].text"` seals the `text` of each item of a list.
- The first event of each aggregate that belongs to a case names it: `CASE = ("programme",
  "ref")` lists the fields holding the programme and the case reference. Later events of
  that aggregate find their case through it (remembered, or read from the store).
- A sealed value is stored as `{"sealed": "<base64 of nonce, tag, ciphertext>"}` (AES-GCM
  with the case's 256-bit key, the library's `AESCipher` format); an empty text is left
  as it is. Anything else under a personal field is plain text stored before sealing
  existed, and still reads as it was.
- Reading opens each sealed value with its case's key. Once the case's text is erased, each
  sealed (and each old plain) text of the case reads "[erased]": never an error.
- Case keys are wrapped with the store's key (AUDIT_LEDGER_KEY) when one is set. A row
  whose key is NULL marks a case whose text was erased: no new key is ever made for it,
  and recording new text for it is refused.

Keys are remembered for `KEY_TTL` seconds, so that a long-running process (the bot, its
worker) stops opening an erased case's text within that time of the erasure.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    Compressor,
    EventStore,
    InfrastructureFactory,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import Environment

from .base import Rejected

ERASED = "[erased]"
UNREADABLE = "[unreadable]"
SEALED = "sealed"
KEY_TABLE = "case_keys"
KEY_BYTES = 32
KEY_TTL = 1.0  # seconds a process may go on using a case key it has read
KEY_BATCH = 500  # case references a query: within SQLite's oldest limit of bound parameters
REMEMBERED = 50_000
"""Cases (and aggregates' cases) a process keeps in memory, least recently used forgotten
first: a national log has hundreds of thousands, and a rebuild must not hold them all."""

Case = tuple[str, str]  # (programme, case reference)


class CaseTextErased(Rejected):
    """New personal text for a case whose text was erased: refused, nothing written."""


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `size` keys remembered, the least recently used forgotten first: an
    OrderedDict's work (cachetools' LRUCache does the same in Python, at several times the
    cost of each read and write). Not thread-safe: its users hold a lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self.data[key] = value
        self.data.move_to_end(key)
        if len(self.data) > self.size:
            self.data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self.data.pop(key, None)

    def clear(self) -> None:
        self.data.clear()

    def __len__(self) -> int:
        return len(self.data)


# ---- one case's key ---------------------------------------------------------------------


@dataclass(frozen=True)
class CaseKey:
    """A case's key (None once destroyed), and when its text was erased."""

    cipher: AESCipher | None
    erased_at: str = ""

    @property
    def erased(self) -> bool:
        return self.cipher is None

    def seal(self, text: str) -> dict[str, str]:
        assert self.cipher is not None
        raw = self.cipher.encrypt(text.encode("utf-8"))
        return {SEALED: base64.b64encode(raw).decode("ascii")}

    def open(self, sealed: str) -> str:
        if self.cipher is None:
            return ERASED
        try:
            return self.cipher.decrypt(base64.b64decode(sealed)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return UNREADABLE  # damaged by hand: `verify` names where


def _aes(raw: bytes) -> AESCipher:
    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: base64.b64encode(raw).decode()}))


def usable(case: Case, key: CaseKey) -> CaseKey:
    """The key, to seal new text with; refused once the case's text was erased."""
    if key.erased:
        raise CaseTextErased(
            f"case {case[1]} in {case[0]}: its personal text was erased"
            f"{' on ' + key.erased_at[:10] if key.erased_at else ''}; "
            "no new text can be recorded for it")
    return key


# ---- the key table ------------------------------------------------------------------------


class CaseKeys(ABC):
    """`case_keys(programme, case_ref, key, erased_at)`: one key per case, beside the log."""

    def __init__(self, wrap: Cipher | None, ttl: float = KEY_TTL) -> None:
        self.wrap = wrap
        self.ttl = ttl
        self.lock = threading.Lock()
        self.cache: LRU[Case, tuple[float, CaseKey | None]] = LRU(REMEMBERED)
        self.ready = False

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
    def scrub(self) -> None:
        """Leave no trace on disk of rows deleted from the key table."""

    # what the mapper and the ledger use
    def _table(self) -> None:
        if not self.ready:
            self._create_table()
            self.ready = True

    def _from_row(self, row: tuple[bytes | None, str] | None) -> CaseKey | None:
        if row is None:
            return None
        wrapped, erased_at = row
        if wrapped is None:
            return CaseKey(None, erased_at or "")
        try:
            raw = self.wrap.decrypt(bytes(wrapped)) if self.wrap else bytes(wrapped)
            return CaseKey(_aes(raw))
        except (ValueError, OSError):
            raise Rejected("the case keys beside this log do not open with AUDIT_LEDGER_KEY "
                           "(or were written with one): use the key the store was written "
                           "with") from None

    def key(self, case: Case) -> CaseKey | None:
        """The case's key as stored (remembered for `ttl` seconds; an erasure for ever)."""
        return self.keys([case])[case]

    def keys(self, cases: Iterable[Case]) -> dict[Case, CaseKey | None]:
        """Each case's key as stored, those not remembered read in one transaction."""
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
                    out[case] = self._from_row(rows.get(case))
                    self.cache[case] = (now + self.ttl, out[case])
        return out

    def ensure(self, case: Case) -> CaseKey:
        """The case's key, made now if it has none; refused once the case's text was erased."""
        found = self.key(case)
        if found is None:
            self.ensure_all([case])
            found = self.key(case)
            assert found is not None
        return usable(case, found)

    def ensure_all(self, cases: Iterable[Case]) -> dict[Case, CaseKey | None]:
        """Make the keys of all these cases that have none, in one transaction (an import's
        cases all at once, instead of one commit per case); each case's key as it now stands
        (an erased one included: `usable` refuses it)."""
        found = self.keys(list(cases))
        missing = [case for case, key in found.items() if key is None]
        if not missing:
            return found
        new = {}
        for case in missing:
            raw = os.urandom(KEY_BYTES)
            new[case] = self.wrap.encrypt(raw) if self.wrap else raw
        stored = self._insert(new)
        expires = time.monotonic() + self.ttl
        with self.lock:
            for case, row in stored.items():
                found[case] = self._from_row(row)
                self.cache[case] = (expires, found[case])
        return found

    def destroy(self, case: Case) -> bool:
        """Destroy the case's key: its sealed text can never be opened again."""
        self._table()
        erased_at = datetime.now(UTC).isoformat(timespec="seconds")
        destroyed = self._destroy(case, erased_at)
        with self.lock:
            self.cache.pop(case)
        self.scrub()
        return destroyed

    def forget(self) -> None:
        """Drop every remembered key (an erasure elsewhere takes effect at the next read)."""
        with self.lock:
            self.cache.clear()


class SQLiteCaseKeys(CaseKeys):
    def __init__(self, datastore: Any, wrap: Cipher | None) -> None:
        super().__init__(wrap)
        self.datastore = datastore

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (programme TEXT NOT NULL, "
                      "case_ref TEXT NOT NULL, key BLOB, erased_at TEXT, "
                      "PRIMARY KEY (programme, case_ref))")

    @staticmethod
    def _rows(c: Any, cases: Iterable[Case]) -> dict[Case, tuple[bytes | None, str]]:
        """The rows of those cases that have one: a query per programme and few hundred
        cases, not one per case."""
        by_programme: dict[str, list[str]] = {}
        for programme, ref in cases:
            by_programme.setdefault(programme, []).append(ref)
        out = {}
        for programme, refs in by_programme.items():
            for start in range(0, len(refs), KEY_BATCH):
                batch = refs[start:start + KEY_BATCH]
                c.execute(f"SELECT case_ref, key, erased_at FROM {KEY_TABLE} WHERE programme=? "
                          f"AND case_ref IN ({','.join('?' * len(batch))})", [programme, *batch])
                for row in c.fetchall():
                    out[(programme, row[0])] = (row[1], row[2] or "")
        return out

    def _select(self, cases: list[Case]) -> dict[Case, tuple[bytes | None, str]]:
        with self.datastore.transaction(commit=False) as c:
            return self._rows(c, cases)

    def _insert(self, new: dict[Case, bytes]) -> dict[Case, tuple[bytes | None, str]]:
        with self.datastore.transaction(commit=True) as c:
            # The inserts first: they take the write lock, so the rows read next are the ones
            # stored.
            c.executemany(f"INSERT INTO {KEY_TABLE} (programme, case_ref, key) VALUES (?, ?, ?) "
                          "ON CONFLICT (programme, case_ref) DO NOTHING",
                          [[*case, wrapped] for case, wrapped in new.items()])
            rows = self._rows(c, new)
        return {case: rows[case] for case in new}

    @contextmanager
    def _secure(self) -> Iterator[Any]:
        """A connection that overwrites what it deletes with zeros (SQLite's secure_delete)."""
        with self.datastore.get_connection(commit=True) as conn:
            pragma = conn.cursor()
            pragma.execute("PRAGMA secure_delete")
            before = int(pragma.fetchone()[0])
            pragma.execute("PRAGMA secure_delete=ON")
            try:
                yield conn
            finally:
                pragma.execute(f"PRAGMA secure_delete={before}")

    def _destroy(self, case: Case, erased_at: str) -> bool:
        with self._secure() as conn, conn.transaction(commit=True) as c:
            c.execute(f"SELECT key FROM {KEY_TABLE} WHERE programme=? AND case_ref=?", list(case))
            row = c.fetchone()
            if row is not None and row[0] is None:
                return False  # erased before
            c.execute(f"DELETE FROM {KEY_TABLE} WHERE programme=? AND case_ref=?", list(case))
            c.execute(f"INSERT INTO {KEY_TABLE} (programme, case_ref, key, erased_at) "
                      "VALUES (?, ?, NULL, ?)", [*case, erased_at])
        return row is not None and row[0] is not None

    def scrub(self) -> None:
        # The deleted key was zeroed in its page; the WAL's older copies of that page go too.
        with self.datastore.get_connection(commit=True) as conn:
            conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgresCaseKeys(CaseKeys):
    def __init__(self, datastore: Any, wrap: Cipher | None) -> None:
        super().__init__(wrap)
        from psycopg.sql import SQL, Identifier

        self.datastore = datastore
        self.table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(KEY_TABLE))
        self.sql = SQL

    def _create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            # Processes starting together must not race to create the table.
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         [f"audit-ledger {self.datastore.schema}.{KEY_TABLE}"])
            curs.execute(self.sql("CREATE TABLE IF NOT EXISTS {} (programme text NOT NULL, "
                                  "case_ref text NOT NULL, key bytea, erased_at text, "
                                  "PRIMARY KEY (programme, case_ref))").format(self.table))

    def _select(self, cases: list[Case]) -> dict[Case, tuple[bytes | None, str]]:
        # One statement, so no transaction around it (the connection commits each statement):
        # one round trip rather than three.
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql("SELECT k.programme, k.case_ref, k.key, k.erased_at FROM {} k "
                                  "JOIN unnest(%s::text[], %s::text[]) AS w(programme, case_ref) "
                                  "ON k.programme=w.programme AND k.case_ref=w.case_ref")
                         .format(self.table), [[p for p, _ in cases], [k for _, k in cases]])
            rows = curs.fetchall()
        return {(r["programme"], r["case_ref"]): (r["key"], r["erased_at"] or "") for r in rows}

    def _insert(self, new: dict[Case, bytes]) -> dict[Case, tuple[bytes | None, str]]:
        cases = list(new)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.sql("INSERT INTO {} (programme, case_ref, key) SELECT * FROM "
                                  "unnest(%s::text[], %s::text[], %s::bytea[]) ON CONFLICT "
                                  "(programme, case_ref) DO NOTHING").format(self.table),
                         [[p for p, _ in cases], [k for _, k in cases], list(new.values())])
            curs.execute(self.sql("SELECT k.programme, k.case_ref, k.key, k.erased_at FROM {} k "
                                  "JOIN unnest(%s::text[], %s::text[]) AS w(programme, case_ref) "
                                  "ON k.programme=w.programme AND k.case_ref=w.case_ref")
                         .format(self.table), [[p for p, _ in cases], [k for _, k in cases]])
            rows = curs.fetchall()
        return {(r["programme"], r["case_ref"]): (r["key"], r["erased_at"] or "") for r in rows}

    def _destroy(self, case: Case, erased_at: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.sql("SELECT key FROM {} WHERE programme=%s AND case_ref=%s "
                                  "FOR UPDATE").format(self.table), list(case))
            row = curs.fetchone()
            if row is not None and row["key"] is None:
                return False  # erased before
            curs.execute(self.sql("DELETE FROM {} WHERE programme=%s AND case_ref=%s")
                         .format(self.table), list(case))
            curs.execute(self.sql("INSERT INTO {} (programme, case_ref, key, erased_at) VALUES "
                                  "(%s, %s, NULL, %s)").format(self.table), [*case, erased_at])
        return row is not None and row["key"] is not None

    def scrub(self) -> None:
        # VACUUM FULL writes the table afresh without the deleted row's bytes (a plain VACUUM
        # only marks its space free). The table holds one short row per case: it is quick.
        with self.datastore.get_connection() as conn:
            conn.execute(self.sql("VACUUM FULL {}").format(self.table))


def case_keys_for(factory: InfrastructureFactory[Any], wrap: Cipher | None) -> CaseKeys | None:
    """The key table of the factory's store, or None for a store that keeps no tables."""
    datastore = getattr(factory, "datastore", None)
    if datastore is None:
        return None
    from eventsourcing.sqlite import SQLiteDatastore

    if isinstance(datastore, SQLiteDatastore):
        return SQLiteCaseKeys(datastore, wrap)
    return PostgresCaseKeys(datastore, wrap)


# ---- walking the personal fields ------------------------------------------------------------


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def _each_text(value: Any, change: Callable[[Any], Any]) -> Any:
    """The value with `change` applied to each text in it (a sealed value counts as a text)."""
    if isinstance(value, str) or is_sealed(value):
        return change(value)
    if isinstance(value, dict):
        return {k: _each_text(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_text(v, change) for v in value]
    return value


def personal(cls: type) -> tuple[str, ...]:
    paths: tuple[str, ...] = getattr(cls, "PERSONAL", ())
    return paths


Path = tuple[str, str]  # a personal path split: (field, the field of each item or "")
_PATHS: dict[type, tuple[Path, ...]] = {}


def _paths(cls: type) -> tuple[Path, ...]:
    """The class's personal paths, split once (`"issues[].text"` is `("issues", "text")`)."""
    found = _PATHS.get(cls)
    if found is None:
        found = tuple((name, item) for name, _, item in
                      (path.partition("[].") for path in personal(cls)))
        _PATHS[cls] = found
    return found


def _on_path(state: dict[str, Any], path: Path, change: Callable[[Any], Any]) -> None:
    """Apply `change` to each text under one personal path of an event's state (in place)."""
    name, item_field = path
    if name not in state:
        return
    value = state[name]
    if not item_field:
        state[name] = _each_text(value, change)
    elif isinstance(value, list):
        state[name] = [{**item, item_field: _each_text(item[item_field], change)}
                       if isinstance(item, dict) and item_field in item else item
                       for item in value]


def _holds_text(value: Any) -> bool:
    """True when the value holds a text that is not empty (a sealed value counts as one)."""
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, dict):
        return is_sealed(value) or any(_holds_text(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_text(v) for v in value)
    return False


def _has_texts(state: dict[str, Any], paths: tuple[Path, ...]) -> bool:
    """True when any personal field holds a text that is not empty (one walk, no copies)."""
    for name, item in paths:
        value = state.get(name)
        if not item:
            if _holds_text(value):
                return True
        elif isinstance(value, list):
            for each in value:
                if isinstance(each, dict) and item in each and _holds_text(each[item]):
                    return True
    return False


def personal_texts(event: Any) -> list[str]:
    """Every text in an event's personal fields, as read (opened, or "[erased]")."""
    out: list[str] = []

    def take(value: Any) -> Any:
        if isinstance(value, str) and value and value not in (ERASED, UNREADABLE):
            out.append(value)
        return value

    for path in _paths(type(event)):
        _on_path(dict(vars(event)), path, take)
    return out


# ---- the mapper: the one place events are sealed and opened -------------------------------


class SealingMapper(Mapper[UUID]):
    """The library's Mapper, sealing each event's personal fields with its case's key on the
    way to the store and opening them on the way back (after and before the store's own
    cipher, which still encrypts each event whole when AUDIT_LEDGER_KEY is set)."""

    def __init__(self, transcoder: Transcoder, compressor: Compressor | None = None,
                 cipher: Cipher | None = None) -> None:
        super().__init__(transcoder, compressor, cipher)
        self.keys: CaseKeys | None = None
        self.recorder: ApplicationRecorder | None = None
        self.cases: LRU[Any, Case] = LRU(REMEMBERED)
        self.cases_lock = threading.Lock()  # an LRU's reads reorder it: one thread at a time

    def _learn(self, event: Any) -> Case | None:
        fields = getattr(type(event), "CASE", None)
        if not fields:
            return None
        state = vars(event)
        case = (str(state[fields[0]]), str(state[fields[1]]))
        with self.cases_lock:
            self.cases[event.originator_id] = case
        return case

    def case_of(self, originator_id: Any) -> Case | None:
        """The case an aggregate belongs to, from its first event (remembered, or read)."""
        with self.cases_lock:
            found = self.cases.get(originator_id)
        if found is None and self.recorder is not None:
            first = self.recorder.select_events(originator_id, limit=1)
            if first:
                found = self._learn(super().to_domain_event(first[0]))
        return found

    def holds_plain_text(self, stored_event: StoredEvent) -> bool:
        """True when a stored event holds personal text in the clear: it was stored before
        personal text was sealed per case, so destroying the case's key cannot erase it."""
        event = super().to_domain_event(stored_event)
        found = False

        def look(value: Any) -> Any:
            nonlocal found
            found = found or (isinstance(value, str) and bool(value))
            return value

        for path in _paths(type(event)):
            _on_path(dict(vars(event)), path, look)
        return found

    def _plan(self, domain_events: Sequence[Any]
              ) -> tuple[list[tuple[tuple[Path, ...], Case | None] | None],
                         dict[Case, CaseKey | None]]:
        """For each event, what sealing it takes (None: nothing; else its personal paths and
        its case, None when no case was found); and the keys of all those cases, made now
        for the cases that have none, in one transaction."""
        assert self.keys is not None
        plan: list[tuple[tuple[Path, ...], Case | None] | None] = []
        learned: dict[Any, Case] = {}
        cases: dict[Case, None] = {}
        for event in domain_events:
            paths = _paths(type(event))
            if not paths:
                plan.append(None)
                continue
            learnt = self._learn(event)
            if learnt is not None:
                learned[event.originator_id] = learnt
            if not _has_texts(vars(event), paths):
                plan.append(None)
                continue
            case = learned.get(event.originator_id) or self.case_of(event.originator_id)
            if case is not None:
                cases[case] = None
            plan.append((paths, case))
        return plan, (self.keys.ensure_all(cases) if cases else {})

    def _sealed_event(self, domain_event: Any, paths: tuple[Path, ...],
                      key: CaseKey) -> StoredEvent:
        state = dict(vars(domain_event))  # a copy: the event itself keeps its plain text

        def seal(value: Any) -> Any:
            return key.seal(value) if isinstance(value, str) and value else value

        for path in paths:
            _on_path(state, path, seal)
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    @staticmethod
    def _no_case(domain_event: Any) -> Rejected:
        return Rejected(f"{type(domain_event).__name__}: no case found for aggregate "
                        f"{domain_event.originator_id}; its text cannot be sealed")

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        paths = _paths(type(domain_event))
        if paths and self.keys is not None:
            self._learn(domain_event)
            if _has_texts(vars(domain_event), paths):
                case = self.case_of(domain_event.originator_id)
                if case is None:
                    raise self._no_case(domain_event)
                return self._sealed_event(domain_event, paths, self.keys.ensure(case))
        return super().to_stored_event(domain_event)

    def to_stored_events(self, domain_events: Sequence[Any]) -> list[StoredEvent]:
        """The events of one save, as `to_stored_event` makes each: their cases' keys made
        (in one transaction) or read once for all of them, each event's text sealed in one
        walk of its state."""
        if self.keys is None:
            return [super(SealingMapper, self).to_stored_event(e) for e in domain_events]
        plan, keys = self._plan(domain_events)
        out = []
        for event, sealing in zip(domain_events, plan, strict=True):
            if sealing is None:
                out.append(super().to_stored_event(event))
                continue
            paths, case = sealing
            if case is None:
                raise self._no_case(event)
            key = keys.get(case)
            out.append(self._sealed_event(event, paths, usable(case, key) if key is not None
                                          else self.keys.ensure(case)))
        return out

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if personal(type(event)) and self.keys is not None:
            self._learn(event)
            case = self.case_of(event.originator_id)
            self._open(event, self.keys.key(case) if case is not None else None)
        return event

    def to_domain_events(self, stored_events: Sequence[StoredEvent]) -> list[Any]:
        """Many events decoded, their cases' keys read in one query (not one per case as
        each key's time to live runs out): what a follower folding a batch uses."""
        events = [super(SealingMapper, self).to_domain_event(s) for s in stored_events]
        if self.keys is None:
            return events
        cases: dict[Any, Case | None] = {}
        for event in events:
            if personal(type(event)):
                case = self._learn(event)
                if case is not None or event.originator_id not in cases:
                    cases[event.originator_id] = case or self.case_of(event.originator_id)
        keys = self.keys.keys([c for c in cases.values() if c is not None])
        for event in events:
            if personal(type(event)):
                case = cases[event.originator_id]
                self._open(event, keys[case] if case is not None else None)
        return events

    def _open(self, event: Any, key: CaseKey | None) -> None:
        """Open the event's personal text in place with its case's key (None: no key)."""
        state = vars(event)

        def unseal(value: Any) -> Any:
            if is_sealed(value):
                return key.open(value[SEALED]) if key is not None else ERASED
            if key is not None and key.erased and value:
                return ERASED  # plain text stored before sealing: hidden once erased
            return value

        for path in _paths(type(event)):
            _on_path(state, path, unseal)


class SealingEventStore(EventStore[UUID]):
    """The library's event store, making the keys a save needs in one transaction first and
    sealing each event once (`SealingMapper.to_stored_events`)."""

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        if not isinstance(self.mapper, SealingMapper):
            return super().put(domain_events, **kwargs)
        # The library's put, with the events mapped together (`to_stored_events`).
        stored_events = self.mapper.to_stored_events(domain_events)
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        if not notification_ids:
            return []
        assert len(notification_ids) == len(stored_events)
        return [Recording(d, Notification(originator_id=s.originator_id,
                                          originator_version=s.originator_version,
                                          topic=s.topic, state=s.state, id=n_id))
                for d, s, n_id in zip(domain_events, stored_events, notification_ids,
                                      strict=True)]


def ledger_mapper(factory: InfrastructureFactory[Any], transcoder: Transcoder) -> SealingMapper:
    """The ledger's mapper: the library's, sealing personal text per case in the store's tables."""
    mapper = factory.mapper(transcoder=transcoder, mapper_class=SealingMapper)
    assert isinstance(mapper, SealingMapper)
    mapper.keys = case_keys_for(factory, mapper.cipher)
    return mapper
