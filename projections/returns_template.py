"""The returns template an agency's auditor fills in: a workbook with a sheet per case.

Drop-down lists hold exactly what the programme allows in each cell (an area's grades, the
overall grades, the agency's auditors and practitioners from the directory); the structure is
protected so that only the cells to fill in can be changed. `ledger.returns_workbook` names
the layout and reads the filled-in workbook back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from ledger.returns_workbook import (
    COLUMN_TITLES,
    COLUMNS,
    FIRST_AREA_ROW,
    HEADING_ROWS,
    INSTRUCTIONS,
    LABELS,
    LISTS,
    TABLE_HEADER_ROW,
)
from policies.audit_tool import questions_for
from policies.scales import OVERALL, UNGRADED_AREAS, area_title, scale_named

from .queries import Doc, Views, partnership_of

INPUT = PatternFill("solid", fgColor="FFF9E5")
LOCKED_OUT = PatternFill("solid", fgColor="D9D9D9")
HEADER = PatternFill("solid", fgColor="DCE6F1")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
OPEN = Protection(locked=False)


@dataclass(frozen=True)
class TemplateContents:
    """What one agency's template offers: its cases, and who may be named on them."""

    programme: Doc
    agency: str
    cases: list[str]
    returned: list[str]
    auditors: list[str]
    practitioners: list[str]


class TemplateRefused(ValueError):
    """No template can be written (each line says why and what to do)."""


def template_contents(views: Views, pid: str, agency: str) -> TemplateContents:
    programme = views.programme(pid)
    cases = [c for c in views.cases(pid) if agency in c["agencies"]]
    if not cases:
        agencies = sorted({a for c in views.cases(pid) for a in c["agencies"]})
        raise TemplateRefused(f"--agency: no case of {pid} involves {agency!r}; agencies "
                              f"involved: {', '.join(agencies) or 'none (no cases yet)'}")
    people = views.people(partnership_of(programme))  # the programme's partnership's only
    auditors = [p["person"] for p in people if "auditor" in p["roles"] and p["agency"] == agency]
    if not auditors:  # an agency may be audited by another's auditors
        auditors = [p["person"] for p in people if "auditor" in p["roles"]]
    practitioners = [p["person"] for p in people
                     if "practitioner" in p["roles"] and p["agency"] == agency]
    returned = [c["case"] for c in cases if agency in c["returns"]]
    return TemplateContents(programme, agency, [c["case"] for c in cases if c["case"] not in
                                                returned], returned, auditors, practitioners)


def returns_template(contents: TemplateContents) -> Workbook:
    """The workbook: instructions first, then a sheet per case, then the hidden lists."""
    book = Workbook()
    programme = contents.programme
    scale = scale_named(programme["scale"])
    areas: dict[str, str] = programme["areas"]
    area_grades = [f"{g} {scale.label(g)}" for g in scale.area_grades()]
    overall_grades = [f"{g} {scale.label(g)}" for g in scale.allowed_grades(OVERALL)]
    lists = _lists_sheet(book, area_grades, overall_grades, contents)
    _instructions(book.active, contents, scale.describe(), area_grades, scale.rule_words())
    for ref in contents.cases:
        ws = book.create_sheet(ref)
        _case_sheet(ws, contents, ref, areas, lists)
    book.move_sheet(LISTS, offset=len(book.sheetnames))
    book.security = WorkbookProtection(lockStructure=True)
    return book


def _lists_sheet(book: Workbook, area_grades: list[str], overall_grades: list[str],
                 contents: TemplateContents) -> dict[str, str]:
    """The hidden sheet of drop-down lists; each list's range as a validation formula."""
    ws = book.create_sheet(LISTS)
    ranges = {}
    for column, (name, items) in enumerate([
            ("area grades", area_grades), ("overall grades", overall_grades),
            ("auditors", contents.auditors), ("practitioners", contents.practitioners)], 1):
        letter = "ABCD"[column - 1]
        ws.cell(1, column, name).font = BOLD
        for i, item in enumerate(items, 2):
            ws.cell(i, column, item)
        last = max(len(items) + 1, 2)
        ranges[name] = f"{LISTS}!${letter}$2:${letter}${last}"
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ranges


def _instructions(ws: Any, contents: TemplateContents, scale: str, area_grades: list[str],
                  rule: str) -> None:
    ws.title = INSTRUCTIONS
    programme = contents.programme
    title = programme.get("title") or programme["programme"]
    lines = [
        (f"Audit returns: {title}", True),
        (f"Programme {programme['programme']}, for the auditor of {contents.agency}.", False),
        ("", False),
        ("How to fill it in", True),
        ("There is a sheet for each case this agency is involved in, named by the case's "
         "reference. Fill in the yellow cells only; the rest is protected.", False),
        ("Choose the auditor and the practitioner from the lists (their directory ids), and "
         "type the day the return was completed as a date (for example 12/03/2026). A return "
         "without its completion date is refused.", False),
        (f"Grade each area from its list: {', '.join(area_grades)}. Area 1 (case details) "
         f"takes no grade. {rule}", False),
        (f"The grading scale: {scale}.", False),
        ("Write strengths (what was done well) and concerns (what needs to change) in the boxes "
         "beside each area. Name no child or family member, and write no NHS number, date of "
         "birth, address, postcode or phone number: the case reference is enough.", False),
        ("Leave a case's sheet blank if you are not returning it yet; it is passed over.", False),
        ("A concern about a child's safety now goes to the agency's manager at once, not in "
         "this workbook: if a child is at immediate risk, contact the front door (MASH) or "
         "emergency services.", False),
        ("", False),
        ("When it is done", True),
        ("Send the workbook to the partnership's quality lead, who imports it with "
         f"audit-ledger import-returns {programme['programme']} FILE.xlsx. The whole workbook "
         "is imported or none of it: every problem is listed at once, naming its sheet and "
         "cell, so that it can be put right in one go.", False),
    ]
    if contents.returned:
        lines += [("", False), ("Already returned", True),
                  (f"The returns of {contents.agency} for {', '.join(contents.returned)} are "
                   "already in the ledger, so they have no sheet here; a grade is changed with a "
                   "reason (audit-ledger grade revise).", False)]
    for i, (text, bold) in enumerate(lines, 1):
        cell = ws.cell(i, 1, text)
        cell.alignment = WRAP
        if bold:
            cell.font = Font(bold=True, size=14 if i == 1 else 12)
        # rows as tall as their wrapped text (spreadsheets do not always grow them on opening)
        ws.row_dimensions[i].height = 18 * max(1, -(-len(text) // 95))
    ws.column_dimensions["A"].width = 100
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.protection.sheet = True


def _case_sheet(ws: Any, contents: TemplateContents, ref: str, areas: dict[str, str],
                lists: dict[str, str]) -> None:
    programme = contents.programme
    ws["A1"] = f"Case {ref}: {contents.agency}'s return"
    ws["A1"].font = Font(bold=True, size=14)
    given = {"programme": programme["programme"], "case": ref, "agency": contents.agency}
    for key, row in HEADING_ROWS.items():
        ws[f"A{row}"] = LABELS[key]
        ws[f"A{row}"].font = BOLD
        cell = ws[f"B{row}"]
        if key in given:
            cell.value = given[key]
        else:
            cell.fill, cell.protection = INPUT, OPEN
    people = {"auditor": "auditors", "practitioner": "practitioners"}
    for key, listed in people.items():
        check = DataValidation(type="list", formula1=lists[listed], allow_blank=True,
                               showErrorMessage=True, errorTitle=f"Choose the {key}",
                               error=f"Choose the {key} from the list (a directory id).")
        check.add(f"B{HEADING_ROWS[key]}")
        ws.add_data_validation(check)
    opened = date.fromisoformat(programme["opened"]) if programme.get("opened") else date(2000, 1, 1)
    day = DataValidation(type="date", operator="greaterThanOrEqual",
                         formula1=f"DATE({opened.year},{opened.month},{opened.day})",
                         allow_blank=True, showErrorMessage=True, errorTitle="A date",
                         error=f"Type the day the return was completed, as a date on or after "
                               f"{opened.strftime('%d/%m/%Y')} (the programme opened then).",
                         showInputMessage=True, promptTitle="Completed on",
                         prompt="The day the return was completed, e.g. 12/03/2026.")
    day.add(f"B{HEADING_ROWS['completed']}")
    ws.add_data_validation(day)
    ws[f"B{HEADING_ROWS['completed']}"].number_format = "DD/MM/YYYY"
    for key, column in COLUMNS.items():
        cell = ws[f"{column}{TABLE_HEADER_ROW}"]
        cell.value, cell.font, cell.fill, cell.alignment = COLUMN_TITLES[key], BOLD, HEADER, WRAP
    checks = {name: DataValidation(type="list", formula1=lists[name], allow_blank=True,
                                   showErrorMessage=True, errorTitle="Choose a grade",
                                   error="Choose a grade from the list.")
              for name in ("area grades", "overall grades")}
    for check in checks.values():
        ws.add_data_validation(check)
    row = FIRST_AREA_ROW
    for area in [*areas, OVERALL]:
        title = area_title(area, areas) if area != OVERALL else "Overall judgement"
        ws[f"A{row}"] = int(area) if area.isdigit() else area
        ws[f"B{row}"] = title
        ws[f"C{row}"] = "\n".join(questions_for(area, title))
        grade = ws[f"D{row}"]
        if area in UNGRADED_AREAS:
            grade.value, grade.fill = "no grade", LOCKED_OUT
        else:
            grade.fill, grade.protection = INPUT, OPEN
            checks["overall grades" if area == OVERALL else "area grades"].add(f"D{row}")
        for column in ("E", "F"):
            ws[f"{column}{row}"].fill, ws[f"{column}{row}"].protection = INPUT, OPEN
        for column in "ABCDEF":
            ws[f"{column}{row}"].alignment = WRAP
        ws[f"A{row}"].alignment = Alignment(horizontal="left", vertical="top")
        ws.row_dimensions[row].height = 75
        row += 1
    for column, width in zip("ABCDEF", (14, 28, 48, 18, 48, 48), strict=True):
        ws.column_dimensions[column].width = width
    ws.page_setup.orientation = "landscape"  # printed: one page wide, as many long as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.freeze_panes = f"A{FIRST_AREA_ROW}"
    ws.protection.sheet = True
    ws.protection.formatRows = False  # rows may be made taller for long comments
    ws.protection.formatColumns = False
