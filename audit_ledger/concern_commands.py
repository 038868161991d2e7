"""`concern raise|acknowledge|action|close|list`: concerns from being raised to being closed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from ledger import commands as c

from .shared import ALLOW, BY, FORMAT, ON, act, day, emit, wiring


@click.group()
def concern() -> None:
    """Raise, acknowledge, act on, close and list concerns."""


@concern.command("raise")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--summary", required=True, help="what was found (no child's name)")
@click.option("--child-at-risk", is_flag=True, help="a child may be at risk now")
@ALLOW
@BY
@ON
@click.pass_context
def concern_raise(ctx: click.Context, programme: str, case: str, agency: str, summary: str,
                  child_at_risk: bool, by: str, occurred_on: datetime | None) -> None:
    """Record a concern; the agency's managers are alerted."""
    act(ctx, c.RaiseConcern, "raise_concern", programme=programme, case=case, agency=agency,
        summary=summary, child_at_risk=child_at_risk, by=by, occurred_on=day(occurred_on))



@concern.command("acknowledge")
@click.argument("programme")
@click.argument("concern_ref", metavar="CONCERN")
@BY
@ON
@click.pass_context
def concern_acknowledge(ctx: click.Context, programme: str, concern_ref: str, by: str,
                        occurred_on: datetime | None) -> None:
    """Acknowledge a concern (managers of the agency concerned)."""
    act(ctx, c.AcknowledgeConcern, "acknowledge_concern", programme=programme,
        concern=concern_ref, by=by, occurred_on=day(occurred_on))


@concern.command("action")
@click.argument("programme")
@click.argument("concern_ref", metavar="CONCERN")
@click.option("--action", "action_text", required=True, help="what was done")
@ALLOW
@BY
@ON
@click.pass_context
def concern_action(ctx: click.Context, programme: str, concern_ref: str, action_text: str,
                   by: str, occurred_on: datetime | None) -> None:
    """Record the action taken on a concern."""
    act(ctx, c.RecordConcernAction, "record_concern_action", programme=programme,
        concern=concern_ref, action=action_text, by=by, occurred_on=day(occurred_on))


@concern.command("close")
@click.argument("programme")
@click.argument("concern_ref", metavar="CONCERN")
@click.option("--outcome", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def concern_close(ctx: click.Context, programme: str, concern_ref: str, outcome: str, by: str,
                  occurred_on: datetime | None) -> None:
    """Close a concern with its outcome."""
    act(ctx, c.CloseConcern, "close_concern", programme=programme, concern=concern_ref,
        outcome=outcome, by=by, occurred_on=day(occurred_on))


@concern.command("list")
@click.argument("programme")
@click.option("--open", "only_open", is_flag=True, help="only concerns not yet closed")
@FORMAT
@click.pass_context
def concern_list(ctx: click.Context, programme: str, only_open: bool, fmt: str) -> None:
    """The programme's concerns, oldest first."""
    views = wiring(ctx).fresh_views()
    views.programme(programme)
    rows = [k for k in views.concerns(programme) if not (only_open and k["closed"])]

    def text(rows: list[dict[str, Any]]) -> str:
        out = ""
        for k in rows:
            state = ("closed" if k["closed"] else
                     f"acknowledged by {k['acknowledged_by']}" if k["acknowledged_by"]
                     else "NOT ACKNOWLEDGED")
            risk = " CHILD MAY BE AT RISK" if k["child_at_risk"] else ""
            out += (f"{k['ref']}  case {k['case']}  {k['agency']}  raised {k['raised_on']} by "
                    f"{k['raised_by']}  step {k['step']}  {state}{risk}\n    {_indented(k['summary'])}\n")
        return out or "No concerns.\n"

    emit(rows, fmt, text)


def _indented(text: str) -> str:
    """A summary's own line breaks kept under its concern, so it cannot pass for another row."""
    return "\n    ".join(text.splitlines())
