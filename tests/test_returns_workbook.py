"""The returns template: written by the console script, checked with readers other than its
writer (the workbook's XML, python-calamine), filled in by a script with openpyxl as an
auditor would, and imported; the same data as Excel's semicolon CSV; a broken workbook gets
every problem in one run and writes nothing."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from audit_ledger.wiring import wire

from .conftest import log_head, run_cli

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "northbrook-2026.json"
PID = "northbrook-2026"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
# The example's scale (ILACS) allows every grade in every area and overall.
GRADES = ["1 outstanding", "2 good", "3 requires improvement to be good", "4 inadequate"]
# What the police auditor returns for case N03, area by area: (grade, strengths, concerns).
POLICE_N03 = {
    "2": ("3 requires improvement to be good", "", "Earlier call-outs were not linked."),
    "3": ("2 good", "Referral made the same day.", ""),
    "4": ("3 requires improvement to be good", "", ""),
    "5": ("3 requires improvement to be good", "", ""),
    "6": ("2 good", "", ""),
    "7": ("3 requires improvement to be good", "", ""),
    "8": ("2 good", "", ""),
    "overall": ("3 requires improvement to be good", "", ""),
}


@pytest.fixture
def example_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    run_cli("import", str(EXAMPLE), url=url, check=True)
    return url


def template(url: str, agency: str, path: Path) -> Path:
    said = run_cli("template", "returns", PID, "--agency", agency, "-o", str(path), url=url,
                   check=True)
    assert said.stdout.startswith(f"wrote {path}: the returns template of {agency}")
    return path


def _sheet_xml(book: zipfile.ZipFile) -> dict[str, ElementTree.Element]:
    """Each sheet's XML by its name, found as Excel finds it (workbook.xml and its rels)."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for sheet in workbook.iterfind("m:sheets/m:sheet", NS):
        target = str(targets[sheet.get(f"{{{NS['r']}}}id")]).lstrip("/")
        path = target if target.startswith("xl/") else f"xl/{target}"
        out[str(sheet.get("name"))] = ElementTree.fromstring(book.read(path))
    return out


def test_the_template_offers_exactly_what_the_programme_allows(example_url: str,
                                                               tmp_path: Path) -> None:
    path = template(example_url, "police", tmp_path / "police.xlsx")
    book = zipfile.ZipFile(path)
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheets = [(s.get("name"), s.get("state")) for s in workbook.iterfind("m:sheets/m:sheet", NS)]
    # Instructions first; a sheet for each case police are involved in; the lists hidden; the
    # structure locked so that sheets cannot be added, renamed or unhidden.
    assert [(name, state or "visible") for name, state in sheets] == [
        ("Instructions", "visible"), ("N01", "visible"), ("N03", "visible"), ("Lists", "hidden")]
    assert _attribute(workbook.find("m:workbookProtection", NS), "lockStructure") in ("1", "true")
    xml = _sheet_xml(book)
    assert all(x.find("m:sheetProtection", NS) is not None for x in xml.values())

    # The lists, read by another reader: the scale's grades and the directory's people.
    lists = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Lists").to_python()
    columns = {row_0: [r[i] for r in lists[1:] if r[i] != ""]
               for i, row_0 in enumerate(lists[0])}
    assert columns["area grades"] == GRADES
    assert columns["overall grades"] == GRADES
    assert columns["auditors"] == ["pol.gray"] and columns["practitioners"] == ["pol.frye"]

    # Every drop-down of the case sheet, and where each list lives on the Lists sheet.
    case = xml["N03"]
    checks = {}
    for v in case.iterfind("m:dataValidations/m:dataValidation", NS):
        checks[str(v.get("sqref"))] = (v.get("type"), v.findtext("m:formula1", "", NS))
    column_of = {name: "ABCD"[i] for i, name in enumerate(lists[0])}

    def listed(name: str) -> tuple[str, str]:
        c = column_of[name]
        return ("list", f"Lists!${c}$2:${c}${len(columns[name]) + 1}")

    assert checks.pop("B5") == listed("auditors")
    assert checks.pop("B6") == listed("practitioners")
    assert checks.pop("B7") == ("date", "DATE(2026,3,2)")  # not before the programme opened
    assert checks.pop("D18") == listed("overall grades")
    area_cells = next(k for k in checks if "D11" in k.split())
    assert checks.pop(area_cells) == listed("area grades")
    # areas 2 to 8; area 1 (row 10) takes no grade, so it has no list
    assert sorted(area_cells.split()) == [f"D{r}" for r in range(11, 18)]
    assert checks == {}

    # Only the yellow cells are open: the auditor, practitioner, date and each area's boxes.
    styles = ElementTree.fromstring(book.read("xl/styles.xml"))
    unlocked = [_attribute(xf.find("m:protection", NS), "locked") in ("0", "false")
                for xf in styles.iterfind("m:cellXfs/m:xf", NS)]
    open_cells = {str(c.get("r")) for c in case.iter(f"{{{NS['m']}}}c")
                  if unlocked[int(c.get("s", "0"))]}
    assert open_cells == {"B5", "B6", "B7"} | {f"{col}{row}" for row in range(10, 19)
                                                for col in "EF"} | {f"D{r}" for r in range(11, 19)}
    # Each area with its title and questions, read by calamine.
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("N03").to_python()
    assert [r[0] for r in rows[9:18]] == [*range(1, 9), "overall"]
    assert rows[12][1] == "Assessment / Section 47 enquiry" and "seen alone" in str(rows[12][2])
    assert rows[9][3] == "no grade"


def _attribute(element: ElementTree.Element | None, name: str) -> str | None:
    return None if element is None else element.get(name)


def fill(path: Path, out: Path, *, auditor: str, practitioner: str, completed: date | None,
         areas: dict[str, tuple[str, str, str]], sheet: str = "N03") -> Path:
    """What an auditor does in Excel, done by a script."""
    book = load_workbook(path)
    ws = book[sheet]
    ws["B5"], ws["B6"] = auditor, practitioner
    if completed is not None:
        ws["B7"] = completed
    for row in range(10, 19):
        area = str(ws[f"A{row}"].value)
        if area in areas:
            grade, strengths, concerns = areas[area]
            ws[f"D{row}"] = grade or None
            ws[f"E{row}"] = strengths or None
            ws[f"F{row}"] = concerns or None
    book.save(out)
    return out


def judgements(url: str) -> dict[str, Any]:
    shown = json.loads(run_cli("case", PID, "N03", "--format", "json", url=url, check=True).stdout)
    return {a: [(c["agency"], c["grade"]) for c in j["contributions"]]
            for a, j in {**shown["areas"], "overall": shown["overall"]}.items()}


def test_a_template_filled_by_a_script_imports_and_so_does_the_same_as_excel_csv(
        example_url: str, tmp_path: Path) -> None:
    blank = template(example_url, "police", tmp_path / "police.xlsx")
    filled = fill(blank, tmp_path / "police-filled.xlsx", auditor="pol.gray",
                  practitioner="pol.frye", completed=date(2026, 3, 16), areas=POLICE_N03)
    first = run_cli("import-returns", PID, str(filled), "--by", "pol.gray", url=example_url, check=True)
    assert first.stdout.splitlines() == [
        "police-filled.xlsx: read as an Excel workbook",
        "left blank, so not imported: N01",
        f"imported into {PID}: 1 returns, 1 feedback issued (2 events)"]
    from_workbook = judgements(example_url)
    assert ("police", 2) in from_workbook["3"] and ("police", 3) in from_workbook["overall"]
    again = run_cli("import-returns", PID, str(filled), "--by", "pol.gray", url=example_url, check=True)
    assert again.stdout.splitlines()[-1].startswith("nothing to import")

    # The same return as Excel's "CSV" saves it here: Windows-1252, semicolons, day first.
    lines = ["case;agency;auditor;practitioner;completed;area;grade;strengths;concerns"]
    for area, (grade, strengths, concerns) in POLICE_N03.items():
        lines.append(f"N03;police;pol.gray;pol.frye;16/03/2026;{area};{grade};{strengths};"
                     f"{concerns}")
    csv_file = tmp_path / "police.csv"
    csv_file.write_bytes("\r\n".join(lines).encode("cp1252"))
    other = f"sqlite:///{tmp_path / 'other.db'}"
    run_cli("import", str(EXAMPLE), url=other, check=True)
    said = run_cli("import-returns", PID, str(csv_file), "--by", "pol.gray", url=other, check=True).stdout
    assert said.splitlines()[0] == "police.csv: read as UTF-8 text, values separated by semicolons"
    assert judgements(other) == from_workbook
    accented = tmp_path / "accented.csv"  # not UTF-8: read as Windows-1252
    accented.write_bytes("\r\n".join(lines).replace("the same day", "le même jour")
                         .replace("Referral made", "Référral made").encode("cp1252"))
    said = run_cli("import-returns", PID, str(accented), "--by", "pol.gray", url=other).stdout
    assert said.splitlines()[0] == ("accented.csv: read as Windows-1252 text, values separated "
                                    "by semicolons")


def test_a_broken_workbook_gets_five_messages_in_one_run_and_writes_nothing(
        example_url: str, tmp_path: Path) -> None:
    blank = template(example_url, "police", tmp_path / "police.xlsx")
    areas = dict(POLICE_N03)
    areas["2"] = ("7", "", "")                             # not on the scale
    areas["4"] = ("five", "", "")                          # not a grade
    areas["5"] = ("3 requires improvement to be good", "",
                  "Mother seen at home, NB1 2AB")          # a postcode in free text
    broken = fill(blank, tmp_path / "broken.xlsx", auditor="", practitioner="sch.cole",
                  completed=None, areas=areas)             # no auditor; another agency's
    w = wire(example_url, "")                               # practitioner; no date
    try:
        head = log_head(w)
        result = run_cli("import-returns", PID, str(broken), "--by", "pol.gray", url=example_url)
        assert log_head(w) == head
    finally:
        w.close()
    assert result.returncode == 2
    problems = result.stderr.splitlines()
    hint = [p for p in problems if "a quality lead may allow it" in p]  # how to let text through
    assert len(problems) == 6 + len(hint) and len(hint) == 1, problems
    expected = [
        r"sheet N03, cell B7 \(case N03, police\): no completion date",
        r"sheet N03, cell B5 \(case N03, police\): no auditor",
        r"sheet N03, cell B6 \(case N03, police\): practitioner: 'sch.cole' works for school",
        r"sheet N03, cell D11 \(case N03, police\): grade for area 2: grade 7 is not on the "
        r"ofsted-ilacs scale; allowed: 1, 2, 3, 4",
        r"sheet N03, cell D13: grade 'five' is not a whole number",
        r"sheet N03, cell F14 \(case N03, police\): concerns for area 5: holds what looks like "
        r"a postcode",
    ]
    for pattern in expected:
        assert any(re.search(pattern, p) for p in problems), (pattern, problems)
    assert not any(word in result.stderr for word in ("Traceback", "should", "Input"))


def test_blank_case_sheets_are_passed_over_and_a_workbook_of_none_is_refused(
        example_url: str, tmp_path: Path) -> None:
    blank = template(example_url, "school", tmp_path / "school.xlsx")
    refused = run_cli("import-returns", PID, str(blank), "--by", "pol.gray", url=example_url)
    assert refused.returncode == 2 and "no case sheet of this workbook is filled in" in \
        refused.stderr
    not_a_book = tmp_path / "torn.xlsx"
    not_a_book.write_bytes(blank.read_bytes()[:2000])
    torn = run_cli("import-returns", PID, str(not_a_book), "--by", "pol.gray", url=example_url)
    assert torn.returncode == 2 and "not a workbook this command can read" in torn.stderr
    assert "Traceback" not in torn.stderr


def test_template_refusals_say_what_to_do(example_url: str, tmp_path: Path) -> None:
    nope = run_cli("template", "returns", PID, "--agency", "fire", "-o",
                   str(tmp_path / "t.xlsx"), url=example_url)
    assert nope.returncode == 2 and nope.stderr == (
        f"error: --agency: no case of {PID} involves 'fire'; agencies involved: "
        "health-visiting, police, school, social-care\n")
    wrong = run_cli("template", "returns", PID, "--agency", "police", "-o",
                    str(tmp_path / "t.csv"), url=example_url)
    assert wrong.returncode == 2 and "should end in .xlsx" in wrong.stderr
    assert not (tmp_path / "t.xlsx").exists() and not (tmp_path / "t.csv").exists()


def test_the_template_is_read_back_by_calamine_as_written(example_url: str,
                                                         tmp_path: Path) -> None:
    """The filled workbook openpyxl saved is what a second reader sees too."""
    filled = fill(template(example_url, "police", tmp_path / "p.xlsx"), tmp_path / "f.xlsx",
                  auditor="pol.gray", practitioner="pol.frye", completed=date(2026, 3, 16),
                  areas=POLICE_N03)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(filled.read_bytes())) \
        .get_sheet_by_name("N03").to_python()
    assert rows[4][1] == "pol.gray" and rows[6][1] == date(2026, 3, 16)
    assert rows[11][3] == POLICE_N03["3"][0] and rows[11][4] == POLICE_N03["3"][1]


def test_on_the_2009_scale_outstanding_is_offered_for_the_overall_judgement_only(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    pack = dict(mini_pack, returns=[], programme={**mini_pack["programme"], "scale": "ofsted-2009"})
    (tmp_path / "mini.json").write_text(json.dumps(pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "mini.json"), url=url, check=True)
    path = tmp_path / "school.xlsx"
    run_cli("template", "returns", "mini-2026", "--agency", "school", "-o", str(path), url=url,
            check=True)
    lists = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Lists").to_python()
    columns = {head: [r[i] for r in lists[1:] if r[i] != ""] for i, head in enumerate(lists[0])}
    assert columns["area grades"] == ["2 good", "3 adequate", "4 inadequate"]
    assert columns["overall grades"] == ["1 outstanding", "2 good", "3 adequate", "4 inadequate"]
    instructions = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Instructions")
    said = " ".join(str(r[0]) for r in instructions.to_python())
    assert "1 (outstanding) is given to the overall judgement only" in said


def test_any_filled_in_template_is_imported_whole_or_refused_by_sheet_and_cell(
        tmp_path: Path) -> None:
    """Whatever an auditor types into the open cells (or a script writes past the lists):
    the workbook is imported whole, or refused with every problem named by its sheet and cell,
    and nothing is written."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ledger.importer import import_pack_data
    from ledger.pack import PackProblems
    from ledger.returns_workbook import import_returns_workbook
    from projections.returns_template import returns_template, template_contents

    w = wire(f"sqlite:///{tmp_path / 'ledger.db'}", "")
    import_pack_data(w.app, json.loads(EXAMPLE.read_text(encoding="utf-8")))
    blank = io.BytesIO()
    returns_template(template_contents(w.fresh_views(), PID, "police")).save(blank)
    junk = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)  # a cell can hold
    cell = st.one_of(st.none(), junk, st.integers(-3, 12), st.floats(allow_nan=False))
    grade = st.one_of(st.sampled_from(["1 outstanding", "2 good", "4 inadequate", "3"]), cell)
    day = st.one_of(st.dates(date(2025, 1, 1), date(2027, 1, 1)), st.sampled_from(
        ["16/03/2026", "2026-03-16", "31/02/2026"]), cell)
    person = st.one_of(st.sampled_from(["pol.gray", "pol.frye", "sch.cole"]), cell)
    sheet_fill = st.fixed_dictionaries({
        "B5": person, "B6": person, "B7": day,
        **{f"D{r}": grade for r in range(10, 19)},
        **{f"{c}{r}": st.one_of(st.none(), junk) for r in (11, 14, 18) for c in "EF"}})

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.fixed_dictionaries({"N01": sheet_fill, "N03": sheet_fill}))
    def check(filled: dict[str, dict[str, Any]]) -> None:
        book = load_workbook(io.BytesIO(blank.getvalue()))
        for sheet, cells in filled.items():
            for ref, value in cells.items():
                book[sheet][ref] = value
        out = io.BytesIO()
        book.save(out)
        head = log_head(w)
        try:
            summary, _ = import_returns_workbook(w.app, PID, out.getvalue(), "pol.gray")
        except PackProblems as e:
            assert e.problems and log_head(w) == head
            assert all(p.startswith("sheet N0") or p.startswith("no case sheet") or
                       "a quality lead may allow it" in p for p in e.problems), e.problems
            assert not any("should" in p or "Input" in p for p in e.problems), e.problems
        else:
            assert log_head(w) == head + summary.events

    try:
        check()
    finally:
        w.close()
