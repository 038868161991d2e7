"""The action tracker as a worksheet: one row per action, RAG in colour, filters on, dates as
dates. The overview report's workbook and `action list --format xlsx` both write it here."""

from __future__ import annotations

from datetime import date
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .office import RAG_FILLS, RAG_INK

Doc = dict[str, Any]

TRACKER_COLUMNS = (("Action", "id", 9), ("Recommendation", "recommendation", 9),
                   ("What will be done", "description", 48), ("How we will know", "measure", 36),
                   ("Owner", "owner", 16), ("Due", "due", 13), ("RAG", "rag", 8),
                   ("Status", "status", 20), ("Completed on", "completed_on", 13),
                   ("Days overdue", "overdue_days", 9), ("Latest update", "latest", 40))
"""(heading, field of the action, width): the tracker's columns, in order."""

DATE_FORMAT = "d mmm yyyy"
HEAD_FILL = PatternFill("solid", fgColor="F3F4F6")


def write_tracker(ws: Worksheet, actions: list[Doc], first_row: int = 1) -> None:
    """The actions as a filterable table from `first_row`, head row frozen, RAG coloured (and
    chosen from a list when someone edits it)."""
    for col, (heading, _, width) in enumerate(TRACKER_COLUMNS, start=1):
        cell = ws.cell(first_row, col, heading)
        cell.font, cell.fill = Font(bold=True), HEAD_FILL
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, action in enumerate(actions, start=first_row + 1):
        for col, (_, field, _) in enumerate(TRACKER_COLUMNS, start=1):
            cell = ws.cell(r, col, _value(action, field))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
        rag = str(action.get("rag") or "")
        if rag in RAG_FILLS:
            cell = ws.cell(r, _column("rag"))
            cell.fill = PatternFill("solid", fgColor=RAG_FILLS[rag])
            cell.font = Font(bold=True, color=RAG_INK[rag])
    last = first_row + max(len(actions), 1)
    ref = f"A{first_row}:{get_column_letter(len(TRACKER_COLUMNS))}{last}"
    ws.auto_filter.ref = ref
    ws.freeze_panes = ws.cell(first_row + 1, 2)
    choose = DataValidation(type="list", formula1='"red,amber,green"', allow_blank=True,
                            error="RAG is red, amber or green", errorTitle="RAG")
    ws.add_data_validation(choose)
    rag_column = get_column_letter(_column("rag"))
    choose.add(f"{rag_column}{first_row + 1}:{rag_column}{last}")


def _column(field: str) -> int:
    return next(i for i, (_, f, _) in enumerate(TRACKER_COLUMNS, start=1) if f == field)


def _value(action: Doc, field: str) -> Any:
    if field == "latest":
        progress = action.get("progress") or []
        if not progress:
            return None
        p = progress[-1]
        return f"{_day_words(p['on'])}: {p.get('note') or p.get('rag') or ''}".rstrip(": ")
    value = action.get(field)
    if field in ("due", "completed_on") and value:
        return date.fromisoformat(str(value)[:10])
    if field == "overdue_days":
        return value or 0
    return value if value not in (None, "") else None


def _day_words(iso: str) -> str:
    d = date.fromisoformat(str(iso)[:10])
    return f"{d.day} {d:%B %Y}"
