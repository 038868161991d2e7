"""The returns template as a workbook (one sheet per case), read back into returns.

The layout is named here once: `projections.returns_template` writes it, this module reads it,
so the cell an auditor fills in is the cell the import reads.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .application import AuditLedger
from .importer import IMPORTER, ImportSummary
from .pack import PackProblems
from .returns_file import Problems, Row, import_return_rows

INSTRUCTIONS = "Instructions"
LISTS = "Lists"
"""The hidden sheet holding the drop-down lists."""
LABELS = {"programme": "Programme", "case": "Case", "agency": "Agency", "auditor": "Auditor",
          "practitioner": "Practitioner", "completed": "Completed on"}
"""Column A's labels of a case sheet's heading rows; column B holds the values."""
HEADING_ROWS = {"programme": 2, "case": 3, "agency": 4, "auditor": 5, "practitioner": 6,
                "completed": 7}
TABLE_HEADER_ROW = 9
FIRST_AREA_ROW = 10
COLUMNS = {"area": "A", "title": "B", "questions": "C", "grade": "D", "strengths": "E",
           "concerns": "F"}
COLUMN_TITLES = {"area": "Area", "title": "Area of practice", "questions": "Questions to ask",
                 "grade": "Grade", "strengths": "Strengths (what was done well)",
                 "concerns": "Concerns (what needs to change)"}
MAX_AREA_ROWS = 40


@dataclass
class WorkbookReturns:
    """What a filled-in template holds: its rows, the problems of its layout, the sheets left
    blank (cases the auditor did not return)."""

    rows: list[Row] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    blank: list[str] = field(default_factory=list)


def import_returns_workbook(app: AuditLedger, programme: str, data: bytes, by: str = IMPORTER,
                            allow_identifiers: str = "") -> tuple[ImportSummary, list[str]]:
    """A filled-in template imported whole or not at all, every problem named by its sheet and
    cell; and the case sheets left blank, which are not returns."""
    found = read_returns_workbook(data, programme)
    if not found.rows and not found.problems:
        raise PackProblems(["no case sheet of this workbook is filled in; fill in the auditor, "
                            "practitioner, completion date and grades of each case returned"])
    summary = import_return_rows(app, programme, found.rows, found.problems, by,
                                 allow_identifiers)
    return summary, found.blank


def read_returns_workbook(data: bytes, programme: str) -> WorkbookReturns:
    from openpyxl import load_workbook  # only the commands that read workbooks pay for it

    try:
        with warnings.catch_warnings():  # what it warns of (a date out of range) is named below
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file; none helps a person
        raise PackProblems(["not a workbook this command can read (damaged, or not saved as "
                            "one); save it from the spreadsheet as an Excel workbook (.xlsx)"]
                           ) from None
    out = WorkbookReturns()
    case_sheets = [ws for ws in book.worksheets if _text(ws["A3"].value) == LABELS["case"]]
    if not case_sheets:
        raise PackProblems(["this workbook holds no case sheet of a returns template; write "
                            "one with: audit-ledger template returns PROGRAMME --agency A -o FILE"])
    for number, ws in enumerate(book.worksheets):
        if ws in case_sheets:
            _read_case_sheet(ws, number, programme, out)
    return out


def _read_case_sheet(ws: Any, number: int, programme: str, out: WorkbookReturns) -> None:
    name = f"sheet {ws.title}"
    heading = {key: _text(ws[f"B{row}"].value) for key, row in HEADING_ROWS.items()}
    heading["completed"] = _day(ws[f"B{HEADING_ROWS['completed']}"].value)
    cells = {key: f"{name}, cell B{row}" for key, row in HEADING_ROWS.items()}
    for key, row in HEADING_ROWS.items():
        if _text(ws[f"A{row}"].value) != LABELS[key]:
            out.problems.add((number, row), f"{name}, cell A{row}: should read "
                                            f"{LABELS[key]!r}; the template's layout was changed "
                                            "(write a fresh template)")
            return
    if heading["programme"] != programme:
        out.problems.add((number, 0), f"{cells['programme']}: this sheet is for programme "
                                      f"{heading['programme']!r}, not {programme}")
        return
    rows = []
    for r in range(FIRST_AREA_ROW, FIRST_AREA_ROW + MAX_AREA_ROWS):
        area = _text(ws[f"{COLUMNS['area']}{r}"].value).lower()
        if not area:
            break
        values = {"case": heading["case"], "agency": heading["agency"], "area": area,
                  "auditor": heading["auditor"], "practitioner": heading["practitioner"],
                  "completed": heading["completed"]}
        for column in ("grade", "strengths", "concerns"):
            values[column] = _text(ws[f"{COLUMNS[column]}{r}"].value)
        if area == "1":
            values["grade"] = ""  # the template's locked "no grade" cell
        row_cells = {**cells, **{c: f"{name}, cell {COLUMNS[c]}{r}"
                                 for c in ("area", "grade", "strengths", "concerns")}}
        rows.append(Row((number, r), f"{name}, row {r}", values, row_cells))
    filled = any(heading[k] for k in ("auditor", "practitioner", "completed")) or any(
        row.values[c] for row in rows for c in ("grade", "strengths", "concerns"))
    if not filled:
        out.blank.append(ws.title)
        return
    out.rows += rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _day(value: Any) -> str:
    """A date cell as YYYY-MM-DD; typed text as typed (read as a date, or named, later)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _text(value)
