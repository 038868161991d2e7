"""The overview report as one self-contained, printable HTML page with an inline SVG chart.

The figures and sentences come from the Markdown report's own functions, so the two
reports can never disagree; this module only lays them out.
"""

from __future__ import annotations

import io
import re
import textwrap
from typing import Any

import matplotlib
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from policies.scales import Scale, scale_named

from .process import correction_lines, process_sentences
from .report import moved, theme_count
from .wording import date_said, words

Doc = dict[str, Any]

_ENV = Environment(loader=PackageLoader("projections", "templates"),
                   autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=True)
_ENV.filters["said"] = date_said


def html_report(doc: Doc) -> str:
    """The report document as HTML; the same document gives the same bytes."""
    return _ENV.get_template("report.html.j2").render(**html_context(doc))


def html_context(doc: Doc) -> Doc:
    """What the template lays out: the document, with its chart and text blocks."""
    scale = scale_named(doc["scale"]["id"])
    rows = _chart_rows(doc)
    return {
        "doc": doc, "pid": doc["programme"], "scale": scale, "data": doc,
        "cases_words": words(doc["cases"]).capitalize(),
        "terms": _blocks(doc["terms_of_reference"]), "criteria": doc["sample_criteria"],
        "method": _blocks(doc["method"]), "grades": doc["scale"]["grades"],
        "chart": chart_svg(rows, scale) if any(r["graded"] for r in rows) else None,
        "chart_rows": rows, "colours": grade_colours(scale),
        "process": process_sentences(doc["process"]),
        "corrections": correction_lines(doc["process"]),
        "labels": {str(g["grade"]): g["label"] for g in doc["scale"]["grades"]},
        "moved": moved, "authored": _blocks, "theme_count": theme_count,
    }


# ---- text ------------------------------------------------------------------------


def _blocks(text: str) -> list[Doc]:
    """Paragraphs and '- ' lists of programme text, so lists in it stay lists."""
    out: list[Doc] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            out.append({"kind": "break"})
        elif line.startswith("- "):
            if not out or out[-1]["kind"] != "list":
                out.append({"kind": "list", "items": []})
            out[-1]["items"].append(line[2:])
        elif out and out[-1]["kind"] == "para":
            out[-1]["text"] += " " + line
        else:
            out.append({"kind": "para", "text": line})
    return [b for b in out if b["kind"] != "break"]


# ---- chart -----------------------------------------------------------------------


def _chart_rows(data: Doc) -> list[Doc]:
    """One bar per graded area, then overall: the chart's data, also shown as a table."""
    rows = [{"key": f"area-{a['number']}", "label": f"Area {a['number']}: {a['title']}",
             "counts": a["counts"], "graded": a["graded_cases"]} for a in data["areas"]]
    overall = data["overall"]
    return rows + [{"key": "overall", "label": "Overall", "counts": overall["counts"],
                    "graded": overall["graded_cases"]}]


def grade_colours(scale: Scale) -> dict[str, str]:
    """Green for the strongest grade through amber to red for the weakest."""
    cmap = matplotlib.colormaps["RdYlGn_r"]
    n = len(scale.grades)
    return {str(g): to_hex(cmap(0.08 + 0.84 * i / max(n - 1, 1)))
            for i, g in enumerate(scale.grades)}


def chart_svg(rows: list[Doc], scale: Scale) -> Markup:
    """Stacked horizontal bars of the grades per area, as inline, accessible SVG."""
    # A fixed salt (and no date, below): the same data gives the same bytes. Text stays text
    # (readable, searchable) and a '$' in a title is never taken for mathematics.
    with matplotlib.rc_context({"svg.hashsalt": "audit-ledger-report", "svg.fonttype": "none",
                                "text.parse_math": False, "font.size": 9}):
        fig = _chart_figure(rows, scale)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return Markup(_inline_svg(buf.getvalue(), rows, scale))


def chart_png(rows: list[Doc], scale: Scale) -> bytes:
    """The same chart as a PNG picture, for documents that cannot hold SVG (Word)."""
    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9}):
        fig = _chart_figure(rows, scale)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
    return buf.getvalue()


def _chart_figure(rows: list[Doc], scale: Scale) -> Figure:
    colours = grade_colours(scale)
    fig = Figure(figsize=(7.0, 1.1 + 0.36 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    most = max([r["graded"] for r in rows] + [1])
    for y, row in enumerate(rows):
        _draw_bar(ax, y, row, colours, most)
    ax.set_yticks(range(len(rows)),
                  [textwrap.shorten(r["label"], 48, placeholder="…") for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first area on top, even if some bars are empty
    ax.set_xlim(0, most)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("cases")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [Patch(facecolor=colours[str(g)], label=f"{g} {scale.label(g)}")
               for g in scale.grades]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
               frameon=False, fontsize=8)
    return fig


def _draw_bar(ax: Any, y: int, row: Doc, colours: dict[str, str], most: int) -> None:
    """One area as one artist (one <g> in the SVG), each grade a segment with its count."""
    left, spans, faces = 0, [], []
    for grade, n in row["counts"].items():
        if n:
            spans.append((left, n))
            faces.append(colours[grade])
            if n / most >= 0.03:
                ax.text(left + n / 2, y, str(n), ha="center", va="center", fontsize=8,
                        color=_ink(colours[grade]))
            left += n
    ax.broken_barh(spans, (y - 0.35, 0.7), facecolors=faces, edgecolor="white",
                   linewidth=0.8, gid=f"bar-{row['key']}")


def _ink(colour: str) -> str:
    """Black or white text, whichever reads on the segment's colour."""
    r, g, b = to_rgb(colour)
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "#ffffff"


def _inline_svg(svg: str, rows: list[Doc], scale: Scale) -> str:
    """Matplotlib's file made fit for inline HTML: no prolog or metadata, scalable, titled."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    head_end = svg.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    title = "Grade distribution per area of analysis"
    head += (f' role="img" aria-labelledby="chart-title chart-desc" class="chart-svg">'
             f'<title id="chart-title">{title}</title>'
             f'<desc id="chart-desc">{escape(_chart_description(rows, scale))}</desc>')
    svg = head + svg[head_end + 1:]
    for row in rows:
        gid = f'<g id="bar-{row["key"]}">'
        svg = svg.replace(gid, f"{gid}<title>{escape(_row_summary(row, scale))}</title>", 1)
    return svg.rstrip() + "\n"


def _row_summary(row: Doc, scale: Scale) -> str:
    parts = ", ".join(f"{scale.label(int(g))} {n}" for g, n in row["counts"].items())
    return f"{row['label']}: {parts} (of {row['graded']} graded)"


def _chart_description(rows: list[Doc], scale: Scale) -> str:
    return "Cases per grade. " + "; ".join(_row_summary(r, scale) for r in rows) + "."
