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

The keys live in `ledger.case_keys` (each store's table in `ledger.case_key_stores`), and
the personal fields are walked by `ledger.personal`; this module holds the mapper that seals
and opens them, the write path's one place that does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    Compressor,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
)

from .base import Rejected
from .case_audit import CaseAudit
from .case_key import Case, CaseKey, usable
from .case_key_stores import case_keys_for
from .case_keys import REMEMBERED, CaseKeys, NewKeys
from .ids import DEFAULT_PARTNERSHIP, IdScheme
from .memory import LRU
from .personal import (
    ERASED,
    SEALED,
    Path,
    has_texts,
    is_sealed,
    on_path,
    personal,
    personal_paths,
)
from .programme import Programme
from .transcoder import OrjsonTranscoder, StampedTranscoder, stamped_alike, writes_alike


def _no_scheme() -> IdScheme:
    raise AssertionError("a mapper reading its store needs the store's id scheme")


class SealingMapper(Mapper[UUID]):
    """The library's Mapper, sealing each event's personal fields with its case's key on the
    way to the store and opening them on the way back (after and before the store's own
    cipher, which still encrypts each event whole when AUDIT_LEDGER_KEY is set)."""

    def __init__(self, transcoder: Transcoder, compressor: Compressor | None = None,
                 cipher: Cipher | None = None) -> None:
        super().__init__(transcoder, compressor, cipher)
        self.keys: CaseKeys | None = None
        self.recorder: ApplicationRecorder | None = None
        self.scheme: Callable[[], IdScheme] = _no_scheme
        """The store's id scheme (`ledger.ids`): its application's, set with its recorder."""
        self.cases: LRU[Any, Case] = LRU(REMEMBERED)
        self.cases_lock = threading.Lock()  # an LRU's reads reorder it: one thread at a time
        self.programmes: dict[str, str] = {}  # programme -> its partnership (whose key wraps)
        # The library's Mapper with an orjson transcoder, writing the events whose class
        # declares only what orjson writes as the library does (ledger.transcoder).
        self.writer: Mapper[UUID] | None = None
        self.stamped: Mapper[UUID] | None = None  # the events whose only time is their timestamp
        if isinstance(transcoder, JSONTranscoder):
            self.writer = Mapper(OrjsonTranscoder(like=transcoder), compressor, cipher)
            self.stamped = Mapper(StampedTranscoder(like=transcoder), compressor, cipher)

    def _stored(self, domain_event: Any) -> StoredEvent:
        """The event as the library's Mapper stores it (by orjson where it writes alike)."""
        cls = type(domain_event)
        if self.stamped is not None and stamped_alike(cls):
            return self.stamped.to_stored_event(domain_event)
        if self.writer is not None and writes_alike(cls):
            return self.writer.to_stored_event(domain_event)
        return super().to_stored_event(domain_event)

    def _learn_programme(self, event: Any) -> None:
        if isinstance(event, Programme.Created):
            self.programmes[str(event.programme)] = str(event.partnership)

    def partnership_of(self, programme: str) -> str:
        """The partnership a programme belongs to: learnt as its first event passes (an
        import stores it with its cases, in one save), else read from the store."""
        found = self.programmes.get(programme)
        if found is None and self.recorder is not None:
            first = self.recorder.select_events(self.scheme().programme_id(programme),
                                                limit=1)
            if first:
                self._learn_programme(super().to_domain_event(first[0]))
            found = self.programmes.get(programme)
        return found or DEFAULT_PARTNERSHIP

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

        for path in personal_paths(type(event)):
            on_path(dict(vars(event)), path, look)
        return found

    def _plan(self, domain_events: Sequence[Any]
              ) -> tuple[list[tuple[tuple[Path, ...], Case | None] | None],
                         dict[Case, CaseKey | None], NewKeys | None]:
        """For each event, what sealing it takes (None: nothing; else its personal paths and
        its case, None when no case was found); the keys of all those cases; and the keys
        made for the cases that have none, to be stored with the events."""
        assert self.keys is not None
        plan: list[tuple[tuple[Path, ...], Case | None] | None] = []
        learned: dict[Any, Case] = {}
        cases: dict[Case, None] = {}
        for event in domain_events:
            cls = type(event)
            if isinstance(event, Programme.Created):
                self._learn_programme(event)
            paths = personal_paths(cls)
            if not paths:
                plan.append(None)
                continue
            state = vars(event)
            fields = getattr(cls, "CASE", None)
            learnt: Case | None = None
            if fields:  # what `_learn` learns, remembered below under one lock for the save
                learnt = learned[event.originator_id] = (str(state[fields[0]]),
                                                         str(state[fields[1]]))
            known = learnt or learned.get(event.originator_id)
            if known is not None and known in cases:
                # Its case's key is read for this save anyway: the event is sealed without
                # first looking for text in it (sealing leaves no text alone); should that
                # key refuse new text, `to_stored_events` looks then.
                plan.append((paths, known))
                continue
            if not has_texts(state, paths):
                if learnt is not None and self._keys_every_case(event):
                    cases[learnt] = None
                plan.append(None)
                continue
            case = learned.get(event.originator_id) or self.case_of(event.originator_id)
            if case is not None:
                cases[case] = None
            plan.append((paths, case))
        if learned:
            with self.cases_lock:
                for originator_id, case in learned.items():
                    self.cases[originator_id] = case
        return plan, *(self.keys.prepare(cases) if cases else ({}, None))

    def _sealed_event(self, domain_event: Any, paths: tuple[Path, ...],
                      key: CaseKey) -> StoredEvent:
        state = dict(vars(domain_event))  # a copy: the event itself keeps its plain text
        seal = key.sealer()
        for path in paths:
            on_path(state, path, seal)
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", state)
        return self._stored(sealed)

    @staticmethod
    def _no_case(domain_event: Any) -> Rejected:
        return Rejected(f"{type(domain_event).__name__}: no case found for aggregate "
                        f"{domain_event.originator_id}; its text cannot be sealed")

    def _keys_every_case(self, event: Any) -> bool:
        """Whether this event opens a case that must have its key though it holds no text yet:
        a store whose ids are keyed keys every case it opens, so that without the key `verify`
        can count its key rows against the cases the log opened (`ledger.key_audit`). Made
        with the events of a save (`to_stored_events`, the save path)."""
        return isinstance(event, CaseAudit.Created) and self.scheme().keyed

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        self._learn_programme(domain_event)
        paths = personal_paths(type(domain_event))
        if paths and self.keys is not None:
            self._learn(domain_event)
            if has_texts(vars(domain_event), paths):
                case = self.case_of(domain_event.originator_id)
                if case is None:
                    raise self._no_case(domain_event)
                return self._sealed_event(domain_event, paths, self.keys.ensure(case))
        return self._stored(domain_event)

    def to_stored_events(self, domain_events: Sequence[Any]
                         ) -> tuple[list[StoredEvent], NewKeys | None]:
        """The events of one save, as `to_stored_event` makes each: their cases' keys read
        once for all of them, each event's text sealed in one walk of its state, in the copy
        the library's Mapper makes of it (`_SaveWriter`); and the keys made for cases that had
        none, which the save must store in its events' transaction (`SealingEventStore.put`)."""
        writer = _SaveWriter(self)
        to_stored: Callable[[Any], StoredEvent] = Mapper(
            writer, self.compressor, self.cipher).to_stored_event
        if self.keys is None:
            plan: list[tuple[tuple[Path, ...], Case | None] | None] = [None] * len(domain_events)
            keys: dict[Case, CaseKey | None] = {}
            new = None
        else:
            plan, keys, new = self._plan(domain_events)
        sealers: dict[Case, Callable[[Any], Any]] = {}  # each case's, made once a save
        out = []
        for event, sealing in zip(domain_events, plan, strict=True):
            if sealing is None:
                writer.plain(event)
                out.append(to_stored(event))
                continue
            paths, case = sealing
            if case is None:
                raise self._no_case(event)
            seal = sealers.get(case)
            if seal is None:
                key = keys.get(case)
                assert self.keys is not None
                try:
                    seal = sealers[case] = (usable(case, key) if key is not None
                                            else self.keys.ensure(case)).sealer()
                except Rejected:  # an erased case's: only an event with text is refused
                    if has_texts(vars(event), paths):
                        raise
                    writer.plain(event)
                    out.append(to_stored(event))
                    continue
            writer.sealing(event, paths, seal)
            out.append(to_stored(event))
        return out, new

    def _encode_owned(self, cls: type, state: dict[str, Any]) -> bytes:
        """An event's state (the library's Mapper's own copy of it) written as `_stored`
        writes it: by orjson where its class writes alike, else by the library's encoder."""
        if self.stamped is not None and stamped_alike(cls):
            transcoder = self.stamped.transcoder
            assert isinstance(transcoder, StampedTranscoder)
            return transcoder.encode_owned(state)
        if self.writer is not None and writes_alike(cls):
            return self.writer.transcoder.encode(state)
        return self.transcoder.encode(state)

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

        for path in personal_paths(type(event)):
            on_path(state, path, unseal)


class _SaveWriter(Transcoder):
    """The transcoder of one save's library Mapper (`SealingMapper.to_stored_events`): the
    Mapper copies each event's state and hands the copy here, where its personal text is
    sealed in place and it is written as the event's class is written (`_encode_owned`). So
    a state is copied once on its way to the store, by the library, where sealing copied it
    first, and the stamped transcoder again. One a save: it holds the event being written."""

    def __init__(self, mapper: SealingMapper) -> None:
        self.mapper = mapper
        self.cls: type = object
        self.paths: tuple[Path, ...] = ()
        self.seal: Callable[[Any], Any] | None = None

    def plain(self, event: Any) -> bool:
        """The next event written holds no text to seal."""
        self.cls, self.seal = type(event), None
        return True

    def sealing(self, event: Any, paths: tuple[Path, ...], seal: Callable[[Any], Any]) -> None:
        """The next event written has these personal paths, sealed with `seal`."""
        self.cls, self.paths, self.seal = type(event), paths, seal

    def encode(self, obj: Any) -> bytes:
        if self.seal is not None:
            for path in self.paths:
                on_path(obj, path, self.seal)  # new values: the event's own stay as they were
        return self.mapper._encode_owned(self.cls, obj)

    def decode(self, data: bytes) -> Any:
        return self.mapper.transcoder.decode(data)


def ledger_mapper(factory: InfrastructureFactory[Any], transcoder: Transcoder) -> SealingMapper:
    """The ledger's mapper: the library's, sealing personal text per case in the store's tables."""
    mapper = factory.mapper(transcoder=transcoder, mapper_class=SealingMapper)
    assert isinstance(mapper, SealingMapper)
    mapper.keys = case_keys_for(factory, mapper.cipher)
    if mapper.keys is not None:
        mapper.keys.partnership_of = mapper.partnership_of
    return mapper
