"""A partnership's events, exported whole into a file that proves itself without the store.

When a partnership leaves the service (or an inspector asks for its record), it takes its
events with it: every event whose partnership is P, in the order the store recorded them,
each *as stored* (topic, originator, version and state bytes exactly as in the log: an
encrypted store's ciphertext stays ciphertext, sealed case text stays sealed), so the file
holds no personal text in clear beyond what the store itself holds.

Which partnership an event belongs to is read from the aggregate's first event: a
partnership, person or programme names its partnership (`default` when an old event names
none); every other aggregate (case, feedback, concern, recommendation, action, delivery,
override, overview report) names its programme, whose partnership it shares.

The file is JSON lines: a header, one line per event, and a head. Each event line carries
the hash of the export's own chain (SHA-256 over the previous line's hash and the event's
stored fields, as the store's chain does), and the head the last hash and the count, so a
changed, removed, added or reordered line is found at its line number with the file alone.
Keep the head hash printed at export apart from the file: it proves the file is the one
exported, as a digest proves the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from .chain import EventRow, _field
from .ids import DEFAULT_PARTNERSHIP

FORMAT = "audit-ledger partnership export v1"
DOMAIN = b"audit-ledger partnership export v1\n"
GENESIS = bytes(32)

OWNS_A_PARTNERSHIP = ("audit-ledger:PartnershipRegistered", "audit-ledger:PersonRegistered",
                      "audit-ledger:ProgrammeOpened", "audit-ledger:DirectoryOpened")
"""The first events that name their partnership (older versions without one: the default)."""


def _line(item: dict[str, Any]) -> str:
    """One line, compact: every byte of it means something, so a flipped one is found."""
    return json.dumps(item, separators=(",", ":"), ensure_ascii=True)


def header_hash(header: dict[str, Any]) -> bytes:
    """The header's hash (its fields but the hash), where the export's chain starts."""
    fields = {k: v for k, v in header.items() if k != "hash"}
    return hashlib.sha256(DOMAIN + json.dumps(fields, sort_keys=True).encode()).digest()


def export_link(previous: bytes, fields: tuple[Any, ...]) -> bytes:
    """One line's hash: the previous line's and this event's stored fields."""
    return hashlib.sha256(b"".join([DOMAIN, previous, *map(_field, fields)])).digest()


class Partnerships:
    """Whose is each stored event: learnt from aggregates' first events, in log order."""

    def __init__(self) -> None:
        self.of_aggregate: dict[str, str] = {}
        self.of_programme: dict[str, str] = {}

    def of(self, originator: str, version: int, topic: str,
           state: Callable[[], dict[str, Any]]) -> str | None:
        """The event's partnership, or None for an event of no partnership's aggregate."""
        known = self.of_aggregate.get(originator)
        if known is not None or version != 1:
            return known
        data = state()
        if topic in OWNS_A_PARTNERSHIP:
            partnership = str(data.get("partnership") or DEFAULT_PARTNERSHIP)
            if topic == "audit-ledger:ProgrammeOpened":
                self.of_programme[str(data.get("programme"))] = partnership
        elif "programme" in data:
            partnership = self.of_programme.get(str(data["programme"]), "")
        else:
            return None
        if partnership:
            self.of_aggregate[originator] = partnership
        return partnership or None


def _text(value: Any) -> str:
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogatepass")
    return value.hex if hasattr(value, "hex") and not isinstance(value, str) else str(value)


def export_lines(partnership: str, name: str, rows: Iterable[EventRow],
                 decode: Callable[[bytes], dict[str, Any]],
                 exported_at: str) -> Iterator[str]:
    """The export's lines (header, events, head), from the stored rows in log order; the
    head line carries the count and last hash (also given back as the generator's value)."""
    header: dict[str, Any] = {"format": FORMAT, "partnership": partnership, "name": name,
                              "exported_at": exported_at}
    previous = header_hash(header)
    yield _line({**header, "hash": previous.hex()})
    owners = Partnerships()
    count = 0
    for position, row in enumerate(rows, start=1):
        notification, originator, version, topic, state = row
        state = bytes(state)
        originator = _text(originator)
        if owners.of(originator, int(version), str(topic), partial(decode, state)) \
                != partnership:
            continue
        fields = (position, originator, int(version), str(topic), state)
        previous = export_link(previous, fields)
        count += 1
        yield _line({"position": position, "originator_id": originator,
                          "originator_version": int(version), "topic": str(topic),
                          "state": base64.b64encode(state).decode("ascii"),
                          "hash": previous.hex()})
    yield _line({"head": {"events": count, "hash": previous.hex()}})


@dataclass(frozen=True)
class ExportVerdict:
    partnership: str
    events: int
    head: str
    problem: str | None = None
    line: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


_EVENT_KEYS = {"position", "originator_id", "originator_version", "topic", "state", "hash"}


def verify_export(lines: Iterable[bytes]) -> ExportVerdict:
    """Recompute the export's chain from its lines alone; name the first bad line."""
    partnership, previous, count, head = "", GENESIS, 0, None
    number = 0

    def bad(why: str, at: int) -> ExportVerdict:
        return ExportVerdict(partnership, count, previous.hex(), f"line {at}: {why}", at)

    for number, raw in enumerate(lines, start=1):  # noqa: B007 - read after the loop
        if head is not None:
            return bad("there is more after the head (the last line): lines were added", number)
        try:
            item = json.loads(raw)
        except (UnicodeDecodeError, ValueError):
            return bad("not a JSON line: the file was changed here", number)
        if not isinstance(item, dict):
            return bad("not a JSON object: the file was changed here", number)
        if number == 1:
            if item.get("format") != FORMAT or not isinstance(item.get("partnership"), str):
                return bad(f"not the header of a partnership export (expected \"format\": "
                           f"\"{FORMAT}\" and the partnership)", number)
            partnership = item["partnership"]
            previous = header_hash(item)
            if item.get("hash") != previous.hex():
                return bad("the header does not match its hash: it was changed", number)
            continue
        if set(item) == {"head"}:
            head = item["head"]
            if not isinstance(head, dict) or head.get("events") != count \
                    or head.get("hash") != previous.hex():
                return bad(f"the head does not match the {count} events before it: events "
                           "were removed, or the head was changed", number)
            continue
        if set(item) != _EVENT_KEYS:
            return bad("not an event line (expected " + ", ".join(sorted(_EVENT_KEYS)) + ")",
                       number)
        numbers = (item["position"], item["originator_version"])
        if not all(type(n) is int for n in numbers) or not all(
                isinstance(item[k], str) for k in ("originator_id", "topic", "state", "hash")):
            return bad("a position or version that is not a whole number, or a field that is "
                       "not text: the file was changed here", number)
        try:
            state = base64.b64decode(item["state"], validate=True)
        except (binascii.Error, ValueError):
            return bad("its state is not base64: the file was changed here", number)
        fields = (item["position"], item["originator_id"], item["originator_version"],
                  item["topic"], state)
        computed = export_link(previous, fields)
        if computed.hex() != item["hash"]:
            return bad("its content does not match its hash: the event or its hash was "
                       "changed, or a line before it removed or moved", number)
        previous, count = computed, count + 1
    if number == 0:
        return ExportVerdict("", 0, GENESIS.hex(), "line 1: the file is empty", 1)
    if head is None:
        return bad("the file ends without its head: it was cut short", number + 1)
    return ExportVerdict(partnership, count, previous.hex())
