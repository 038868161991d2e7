"""`report`: the overview report (`report PROGRAMME`), the author writing it (`report write`,
`report theme`), and a quality lead publishing a version (`report publish`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from .group import Refused
from .reading_commands import report as show
from .shared import ALLOW, BY, ON, act, day


class ReportGroup(click.Group):
    """`report PROGRAMME ...` reads the report; `report write|theme|publish ...` acts on it."""

    default_command = "show"
    """The command a first word that names no command is the argument of."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


@click.group(cls=ReportGroup)
def report() -> None:
    """The overview report: `report PROGRAMME` shows it; write, theme and publish act on it."""


report.add_command(show, "show")


def _comment(text: str) -> dict[str, str]:
    """'C03:5:concern' or 'C03:5:concern:social-care' as a tagged comment."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise Refused([f"--comment: {text!r} is not CASE:AREA:KIND[:AGENCY] "
                       "(e.g. C03:5:concern:social-care; KIND is strength or concern)"])
    out = dict(zip(("case", "area", "kind", "agency"), parts, strict=False))
    return out


@report.command("write")
@click.argument("programme")
@click.option("--author", default=None, help="the report's author, as the report names them")
@click.option("--role", default="", help="the author's role (with --author)")
@click.option("--area", "areas", nargs=2, multiple=True, metavar="N TEXT",
              help="the author's summary of area N (repeat for more areas)")
@click.option("--key-finding", "key_findings", multiple=True,
              help="a key finding (repeat for each; together they replace the ones written)")
@click.option("--conclusions", default=None, help="the conclusions (paragraphs: blank lines)")
@ALLOW
@BY
@ON
@click.pass_context
def write(ctx: click.Context, programme: str, author: str | None, role: str,
          areas: tuple[tuple[str, str], ...], key_findings: tuple[str, ...],
          conclusions: str | None, by: str, occurred_on: datetime | None) -> None:
    """Write parts of the report: its author, area summaries, key findings, conclusions."""
    from ledger.report_commands import WriteReport

    if role and not author:
        raise Refused(["--role: give the --author it belongs to"])
    act(ctx, WriteReport, "write_report", programme=programme,
        author={"name": author, "role": role} if author else None, areas=dict(areas),
        key_findings=list(key_findings) or None, conclusions=conclusions, by=by,
        occurred_on=day(occurred_on))


@report.command("theme")
@click.argument("programme")
@click.argument("theme")
@click.option("--title", required=True, help="the theme as the report heads it")
@click.option("--text", default="", help="what the author says of it")
@click.option("--comment", "comments", multiple=True, metavar="CASE:AREA:KIND[:AGENCY]",
              help="an auditor's comment that bears the theme out (repeat for each)")
@ALLOW
@BY
@ON
@click.pass_context
def theme(ctx: click.Context, programme: str, theme: str, title: str, text: str,
          comments: tuple[str, ...], by: str, occurred_on: datetime | None) -> None:
    """Write a theme across the areas, tagging the comments that bear it out."""
    from ledger.report_commands import WriteReport

    tagged: list[dict[str, Any]] = [_comment(c) for c in comments]
    act(ctx, WriteReport, "write_report", programme=programme,
        themes=[{"id": theme, "title": title, "text": text, "comments": tagged}], by=by,
        occurred_on=day(occurred_on))


@report.command("publish")
@click.argument("programme")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="count only what had happened by this day (default: the day published)")
@click.option("--marking", default="OFFICIAL-SENSITIVE", show_default=True,
              help="the protective marking on every page")
@click.option("--suppress", type=click.IntRange(min=0), default=5, show_default=True,
              help="show demographic counts below this as 'fewer than N' (0: show all)")
@click.option("--publishable", is_flag=True,
              help="leave out verbatim comments and case references")
@BY
@ON
@click.pass_context
def publish(ctx: click.Context, programme: str, as_of: datetime | None, marking: str,
            suppress: int, publishable: bool, by: str, occurred_on: datetime | None) -> None:
    """Publish a version of the report: frozen, numbered, fingerprinted (quality leads)."""
    from datetime import date

    from ledger.report_commands import PublishReport
    from projections.publishing import prepare
    from projections.report_document import Options

    from .shared import wiring

    on = day(occurred_on) or date.today()
    counted = day(as_of) or on
    if counted > on:
        raise Refused([f"--as-of: {counted} is after the day it is published ({on})"])
    w = wiring(ctx)
    w.app.require("publish report", by, w.app.partnership_of(programme))  # before the log is read
    made = prepare(w.app, programme, Options(today=counted, suppress=suppress,
                                             publishable=publishable, marking=marking.strip(),
                                             as_of=True))
    act(ctx, PublishReport, "publish_report", programme=programme, as_of=counted,
        marking=marking, suppress=suppress, publishable=publishable, position=made.position,
        sha256=made.sha256, figures=made.figures, by=by, occurred_on=on)
