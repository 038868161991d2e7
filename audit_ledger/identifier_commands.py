"""`identifiers allowed`: the texts a quality lead let through although they hold what looks
like an identifier, with who allowed each and why."""

from __future__ import annotations

from typing import Any

import click

from .shared import FORMAT, emit, wiring


@click.group()
def identifiers() -> None:
    """What identifies a child or family, kept out of free text: the overrides."""


@identifiers.command("allowed")
@click.argument("programme")
@FORMAT
@click.pass_context
def allowed(ctx: click.Context, programme: str, fmt: str) -> None:
    """Every text let through by a quality lead, oldest first: where, what kind, who, why."""
    views = wiring(ctx).fresh_views()
    views.programme(programme)
    rows = views.identifiers_allowed(programme)

    def text(rows: list[dict[str, Any]]) -> str:
        from bot.words import short_day  # dates as people say them, for people only

        out = ""
        for r in rows:
            case = f"case {r['case']}, " if r["case"] else ""
            whose = f" (text of {r['text_of']})" if r["text_of"] else ""
            out += (f"{short_day(r['on'])}: {case}{r['field']}{whose}: "
                    f"{', '.join(r['kinds'])}; allowed by {r['allowed_by']}: {r['reason']}\n")
        return out or f"No text has been let through in {programme}.\n"

    emit(rows, fmt, text)
