"""The overview report as PDF, Word and Excel files, written by the console script and read
back with readers other than the writers (pypdf, python-docx, openpyxl)."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pypdf
import pytest

from policies.scales import AREAS
from projections.pdf import css_string, pdf_report

from .conftest import cli_env, demo_expected, demo_pack, run_cli

TODAY = "2010-03-15"
MARKING = "OFFICIAL-SENSITIVE"
AREA_TITLES = demo_pack()["programme"].get("areas") or AREAS


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo audit with one action given a red RAG rating, loaded once for this module
    (the renderers read views only, so one store kind is enough here)."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    run_cli("demo", url=url, cwd=folder, check=True)
    run_cli("action", "update", "lontown-2009", "A1.1", "--rag", "red", "--note",
            "Two teams still to meet", "--by", "tm.khan", "--on", "2010-02-10", url=url,
            check=True)
    return folder / "demo.db"


@pytest.fixture
def demo_url(demo_store: Path, tmp_path: Path) -> str:
    """A fresh copy of the demo store for each test (SQLite's own backup, WAL and all)."""
    copy = tmp_path / "demo.db"
    with closing(sqlite3.connect(demo_store)) as source, closing(sqlite3.connect(copy)) as to:
        source.backup(to)
    return f"sqlite:///{copy}"


def report_file(url: str, tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / f"report.{fmt}"
    done = run_cli("report", "lontown-2009", "--format", fmt, "-o", str(out), "--today", TODAY,
                   url=url, check=True)
    assert done.stdout == f"wrote {out}\n"
    return out


def document(url: str, *options: str) -> dict[str, Any]:
    """The report document the files lay out, as `--format json` prints it."""
    done = run_cli("report", "lontown-2009", "--format", "json", "--today", TODAY, *options,
                   url=url, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def flat(text: str) -> str:
    return " ".join(text.split())


def count_rows() -> list[tuple[str, list[int]]]:
    """Each area's label and its cases per grade then graded, overall last (the expectations)."""
    expected = demo_expected()
    rows = [(f"Area {a}: {AREA_TITLES[a]}", list(c.values()))
            for a, c in expected["areas"].items()]
    rows.append(("Overall", list(expected["overall"].values())))
    return [(label, [*counts, sum(counts)]) for label, counts in rows]


# ---- PDF ---------------------------------------------------------------------------------


def test_demo_report_as_pdf(demo_url: str, tmp_path: Path) -> None:
    pdf = pypdf.PdfReader(report_file(demo_url, tmp_path, "pdf"))
    pages = [flat(p.extract_text()) for p in pdf.pages]
    total = len(pages)
    root: Any = pdf.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root  # tagged, for readers
    assert root["/Lang"] == "en-GB"
    assert total > 5
    for number, text in enumerate(pages, start=1):
        assert text.count(MARKING) >= 2, f"page {number} lacks the marking at head and foot"
        assert f"Page {number} of {total}" in text

    contents = dict(re.findall(r"(\d\. [A-Z][a-z ]+?) \.{3,} ?(\d+)", pages[0]))
    assert list(contents) == ["1. Terms of reference", "2. Methodology",
                              "3. Overview of each of the areas of analysis", "4. Conclusions",
                              "5. Recommendations", "6. Action plan"]
    for title, page in contents.items():
        text = pages[int(page) - 1] if int(page) > 1 else pages[0].split(title, 1)[1]
        assert title in text, f"the contents list puts {title!r} on page {page}"

    whole = " ".join(pages)
    for label, figures in count_rows():
        assert f"{label} {' '.join(map(str, figures))}" in whole, label
    plan = pages[int(contents["6. Action plan"]) - 1:]
    assert sum(len(re.findall(r"\bA\d\.\d\b", p)) for p in plan) >= demo_expected()["actions"]
    assert "Overdue actions: A1.1, A4.1, A1.2." in whole
    assert "red" in pages[int(contents["6. Action plan"]) - 1]
    for rec in demo_pack()["recommendations"]:
        assert flat(rec["text"])[:60] in whole
    assert "Sample coverage" in whole and "fewer than 5" in whole  # small counts suppressed
    assert "How the audit was carried out" in whole and "Analysis by agency" in whole


def test_pdf_marking_is_text_whatever_it_holds_and_the_bytes_are_repeatable() -> None:
    marking = 'OFFICIAL "SENSITIVE" \\ PERSONAL'
    page = ("<!DOCTYPE html><html><body><header><h1>T</h1></header>"
            '<section id="one"><h2>1. One</h2><p>first</p></section>'
            '<section id="two" style="break-before: page"><h2>2. Two</h2><p>second</p>'
            "</section></body></html>")
    first = pdf_report(page, marking)
    assert pdf_report(page, marking) == first, "the same page must give the same bytes"
    pages = [flat(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(first)).pages]
    assert len(pages) == 2
    for number, text in enumerate(pages, start=1):
        assert text.count(marking) == 2 and f"Page {number} of 2" in text
    assert re.search(r"1\. One \.+ ?1 2\. Two \.+ ?2", pages[0])
    assert css_string('a"b\\c\nd') == '"a\\000022 b\\00005c c d"'
    assert "<" not in css_string("</style><p>") and ">" not in css_string("</style><p>")


def test_pdf_names_the_missing_system_libraries(tmp_path: Path) -> None:
    """Without Pango the command says which libraries to install, before reading anything,
    and writes nothing (exit 1)."""
    probe = ("import sys, cffi\n"
             "def missing(self, name, *a, **k):\n"
             "    raise OSError(f\"cannot load library '{name}': no such file\")\n"
             "cffi.FFI.dlopen = missing\n"
             "from audit_ledger.main import main\n"
             "main()\n")
    out = tmp_path / "r.pdf"
    done = subprocess.run([sys.executable, "-c", probe, "report", "lontown-2009", "--format",
                           "pdf", "-o", str(out)], env=cli_env(f"sqlite:///{tmp_path / 'none.db'}"),
                          capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and os.listdir(tmp_path) == []
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: PDF output needs the system libraries Pango")
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in line


# ---- Word ---------------------------------------------------------------------------------


def test_demo_report_as_word(demo_url: str, tmp_path: Path) -> None:
    path = report_file(demo_url, tmp_path, "docx")
    word = docx.Document(str(path))
    headings = [p.text for p in word.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings[:3] == ["1. Terms of reference", "2. Methodology",
                            "3. Overview of each of the areas of analysis"]
    assert {"4. Conclusions", "5. Recommendations", "6. Action plan"} <= set(headings)
    texts = [p.text for p in word.paragraphs]
    listed = texts.index("Contents") + 1
    assert texts[listed:listed + len(headings)] == headings  # the contents list, then the text
    assert 'TOC \\o "1-1"' in word.element.body.xml
    areas = [p.text for p in word.paragraphs if p.style is not None and p.style.name == "Heading 2"]
    assert [f"Area of analysis {a}: {t}" for a, t in AREA_TITLES.items() if a != "1"] == \
        areas[:len(AREA_TITLES) - 1]

    section = word.sections[0]
    assert section.header.paragraphs[0].text == MARKING
    assert section.footer.paragraphs[0].text == MARKING
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml

    tables = {t.rows[0].cells[0].text: t for t in word.tables}
    summary = [[c.text for c in row.cells] for row in tables["Area"].rows]
    assert summary[0] == ["Area", "1 outstanding", "2 good", "3 adequate", "4 inadequate",
                          "Graded"]
    assert [(r[0], [int(n) for n in r[1:]]) for r in summary[1:]] == count_rows()
    plan = tables["Action"]
    assert len(plan.rows) == 1 + demo_expected()["actions"]
    a11 = plan.rows[1]
    assert a11.cells[0].text == "A1.1" and a11.cells[5].text == "red"
    assert 'w:fill="B3261E"' in a11.cells[5]._tc.xml
    assert a11.cells[6].text == "overdue by 43 days"

    (picture,) = word.inline_shapes
    described = picture._inline.docPr.get("descr")
    assert described.startswith("Cases per grade. Area 2: History of involvement: outstanding 0, "
                                "good 3, adequate 5, inadequate 2 (of 10 graded)")
    blip = picture._inline.graphic.graphicData.pic.blipFill.blip.embed
    image = word.part.related_parts[blip]
    assert image.content_type == "image/png" and image.blob[:4] == b"\x89PNG"
    text = "\n".join(p.text for p in word.paragraphs)
    for rec in demo_pack()["recommendations"]:
        assert rec["text"] in text
    assert word.core_properties.subject == MARKING
    as_at = datetime(2010, 3, 15, tzinfo=UTC)  # the report's day, never when it was written
    assert word.core_properties.created == word.core_properties.modified == as_at

    assert {"How the audit was carried out", "Analysis by agency"} <= set(headings)
    doc = document(demo_url)
    agencies = [[c.text for c in row.cells] for row in tables["Agency"].rows[1:]]
    assert agencies == [[a["agency"], str(a["returns"]), *map(str, a["areas"].values()),
                         *map(str, a["overall"].values())] for a in doc["analysis"]["agencies"]]
    coverage = {row.cells[0].text: row.cells[1].text for row in tables["Characteristic"].rows}
    assert coverage["Ethnicity"].count("fewer than 5") == len(
        doc["coverage"]["fields"][3]["rows"])
    strength = doc["areas"][0]["strength_groups"][0]["text"]
    assert strength in text

    first = path.read_bytes()
    assert report_file(demo_url, tmp_path, "docx").read_bytes() == first, \
        "the same report must give the same bytes"
    out = tmp_path / "publishable.docx"
    run_cli("report", "lontown-2009", "--format", "docx", "-o", str(out), "--publishable",
            url=demo_url, check=True)
    assert "Appendix: the auditors' comments, area by area" in headings  # the author wrote
    assert "Case C03: overall adequate" in text
    published = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert strength not in published and "Case C03" not in published
    assert "A case: overall adequate" in published


# ---- Excel --------------------------------------------------------------------------------


def test_demo_report_as_excel(demo_url: str, tmp_path: Path) -> None:
    path = report_file(demo_url, tmp_path, "xlsx")
    book = openpyxl.load_workbook(path)
    assert {"Report", "Area counts", "Recommendations", "Action tracker"} <= set(book.sheetnames)
    for ws in book.worksheets:
        assert ws.oddHeader.center.text == MARKING and ws.oddFooter.center.text == MARKING
    assert book["Report"]["A1"].value == MARKING

    counts = book["Area counts"]
    rows = list(counts.iter_rows(values_only=True))
    assert rows[0] == ("Area", "Title", "1 outstanding", "2 good", "3 adequate",
                       "4 inadequate", "Graded")
    got = [(f"Area {r[0]}: {r[1]}" if r[0] != "Overall" else "Overall", list(r[2:]))
           for r in rows[1:]]
    assert got == count_rows()
    assert counts.auto_filter.ref == f"A1:G{len(rows)}"

    recs = list(book["Recommendations"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in recs] == [(r["number"], r["text"])
                                            for r in demo_pack()["recommendations"]]

    tracker = book["Action tracker"]
    head = [c.value for c in tracker[1]]
    assert head[:7] == ["Action", "Recommendation", "What will be done", "How we will know",
                        "Owner", "Due", "RAG"]
    actions = list(tracker.iter_rows(min_row=2, values_only=True))
    assert len(actions) == demo_expected()["actions"]
    assert tracker.auto_filter.ref == f"A1:K{len(actions) + 1}"
    a11 = dict(zip(head, actions[0], strict=True))
    assert a11["Action"] == "A1.1" and a11["RAG"] == "red" and a11["Days overdue"] == 43
    assert a11["Due"].date().isoformat() == "2010-01-31"
    assert a11["Latest update"] == "10 February 2010: Two teams still to meet"
    assert tracker["G2"].fill.fgColor.rgb.endswith("B3261E")
    assert tracker["G3"].value is None and tracker["G3"].fill.fill_type is None
    assert any("G2" in str(v.sqref) for v in tracker.data_validations.dataValidation)

    doc = document(demo_url)
    grades = list(book["Agency grades"].iter_rows(min_row=2, values_only=True))
    assert grades == [(a["agency"], a["returns"], *a["areas"].values(), *a["overall"].values())
                      for a in doc["analysis"]["agencies"]]
    process = {r[0]: r[1] for r in book["Process"].iter_rows(min_row=2, values_only=True)
               if r[0]}
    assert process["Concerns referred to managers"] == doc["process"]["concerns"]["raised"] == 6
    assert process["Concerns with a child possibly at risk"] == 3
    assert process["Agency returns received"] == doc["process"]["returns"]["received"]
    assert process["Returns due by"] == datetime(2009, 7, 31)
    assert process["Returns received after that"] == len(doc["process"]["returns"]["late"])
    sample = list(book["Sample"].iter_rows(min_row=2, values_only=True))
    shown = [(f["label"], r["value"], r["count"] if r["count"] is not None else r["shown"])
             for f in doc["coverage"]["fields"] for r in f["rows"]]
    assert sample == shown and ("Gender", "female", 5) in sample
    assert ("Ethnicity", "White British", "fewer than 5") in sample

    assert book.properties.created == book.properties.modified == datetime(2010, 3, 15)
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_the_comparison_with_a_baseline_in_word_and_excel(demo_url: str, tmp_path: Path) -> None:
    """--compare: the document's comparison, in counts, in both files (the demo against
    itself: every area matched by title, nothing moved)."""
    comparison = document(demo_url, "--compare", "lontown-2009")["comparison"]
    word_file, book_file = tmp_path / "c.docx", tmp_path / "c.xlsx"
    for out in (word_file, book_file):
        run_cli("report", "lontown-2009", "--format", out.suffix[1:], "-o", str(out),
                "--compare", "lontown-2009", "--today", TODAY, url=demo_url, check=True)
    word = docx.Document(str(word_file))
    (table,) = [t for t in word.tables if t.rows[0].cells[0].text == "Area"
                and len(t.rows[0].cells) == 3]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["Area", "Good or better", "Inadequate"]
    assert rows[1] == ["History of involvement", "3 of 10 -> 3 of 10", "2 of 10 -> 2 of 10"]
    assert len(rows) == 1 + len(comparison["areas"])
    sheet = openpyxl.load_workbook(book_file)["Re-audit"]
    got = list(sheet.iter_rows(min_row=2, max_row=1 + len(comparison["areas"]),
                               values_only=True))
    assert got == [(r["area"], r["baseline_area"] or None, r["title"],
                    r["baseline"]["graded_cases"], r["baseline"]["good_or_better_cases"],
                    r["baseline"]["weakest_cases"], r["reaudit"]["graded_cases"],
                    r["reaudit"]["good_or_better_cases"], r["reaudit"]["weakest_cases"])
                   for r in comparison["areas"]]


def test_a_published_version_is_the_same_file_after_later_events(demo_url: str,
                                                                  tmp_path: Path) -> None:
    """Version 1, published with its own marking, is written byte for byte again in each
    format after a later moderation, which the current report does show."""
    marking = "OFFICIAL"
    run_cli("report", "publish", "lontown-2009", "--by", "qa.bennett", "--as-of", TODAY,
            "--marking", marking, "--on", "2010-03-16", url=demo_url, check=True)
    before = {}
    for fmt in ("pdf", "docx", "xlsx"):
        out = tmp_path / f"v1.{fmt}"
        run_cli("report", "lontown-2009", "--published", "1", "--format", fmt, "-o", str(out),
                url=demo_url, check=True)
        before[fmt] = out.read_bytes()
    run_cli("grade", "moderate", "lontown-2009", "C01", "--area", "2", "--grade", "2",
            "--reason", "Agreed at the moderation meeting", "--by", "cpcm.reid",
            "--on", "2010-04-01", url=demo_url, check=True)
    for fmt in ("pdf", "docx", "xlsx"):
        out = tmp_path / f"again.{fmt}"
        run_cli("report", "lontown-2009", "--published", "1", "--format", fmt, "-o", str(out),
                url=demo_url, check=True)
        assert out.read_bytes() == before[fmt], f"version 1 as {fmt} changed"

    pages = [flat(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(before["pdf"])).pages]
    assert all(re.search(rf"(^|\s){marking}(\s|$)", p) for p in pages)
    assert not any(MARKING in p for p in pages)
    assert "Published version 1" in pages[0]
    word = docx.Document(io.BytesIO(before["docx"]))
    assert word.sections[0].header.paragraphs[0].text == marking
    book = openpyxl.load_workbook(io.BytesIO(before["xlsx"]))
    assert book["Report"]["A1"].value == marking
    assert all(ws.oddHeader.center.text == marking for ws in book.worksheets)

    now = openpyxl.load_workbook(report_file(demo_url, tmp_path, "xlsx"))
    counts = {r[0]: r[2:6] for r in now["Area counts"].iter_rows(min_row=2, values_only=True)}
    was = {r[0]: r[2:6] for r in book["Area counts"].iter_rows(min_row=2, values_only=True)}
    assert was[2] == (0, 3, 5, 2) and counts[2] != was[2]  # the moderation shows now only


# ---- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_file_formats_are_written_to_a_named_file(tmp_path: Path, fmt: str) -> None:
    """Refused before the store is opened: nothing is read or written."""
    demo_url = f"sqlite:///{tmp_path / 'never.db'}"
    done = run_cli("report", "lontown-2009", "--format", fmt, url=demo_url, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: --format {fmt} writes a file: name it with -o " \
                          f"(e.g. -o report.{fmt})\n"
    assert os.listdir(tmp_path) == []
