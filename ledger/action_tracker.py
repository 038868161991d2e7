"""The action tracker as a workbook: one row per action, whose owner edits its status and note.

The layout is named here once: `projections.action_tracker` writes it, this module reads it
back. Beside what the owner edits, each row keeps (in hidden columns) the status and note as
they were written, so that an update made in the ledger since is not undone by an old copy.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from .pack import PackProblems

SHEET = "Action tracker"
HOW_TO = "How to update"
STATUSES = ("red", "amber", "green", "complete")
"""What an owner may set: a RAG status, or complete (the note then says what shows it is done)."""
COLUMNS = {"action": "A", "recommendation": "B", "description": "C", "measure": "D",
           "owner": "E", "due": "F", "overdue": "G", "status": "H", "note": "I",
           "written status": "J", "written note": "K"}
TITLES = {"action": "Action", "recommendation": "Recommendation", "description": "Description",
          "measure": "How we will know it is done", "owner": "Owner", "due": "Due",
          "overdue": "Days overdue", "status": "Status", "note": "Progress note",
          "written status": "Status as written", "written note": "Note as written"}
EDITABLE = ("status", "note")
HIDDEN = ("written status", "written note")
HEADER_ROW = 1


def status_of(rag: str, completed: bool) -> str:
    return "complete" if completed else rag


@dataclass(frozen=True)
class TrackerRow:
    """One action's row as the file holds it."""

    row: int
    action: str
    owner: str
    status: str
    note: str
    written_status: str
    written_note: str

    @property
    def at(self) -> str:
        return f"row {self.row} (action {self.action})"


def read_tracker(data: bytes) -> list[TrackerRow]:
    """The tracker's rows, or PackProblems when this is not a tracker this command wrote."""
    from openpyxl import load_workbook  # only the commands that read workbooks pay for it

    try:
        with warnings.catch_warnings():  # what it warns of (a date out of range) is named below
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file; none helps a person
        raise PackProblems(["not a workbook this command can read (damaged, or not saved as "
                            "one); save it from the spreadsheet as an Excel workbook (.xlsx)"]
                           ) from None
    if SHEET not in book.sheetnames:
        raise PackProblems([f"this workbook has no sheet {SHEET!r}; write the tracker with: "
                            "audit-ledger action list PROGRAMME --format xlsx -o FILE.xlsx"])
    ws = book[SHEET]
    header = {key: _text(ws[f"{col}{HEADER_ROW}"].value) for key, col in COLUMNS.items()}
    moved = [f"{COLUMNS[k]}{HEADER_ROW} should read {TITLES[k]!r}"
             for k, v in header.items() if v != TITLES[k]]
    if moved:
        raise PackProblems([f"sheet {SHEET}: not the tracker owners update (cell "
                            f"{'; '.join(moved[:3])}{'; ...' if len(moved) > 3 else ''}); a "
                            "report's tracker is for reading. Write the one to update with: "
                            "audit-ledger action list PROGRAMME --format xlsx -o FILE.xlsx"])
    rows = []
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        cells = {key: _text(ws[f"{col}{r}"].value) for key, col in COLUMNS.items()}
        if not cells["action"]:
            continue
        rows.append(TrackerRow(r, cells["action"], cells["owner"], cells["status"].lower(),
                               cells["note"], cells["written status"], cells["written note"]))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
