"""The action tracker as a worksheet: one row per action, RAG in colour, filters on, dates as
dates. The overview report's workbook writes the tracker to read (`write_tracker`);
`action list --format xlsx` writes the one owners update and `action import` reads back
(`write_update_tracker`, in the layout `ledger.action_tracker` names)."""

from __future__ import annotations

from datetime import date
from typing import Any

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ledger.action_tracker import COLUMNS, EDITABLE, HEADER_ROW, HIDDEN, SHEET, STATUSES, TITLES
from ledger.action_tracker import status_of as _status_of

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


UPDATE_WIDTHS = {"action": 9, "recommendation": 15, "description": 48, "measure": 36,
                 "owner": 16, "due": 13, "overdue": 9, "status": 12, "note": 56}
STATUS_FILLS = {**RAG_FILLS, "complete": RAG_FILLS["green"]}
STATUS_INK = {**RAG_INK, "complete": RAG_INK["green"]}
OPEN_FILL = PatternFill("solid", fgColor="FFF9E5")


def tracker_note(action: Doc) -> str:
    """The note an owner sees and edits: the evidence once complete, else the latest progress
    note (as `ledger.actions.Action.tracker_note` has it, so that an unchanged row compares
    equal on import)."""
    if action["completed"]:
        return str(action["evidence"])
    return str(action["progress"][-1]["note"]) if action["progress"] else ""


def write_update_tracker(ws: Worksheet, actions: list[Doc]) -> None:
    """The tracker owners update: the same table, where only each action's status (red,
    amber, green or complete, coloured as it reads) and progress note can be changed, and
    hidden columns keep both as written."""
    ws.title = SHEET
    for key, column in COLUMNS.items():
        cell = ws[f"{column}{HEADER_ROW}"]
        cell.value, cell.font, cell.fill = TITLES[key], Font(bold=True), HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row, a in enumerate(actions, HEADER_ROW + 1):
        status, note = _status_of(a["rag"], a["completed"]), tracker_note(a)
        values = {"action": a["id"], "recommendation": a["recommendation"],
                  "description": a["description"], "measure": a["measure"], "owner": a["owner"],
                  "due": _value(a, "due"), "overdue": a["overdue_days"] or None,
                  "status": status or None, "note": note or None,
                  "written status": status or None, "written note": note or None}
        for key, column in COLUMNS.items():
            cell = ws[f"{column}{row}"]
            cell.value = values[key]
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if key in EDITABLE:
                cell.protection, cell.fill = Protection(locked=False), OPEN_FILL
        ws[f"{COLUMNS['due']}{row}"].number_format = DATE_FORMAT
        ws.row_dimensions[row].height = _height(values)
    ws.row_dimensions[HEADER_ROW].height = _height(TITLES)
    last = HEADER_ROW + max(len(actions), 1)
    status_cells = f"{COLUMNS['status']}{HEADER_ROW + 1}:{COLUMNS['status']}{last}"
    choose = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"',
                            allow_blank=True, showErrorMessage=True, errorTitle="Status",
                            error="Choose red, amber or green, or complete when it is done.")
    choose.add(status_cells)
    ws.add_data_validation(choose)
    for status, colour in STATUS_FILLS.items():  # the colour follows what the owner chooses
        ws.conditional_formatting.add(status_cells, CellIsRule(
            operator="equal", formula=[f'"{status}"'], fill=PatternFill("solid", bgColor=colour),
            font=Font(bold=True, color=STATUS_INK[status])))
    overdue = f"{COLUMNS['overdue']}{HEADER_ROW + 1}:{COLUMNS['overdue']}{last}"
    ws.conditional_formatting.add(overdue, CellIsRule(
        operator="greaterThan", formula=["0"], font=Font(bold=True, color=RAG_FILLS["red"])))
    for key, width in UPDATE_WIDTHS.items():
        ws.column_dimensions[COLUMNS[key]].width = width
    for key in HIDDEN:
        ws.column_dimensions[COLUMNS[key]].hidden = True
    ws.auto_filter.ref = f"A{HEADER_ROW}:{COLUMNS['note']}{last}"
    ws.freeze_panes = f"B{HEADER_ROW + 1}"
    ws.page_setup.orientation = "landscape"  # printed: one page wide
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.protection.sheet = True
    ws.protection.autoFilter = False  # owners may filter (by owner, status, days overdue)
    ws.protection.formatRows = False


def _height(values: dict[str, Any]) -> float:
    """A row as tall as its longest wrapped text (spreadsheets do not always grow a row on
    opening): about one line per column width of characters, 15 points a line."""
    lines = max((-(-len(str(v)) // UPDATE_WIDTHS[k]) for k, v in values.items()
                 if k in UPDATE_WIDTHS and v), default=1)
    return 15.0 * max(lines, 1)
