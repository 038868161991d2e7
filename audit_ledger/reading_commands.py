"""`report`, `case` and `history`: the overview report, a case's judgements, and how they were reached."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from policies.scales import OVERALL, area_title, scale_named
from projections.history import case_history
from projections.report import markdown_report

from .group import Refused
from .shared import FORMAT, TODAY, day, emit, wiring

FILES = ("pdf", "docx", "xlsx")
"""The report's file formats; each imports its library (WeasyPrint, python-docx, openpyxl)
only when asked for."""


@click.command()
@click.argument("programme")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", *FILES]), default="md",
              show_default=True, help="pdf, docx and xlsx are files: name one with -o")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write to this file instead of the terminal")
@click.option("--compare", "baseline", default=None, metavar="BASELINE",
              help="show how each area moved since this baseline programme")
@click.option("--suppress", type=click.IntRange(min=0), default=5, show_default=True,
              help="show demographic counts below this as 'fewer than N' (0: show all)")
@click.option("--publishable", is_flag=True,
              help="leave out verbatim comments and case references")
@TODAY
@click.pass_context
def report(ctx: click.Context, programme: str, fmt: str, output: Path | None,
           baseline: str | None, suppress: int, publishable: bool,
           today: datetime | None) -> None:
    """The overview report of a programme (optionally against its baseline audit)."""
    from projections.report_document import Options, report_document

    if fmt in FILES and output is None:
        raise Refused([f"--format {fmt} writes a file: name it with -o (e.g. -o report.{fmt})"])
    if fmt == "pdf":
        from projections.pdf import load_weasyprint

        load_weasyprint()  # a machine without Pango is told so before anything is read
    views = wiring(ctx).fresh_views()
    options = Options(today=day(today) or date.today(), suppress=suppress,
                      publishable=publishable, baseline=baseline or "")
    doc = report_document(views, programme, options)
    write_report(doc, fmt, output)


def write_report(doc: dict[str, Any], fmt: str, output: Path | None) -> None:
    """The report document in one format, to the terminal or a file."""
    if fmt in FILES:
        output.write_bytes(report_file(doc, fmt))  # type: ignore[union-attr]
        click.echo(f"wrote {output}")
        return
    text = render(doc, fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


def render(doc: dict[str, Any], fmt: str) -> str:
    """The report document as text (each format's libraries imported only for it)."""
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from projections.html import html_report  # matplotlib and jinja2, for this format only

        return html_report(doc)
    return markdown_report(doc)


def report_file(doc: dict[str, Any], fmt: str) -> bytes:
    """The report document as a PDF, Word or Excel file."""
    if fmt == "pdf":
        from projections.html import html_report
        from projections.pdf import pdf_report

        return pdf_report(html_report(doc), doc["marking"])
    if fmt == "docx":
        from projections.docx_report import docx_report

        return docx_report(doc)
    from projections.xlsx_report import xlsx_report

    return xlsx_report(doc)


def _judgement_line(area: str, j: dict[str, Any] | None, programme: dict[str, Any]) -> str:
    scale = scale_named(programme["scale"])
    name = area_title(area, programme["areas"])
    label = f"Area {area} {name}" if area != OVERALL else "Overall"
    if j is None:
        return f"{label}: not graded\n"
    who = ", ".join(f"{x['agency']} {x['grade']}" for x in j["contributions"])
    if j["moderation"]:
        m = j["moderation"]
        why = f"moderated by {m['by']} on {m['on']}: {m['reason']}; agencies: {who or 'none'}"
    else:
        why = f"{j['rule']} of {who}"
    return f"{label}: {j['grade']} {scale.label(j['grade'])} ({why})\n"


@click.command()
@click.argument("programme")
@click.argument("case")
@FORMAT
@click.pass_context
def case(ctx: click.Context, programme: str, case: str, fmt: str) -> None:
    """Consolidated judgements of one case, with the contributions and rule behind each."""
    views = wiring(ctx).fresh_views()
    data = views.judgements(programme, case)
    prog = views.programme(programme)

    def text(d: dict[str, Any]) -> str:
        out = f"Case {case} in {programme}\n"
        for area, j in d["areas"].items():
            out += _judgement_line(area, j, prog)
        return out + _judgement_line(OVERALL, d["overall"], prog)

    emit(data, fmt, text)


def _moment(as_of: str) -> datetime:
    try:
        moment = datetime.fromisoformat(as_of)
    except ValueError:
        raise Refused([f"--as-of: {as_of!r} is not an ISO-8601 date or time "
                       "(e.g. 2009-07-01 or 2009-07-01T12:00:00+00:00)"]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.argument("programme")
@click.argument("case")
@click.option("--area", default=None, help="only the events that shaped this area (2-8 or overall)")
@click.option("--as-of", "as_of", default=None, help="the state at this moment (ISO-8601)")
@FORMAT
@click.pass_context
def history(ctx: click.Context, programme: str, case: str, area: str | None,
            as_of: str | None, fmt: str) -> None:
    """Replay every event that shaped a case, with the judgement after each step."""
    moment = _moment(as_of) if as_of else None
    if area is not None and area != OVERALL and not area.isdigit():
        raise Refused([f"--area: {area!r} is not an area; use 2 to 8 or overall"])
    w = wiring(ctx)
    refs = [k["ref"] for k in w.fresh_views().concerns(programme) if k["case"] == case]
    data = case_history(w.app, programme, case, area, moment, refs)

    def text(d: dict[str, Any]) -> str:
        out = f"History of case {case} in {programme}" + (f", area {area}" if area else "") + \
            f" as of {d['as_of']}\n"
        for s in d["steps"]:
            detail = ", ".join(f"{k} {v}" for k, v in s.items() if k in
                               ("agency", "area", "grade", "previous", "reason"))
            after = s.get("judgement") or s.get("judgements")
            if isinstance(after, dict) and "grade" in after:
                after = after["grade"]
            out += (f"{s['position']:>3}. {s['recorded_at'][:19]} {s['event']} by {s['by']}"
                    f"{' (' + detail + ')' if detail else ''}"
                    f"{'; judgement now ' + json.dumps(after) if after else ''}\n")
        if not d["steps"]:
            out += "No events by then.\n"
        return out

    emit(data, fmt, text)
