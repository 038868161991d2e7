"""`recommendation` and `action`: the recommendations and the SMART action plan that answers them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from ledger import commands as c
from projections.queries import action_status

from .shared import ALLOW, BY, FORMAT, ON, TODAY, act, day, emit, wiring


@click.group()
def recommendation() -> None:
    """Add and list recommendations."""


@recommendation.command("add")
@click.argument("programme")
@click.option("--number", required=True, type=int)
@click.option("--text", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def recommendation_add(ctx: click.Context, programme: str, number: int, text: str, by: str,
                       occurred_on: datetime | None) -> None:
    """Add a numbered recommendation from the overview report."""
    act(ctx, c.AddRecommendation, "add_recommendation", programme=programme,
        number=number, text=text, by=by, occurred_on=day(occurred_on))


@click.group()
def action() -> None:
    """Plan, ratify, update, complete, replan and list SMART actions."""


@action.command("plan")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--recommendation", required=True, type=int)
@click.option("--description", required=True)
@click.option("--measure", required=True, help="how we will know it is done")
@click.option("--owner", required=True)
@click.option("--due", required=True, type=click.DateTime(["%Y-%m-%d"]))
@ALLOW
@BY
@ON
@click.pass_context
def action_plan(ctx: click.Context, programme: str, action_id: str, recommendation: int,
                description: str, measure: str, owner: str, due: datetime, by: str,
                occurred_on: datetime | None) -> None:
    """Plan a SMART action for a recommendation."""
    act(ctx, c.PlanAction, "plan_action", programme=programme, action=action_id,
        recommendation=recommendation, description=description, measure=measure,
        owner=owner, due=due.date(), by=by, occurred_on=day(occurred_on))


@action.command("ratify")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@BY
@ON
@click.pass_context
def action_ratify(ctx: click.Context, programme: str, action_id: str, by: str,
                  occurred_on: datetime | None) -> None:
    """Ratify an action (the board)."""
    act(ctx, c.RatifyAction, "ratify_action", programme=programme, action=action_id,
        by=by, occurred_on=day(occurred_on))


@action.command("update")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--rag", required=True, type=click.Choice(["red", "amber", "green"]))
@click.option("--note", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def action_update(ctx: click.Context, programme: str, action_id: str, rag: str, note: str,
                  by: str, occurred_on: datetime | None) -> None:
    """Record progress on an action, with its RAG status."""
    act(ctx, c.RecordActionProgress, "record_action_progress", programme=programme,
        action=action_id, rag=rag, note=note, by=by, occurred_on=day(occurred_on))


@action.command("complete")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--evidence", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def action_complete(ctx: click.Context, programme: str, action_id: str, evidence: str, by: str,
                    occurred_on: datetime | None) -> None:
    """Complete an action, with the evidence that it is done."""
    act(ctx, c.CompleteAction, "complete_action", programme=programme,
        action=action_id, evidence=evidence, by=by, occurred_on=day(occurred_on))


@action.command("replan")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--reason", required=True)
@click.option("--due", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--owner", default=None)
@click.option("--measure", default=None)
@click.option("--description", default=None)
@ALLOW
@BY
@ON
@click.pass_context
def action_replan(ctx: click.Context, programme: str, action_id: str, reason: str,
                  due: datetime | None, owner: str | None, measure: str | None,
                  description: str | None, by: str, occurred_on: datetime | None) -> None:
    """Change an action's plan (due date, owner, measure), with a reason."""
    act(ctx, c.ReplanAction, "replan_action", programme=programme, action=action_id,
        reason=reason, due=day(due), owner=owner, measure=measure,
        description=description, by=by, occurred_on=day(occurred_on))


@action.command("list")
@click.argument("programme")
@click.option("--overdue", is_flag=True, help="only overdue actions")
@click.option("--owner", default=None)
@TODAY
@FORMAT
@click.pass_context
def action_list(ctx: click.Context, programme: str, overdue: bool, owner: str | None,
                today: datetime | None, fmt: str) -> None:
    """The action plan with RAG status and days overdue."""
    views = wiring(ctx).fresh_views()
    views.programme(programme)
    on = day(today) or date.today()
    rows = [action_status(a, on) for a in views.actions(programme)]
    rows = [a for a in rows if (not overdue or a["overdue_days"] > 0)
            and (owner is None or a["owner"] == owner)]

    def text(rows: list[dict[str, Any]]) -> str:
        out = ""
        for a in rows:
            state = "complete" if a["completed"] else (
                f"OVERDUE {a['overdue_days']} days" if a["overdue_days"] else "open")
            out += (f"{a['id']}  rec {a['recommendation']}  {a['owner']}  due {a['due']}  "
                    f"RAG {a['rag'] or '-'}  {state}{'' if a['ratified'] else '  (not ratified)'}"
                    f"\n    {a['description']}\n")
        return out or "No actions.\n"

    emit(rows, fmt, text)
