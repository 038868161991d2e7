"""`recommendation` and `action`: the recommendations and the SMART action plan that answers them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ledger import commands as c
from projections.queries import action_status, recommendation_status

from .group import Refused
from .shared import ALLOW, BY, FORMAT, ON, TODAY, act, day, emit, say, wiring


@click.group()
def recommendation() -> None:
    """Add and list recommendations."""


@recommendation.command("list")
@click.argument("programme")
@TODAY
@FORMAT
@click.pass_context
def recommendation_list(ctx: click.Context, programme: str, today: datetime | None,
                        fmt: str) -> None:
    """The recommendations, each with its status and how far its actions have got."""
    views = wiring(ctx).fresh_views()
    views.programme(programme)  # an unknown programme is refused in words
    on = day(today) or date.today()
    actions = views.actions(programme)
    rows = []
    for r in sorted(views.recommendations(programme), key=lambda r: r["number"]):
        own = [action_status(a, on) for a in actions if a["recommendation"] == r["number"]]
        rows.append({"number": r["number"], "text": r["text"],
                     "status": recommendation_status(own, on),
                     "actions": [a["id"] for a in own],
                     "complete": sum(1 for a in own if a["completed"]),
                     "overdue": sum(1 for a in own if a["overdue_days"] > 0)})

    def text(rows: list[dict[str, Any]]) -> str:
        out = ""
        for r in rows:
            counts = f"{len(r['actions'])} action{'' if len(r['actions']) == 1 else 's'}"
            if r["actions"]:
                counts += f", {r['complete']} complete, {r['overdue']} overdue"
            out += f"{r['number']}  {r['status']}  ({counts})\n    {r['text']}\n"
        return out or "No recommendations yet.\n"

    emit(rows, fmt, text)


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
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text",
              show_default=True, help="text for people, json for scripts, xlsx: the tracker "
              "owners update (with -o)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the xlsx tracker (FILE.xlsx)")
@click.pass_context
def action_list(ctx: click.Context, programme: str, overdue: bool, owner: str | None,
                today: datetime | None, fmt: str, output: Path | None) -> None:
    """The action plan with RAG status and days overdue; as a workbook, the action tracker."""
    if fmt == "xlsx" and (output is None or output.suffix.lower() != ".xlsx"):
        raise Refused(["-o: give the tracker's file, ending in .xlsx (--format xlsx -o "
                       "FILE.xlsx)"])
    views = wiring(ctx).fresh_views()
    doc = views.programme(programme)
    on = day(today) or date.today()
    rows = [action_status(a, on) for a in views.actions(programme)]
    rows = [a for a in rows if (not overdue or a["overdue_days"] > 0)
            and (owner is None or a["owner"] == owner)]
    if fmt == "xlsx" and output is not None:
        from projections.action_tracker import action_tracker
        from projections.inert import cells_as_text

        cells_as_text(action_tracker(doc, rows, on)).save(output)
        click.echo(f"wrote {output}: the action tracker of {programme}, {len(rows)} action"
                   f"{'s' if len(rows) != 1 else ''}")
        return

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


@action.command("import")
@click.argument("programme")
@click.argument("tracker", metavar="FILE.xlsx",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@BY
@ON
@click.option("--allow-identifiers", default=None, metavar="REASON",
              help="a quality lead (--by) lets a note holding what looks like an NHS number, "
                   "postcode, date of birth... through, for this reason")
@click.pass_context
def action_import(ctx: click.Context, programme: str, tracker: Path, by: str,
                  occurred_on: datetime | None, allow_identifiers: str | None) -> None:
    """Bring back the action tracker: each changed row recorded as an update by its owner."""
    from ledger.action_tracker import read_tracker

    rows = read_tracker(tracker.read_bytes())
    w = wiring(ctx)
    outcome = w.app.import_tracker(programme, rows, by, day(occurred_on) or date.today(),
                                   allow_identifiers or "")
    say(outcome.message)
    w.follower.catch_up()
