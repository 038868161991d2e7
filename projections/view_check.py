"""`verify --views`: the stored views against the log, folded afresh beside them.

The views are what `case`, `report`, `concern list` and the bot serve, but nothing in the
hash chain covers them: someone with the database could turn a grade 4 into a 2 in a view
document, and every reader would believe it. So the log is folded again, from its first
event to the position the stored views have reached, into a scratch view store (a SQLite
file in a private temporary directory, sealed with the same key), and every document of
every view is compared; the first difference is named in words: view, key, field, and what
each side holds. Views folded after the check started (the bot still running) are waited out:
the scratch views are carried forward and compared again, a few times at most.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.persistence import LedgerApplication

from .follower import Follower
from .sqlite_views import SQLiteViewStore
from .store import ViewStore
from .views import VIEWS

Doc = dict[str, Any]
TRIES = 3
SHOWN = 60  # characters of a value shown in a difference


@dataclass(frozen=True)
class ViewsVerdict:
    position: int  # the log position both sides were folded to
    documents: int  # documents compared
    seconds: float
    difference: str | None = None

    @property
    def intact(self) -> bool:
        return self.difference is None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def first_field(stored: Any, folded: Any, path: str = "") -> str | None:
    """The first field (a dotted path) where the two documents differ, with both values."""
    if isinstance(stored, dict) and isinstance(folded, dict):
        for name in sorted(set(stored) | set(folded), key=str):
            here = f"{path}.{name}" if path else str(name)
            if name not in folded:
                return f"field {here} is in the stored view ({_shown(stored[name])}) but not " \
                       "in the views folded from the log"
            if name not in stored:
                return f"field {here} ({_shown(folded[name])}) is missing from the stored view"
            found = first_field(stored[name], folded[name], here)
            if found:
                return found
        return None
    if isinstance(stored, list) and isinstance(folded, list):
        for i, (a, b) in enumerate(zip(stored, folded, strict=False)):
            found = first_field(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(stored) != len(folded):
            return (f"field {path or 'the document'} has {len(stored)} items in the stored "
                    f"view but {len(folded)} folded from the log")
        return None
    if stored == folded and type(stored) is type(folded):
        return None
    return (f"field {path or 'the document'} is {_shown(stored)} in the stored view but "
            f"{_shown(folded)} folded from the log")


def _read(store: ViewStore, view: str, side: str) -> list[tuple[str, Doc]]:
    try:
        return store.scan(view)
    except Exception as e:  # noqa: BLE001 - a document that does not open is a finding
        raise _Unreadable(f"view {view}: the {side} documents could not be read "
                          f"({str(e) or type(e).__name__})") from None


class _Unreadable(Exception):
    pass


def _difference(stored: ViewStore, scratch: ViewStore, views: list[str]) -> tuple[str | None,
                                                                                  int]:
    """The first difference in words (None: none), and how many documents were compared."""
    compared = 0
    for view in views:
        try:
            ours = _read(stored, view, "stored")
            theirs = dict(_read(scratch, view, "refolded"))
        except _Unreadable as e:
            return str(e), compared
        for key, doc in ours:
            compared += 1
            folded = theirs.pop(key, None)
            named = f"view {view}, key {key}"
            if stored.hashes(view):
                named += " (a keyed hash)"
            if folded is None:
                return f"{named}: the stored view has a document the log does not give", compared
            found = first_field(doc, folded)
            if found:
                return f"{named}: {found}", compared
        if theirs:
            key = min(theirs)
            return (f"view {view}, key {key}: the log gives a document missing from the stored "
                    "views", compared)
    return None, compared


def _view_names(scratch: SQLiteViewStore) -> list[str]:
    """Every view the folds write (VIEWS, and any the scratch fold made besides)."""
    with scratch.lock:
        made = [r[0] for r in scratch.conn.execute("SELECT DISTINCT view FROM view_docs")]
    return list(dict.fromkeys([*VIEWS, *sorted(made)]))


def verify_views(app: LedgerApplication, stored: ViewStore, key: str) -> ViewsVerdict:
    """Fold the log afresh into a scratch store and compare it with the stored views."""
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="audit-ledger-views-"))
    scratch = SQLiteViewStore(str(folder / "views.db"), key)
    scratch.hide_names(stored.names_hidden)
    try:
        ours = Follower(app, stored)
        theirs = Follower(app, scratch)
        difference: str | None = None
        compared = 0
        position = 0
        for _ in range(TRIES):
            ours.catch_up()
            position = ours.position()
            theirs.catch_up(until=position)
            difference, compared = _difference(stored, scratch, _view_names(scratch))
            if difference is None or ours.position() == position:
                break  # a difference while nobody folded meanwhile is a real one
        return ViewsVerdict(position, compared, time.perf_counter() - started, difference)
    finally:
        scratch.close()
        shutil.rmtree(folder, ignore_errors=True)
