"""The overview report as a PDF: the HTML report laid out on A4 pages by WeasyPrint.

The PDF adds only what paper needs: the protective marking at the head and foot of every page,
page numbers, and a contents list with the page each section starts on. Every figure and
sentence is the HTML report's own, so the two can never disagree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape, unescape
from typing import Any

SYSTEM_LIBRARIES = ("Pango (libpango-1.0-0, libpangoft2-1.0-0), HarfBuzz (libharfbuzz0b, "
                    "libharfbuzz-subset0) and fontconfig (libfontconfig1)")
APT_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1"
"""What WeasyPrint loads from the system; .ci/run installs them and the README names them."""

_SECTION = re.compile(r'<section id="([^"]+)"[^>]*>\s*<h2[^>]*>(.*?)</h2>', re.S)
_TAG = re.compile(r"<[^>]+>")


class PdfUnavailable(OSError):
    """WeasyPrint cannot run here: the system libraries it loads are missing (said as any
    other failure of the machine is: one line, exit 1)."""


def pdf_report(page: str, marking: str) -> bytes:
    """The HTML report as PDF bytes; the same page and marking give the same bytes."""
    weasyprint = load_weasyprint()
    document = weasyprint.HTML(string=for_print(page, marking))
    with _fixed_font_dates():
        # Tagged (headings, lists, tables, reading order), as public bodies' documents must be
        # accessible; it costs about a tenth more time.
        return bytes(document.write_pdf(pdf_tags=True))


def load_weasyprint() -> Any:
    """WeasyPrint, which loads Pango through cffi as it is imported; asked for before the
    report is read, so a machine without the libraries is told so at once."""
    try:
        import weasyprint
    except OSError as missing:
        raise PdfUnavailable(
            f"PDF output needs the system libraries {SYSTEM_LIBRARIES}, which could not be "
            f"loaded ({_first_line(missing)}). On Debian or Ubuntu: apt-get install "
            f"{APT_PACKAGES}; the html format works without them") from None
    return weasyprint


@contextmanager
def _fixed_font_dates() -> Iterator[None]:
    """fontTools dates each font subset it embeds 'now' unless SOURCE_DATE_EPOCH names the
    moment; fixed, the same report gives the same bytes (a published version stays so)."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = before or "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]


def for_print(page: str, marking: str) -> str:
    """The page with its contents list and, last in its head so that it wins over the
    page's own rules, the print stylesheet (a user stylesheet would lose to them)."""
    page = with_contents(page)
    style = f"<style>{print_css(marking)}</style>\n"
    return page.replace("</head>", style + "</head>", 1) if "</head>" in page else style + page


def with_contents(page: str) -> str:
    """The page with a contents list of its numbered sections after the cover."""
    entries = [(anchor, " ".join(unescape(_TAG.sub("", title)).split()))
               for anchor, title in _SECTION.findall(page)]
    if not entries or "</header>" not in page:
        return page
    items = "".join(f'<li><a href="#{escape(anchor)}">{escape(title)}</a></li>\n'
                    for anchor, title in entries)
    nav = (f'<nav class="contents" aria-labelledby="contents-title">\n'
           f'<h2 id="contents-title">Contents</h2>\n<ol>\n{items}</ol>\n</nav>\n')
    head, tail = page.split("</header>", 1)
    return f"{head}</header>\n{nav}{tail}"


def print_css(marking: str) -> str:
    """Page furniture: the marking centred at the head and foot, 'Page n of N' at the foot,
    and the contents list's page numbers (WeasyPrint's target-counter)."""
    mark = css_string(marking)
    return f"""
@page {{
  size: A4; margin: 20mm 14mm 20mm;
  @top-center {{ content: {mark}; font: 700 9pt sans-serif; letter-spacing: .05em; }}
  @bottom-center {{ content: {mark}; font: 700 9pt sans-serif; letter-spacing: .05em; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif;
                   color: #57606a; }}
}}
/* Fixed table layout: WeasyPrint's automatic layout measures every cell's every break
   point, which made long tables slow to lay out; the widths below are the readable ones. */
table {{ table-layout: fixed; }}
td {{ overflow-wrap: break-word; }}
th {{ overflow-wrap: normal; }}
table.summary thead th:first-child {{ width: 32%; }}
table.coverage thead th:first-child {{ width: 22%; }}
table.agencies {{ font-size: 8.5pt; }}
table.agencies th, table.agencies td {{ padding: .2em .3em; }}
table.agencies thead th:first-child {{ width: 22%; }}
table.agencies thead th:nth-child(2) {{ width: 8%; }}
table.comparison thead th:first-child {{ width: 40%; }}
table.plan thead th:nth-child(1) {{ width: 9%; }}
table.plan thead th:nth-child(2) {{ width: 39%; }}
table.plan thead th:nth-child(3) {{ width: 7%; }}
table.plan thead th:nth-child(5) {{ width: 12%; }}
table.plan thead th:nth-child(6) {{ width: 9%; }}
table.plan td.desc {{ overflow-wrap: break-word; }}
p.marking {{ display: none; }}  /* the page's own marking lines: the margins carry it here */
nav.contents {{ margin: 1rem 0 0; }}
nav.contents h2 {{ border: none; margin-top: 1rem; }}
nav.contents ol {{ list-style: none; padding: 0; }}
nav.contents a {{ color: inherit; text-decoration: none; }}
nav.contents a::after {{ content: leader(".") target-counter(attr(href), page); }}
"""


def css_string(text: str) -> str:
    """Any text as a quoted CSS string: quotes, backslashes, line ends and angle brackets
    escaped, so that it can neither end the string nor the <style> element it sits in."""
    out = []
    for ch in " ".join(text.split()):
        if ch in '"\\<>' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):06x} ")  # the space ends the escape and is not shown
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
