"""The import's save path: the same stored events, written faster.

`ledger.transcoder` writes with orjson only where the bytes are the library's own; a brand-new
aggregate an import only saves goes in as its first event alone (`LedgerAggregate.creation`);
`LedgerApplication.save` collects events without the library's runtime Protocol checks. Each
is checked here against what the library itself gives for the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from audit_ledger.wiring import Wiring
from ledger.base import Act
from ledger.concerns import Concern
from ledger.feedback import Feedback, feedback_fields, feedback_from_return
from ledger.ids import PUBLIC
from ledger.importer import import_pack_data
from ledger.persistence import DateAsISO
from ledger.transcoder import OrjsonTranscoder, StampedTranscoder, stamped_alike, writes_alike

from .conftest import demo_pack


def _transcoders() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    """The library's transcoder as the ledger registers it, and ours beside it (sharing its
    transcodings, as `SealingMapper.writer`'s does); the date registered after both exist."""
    library = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        library.register(transcoding)
    ours = OrjsonTranscoder(like=library)
    library.register(DateAsISO())
    return library, ours


NOW = datetime(2026, 12, 1, 14, 5, 6, 789, tzinfo=UTC)


@pytest.mark.parametrize("state", [
    {"timestamp": NOW, "text": "a\x00b\x1f\x7f\u2028 \"quoted\" \\ / é 中 😀", "n": -(2 ** 63),
     "big": 2 ** 64 - 1, "ok": True, "none": None, "nested": [{"d": date(2026, 1, 31)}, (1, 2)],
     "sealed": [{"area": "3", "text": {"sealed": "bm9uY2U="}}]},
    {"huge": 10 ** 30},  # beyond 64 bits: the library's encoder
    {1: "an int key"},  # json writes "1"; orjson refuses, so the library's encoder
])
def test_the_transcoder_writes_the_library_s_bytes(state: dict[Any, Any]) -> None:
    library, ours = _transcoders()
    assert ours.encode(state) == library.encode(state)


@given(st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)),
                                                timezone(timedelta(0))])))
def test_any_datetime_is_written_as_the_library_writes_it(when: datetime) -> None:
    """orjson writes a UTC or naive datetime's text itself (`isoformat()`'s); any other zone
    goes to the library's transcoding."""
    library, ours = _transcoders()
    state = {"timestamp": when, "nested": [{"at": when}]}
    assert ours.encode(state) == library.encode(state)


@given(st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30)),
                                                timezone(timedelta(0))])),
       st.text(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70))
def test_a_timestamp_given_to_orjson_ready_is_written_as_the_library_writes_it(
        when: datetime, text: str, n: int) -> None:
    """`StampedTranscoder` (the events whose only time is their timestamp): the library's
    bytes for any timestamp, any text and any integer (beyond 64 bits, the library's encoder)."""
    library, _ = _transcoders()
    stamped = StampedTranscoder(like=library)
    state = {"originator_topic": "t", "timestamp": when, "text": text, "n": n,
             "grades": {"2": 1}, "texts": [{"sealed": text}]}
    assert stamped.encode(state) == library.encode(state)
    assert state["timestamp"] is when  # the state given is left as it was


@dataclass(frozen=True)
class _Stamped:
    originator_id: UUID
    timestamp: datetime
    texts: dict[str, list[str]]


@dataclass(frozen=True)
class _Declares:
    originator_id: UUID  # stored in its own column, never in the state
    when: datetime
    texts: dict[str, list[str]]
    count: int | None


@dataclass(frozen=True)
class _DeclaresFloat:
    share: float


@dataclass(frozen=True)
class _DeclaresAnything:
    figures: dict[str, Any]


@dataclass(frozen=True)
class _DeclaresUUID:
    other: UUID


def test_orjson_writes_only_the_events_whose_class_declares_what_it_writes_alike() -> None:
    assert writes_alike(_Declares)
    for cls in (_DeclaresFloat, _DeclaresAnything, _DeclaresUUID, dict):
        assert not writes_alike(cls)
    assert stamped_alike(_Stamped) and stamped_alike(Feedback.Created)
    assert not stamped_alike(_Declares)  # a time beside the timestamp: orjson calls back
    assert not stamped_alike(_DeclaresFloat)
    library, ours = _transcoders()
    for why in ({"share": float("nan")}, {"other": uuid4()}):  # null; a plain string
        assert ours.encode(why) != library.encode(why)


def test_what_the_library_refuses_is_refused_alike() -> None:
    library, ours = _transcoders()
    for transcoder in (library, ours):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"timestamp": NOW, "set": {1}})


def test_an_import_stores_the_bytes_the_library_s_mapper_writes(wiring: Wiring) -> None:
    """Every event of an import, read back with its text still sealed, encodes with the
    library's own JSON transcoder to the very bytes stored."""
    import_pack_data(wiring.app, demo_pack())
    library, _ = _transcoders()
    mapper: Mapper[Any] = Mapper(transcoder=library)
    stored = wiring.app.recorder.select_notifications(start=None, limit=100_000)
    assert len(stored) > 100
    for notification in stored:
        event = mapper.to_domain_event(notification)  # the library's reading: text sealed
        assert mapper.to_stored_event(event).state == bytes(notification.state)
        json.loads(bytes(notification.state))


def _feedback_args() -> tuple[Any, ...]:
    return ("P1", "C01", "police", "aud", "prac", "mgr", {"2": 1, "overall": 2},
            {"3": "kept a chronology"}, {"4": "no plan"}, Act("aud", "2026-01-31"))


def test_a_brand_new_aggregate_s_first_event_is_the_one_the_library_makes() -> None:
    """`creation` gives the event `_create` puts first in the aggregate's pending events (but
    its time), and replaying it gives the same aggregate."""
    made = feedback_from_return(*_feedback_args(), scheme=PUBLIC)  # any scheme: the events compared
    event = made.pending_events[0]
    created = Feedback.creation(Feedback.Created, PUBLIC.feedback_id("P1", "C01", "police"),
                                **feedback_fields(*_feedback_args()))
    assert type(created) is type(event)
    mine = dict(vars(created))
    theirs = dict(vars(event))
    assert mine.pop("timestamp") >= theirs.pop("timestamp")
    assert mine == theirs
    assert list(mine) == list(theirs)  # the stored JSON follows the state's order
    replayed = created.mutate(None)
    assert isinstance(replayed, Feedback)
    expected = {k: v for k, v in vars(made).items() if k not in ("_pending_events",
                                                                  "_created_on", "_modified_on")}
    assert {k: v for k, v in vars(replayed).items() if k in expected} == expected


def test_save_takes_aggregates_and_first_events_together(wiring: Wiring) -> None:
    app = wiring.app
    feedback = feedback_from_return(*_feedback_args(), scheme=app.ids)
    concern_id = uuid5(NAMESPACE_URL, f"test-concern-{uuid4()}")
    concern = Concern.creation(Concern.Created, concern_id, programme="P1", case="C01",
                               agency="police", ref="R1", summary="a worry",
                               child_at_risk=False, **Act("aud", "2026-01-31").fields())
    recordings = app.save(feedback, concern)
    assert [r.domain_event.originator_id for r in recordings] == [feedback.id, concern_id]
    assert not feedback.pending_events
    stored = app.find(Concern, concern_id)
    assert stored is not None and stored.summary == "a worry"  # sealed, and opened again
    found = app.find(Feedback, feedback.id)
    assert found is not None and found.issues[0]["text"] == "no plan"


def test_anything_else_is_saved_by_the_library_s_own_save(wiring: Wiring) -> None:
    """None among the objects (the library's save skips it) takes the library's path."""
    feedback = feedback_from_return(*_feedback_args(), scheme=wiring.app.ids)
    recordings = wiring.app.save(None, feedback)
    assert len(recordings) == 1
    assert wiring.app.find(Feedback, feedback.id) is not None


@pytest.mark.parametrize("row", [
    (12345, "a" * 32, 3, "audit-ledger:ReturnRecorded", b'{"by":"x"}'),
    (1, "é\udc80", 1, "t", b""),  # a lone surrogate, as `_field` writes it
    (7, uuid4(), 2, "t", memoryview(b"state")),  # as a row read back may hold them
    (7, "oid", True, None, "state as text"),  # edited by hand
])
def test_a_chain_link_hashes_each_value_as_its_field_encoding_says(
        row: tuple[Any, ...]) -> None:
    """`link`'s one-join path for the usual row gives the hash of the field by field one."""
    import hashlib

    from ledger.chain import DOMAIN, _field, link

    previous = hashlib.sha256(b"previous").digest()
    expected = hashlib.sha256(b"".join([DOMAIN, previous, *map(_field, row)])).digest()
    assert link(previous, row) == expected


def test_a_new_case_s_events_are_the_ones_the_library_makes() -> None:
    """`creation` and `following` give the events `_create` and `record` put in a new case's
    pending events (but their times), and replaying them gives the same case."""
    from ledger.case_audit import CaseAudit

    act = Act("ql", "2026-01-05")
    case_id = PUBLIC.case_id("P1", "C01")  # any scheme: the events compared
    created = dict(programme="P1", ref="C01", category="neglect", age_band="5-10",
                   gender="male", ethnicity="White British", agencies=["police", "school"])
    returned = dict(agency="police", auditor="aud", practitioner="prac",
                    completed="2026-01-31", grades={"2": 1, "overall": 2},
                    strengths={"3": "kept a chronology"}, concerns={"4": "no plan"})
    made = CaseAudit._create(CaseAudit.Created, id=case_id, **created, **act.fields())
    made.record(CaseAudit.ReturnRecorded, act, **returned)
    mine = [CaseAudit.creation(CaseAudit.Created, case_id, **created, **act.fields()),
            CaseAudit.following(CaseAudit.ReturnRecorded, case_id, 2, **act.fields(),
                                **returned)]
    theirs = made.pending_events
    assert [type(e) for e in mine] == [type(e) for e in theirs]
    for m, t in zip(mine, theirs, strict=True):
        m_state, t_state = dict(vars(m)), dict(vars(t))
        assert m_state.pop("timestamp") >= t_state.pop("timestamp")
        assert m_state == t_state
        assert list(m_state) == list(t_state)
    replayed = None
    for event in mine:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, CaseAudit)
    assert replayed.version == made.version == 2
    assert replayed.agencies == made.agencies
    assert {a: vars(r) for a, r in replayed.returns.items()} == \
        {a: vars(r) for a, r in made.returns.items()}


def test_case_text_sealed_by_either_cipher_opens_with_the_other() -> None:
    """The case cipher (one AES-GCM object kept) writes the library's AESCipher layout."""
    import base64
    import os

    from eventsourcing.cryptography import AESCipher
    from eventsourcing.utils import Environment

    from ledger.case_key import CaseCipher

    env = Environment(env={AESCipher.CIPHER_KEY: base64.b64encode(os.urandom(32)).decode()})
    library, ours = AESCipher(env), CaseCipher(env)
    for text in (b"", b"a comment", "é, 漢字".encode() * 100):
        assert library.decrypt(ours.encrypt(text)) == text
        assert ours.decrypt(library.encrypt(text)) == text
    sealed = bytearray(ours.encrypt(b"a comment"))
    sealed[-1] ^= 1
    for cipher in (library, ours):
        with pytest.raises(ValueError, match="Invalid cipher tag"):
            cipher.decrypt(bytes(sealed))
        with pytest.raises(ValueError, match="Damaged cipher text"):
            cipher.decrypt(b"short")


def test_a_person_changed_between_packs_is_read_as_changed(wiring: Wiring,
                                                           mini_pack: dict[str, Any]) -> None:
    """The directory a pack is checked against is remembered across packs, but a person with
    a new event is read again: a return naming an auditor as practitioner is refused, and
    passes once the auditor is granted the practitioner role."""
    from ledger import commands as c
    from ledger.pack import PackProblems

    app = wiring.app
    import_pack_data(app, mini_pack, by="ql")
    later = {"programme": {"id": "mini-2027", "opened": "2027-01-05", "scale": "ofsted-ilacs"},
             "cases": [{"ref": "K09", "agencies": ["social-care"]}],
             "returns": [{"case": "K09", "agency": "social-care", "auditor": "sc.aud",
                          "practitioner": "sc.aud", "completed": "2027-02-01",
                          "grades": {"2": 2, "overall": 2}}]}
    with pytest.raises(PackProblems, match="'sc.aud' does not hold the practitioner role"):
        import_pack_data(app, later, by="ql")
    app.grant_role(c.ChangeRole(person="sc.aud", role="practitioner", by="ql"))
    assert import_pack_data(app, later, by="ql").events > 0


def test_an_event_made_without_its_constructor_is_the_one_it_makes() -> None:
    """`made` lays the fields out as the constructor does, and leaves to the constructor what
    it would refuse: a field missing or unknown, an id that is not a UUID."""
    from ledger.base import made

    fields = dict(originator_id=PUBLIC.concern_id("P1", "R1"), originator_version=1,
                  timestamp=NOW, originator_topic="ledger.concerns:Concern", programme="P1",
                  case="C01", agency="police", ref="R1", summary="a worry", child_at_risk=False,
                  **Act("aud", "2026-01-31").fields())
    theirs = Concern.Created(**fields)
    mine = made(Concern.Created, dict(reversed(fields.items())))
    assert type(mine) is Concern.Created and mine == theirs
    assert list(vars(mine)) == list(vars(theirs))
    with pytest.raises(TypeError):
        made(Concern.Created, {k: v for k, v in fields.items() if k != "summary"})
    with pytest.raises(TypeError):
        made(Concern.Created, {**fields, "unknown": 1})
    with pytest.raises(TypeError):
        made(Concern.Created, {**fields, "originator_id": "not a uuid"})


def test_events_past_sqlite_s_largest_rowid_are_chained_as_stored(tmp_path: Any) -> None:
    """The chaining SQLite recorder inserts a save's events in one statement and works out
    their rowids; once the table holds SQLite's largest rowid, SQLite picks the next ones at
    random, and the recorder reads them back instead (fails if it takes them as consecutive)."""
    from audit_ledger.wiring import wire
    from ledger.recorders import ChainedSQLiteRecorder

    w = wire(f"sqlite:///{tmp_path / 'edge.db'}", "")
    try:
        app = w.app
        first = Concern.creation(Concern.Created, uuid5(NAMESPACE_URL, "edge-1"), programme="P1",
                                 case="C01", agency="police", ref="R1", summary="",
                                 child_at_risk=False, **Act("aud", "2026-01-31").fields())
        app.save(first)
        recorder = app.recorder
        assert isinstance(recorder, ChainedSQLiteRecorder)
        with recorder.datastore.transaction(commit=True) as c:  # the first event moved to the end
            c.execute(f"UPDATE {recorder.events_table_name} SET rowid=? ", [2 ** 63 - 1])
        later = [Concern.creation(Concern.Created, uuid5(NAMESPACE_URL, f"edge-{n}"),
                                  programme="P1", case="C01", agency="police", ref=f"R{n}",
                                  summary="", child_at_risk=False,
                                  **Act("aud", "2026-01-31").fields()) for n in range(2, 6)]
        recordings = app.save(*later)
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid, originator_id FROM {recorder.events_table_name}")
            rowids = {row[1]: row[0] for row in c.fetchall()}
        assert [r.notification.id for r in recordings] == [rowids[e.originator_id.hex]
                                                           for e in later]
        with recorder.datastore.transaction(commit=False) as c:
            c.execute("SELECT notification_id FROM event_chain ORDER BY position")
            chained = [row[0] for row in c.fetchall()]
        assert chained[1:] == sorted(r.notification.id for r in recordings)
    finally:
        w.close()


@given(st.text(), st.text(), st.text())
def test_a_case_key_is_bound_to_the_bytes_json_dumps_gives(partnership: str, programme: str,
                                                           ref: str) -> None:
    """`bound_to` keeps one encoder: its bytes are `json.dumps`'s, which every key row stored
    so far is bound with (a lone surrogate refused alike)."""
    from ledger.key_wrapping import bound_to

    parts = ["audit-ledger case key v2", partnership, programme, ref]
    try:
        expected = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            bound_to(partnership, programme, ref)
        return
    assert bound_to(partnership, programme, ref) == expected
