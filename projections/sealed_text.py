"""Personal text in the views: kept sealed with its case's key, opened only when read.

The folds copy each personal text into the views exactly as the log stores it: sealed with
the case's key (`{"sealed": "..."}`, ledger.sealing). So the views never hold a text in the
clear, and destroying a case's key (`audit-ledger erase`) makes its text unreadable in every
view at once, with no refold: a view can never hold text whose key is gone. Reading
(`projections.queries.Views`) opens the sealed texts of each case, feedback and concern
document with its case's key, one key query for all the documents of a read; an erased
case's texts read "[erased]" exactly as the log's do.

Text stored before sealing existed is plain in the log, and no erasure can take it out of
the log (`erase` says so). The folds keep it marked (`{"unsealed": "..."}`) so that reading
hides it too once its case is erased; the views' bytes hold it as the log's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.case_key import Case, CaseKey
from ledger.case_keys import CaseKeys
from ledger.personal import ERASED, SEALED, on_path, personal_paths
from ledger.sealing import SealingMapper

from .decoding import reader_of

if TYPE_CHECKING:
    from ledger.recorders import LogRow

Doc = dict[str, Any]
UNSEALED = "unsealed"


def _marked(value: Any) -> Any:
    return {UNSEALED: value} if isinstance(value, str) and value else value


def folded_events(mapper: Mapper[Any], stored: Sequence[Any]) -> list[Any]:
    """The stored events as the folds take them: personal text left sealed as stored (no
    case key read, nothing opened), text stored before sealing marked `{"unsealed": ...}`."""
    reader = reader_of(mapper)  # the library's Mapper, parsing with orjson: nothing opened
    events = [reader.to_domain_event(s) for s in stored]
    if not isinstance(mapper, SealingMapper) or mapper.keys is None:
        return events
    for event in events:
        state = vars(event)
        for path in personal_paths(type(event)):
            if not path[1]:  # a field: nothing to mark when absent, empty or sealed
                value = state.get(path[0])
                if value is None or (type(value) is dict and len(value) == 1
                                     and type(value.get(SEALED)) is str):
                    continue
            on_path(state, path, _marked)
    return events


def folded_rows(mapper: Mapper[Any], rows: Sequence[LogRow]) -> list[Any]:
    """`folded_events` of rows read with `select_rows` (each given to the library's Mapper as
    the library's `StoredEvent`, its originator id as stored: the Mapper makes the UUID)."""
    return folded_events(mapper, [StoredEvent(originator_id=r[1], originator_version=r[2],
                                              topic=r[3], state=r[4]) for r in rows])


def _opened(value: Any, key: CaseKey | None) -> Any:
    """The value with each sealed (or marked) text in it opened with the case's key, in place."""
    if isinstance(value, dict):
        if len(value) == 1:
            sealed = value.get(SEALED)
            if isinstance(sealed, str):
                return key.open(sealed) if key is not None else ERASED
            plain = value.get(UNSEALED)
            if isinstance(plain, str):
                return ERASED if key is not None and key.erased else plain
        for k, v in value.items():
            if isinstance(v, dict | list):
                value[k] = _opened(v, key)
        return value
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict | list):
                value[i] = _opened(v, key)
    return value


def case_of(doc: Doc) -> Case | None:
    """The case a case, feedback or concern document belongs to (whose key seals its text)."""
    programme, case = doc.get("programme"), doc.get("case")
    return (programme, case) if isinstance(programme, str) and isinstance(case, str) else None


def open_texts(docs: Sequence[Doc | None], keys: CaseKeys | None) -> None:
    """Open, in place, the personal text of these documents with their cases' keys (read in
    one query); without a key table (a replay's documents are already open) nothing to do."""
    if keys is None:
        return
    cases = {c for c in (case_of(d) for d in docs if d is not None) if c is not None}
    found = keys.keys(sorted(cases)) if cases else {}
    for doc in docs:
        if doc is not None:
            case = case_of(doc)
            _opened(doc, found.get(case) if case is not None else None)

