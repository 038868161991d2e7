"""The action tracker round trip: `action list --format xlsx` written by the console script and
checked with readers other than its writer (python-calamine, the workbook's XML); edited by a
script with openpyxl as owners would; `action import` records exactly the changed rows once,
each by its owner, and the same file again records nothing."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from audit_ledger.wiring import wire
from projections.office import RAG_FILLS  # the report's RAG colours, which the tracker shares

from .conftest import Templates, in_process, log_head, run_cli

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "northbrook-2026.json"
PID = "northbrook-2026"
TODAY = "2026-06-01"
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture
def example_url(templates: Templates, tmp_path: Path) -> str:
    """A fresh store holding the example audit: imported by the console script once a session,
    and copied for each test."""
    return templates.copy("northbrook-pack", lambda url: run_cli("import", str(EXAMPLE), url=url,
                                                                 check=True), tmp_path / "ledger.db")


def tracker(url: str, path: Path) -> Path:
    said = run_cli("action", "list", PID, "--format", "xlsx", "-o", str(path), "--today", TODAY,
                   url=url, check=True)
    assert said.stdout == f"wrote {path}: the action tracker of {PID}, 3 actions\n"
    return path


def actions(url: str) -> dict[str, dict[str, Any]]:
    """What `action list --format json` says (read in this process: the console script's
    listing is tested in test_cli and test_cli_facts)."""
    listed = in_process(url, "action", "list", PID, "--format", "json", "--today", TODAY)
    return {a["id"]: a for a in json.loads(listed)}


def edit(path: Path, out: Path, changes: dict[str, tuple[str, str]]) -> Path:
    """Owners' edits, made by a script: action id -> (status, note)."""
    book = load_workbook(path)
    ws = book["Action tracker"]
    for row in range(2, ws.max_row + 1):
        if ws[f"A{row}"].value in changes:
            ws[f"H{row}"], ws[f"I{row}"] = changes[str(ws[f"A{row}"].value)]
    book.save(out)
    return out


def test_the_tracker_as_written_read_by_other_readers(example_url: str, tmp_path: Path) -> None:
    path = tracker(example_url, tmp_path / "tracker.xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Action tracker").to_python()
    assert rows[0][:9] == ["Action", "Recommendation", "Description",
                           "How we will know it is done", "Owner", "Due", "Days overdue",
                           "Status", "Progress note"]
    planned = actions(example_url)
    assert [r[0] for r in rows[1:]] == list(planned)
    for r in rows[1:]:
        a = planned[str(r[0])]
        assert (r[2], r[4], r[7], r[8]) == (a["description"], a["owner"], "", "")
        assert r[5] == date.fromisoformat(a["due"])  # a date cell, not text
        assert (r[6] or 0) == a["overdue_days"]
    book = zipfile.ZipFile(path)
    sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    autofilter = sheet.find(f"{M}autoFilter")
    assert autofilter is not None and autofilter.get("ref") == "A1:I4"  # the visible columns
    protection = sheet.find(f"{M}sheetProtection")
    assert protection is not None and protection.get("sheet") in ("1", "true")
    assert protection.get("autoFilter") in ("0", "false")        # filtering stays allowed
    hidden = {c.get("min") for c in sheet.iter(f"{M}col") if c.get("hidden") in ("1", "true")}
    assert hidden == {"10", "11"}                                 # the values as written
    listed = [(v.get("sqref"), v.findtext(f"{M}formula1")) for v in sheet.iter(f"{M}dataValidation")]
    assert listed == [("H2:H4", '"red,amber,green,complete"')]
    styles = ElementTree.fromstring(book.read("xl/styles.xml"))
    fills = [f.find(f"{M}fill/{M}patternFill/{M}bgColor") for f in styles.iter(f"{M}dxf")]
    colours = [str(f.get("rgb"))[-6:] for f in fills if f is not None]
    rules = {r.findtext(f"{M}formula"): colours[int(str(r.get("dxfId")))]
             for c in sheet.iter(f"{M}conditionalFormatting") if c.get("sqref") == "H2:H4"
             for r in c.iter(f"{M}cfRule")}
    assert rules == {'"red"': RAG_FILLS["red"], '"amber"': RAG_FILLS["amber"],
                     '"green"': RAG_FILLS["green"], '"complete"': RAG_FILLS["green"]}


def test_owners_edits_are_recorded_once_each_by_its_owner(example_url: str,
                                                          tmp_path: Path) -> None:
    written = tracker(example_url, tmp_path / "tracker.xlsx")
    edited = edit(written, tmp_path / "edited.xlsx", {
        "A1.1": ("amber", "Two of the monthly audits done; the third is booked."),
        "A2.1": ("complete", "Template in use since August; ten records sampled."),
    })
    w = wire(example_url, "")
    try:
        head = log_head(w)
        first = run_cli("action", "import", PID, str(edited), "--by", "ql.osei", "--on",
                        "2026-06-02", url=example_url, check=True)
        assert first.stdout == ("recorded 2 updates from the tracker, each by its owner: "
                                "A1.1, A2.1\n")
        assert log_head(w) == head + 2
        again = run_cli("action", "import", PID, str(edited), "--by", "ql.osei",
                        url=example_url, check=True)
        assert again.stdout.startswith("nothing to record")
        assert log_head(w) == head + 2
    finally:
        w.close()
    now = actions(example_url)
    assert now["A1.1"]["progress"] == [{"rag": "amber", "by": "sc.ali", "on": "2026-06-02",
                                        "note": "Two of the monthly audits done; the third is "
                                                "booked."}]
    assert now["A2.1"]["completed"] and now["A2.1"]["evidence"].startswith("Template in use")
    assert now["A1.2"]["progress"] == [] and not now["A1.2"]["completed"]
    # The owner's own copy, written afresh, shows what was recorded: nothing to change.
    fresh = tracker(example_url, tmp_path / "fresh.xlsx")
    unchanged = run_cli("action", "import", PID, str(fresh), "--by", "sc.ali", url=example_url,
                        check=True)
    assert unchanged.stdout.startswith("nothing to record")


def test_a_row_changed_by_someone_who_may_not_is_refused_naming_it(example_url: str,
                                                                   tmp_path: Path) -> None:
    written = tracker(example_url, tmp_path / "tracker.xlsx")
    edited = edit(written, tmp_path / "edited.xlsx", {
        "A1.1": ("green", "Audits done."),             # sc.ali's: may
        "A1.2": ("red", "No briefing yet."),           # pol.bell's: sc.ali may not
    })
    w = wire(example_url, "")
    try:
        head = log_head(w)
        refused = run_cli("action", "import", PID, str(edited), "--by", "sc.ali",
                          url=example_url)
        assert log_head(w) == head                     # all of the file, or nothing
    finally:
        w.close()
    assert refused.returncode == 2
    assert refused.stderr == ("error: row 3 (action A1.2): changed, but action A1.2 is owned by "
                              "pol.bell; only they or a quality lead may update it\n")
    mine = edit(written, tmp_path / "mine.xlsx", {"A1.1": ("green", "Audits done.")})
    done = run_cli("action", "import", PID, str(mine), "--by", "sc.ali", url=example_url,
                   check=True)
    assert done.stdout.endswith("each by its owner: A1.1\n")


def test_a_stale_or_wrong_row_is_refused_with_every_problem(example_url: str,
                                                           tmp_path: Path) -> None:
    written = tracker(example_url, tmp_path / "tracker.xlsx")
    run_cli("action", "update", PID, "A1.1", "--rag", "red", "--note", "Not started.", "--by",
            "sc.ali", url=example_url, check=True)
    edited = edit(written, tmp_path / "edited.xlsx", {
        "A1.1": ("amber", "Started."),                  # updated in the ledger since
        "A1.2": ("purple", "Briefings booked."),        # not a status
        "A2.1": ("green", ""),                          # no note
    })
    refused = run_cli("action", "import", PID, str(edited), "--by", "ql.osei", url=example_url)
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("error: row 2 (action A1.1): updated in the ledger since this "
                               "tracker was written (now red)")
    assert lines[1] == ("error: row 3 (action A1.2): status 'purple' is not allowed; choose one "
                        "of red, amber, green, complete")
    assert lines[2] == "error: row 4 (action A2.1): write a progress note saying what was done"
    assert len(lines) == 3
    assert [p["rag"] for p in actions(example_url)["A1.1"]["progress"]] == ["red"]


def test_a_note_holding_an_identifier_is_refused_unless_a_quality_lead_allows_it(
        example_url: str, tmp_path: Path) -> None:
    written = tracker(example_url, tmp_path / "tracker.xlsx")
    edited = edit(written, tmp_path / "edited.xlsx", {
        "A1.1": ("amber", "Audit sample included the family at NB1 2AB."),
    })
    refused = run_cli("action", "import", PID, str(edited), "--by", "sc.ali", url=example_url)
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert lines[0].startswith("error: row 2 (action A1.1): progress note: holds what looks like "
                               "a postcode") and "NB1 2AB" not in refused.stderr
    assert "--allow-identifiers REASON" in lines[-1]
    not_a_lead = run_cli("action", "import", PID, str(edited), "--by", "sc.ali",
                         "--allow-identifiers", "Needed for the audit trail.", url=example_url)
    assert not_a_lead.returncode == 2 and "only a quality lead may allow" in not_a_lead.stderr
    w = wire(example_url, "")
    try:
        head = log_head(w)
        allowed = run_cli("action", "import", PID, str(edited), "--by", "ql.osei",
                          "--allow-identifiers", "The sample's address is the audit's subject.",
                          url=example_url, check=True)
        assert allowed.stdout.endswith("each by its owner: A1.1\n")
        assert log_head(w) == head + 2  # the progress, and the quality lead's override beside it
    finally:
        w.close()
    assert actions(example_url)["A1.1"]["progress"][0]["by"] == "sc.ali"


def test_a_workbook_that_is_not_the_tracker_is_refused_in_one_line(example_url: str,
                                                                  tmp_path: Path) -> None:
    report = tmp_path / "report.xlsx"
    run_cli("report", PID, "--format", "xlsx", "-o", str(report), url=example_url, check=True)
    refused = run_cli("action", "import", PID, str(report), "--by", "ql.osei", url=example_url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: sheet Action tracker: not the tracker owners update")
    assert refused.stderr.count("\n") == 1 and "action list PROGRAMME --format xlsx" in \
        refused.stderr
    torn = tmp_path / "torn.xlsx"
    torn.write_bytes(report.read_bytes()[:1000])
    damaged = run_cli("action", "import", PID, str(torn), "--by", "ql.osei", url=example_url)
    assert damaged.returncode == 2 and damaged.stderr.startswith(
        "error: not a workbook this command can read")
