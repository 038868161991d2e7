"""`report`, `case` and `history`: the overview report, a case's judgements, and how they were reached."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from policies.scales import OVERALL, area_title, scale_named
from projections.inert import for_terminal

from .group import Refused
from .shared import FORMAT, TODAY, day, emit, reading, wiring

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
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="the report as printed on that day: only what had happened by then")
@click.option("--published", type=click.IntRange(min=1), default=None, metavar="N",
              help="published version N, exactly as it was published")
@TODAY
@click.pass_context
def report(ctx: click.Context, programme: str, fmt: str, output: Path | None,
           baseline: str | None, suppress: int, publishable: bool, as_of: datetime | None,
           published: int | None, today: datetime | None) -> None:
    """The overview report of a programme (optionally against its baseline audit)."""
    from projections.report_document import Options, report_document

    if as_of and today:
        raise Refused(["--as-of and --today: give one (--as-of counts overdue days against "
                       "its own day)"])
    if published and (as_of or today or baseline or publishable or suppress != 5):
        raise Refused(["--published N shows the version as it was published: leave out "
                       "--as-of, --today, --compare, --suppress and --publishable"])
    if fmt in FILES and output is None:
        raise Refused([f"--format {fmt} writes a file: name it with -o (e.g. -o report.{fmt})"])
    if fmt == "pdf":
        from projections.pdf import load_weasyprint

        load_weasyprint()  # a machine without Pango is told so before anything is read
    w = wiring(ctx)
    views = w.fresh_views()
    if published:
        from projections.publishing import reproduce

        doc, now = reproduce(w.app, views, programme, published)
        if now != doc["published"]["sha256"]:
            click.echo(f"warning: version {published} reads differently now (SHA-256 {now}, "
                       f"published as {doc['published']['sha256']}): a case's text was "
                       "erased since, or this release lays the report out differently from "
                       "the one that published it", err=True)
        write_report(doc, fmt, output)
        return
    if as_of:
        from projections.replay import views_as_of

        views = views_as_of(w.app, as_of.date())
    options = Options(today=day(as_of or today) or date.today(), suppress=suppress,
                      publishable=publishable, baseline=baseline or "", as_of=bool(as_of))
    doc = report_document(views, programme, options)
    write_report(doc, fmt, output)


def write_report(doc: dict[str, Any], fmt: str, output: Path | None) -> None:
    """The report document in one format, to the terminal or a file."""
    if fmt in FILES:
        output.write_bytes(report_file(doc, fmt))  # type: ignore[union-attr]
        click.echo(f"wrote {output}")
        return
    text = for_terminal(render(doc, fmt))  # people's text, to a terminal or a file
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
    from projections.report import markdown_report

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
    views = reading(ctx).fresh_views()  # the views alone: no command handlers imported
    data = views.judgements(programme, case)
    prog = views.programme(programme)

    def text(d: dict[str, Any]) -> str:
        out = f"Case {case} in {programme}\n"
        for area, j in d["areas"].items():
            out += _judgement_line(area, j, prog)
        return out + _judgement_line(OVERALL, d["overall"], prog)

    emit(data, fmt, text)


def _plain_day(as_of: str | None) -> date | None:
    """A plain date (YYYY-MM-DD) asks what had happened in the world by that day."""
    if not as_of or len(as_of) != 10:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        return None


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
@click.option("--as-of", "as_of", default=None,
              help="a day (YYYY-MM-DD): what had happened in the world by then; a moment "
                   "(ISO-8601 with a time): what had been recorded by then")
@FORMAT
@click.pass_context
def history(ctx: click.Context, programme: str, case: str, area: str | None,
            as_of: str | None, fmt: str) -> None:
    """Replay every event that shaped a case, with the judgement after each step."""
    plain_day = _plain_day(as_of)
    moment = _moment(as_of) if as_of and not plain_day else None
    if area is not None and area != OVERALL and not area.isdigit():
        raise Refused([f"--area: {area!r} is not an area; use 2 to 8 or overall"])
    from projections.history import case_history
    from projections.wording import long_date

    w = wiring(ctx)
    refs = [k["ref"] for k in w.fresh_views().concerns(programme) if k["case"] == case]
    data = case_history(w.app, programme, case, area, moment, refs, plain_day)

    def text(d: dict[str, Any]) -> str:
        from projections.queries import partnership_of
        from projections.story import area_words, moment_words, told_plainly  # people only

        prog = w.views.programme(programme)
        people = {p["person"]: p.get("name") or p["person"]
                  for p in w.views.people(partnership_of(prog))}  # the programme's own
        out = f"History of case {case} in {programme}" + (
            f", {area_words(area, prog)}" if area else "") + (
            f" as of {long_date(plain_day)}: what had happened in the world by that day, "
            "whenever it was recorded\n" if plain_day else
            f" as it stood on {moment_words(d['as_of'])}\n")
        for s in d["steps"]:
            out += (f"{s['position']:>3}. "
                    f"{told_plainly(s, prog, lambda p: people.get(p, p), area)}\n")
        if not d["steps"]:
            out += "No events by then.\n"
        return out

    emit(data, fmt, text)
