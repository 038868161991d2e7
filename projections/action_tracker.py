"""The action tracker as an Excel workbook: the plan's actions, RAG-coloured and filterable, where
each owner sets the status and writes a progress note (`action import` brings them back). The
sheet itself is written by `projections.tracker_sheet`, beside the report's tracker."""

from __future__ import annotations

from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ledger.action_tracker import HOW_TO

from .queries import Doc
from .tracker_sheet import write_update_tracker


def action_tracker(programme: Doc, actions: list[Doc], today: date) -> Workbook:
    """The tracker, then a sheet saying how to update it."""
    book = Workbook()
    write_update_tracker(book.active, actions)
    how = book.create_sheet(HOW_TO)
    pid = programme["programme"]
    lines = [
        f"Action tracker: {programme.get('title') or pid}",
        f"Written on {today.strftime('%d %B %Y').lstrip('0')}; days overdue are counted to then.",
        "",
        "Each owner updates their own actions: set the status (red, amber or green; complete "
        "when it is done) and write a progress note saying what was done (for complete, what "
        "shows it is done). Only those two columns can be changed; filter by owner to find "
        "yours.",
        "Name no child or family member in a note, and write no NHS number, date of birth, "
        "address, postcode or phone number.",
        f"The tracker comes back with: audit-ledger action import {pid} FILE.xlsx --by PERSON. "
        "Each changed row is recorded as an update by the action's owner; a row changed by "
        "someone who is neither its owner nor a quality lead is refused, and the whole file "
        "with it. Rows left as they were record nothing, so importing the same file twice "
        "records nothing the second time.",
    ]
    for i, text in enumerate(lines, 1):
        cell = how.cell(i, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if i == 1:
            cell.font = Font(bold=True, size=14)
    how.column_dimensions["A"].width = 100
    how.protection.sheet = True
    return book
