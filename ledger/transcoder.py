"""Writing events with orjson where it gives the library's own bytes.

The library's `JSONTranscoder` writes compact JSON (`separators=(",", ":")`, UTF-8, no ASCII
escaping) with Python's `json`, calling back into Python for each value `json` cannot write
itself (each event's `timestamp` at the least): about a tenth of an import. orjson writes the
same bytes for strings, integers within 64 bits, booleans, None, lists, tuples and dicts with
string keys, and calls back (`OPT_PASSTHROUGH_DATETIME`) for dates and times, which get the
library's `{"_type_": ..., "_data_": ...}` form from the registered transcodings (a UTC or
naive datetime's text written by orjson, which is `isoformat()`'s). Floats
(whose digits orjson may write otherwise, and NaN as null) and UUIDs (which orjson writes as
plain strings) it does not write alike.

So orjson writes an event only when its class declares nothing else (`writes_alike`: the
types of its dataclass fields); an event of any other class, and a value orjson refuses (an
integer beyond 64 bits), goes to the library's encoder. Checking each value as it goes would
cost what orjson saves. The stored bytes are those the library would store; reading is the
library's (`tests/test_save_path.py` compares them).

Hooks used: the library's `JSONTranscoder` subclassed (its `encode` overridden, its registered
`Transcoding`s used as they are), and a library `Mapper` of it beside the ledger's
(`ledger.sealing.SealingMapper.writer`).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import orjson
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
# What a field may be declared as for orjson to write it as the library does.
_ALIKE = frozenset({"str", "int", "bool", "None", "list", "dict", "tuple", "datetime", "date"})
_KEPT_OUT = ("originator_id", "originator_version")  # the mapper stores these in columns
_CLASSES: dict[type, bool] = {}


def _declared(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation  # `from __future__ import annotations`: as written
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation)


def _words(annotation: Any) -> set[str]:
    return set(re.findall(r"[A-Za-z_][\w.]*", _declared(annotation)))


def writes_alike(cls: type) -> bool:
    """True when every field this event class declares is of a type orjson writes as the
    library's encoder does (worked out once a class)."""
    found = _CLASSES.get(cls)
    if found is None:
        found = dataclasses.is_dataclass(cls) and all(
            _words(f.type) <= _ALIKE
            for f in dataclasses.fields(cls) if f.name not in _KEPT_OUT)
        _CLASSES[cls] = found
    return found


_DATES = frozenset({"datetime", "date", "time"})
_STAMPED: dict[type, bool] = {}


def stamped_alike(cls: type) -> bool:
    """True when the class `writes_alike` and declares no date or time but its `timestamp`:
    its events are written by `StampedTranscoder`, with no call back from orjson."""
    found = _STAMPED.get(cls)
    if found is None:
        found = writes_alike(cls) and all(
            f.name == "timestamp" or not _words(f.type) & _DATES
            for f in dataclasses.fields(cls) if f.name not in _KEPT_OUT)
        _STAMPED[cls] = found
    return found


class OrjsonTranscoder(JSONTranscoder):
    """The library's JSONTranscoder, encoding with orjson: for the states of events whose class
    `writes_alike` (the values it holds are its business to declare)."""

    def __init__(self, like: JSONTranscoder | None = None) -> None:
        super().__init__()
        if like is not None:  # its transcodings, shared: one registered later counts here too
            self.types, self.names = like.types, like.names

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=self._registered, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().encode(obj)  # an integer beyond 64 bits, a key not a string...

    def _registered(self, value: Any) -> dict[str, Any]:
        """A date or time as the library writes it, by its registered transcoding."""
        transcoding = self.types.get(type(value))
        if transcoding is None:
            raise TypeError(f"no transcoding registered for {type(value).__name__}")
        if type(transcoding) is DatetimeAsISO and (value.tzinfo is None or value.tzinfo is UTC):
            # Every event's timestamp (UTC): orjson writes `isoformat()`'s very text at a
            # fifth of its cost (tests/test_save_path.py compares them).
            return {"_type_": transcoding.name, "_data_": orjson.dumps(value)[1:-1].decode()}
        return {"_type_": transcoding.name, "_data_": transcoding.encode(value)}


class StampedTranscoder(OrjsonTranscoder):
    """The orjson transcoder for the states of events whose only date or time is their
    `timestamp` (`stamped_alike`): a UTC or naive timestamp is given to orjson already in the
    library's `{"_type_": ..., "_data_": ...}` form, its text written by orjson itself (which is
    `isoformat()`'s), so orjson writes the whole state without calling back into Python once
    an event (that call back was about a third of writing a state). Like `writes_alike`, it
    trusts the class's declarations: a date in a field declared as text would be written as
    plain text here. A timestamp in another zone, or a state orjson refuses, is written as
    `OrjsonTranscoder` writes it."""

    def encode(self, obj: Any) -> bytes:
        return self.encode_owned(dict(obj) if type(obj) is dict else obj)

    def encode_owned(self, obj: Any) -> bytes:
        """`encode` of a state nobody else holds (the library's Mapper's own copy of an event's
        state): its timestamp is put in the library's form in place, not in a copy."""
        stamp = obj.get("timestamp") if type(obj) is dict else None
        if type(stamp) is datetime and (stamp.tzinfo is None or stamp.tzinfo is UTC):
            transcoding = self.types.get(datetime)
            if type(transcoding) is DatetimeAsISO:
                obj["timestamp"] = {"_type_": transcoding.name, "_data_": stamp}
                try:
                    return orjson.dumps(obj)
                except orjson.JSONEncodeError:
                    obj["timestamp"] = stamp  # an integer beyond 64 bits, a key not a string...
        return super().encode(obj)
