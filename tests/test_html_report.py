"""The HTML overview report: its content through the console script, and its layout in a real
headless browser (Debian's chromium)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import struct
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from policies.scales import AREAS, scale_named
from projections.html import grade_colours
from projections.wording import long_date

from .conftest import demo_expected, run_cli

TODAY = "2010-03-15"
BROWSER_TIMEOUT = 60
NASTY = "<script>alert(1)</script>"


class Tables(HTMLParser):
    """Every table of a page as {caption: rows of cell texts}, so tests read what people read."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: list[str] | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._name = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows, self._name = [], ""
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self._name, self._caption = " ".join("".join(self._caption).split()), None
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self.tables[self._name] = self._rows

    def handle_data(self, data: str) -> None:
        for sink in (self._caption, self._cell):
            if sink is not None:
                sink.append(data)


def tables_of(page: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


def html_report(url: str, out: Path, programme: str = "lontown-2009") -> str:
    run_cli("report", programme, "--format", "html", "-o", str(out), "--today", TODAY,
            url=url, check=True)
    return out.read_text(encoding="utf-8")


def test_demo_report_as_html(store_url: str, tmp_path: Path) -> None:
    run_cli("demo", url=store_url, cwd=tmp_path, check=True)
    page = html_report(store_url, tmp_path / "report.html")
    expected = demo_expected()

    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert 'role="img"' in page and '<title id="chart-title">' in page
    bars = re.findall(r'<g id="bar-([a-z0-9-]+)">', page)
    assert bars == [f"area-{a}" for a in expected["areas"]] + ["overall"]

    tables = tables_of(page)
    summary = tables["Cases at each grade, per area"]
    assert summary[0][1:] == ["1 outstanding", "2 good", "3 adequate", "4 inadequate",
                              "Graded"]
    wanted = [*expected["areas"].values(), expected["overall"]]
    assert [row[1:-1] for row in summary[1:]] == [[str(n) for n in c.values()] for c in wanted]
    for area, counts in expected["areas"].items():
        table = tables[f"Area {area}: cases at each grade"]
        assert table[1] == [str(n) for n in counts.values()]
    assert tables["Overall: cases at each grade"][1] == [
        str(n) for n in expected["overall"].values()]
    plan = tables[f"SMART action plan as at {long_date(date.fromisoformat(TODAY))}"]
    assert len(plan) == 1 + expected["actions"]
    overdue = [row[0] for row in plan[1:] if row[-1].startswith("overdue by")]
    assert overdue == ["A1.1", "A1.2", "A4.1"]  # due before TODAY, none completed
    assert all(f'<tr id="action-{a}" class="overdue">' in page for a in overdue)
    assert "Overdue actions: A1.1, A4.1, A1.2." in page  # soonest due first

    assert "<script" not in page, "the report must be readable without scripts"
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|@import|url\(\s*['"]?http""",
                         page), "the report must not load anything from elsewhere"
    again = html_report(store_url, tmp_path / "again.html")
    assert again == page, "two renders of the same data must be identical"


def test_free_text_is_escaped(store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    mini_pack["programme"]["areas"] = {**AREAS, "2": "History <b>& involvement</b> $5 & $6"}
    mini_pack["returns"][0]["strengths"]["2"] = f"Clear chronology {NASTY} kept."
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=store_url, check=True)
    page = html_report(store_url, tmp_path / "mini.html", "mini-2026")

    assert "<script" not in page and "<b>" not in page
    assert f"Clear chronology {html.escape(NASTY, quote=False)} kept." in page
    assert "History &lt;b&gt;&amp; involvement&lt;/b&gt; $5 &amp; $6" in page
    assert "3 requires improvement to be good" in page  # the programme's scale, in the legend


# ---- in a real browser ---------------------------------------------------------------

PROBE = """<script>
(function () {
  function box(el) { var r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
            width: r.width, height: r.height}; }
  var svg = document.querySelector("figure.chart svg");
  var all = function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); };
  document.documentElement.setAttribute("data-layout", JSON.stringify({
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    body: box(document.body),
    svg: svg ? box(svg) : null,
    bars: all("svg g[id^='bar-']").map(function (g) { return box(g); }),
    chartTexts: all("svg text").map(function (t) { return box(t); }),
    tables: all("table").map(function (t) {
      return {box: box(t), overflow: t.scrollWidth - t.clientWidth}; })
  }));
})();
</script>
"""


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists(
        "/usr/bin/chromium") else None)
    if not found:
        if os.environ.get("AUDIT_LEDGER_TEST_BROWSER"):
            pytest.fail("chromium is required (AUDIT_LEDGER_TEST_BROWSER is set) but is not "
                        "installed: apt-get install chromium")
        pytest.skip("chromium is not installed: the layout checks need a real browser "
                    "(apt-get install chromium); set AUDIT_LEDGER_TEST_BROWSER=1 to make this a "
                    "failure, as CI does")
    return found


def run_browser(tmp_path: Path, name: str, *args: str, window: str = "1024,800") -> str:
    """One headless chromium call in a fresh profile, killed with its children if it hangs."""
    profile = tmp_path / f"profile-{name}"
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
           f"--window-size={window}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium {name} took longer than {BROWSER_TIMEOUT} s")
    assert proc.returncode == 0, f"chromium {name} exited {proc.returncode}: {err[-2000:]}"
    return out


@pytest.fixture
def demo_html(tmp_path: Path) -> Path:
    """The demo report; SQLite only, since the browser sees the same HTML from either store."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    run_cli("demo", url=url, cwd=tmp_path, check=True)
    path = tmp_path / "report.html"
    html_report(url, path)
    return path


def test_report_lays_out_in_a_browser(demo_html: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(demo_html.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    dom = run_browser(tmp_path, "dom", "--dump-dom", probe.as_uri())
    found = re.search(r'data-layout="([^"]*)"', dom)
    assert found, f"the layout probe did not run: {dom[:500]}"
    layout = json.loads(html.unescape(found.group(1)))

    body, svg = layout["body"], layout["svg"]
    assert layout["innerWidth"] == 1024
    assert layout["scrollWidth"] <= layout["innerWidth"], "the page scrolls sideways"
    assert svg and svg["width"] > 300 and svg["height"] > 150
    assert body["left"] <= svg["left"] and svg["right"] <= body["right"] + 0.5
    assert len(layout["bars"]) == 8 and all(b["width"] > 0 and b["height"] > 0
                                            for b in layout["bars"])
    for text in layout["chartTexts"]:
        assert svg["left"] - 0.5 <= text["left"] and text["right"] <= svg["right"] + 0.5
        assert svg["top"] - 0.5 <= text["top"] and text["bottom"] <= svg["bottom"] + 0.5
    for table in layout["tables"]:
        assert table["box"]["right"] <= body["right"] + 0.5, "a table is wider than the page"
        assert table["overflow"] <= 0, "a table's content spills out of it"


def test_report_screenshot_and_pdf(demo_html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"  # tall enough to take in the chart
    run_browser(tmp_path, "shot", f"--screenshot={shot}", demo_html.as_uri(), window="1024,2400")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1024, 2400)
    with Image.open(shot) as image:
        darkest, _ = image.convert("L").getextrema()
        pixels = {colour: n for n, colour in image.convert("RGB").getcolors(1 << 22) or []}
    assert isinstance(darkest, int) and darkest < 80, "no text was painted"
    painted = {g: pixels.get(tuple(round(v * 255) for v in to_rgb(c)), 0)
               for g, c in grade_colours(scale_named("ofsted-2009")).items()}
    assert all(painted[g] > 1000 for g in ("2", "3", "4")), f"chart not painted: {painted}"

    pdf = tmp_path / "report.pdf"
    run_browser(tmp_path, "pdf", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                demo_html.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 4, "sections should start new pages"
