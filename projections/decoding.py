"""Reading events for the folds with orjson: the library's Mapper, given a transcoder whose
`decode` parses with orjson.

The library's `JSONTranscoder` parses with Python's `json`, calling back into Python for every
object in an event (its `object_hook`), to turn `{"_type_": ..., "_data_": ...}` back into a
date, a time or an id: about a third of a rebuild's decoding. orjson parses the same JSON into
the same values; the few objects of that form are then turned back, innermost first as the
library's hook does, by the same registered `Transcoding`s. JSON that orjson refuses and
`json` takes (NaN, a lone surrogate), and any number orjson read as a float (it reads an
integer beyond 64 bits as one, where `json` keeps the integer; the ledger's events hold no
floats), is parsed by the library's own `decode`, so every stored event reads as the library
reads it (tests/test_fold_decoding.py).

Hooks used: the library's `JSONTranscoder` subclassed (its `decode` overridden, the ledger
transcoder's registered transcodings shared), and a library `Mapper` of it (with the store's
own cipher and compressor) beside the ledger's.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper, TranscodingNotRegisteredError

TYPE, DATA = "_type_", "_data_"


class _Float(Exception):
    """A float read by orjson: read again by the library's `json`, whose numbers may differ."""


class OrjsonReading(JSONTranscoder):
    """The library's JSONTranscoder, parsing with orjson (writing is left as it was)."""

    def __init__(self, like: JSONTranscoder) -> None:
        super().__init__()
        self.types, self.names = like.types, like.names  # shared: later registrations count

    def decode(self, data: bytes) -> Any:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        try:
            return self._restored(parsed)
        except _Float:
            return super().decode(data)

    def _restored(self, value: Any) -> Any:
        """The value with each `{"_type_": ..., "_data_": ...}` in it turned back (in place)."""
        if type(value) is dict:
            for k, v in value.items():
                kind = type(v)
                if kind is dict:
                    if len(v) == 2 and type(v.get(TYPE)) is str and type(v.get(DATA)) is str:
                        found = self.names.get(v[TYPE])  # the common case, without a call more
                        value[k] = (found.decode(v[DATA]) if found is not None
                                    else self._transcoded(v))
                    elif len(v) != 1 or type(next(iter(v.values()))) is not str:
                        value[k] = self._restored(v)  # (one text, as sealed: nothing to do)
                elif kind is list:
                    value[k] = self._restored(v)
                elif kind is float:
                    raise _Float
            if len(value) == 2 and TYPE in value and DATA in value:
                return self._transcoded(value)
        elif type(value) is list:
            for i, v in enumerate(value):
                if type(v) is dict or type(v) is list:
                    value[i] = self._restored(v)
                elif type(v) is float:
                    raise _Float
        return value

    def _transcoded(self, value: dict[str, Any]) -> Any:
        """`{"_type_": ..., "_data_": ...}` (its data restored already) turned back."""
        transcoding = self.names.get(value[TYPE])
        if transcoding is None:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{value[TYPE]}' is not deserializable. "
                "Please register a custom transcoding for this type.")
        return transcoding.decode(value[DATA])


_READERS: WeakKeyDictionary[Mapper[Any], Mapper[Any]] = WeakKeyDictionary()


def reader_of(mapper: Mapper[Any]) -> Mapper[Any]:
    """A library Mapper reading as `mapper` does (its cipher, compressor and transcodings),
    parsing with orjson; `mapper` itself when its transcoder is not the library's JSON one."""
    found = _READERS.get(mapper)
    if found is None:
        transcoder = mapper.transcoder
        found = (Mapper(OrjsonReading(transcoder), mapper.compressor, mapper.cipher)
                 if isinstance(transcoder, JSONTranscoder) else mapper)
        _READERS[mapper] = found
    return found
