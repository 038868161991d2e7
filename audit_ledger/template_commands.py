"""`template returns`: the workbook an agency's auditor fills in, one sheet per case."""

from __future__ import annotations

from pathlib import Path

import click

from .group import Refused
from .shared import wiring


@click.group()
def template() -> None:
    """Write templates to fill in (returns)."""


@template.command("returns")
@click.argument("programme")
@click.option("--agency", required=True, help="the agency whose auditor fills it in")
@click.option("-o", "--output", "output", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="the workbook to write (FILE.xlsx)")
@click.pass_context
def template_returns(ctx: click.Context, programme: str, agency: str, output: Path) -> None:
    """The returns template of one agency for a programme: an Excel workbook."""
    from projections.inert import cells_as_text
    from projections.returns_template import TemplateRefused, returns_template, template_contents

    if output.suffix.lower() != ".xlsx":
        raise Refused([f"-o: {output.name} should end in .xlsx (an Excel workbook)"])
    views = wiring(ctx).fresh_views()
    try:
        contents = template_contents(views, programme, agency)
    except TemplateRefused as e:
        raise Refused([str(e)]) from None
    if not contents.practitioners:
        raise Refused([f"--agency: the directory has no practitioner of {agency}; add them first "
                       "(audit-ledger person add)"])
    cells_as_text(returns_template(contents)).save(output)
    sheets = len(contents.cases)
    click.echo(f"wrote {output}: the returns template of {agency} for {programme}, "
               f"{sheets} case sheet{'s' if sheets != 1 else ''}"
               + (f" ({', '.join(contents.cases)})" if contents.cases else "")
               + (f"; already returned: {', '.join(contents.returned)}"
                  if contents.returned else ""))
