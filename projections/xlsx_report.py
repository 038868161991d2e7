"""The overview report as an Excel workbook (openpyxl): one sheet per table a board or an
agency works from, each with filters, the protective marking and page numbers when printed."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from .inert import cells_as_text
from .office import changed_judgements, fixed_zip, labels_of, report_day
from .tracker_sheet import HEAD_FILL, write_tracker

Doc = dict[str, Any]


def xlsx_report(doc: Doc) -> bytes:
    """The report document as .xlsx bytes; the same document gives the same bytes."""
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Report"
    _cover(cover, doc)
    _area_counts(book.create_sheet("Area counts"), doc)
    agencies = (doc.get("analysis") or {}).get("agencies")
    if agencies is not None:
        _agency_grades(book.create_sheet("Agency grades"), doc, agencies)
    if (doc.get("coverage") or {}).get("cases"):
        _coverage(book.create_sheet("Sample"), doc)
    if doc.get("themes"):
        _themes(book.create_sheet("Themes"), doc["themes"])
    if doc.get("process"):
        _process(book.create_sheet("Process"), doc["process"])
    if doc.get("comparison"):
        _comparison(book.create_sheet("Re-audit"), doc["comparison"])
    _recommendations(book.create_sheet("Recommendations"), doc)
    tracker = book.create_sheet("Action tracker")
    write_tracker(tracker, doc.get("actions") or [])
    marking = doc.get("marking") or ""
    for ws in book.worksheets:
        _print_furniture(ws, marking)
    book.properties.created = book.properties.modified = report_day(doc)
    book.properties.title = f"{doc.get('title') or doc['programme']}: overview report"
    book.properties.subject = marking
    book.properties.creator = "audit-ledger"
    out = io.BytesIO()
    # openpyxl's save() dates the file 'now'; its writer keeps the report's own day.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(cells_as_text(book), archive).save()
    return fixed_zip(out.getvalue())


def _cover(ws: Worksheet, doc: Doc) -> None:
    marking = doc.get("marking") or ""
    ws["A1"] = marking
    ws["A1"].font = Font(bold=True, color="B3261E")
    ws["A2"] = doc.get("title") or doc["programme"]
    ws["A2"].font = Font(bold=True, size=14)
    rows = [("Report to", doc.get("board") or ""), ("Programme", doc["programme"]),
            ("Figures as they stood on" if doc.get("as_of") else "Figures as at",
             date.fromisoformat(doc["as_at"]) if doc.get("as_at") else ""),
            ("Cases audited", doc["cases"]), ("Protective marking", marking)]
    published = doc.get("published")
    if published:
        rows += [("Published version", published["version"]),
                 ("Published by", published["by"]), ("SHA-256", published["sha256"])]
    last = doc.get("last_published")
    if last:
        rows += [("Last published", f"version {last['version']}, {last['on_words']}"),
                 ("Changed since", "; ".join(last.get("changes") or []) or "nothing")]
    for r, (label, value) in enumerate(rows, start=4):
        ws.cell(r, 1, label).font = Font(bold=True)
        cell = ws.cell(r, 2, value)
        if isinstance(value, date):
            cell.number_format = "d mmmm yyyy"
        cell.alignment = Alignment(horizontal="left")
    ws.cell(len(rows) + 5, 1, "Each sheet holds one of the report's tables. Cases are named "
                              "only by pseudonymous references.")
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 60


def _area_counts(ws: Worksheet, doc: Doc) -> None:
    """Cases at each integrated grade, per area and overall (the chart's figures)."""
    labels = labels_of(doc)
    head = ["Area", "Title", *(f"{g} {label}" for g, label in labels.items()), "Graded"]
    rows: list[list[Any]] = [[a["number"], a["title"], *(a["counts"][g] for g in labels),
                              a["graded_cases"]] for a in doc["areas"]]
    overall = doc["overall"]
    rows.append(["Overall", "Overall judgement", *(overall["counts"][g] for g in labels),
                 overall["graded_cases"]])
    _table(ws, head, rows, widths=[8, 40])


def _agency_grades(ws: Worksheet, doc: Doc, agencies: list[Doc]) -> None:
    """Each agency's own grades before integration: over its areas, then over its overall."""
    labels = labels_of(doc)
    head = ["Agency", "Returns", *(f"Areas: {g} {label}" for g, label in labels.items()),
            *(f"Overall: {g} {label}" for g, label in labels.items())]
    rows = [[a["agency"], a["returns"], *(a["areas"][g] for g in labels),
             *(a["overall"][g] for g in labels)] for a in agencies]
    _table(ws, head, rows, widths=[22, 9])


def _coverage(ws: Worksheet, doc: Doc) -> None:
    """The sample's spread as the report shows it: small counts already suppressed."""
    rows = [[f["label"], r["value"], r["count"] if r.get("count") is not None else r["shown"]]
            for f in doc["coverage"]["fields"] for r in f["rows"]]
    _table(ws, ["Characteristic", "Value", "Cases"], rows, widths=[22, 30, 14])


def _themes(ws: Worksheet, themes: list[Doc]) -> None:
    """The author's themes across the areas, with how many cases bear each out."""
    rows = [[t["title"], ", ".join(str(a) for a in t["areas"]), t["cases_with_strengths"],
             t["cases_with_concerns"], t["cases"]] for t in themes]
    _table(ws, ["Theme", "Areas", "Cases with strengths", "Cases with concerns", "Cases"], rows,
           widths=[40, 12, 12, 12, 9])


def _process(ws: Worksheet, process: Doc) -> None:
    """How the audit went, one figure a row, then each judgement revised or moderated."""
    c, f, r = process["concerns"], process["feedback"], process["returns"]
    rows: list[list[Any]] = [
        ["Agency returns expected", r["expected"]], ["Agency returns received", r["received"]],
        *([["Returns due by", date.fromisoformat(r["due"])],
           ["Returns received after that", len(r["late"])],
           ["Most days late", max((x["days_late"] for x in r["late"]), default=0)]]
          if r.get("due") else []),
        ["Concerns referred to managers", c["raised"]],
        ["Concerns with a child possibly at risk", c["child_at_risk"]],
        ["Concerns acknowledged", c["acknowledged"]], ["Concerns closed", c["closed"]],
        ["Median hours to acknowledge a concern", c["median_hours_to_acknowledge"]],
        ["Longest hours to acknowledge a concern", c["longest_hours_to_acknowledge"]],
        *([f"Escalations to step {step}", n] for step, n in c["escalations_by_step"].items()),
        ["Practitioners given feedback", f["issued"]],
        ["Feedback acknowledged", f["acknowledged"]], ["Issues raised in feedback", f["issues"]],
        ["Issues answered", f["issues_answered"]],
        ["Agency grades revised", len(process["revisions"])],
        ["Judgements moderated", len(process["moderations"])]]
    _table(ws, ["What", "Figure"], rows, widths=[44, 14])
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(cell.value, date):
            cell.number_format = "d mmm yyyy"
    changes = changed_judgements(process)
    if changes:
        start = ws.max_row + 2
        for col, heading in enumerate(["Case", "Area", "Change", "By", "Reason", "On"], 1):
            ws.cell(start, col, heading).font = Font(bold=True)
        for i, row in enumerate(changes, start=start + 1):
            for col, value in enumerate(row, 1):
                ws.cell(i, col, value)


def _comparison(ws: Worksheet, comparison: Doc) -> None:
    """Cases then and now per area (matched by title), in counts, never percentages."""
    good, weakest = comparison["good_label"], comparison["weakest_label"]
    head = ["Area", "Baseline area", "Title", "Graded then", f"{good} then", f"{weakest} then",
            "Graded now", f"{good} now", f"{weakest} now"]
    rows = [[row["area"], row["baseline_area"] or None, row["title"],
             row["baseline"]["graded_cases"], row["baseline"]["good_or_better_cases"],
             row["baseline"]["weakest_cases"], row["reaudit"]["graded_cases"],
             row["reaudit"]["good_or_better_cases"], row["reaudit"]["weakest_cases"]]
            for row in comparison["areas"]]
    _table(ws, head, rows, widths=[8, 9, 40])
    for i, warning in enumerate(comparison.get("warnings") or [], start=ws.max_row + 2):
        ws.cell(i, 1, f"Note: {warning}")


def _recommendations(ws: Worksheet, doc: Doc) -> None:
    head = ["Number", "Recommendation", "Status", "Actions", "Open", "Overdue"]
    rows = [[r["number"], r.get("text") or "", r["status"], r["actions"], r["actions_open"],
             r["actions_overdue"]] for r in doc["recommendations"]]
    _table(ws, head, rows, widths=[9, 70, 18, 9, 9, 9])
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _table(ws: Worksheet, head: list[str], rows: list[list[Any]], widths: list[int]) -> None:
    """A head row (bold, frozen, with filters) over the rows."""
    ws.append(head)
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(row)
    for i in range(1, len(head) + 1):
        width = widths[i - 1] if i <= len(widths) else 14
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.auto_filter.ref = f"A1:{get_column_letter(len(head))}{max(len(rows), 1) + 1}"
    ws.freeze_panes = "B2"


def _print_furniture(ws: Worksheet, marking: str) -> None:
    """The marking centred at the head and foot of every printed page, and 'Page n of N'."""
    for part in (ws.oddHeader.center, ws.oddFooter.center):
        part.text = marking.replace("&", "&&")
        part.font = "Calibri,Bold"
    ws.oddFooter.right.text = "Page &P of &N"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if ws.title != "Report":
        ws.print_title_rows = "1:1"

