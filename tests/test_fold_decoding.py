"""The folds read events with orjson (`projections.decoding`): each stored event must read as
the library's own Mapper reads it, value for value and type for type."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack_data
from ledger.persistence import DateAsISO
from projections.decoding import OrjsonReading, reader_of

from .conftest import demo_pack


def _library() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


def _typed(value: Any) -> Any:
    """The value with each part's type beside it, so that equal values of other types differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


NOW = datetime(2026, 12, 1, 14, 5, 6, 789, tzinfo=UTC)


@pytest.mark.parametrize("state", [
    {"timestamp": NOW, "text": "a\x00b\u2028 \"q\" é 中 😀", "n": -(2 ** 63), "ok": True,
     "none": None, "float": 0.1, "nested": [{"d": date(2026, 1, 31)}, [uuid4(), Decimal("1.5")]],
     "sealed": [{"area": "3", "text": {"sealed": "bm9uY2U="}}],
     "like": {"_type_": "uuid_hex", "_data_": "x", "third": 1}, "half": {"_type_": 1}},
    {"huge": 10 ** 30, "when": NOW},  # beyond 64 bits: orjson reads a float, json an int
    {"in": [1, {"deep": [2 ** 70]}], "after": "x"},
    {"nan": float("nan")},
])
def test_orjson_reads_what_the_library_reads(state: dict[str, Any]) -> None:
    library = _library()
    data = library.encode(state)
    ours = OrjsonReading(library).decode(data)
    theirs = library.decode(data)
    if "nan" in state:
        assert ours["nan"] != ours["nan"] and theirs["nan"] != theirs["nan"]
    else:
        assert _typed(ours) == _typed(theirs)


def test_an_unknown_transcoding_is_refused_alike() -> None:
    library = _library()
    for data in (b'{"x":[{"_type_":"no_such","_data_":"1"}]}',
                 b'{"x":{"_type_":"no_such","_data_":"1"}}'):
        for transcoder in (library, OrjsonReading(library)):
            with pytest.raises(TranscodingNotRegisteredError):
                transcoder.decode(data)


def test_every_stored_event_reads_as_the_library_reads_it(wiring: Wiring) -> None:
    import_pack_data(wiring.app, demo_pack())
    mapper = wiring.app.mapper
    reader = reader_of(mapper)
    assert reader is not mapper and reader_of(mapper) is reader
    stored = wiring.app.recorder.select_notifications(start=None, limit=100_000)
    assert len(stored) > 100
    for notification in stored:
        ours = reader.to_domain_event(notification)
        theirs = Mapper.to_domain_event(mapper, notification)  # the library's: nothing opened
        assert type(ours) is type(theirs)
        assert isinstance(ours.originator_id, UUID)
        assert _typed(vars(ours)) == _typed(vars(theirs))
