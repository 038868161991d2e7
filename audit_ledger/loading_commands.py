"""`import`, `import-returns` and `demo`: whole audits and agency returns loaded from files."""

from __future__ import annotations

import json
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from ledger.importer import IMPORTER as IMPORTER_NAME
from ledger.importer import import_pack, import_pack_data
from ledger.pack import MAX_PACK_BYTES, PackProblems, parse_pack
from ledger.returns_csv import MAX_CSV_BYTES, decode_csv, import_returns
from projections.report import demo_overview

from .group import Refused
from .shared import TODAY, day, say, wiring

ALLOW_IN_FILE = click.option(
    "--allow-identifiers", default=None, metavar="REASON",
    help="a quality lead (--by) lets text holding what looks like an NHS number, postcode, "
         "date of birth... through, for this reason")
IMPORTER = click.option(
    "--by", default=None, metavar="PERSON",
    help="who is importing: an auditor or quality lead of the partnership's directory (the "
         "first pack into an empty directory needs none, or one of its own quality leads)")
DEMO_PACK = "lontown-2009.json"
DEMO_PROGRAMME = "lontown-2009"


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_PACK_BYTES:
        raise Refused([f"{path}: the file is larger than {MAX_PACK_BYTES // (1024 * 1024)} MB; "
                       "split the audit into smaller packs"])
    from ledger.pack_json import read_pack_json

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise Refused([f"{path}: not UTF-8 text"]) from None
    return read_pack_json(text, str(path))


@click.command("import")
@click.argument("pack_file", metavar="PACK.json",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@IMPORTER
@ALLOW_IN_FILE
@click.pass_context
def import_command(ctx: click.Context, pack_file: Path, by: str | None,
                   allow_identifiers: str | None) -> None:
    """Import a whole audit pack, all or nothing."""
    data = _read_json(pack_file)
    w = wiring(ctx)
    summary = import_pack_data(w.app, data, by or IMPORTER_NAME, allow_identifiers or "")
    w.follower.catch_up()
    say(summary.describe())


@click.command("import-returns")
@click.argument("programme")
@click.argument("returns_file", metavar="RETURNS.csv|RETURNS.xlsx",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@IMPORTER
@ALLOW_IN_FILE
@click.pass_context
def import_returns_command(ctx: click.Context, programme: str, returns_file: Path,
                           by: str | None,
                           allow_identifiers: str | None) -> None:
    """Import agency returns from a filled-in template (.xlsx) or a CSV file (UTF-8 or
    Windows-1252, commas or semicolons), all or nothing."""
    if returns_file.stat().st_size > MAX_CSV_BYTES:
        raise Refused([f"{returns_file}: the file is larger than "
                       f"{MAX_CSV_BYTES // (1024 * 1024)} MB"])
    data = returns_file.read_bytes()
    if data.startswith(b"PK\x03\x04"):  # a zip: a workbook, whatever its name
        from ledger.returns_workbook import import_returns_workbook

        click.echo(f"{returns_file.name}: read as an Excel workbook")
        w = wiring(ctx)
        summary, blank = import_returns_workbook(w.app, programme, data, by or IMPORTER_NAME,
                                                 allow_identifiers or "")
        if blank:
            click.echo(f"left blank, so not imported: {', '.join(blank)}")
    else:
        source = decode_csv(data)
        click.echo(f"{returns_file.name}: {source.describe()}")
        w = wiring(ctx)
        summary = import_returns(w.app, programme, source, by or IMPORTER_NAME,
                                 allow_identifiers or "")
    w.follower.catch_up()
    say(summary.describe())


@click.command()
@TODAY
@click.pass_context
def demo(ctx: click.Context, today: datetime | None) -> None:
    """Load the bundled Lontown 2009 audit (if absent) and print its overview."""
    w = wiring(ctx)
    data = json.loads(resources.files("ledger").joinpath("packs", DEMO_PACK)
                      .read_text(encoding="utf-8"))
    try:
        summary = import_pack(w.app, parse_pack(data), IMPORTER_NAME)
    except PackProblems as e:
        if not any(p.startswith("--by") for p in e.problems):
            raise
        raise Refused(["the demo audit loads only into a store whose directory is empty (or "
                       "already holds it); try it in a store of its own: "
                       "AUDIT_LEDGER_URL=sqlite:///demo.db audit-ledger demo"]) from None
    views = w.fresh_views()
    click.echo(summary.describe() if summary.changed else
               f"The demo audit {DEMO_PROGRAMME} is already in {w.settings.describe()}.")
    click.echo("")
    say(demo_overview(views, DEMO_PROGRAMME, day(today) or date.today()), nl=False)
    click.echo("")
    click.echo(f"Full report: audit-ledger report {DEMO_PROGRAMME} (add --format html -o "
               "report.html for the printable version). Its actions fell due in 2010, so "
               "today they all show as overdue; add --as-of 2010-03-15 to see the report as "
               "it stood that spring.")
