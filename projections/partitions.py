"""Partitions of the views: which events fold into which documents, so that a rebuild can fold
each partition in a process of its own.

The documents of one programme (its case, summary, feedback, concern, action, delivery and
report documents, its items of the due index) never share a key with another programme's, so
programmes are hashed into PARTS partitions: a partnership's programmes spread over every
partition, and a rebuild of even one partnership's log uses every CPU. The indexes that list a
person's or an agency's documents across programmes (`waiting`, `open_concerns`) are kept one
document a partition (`projections.indexes.index_key`), and the due index's days likewise.
The directory (partnerships, people, Slack users, teams) is one partition of its own,
DIRECTORY: a Slack user's document lists their people across partnerships. Each partition has
its own tracking position; a batch folded for some partitions only folds their events and
writes only their documents.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
from eventsourcing.utils import resolve_topic

from ledger.partnership import Partnership
from ledger.people import Person
from ledger.programme import Programme

if TYPE_CHECKING:
    from ledger.recorders import LogRow

Doc = dict[str, Any]
PARTS = 8
"""Partitions of partnerships (fixed: the positions are named by them)."""
DIRECTORY = PARTS
PARTITIONS = frozenset(range(PARTS + 1))
DIRECTORY_VIEWS = frozenset({"partnership", "person", "slack", "team"})
"""The views the directory partition keeps (and the `ids` entries that point into them)."""


def programme_partition(programme: str) -> int:
    """A programme's partition: a stable hash of its reference."""
    return zlib.crc32(programme.encode()) % PARTS


def keeps_in(view: str, doc: Doc | None, part: int) -> int:
    """The partition a document belongs to, written while folding an event of `part`."""
    if view in DIRECTORY_VIEWS or (view == "ids" and doc is not None
                                   and doc.get("view") in DIRECTORY_VIEWS):
        return DIRECTORY
    return part


UPCAST, NAMED, UNNAMED = -1, -2, -3
"""Kinds of first events besides DIRECTORY's: of a class with upcasters (decoded to route
it), of a class with a `programme` field, of one without."""
_KEY = b'"programme":"'
_CONTROL = re.compile(b"[\x00-\x1f]")


def _kind(cls: type) -> int:
    """How a first event of this class is routed (`Router.peek`)."""
    if issubclass(cls, Partnership.Created | Person.Created):
        return DIRECTORY
    if getattr(cls, "class_version", 1) != 1:
        return UPCAST
    named = dataclasses.is_dataclass(cls) and any(
        f.name == "programme" for f in dataclasses.fields(cls))
    return NAMED if named else UNNAMED


def _programme(state: bytes, named: bool) -> str:
    """The `programme` of a first event's JSON state ("" when it has none). Read from the
    bytes when its class has the field (so the state's top level holds the key), the key is
    written once, as the library writes it, and the state holds no escapes (no backslash);
    else the state is parsed."""
    if named and b"\\" not in state and state.count(b'"programme"') == 1:
        start = state.find(_KEY)
        end = state.find(b'"', start + len(_KEY)) if start >= 0 else -1
        if end >= 0:
            value = state[start + len(_KEY):end]
            if _CONTROL.search(value) is None:  # else not JSON: parsed, to fail as it would
                return value.decode()
    return str(orjson.loads(state).get("programme") or "")


class Router:
    """Which partition each event belongs to, learnt from the aggregates' first events as the
    log is read, and from the views for aggregates begun before the first batch read.
    Aggregates are known by their originator ids as the log's rows hold them (`LogRow`)."""

    def __init__(self, get_many: Callable[[list[tuple[str, str]]], dict[tuple[str, str], Doc]],
                 first_event: Callable[[str], Any], str_id: Callable[[Any], str] = str) -> None:
        self.get_many = get_many
        self.first_event = first_event
        self.str_id = str_id
        """A row's originator id as `str` of its UUID (as the views key aggregates)."""
        self.aggregates: dict[Any, int] = {}
        self.kinds: dict[str, int] = {}
        """What each topic's first events say of their partition (`_kind`)."""

    def first(self, event: Any, originator: Any) -> tuple[int, int | None]:
        """The partition of an aggregate's first event (and a second one it also writes to:
        a programme's opening lists its partnership in the directory), learnt for its later
        events by `originator` (its id as rows hold it)."""
        also = None
        if isinstance(event, Partnership.Created | Person.Created):
            part = DIRECTORY
        elif isinstance(event, Programme.Created):
            part = programme_partition(event.programme)
            also = DIRECTORY  # its partnership listed as in use
        else:
            part = programme_partition(str(getattr(event, "programme", "") or ""))
        self.aggregates[originator] = part
        return part, also

    def peek(self, row: LogRow, mapper: Any) -> tuple[int, int | None] | None:
        """`first` for a stored first event without decoding it: its class from its topic,
        its programme or partnership from its JSON state as stored (deciphered, nothing
        unsealed). None for a class with upcasters (its stored state may be older): decode it.
        """
        kind = self.kinds.get(row[3])
        if kind is None:
            kind = self.kinds[row[3]] = _kind(resolve_topic(row[3]))
        if kind == UPCAST:
            return None
        if kind == DIRECTORY:
            part = DIRECTORY
        else:
            state = row[4]
            if mapper.cipher:
                state = mapper.cipher.decrypt(state)
            if mapper.compressor:
                state = mapper.compressor.decompress(state)
            part = programme_partition(_programme(state, kind == NAMED))
        self.aggregates[row[1]] = part
        return part, None

    def later(self, originators: Sequence[Any]) -> list[int | None]:
        """The partitions of later events by their aggregate ids (None: not folded)."""
        aggregates = self.aggregates
        unknown = list(dict.fromkeys(o for o in originators if o not in aggregates))
        if unknown:
            self._learn(unknown)
        return [aggregates.get(o) for o in originators]

    def _learn(self, unknown: list[Any]) -> None:
        spelt = {o: self.str_id(o) for o in unknown}
        found = self.get_many([("ids", spelt[o]) for o in unknown])
        for o in unknown:
            index = found.get(("ids", spelt[o]))
            if index is not None:
                self.aggregates[o] = (DIRECTORY if index["view"] in DIRECTORY_VIEWS
                                      else programme_partition(str(index["programme"])))
                continue
            first = self.first_event(spelt[o])  # a delivery: it has no `ids` entry
            if first is not None:
                self.first(first, o)
