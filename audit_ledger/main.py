"""The `audit-ledger` console script."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from ledger import commands as c
from ledger.base import LedgerError
from ledger.handlers.shared import Outcome
from ledger.importer import import_pack
from ledger.pack import MAX_PACK_BYTES, PackProblems, parse_pack, pydantic_problems
from ledger.returns_csv import MAX_CSV_BYTES, import_returns
from ledger.settings import SettingsError
from policies.scales import OVERALL, area_title, scale_named
from projections.history import case_history
from projections.queries import NotInViews, action_status, comparison_data, report_data
from projections.report import comparison_markdown, demo_overview, markdown_report

from .wiring import Wiring, wire

DEMO_PACK = "lontown-2009.json"
DEMO_PROGRAMME = "lontown-2009"
C = TypeVar("C", bound=c.Command)


class Refused(Exception):
    """Bad input: each line names the problem; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class LedgerGroup(click.Group):
    """Turns every refusal into one line per problem and exit 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (Refused, PackProblems, LedgerError) as e:
            for line in e.problems:
                click.echo(f"error: {line}", err=True)
            ctx.exit(2)
        except (NotInViews, SettingsError) as e:
            click.echo(f"error: {e.args[0]}", err=True)
            ctx.exit(2)
        except ValidationError as e:
            for line in pydantic_problems(e):
                click.echo(f"error: {line}", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            ctx.exit(0)  # the reader (head, less) went away; nothing more to say
        except OSError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)
        except Exception as e:
            if _is_store_failure(e):
                click.echo(f"error: the event store could not be reached or used: "
                           f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                           err=True)
                ctx.exit(1)
            raise


def _is_store_failure(e: Exception) -> bool:
    from eventsourcing.persistence import PersistenceError

    if isinstance(e, PersistenceError):
        return True
    module = type(e).__module__ or ""
    return module.startswith(("psycopg", "sqlite3"))


def _wiring(ctx: click.Context) -> Wiring:
    obj = ctx.ensure_object(dict)
    if "wiring" not in obj:
        obj["wiring"] = wire(obj.get("url"), obj.get("key"))
        ctx.call_on_close(obj["wiring"].close)
    return obj["wiring"]  # type: ignore[no-any-return]


def _emit(data: Any, fmt: str, text: Callable[[Any], str]) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(text(data), nl=False)


def _command(cls: type[C], **fields: Any) -> C:
    return cls.model_validate({k: v for k, v in fields.items() if v is not None})


def _outcome(outcome: Outcome) -> None:
    click.echo(outcome.message)


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="text for people, json for scripts")
BY = click.option("--by", required=True, help="the person acting (their directory id)")
ON = click.option("--on", "occurred_on", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="the date it happened in the world (default: today)")
TODAY = click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="count overdue days against this date (default: today)")


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="AUDIT_LEDGER_URL", default=None,
              help="where events live (AUDIT_LEDGER_URL); default sqlite:///audit-ledger.db")
@click.option("--key", envvar="AUDIT_LEDGER_KEY", default=None,
              help="base64 AES key (AUDIT_LEDGER_KEY); stored events are encrypted when set")
@click.version_option(package_name="audit-ledger")
@click.pass_context
def cli(ctx: click.Context, url: str | None, key: str | None) -> None:
    """The safeguarding audit ledger: multi-agency case audits as an immutable record."""
    ctx.ensure_object(dict).update(url=url, key=key)


# ---- loading audits --------------------------------------------------------------


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_PACK_BYTES:
        raise Refused([f"{path}: the file is larger than {MAX_PACK_BYTES // (1024 * 1024)} MB; "
                       "split the audit into smaller packs"])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise Refused([f"{path}: not UTF-8 text"]) from None
    except json.JSONDecodeError as e:
        raise Refused([f"{path}: line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})"]
                      ) from None


@cli.command("import")
@click.argument("pack_file", metavar="PACK.json",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", default="import", show_default=True, help="who is importing")
@click.pass_context
def import_command(ctx: click.Context, pack_file: Path, by: str) -> None:
    """Import a whole audit pack, all or nothing."""
    pack = parse_pack(_read_json(pack_file))
    w = _wiring(ctx)
    summary = import_pack(w.app, pack, by)
    w.follower.catch_up()
    click.echo(summary.describe())


@cli.command("import-returns")
@click.argument("programme")
@click.argument("returns_file", metavar="RETURNS.csv",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", default="import", show_default=True, help="who is importing")
@click.pass_context
def import_returns_command(ctx: click.Context, programme: str, returns_file: Path, by: str) -> None:
    """Import agency returns from a CSV file, all or nothing."""
    if returns_file.stat().st_size > MAX_CSV_BYTES:
        raise Refused([f"{returns_file}: the file is larger than "
                       f"{MAX_CSV_BYTES // (1024 * 1024)} MB"])
    try:
        text = returns_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise Refused([f"{returns_file}: not UTF-8 text"]) from None
    w = _wiring(ctx)
    summary = import_returns(w.app, programme, text, by)
    w.follower.catch_up()
    click.echo(summary.describe())


@cli.command()
@TODAY
@click.pass_context
def demo(ctx: click.Context, today: datetime | None) -> None:
    """Load the bundled Lontown 2009 audit (if absent) and print its overview."""
    w = _wiring(ctx)
    data = json.loads(resources.files("ledger").joinpath("packs", DEMO_PACK)
                      .read_text(encoding="utf-8"))
    summary = import_pack(w.app, parse_pack(data), "import")
    views = w.fresh_views()
    click.echo(summary.describe() if summary.changed else
               f"The demo audit {DEMO_PROGRAMME} is already in {w.settings.describe()}.")
    click.echo("")
    click.echo(demo_overview(views, DEMO_PROGRAMME, _day(today) or date.today()), nl=False)
    click.echo("")
    click.echo(f"Full report: audit-ledger report {DEMO_PROGRAMME} (add --format html -o "
               "report.html for the printable version). Its actions fell due in 2010, so "
               "today they all show as overdue; add --today 2010-03-15 to see the plan as it "
               "stood that spring.")


# ---- reading ---------------------------------------------------------------------


@cli.command()
@click.argument("programme")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write to this file instead of the terminal")
@click.option("--compare", "baseline", default=None, metavar="BASELINE",
              help="show how each area moved since this baseline programme")
@TODAY
@click.pass_context
def report(ctx: click.Context, programme: str, fmt: str, output: Path | None,
           baseline: str | None, today: datetime | None) -> None:
    """The overview report of a programme (optionally against its baseline audit)."""
    if baseline and fmt == "html":
        raise Refused(["--compare is available in the md and json formats"])
    views = _wiring(ctx).fresh_views()
    day = _day(today) or date.today()
    if fmt == "json":
        data = report_data(views, programme, day)
        if baseline:
            data["comparison"] = comparison_data(views, programme, baseline)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        from projections.html import html_report

        text = html_report(views, programme, day)
    else:
        text = markdown_report(views, programme, day)
        if baseline:
            text += "\n" + comparison_markdown(views, programme, baseline)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


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


@cli.command()
@click.argument("programme")
@click.argument("case")
@FORMAT
@click.pass_context
def case(ctx: click.Context, programme: str, case: str, fmt: str) -> None:
    """Consolidated judgements of one case, with the contributions and rule behind each."""
    views = _wiring(ctx).fresh_views()
    data = views.judgements(programme, case)
    prog = views.programme(programme)

    def text(d: dict[str, Any]) -> str:
        out = f"Case {case} in {programme}\n"
        for area, j in d["areas"].items():
            out += _judgement_line(area, j, prog)
        return out + _judgement_line(OVERALL, d["overall"], prog)

    _emit(data, fmt, text)


@cli.command()
@click.argument("programme")
@click.argument("case")
@click.option("--area", default=None, help="only the events that shaped this area (2-8 or overall)")
@click.option("--as-of", "as_of", default=None, help="the state at this moment (ISO-8601)")
@FORMAT
@click.pass_context
def history(ctx: click.Context, programme: str, case: str, area: str | None,
            as_of: str | None, fmt: str) -> None:
    """Replay every event that shaped a case, with the judgement after each step."""
    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            raise Refused([f"--as-of: {as_of!r} is not an ISO-8601 date or time "
                           "(e.g. 2009-07-01 or 2009-07-01T12:00:00+00:00)"]) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if area is not None and area != OVERALL and not area.isdigit():
        raise Refused([f"--area: {area!r} is not an area; use 2 to 8 or overall"])
    w = _wiring(ctx)
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

    _emit(data, fmt, text)


# ---- single facts ----------------------------------------------------------------


@cli.group()
def grade() -> None:
    """Record, revise and moderate grades."""


@grade.command("record")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--area", required=True, help="2 to 8 or overall")
@click.option("--grade", "value", required=True, type=int)
@click.option("--practitioner", default=None, help="whose work (needed for an agency's first grade)")
@click.option("--strength", default=None)
@click.option("--concern", default=None)
@BY
@ON
@click.pass_context
def grade_record(ctx: click.Context, programme: str, case: str, agency: str, area: str,
                 value: int, practitioner: str | None, strength: str | None,
                 concern: str | None, by: str, occurred_on: datetime | None) -> None:
    """Record one area's grade in an agency's return."""
    _act(ctx, c.GradeArea, "grade_area", programme=programme, case=case, agency=agency,
         area=area, grade=value, practitioner=practitioner, strength=strength, concern=concern,
         by=by, occurred_on=_day(occurred_on))


@grade.command("revise")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--area", required=True)
@click.option("--grade", "value", required=True, type=int)
@click.option("--reason", required=True)
@BY
@ON
@click.pass_context
def grade_revise(ctx: click.Context, programme: str, case: str, agency: str, area: str,
                 value: int, reason: str, by: str, occurred_on: datetime | None) -> None:
    """Revise an agency's grade, with a reason."""
    _act(ctx, c.ReviseGrade, "revise_grade", programme=programme, case=case, agency=agency,
         area=area, grade=value, reason=reason, by=by, occurred_on=_day(occurred_on))


@grade.command("moderate")
@click.argument("programme")
@click.argument("case")
@click.option("--area", required=True)
@click.option("--grade", "value", required=True, type=int)
@click.option("--reason", required=True)
@BY
@ON
@click.pass_context
def grade_moderate(ctx: click.Context, programme: str, case: str, area: str, value: int,
                   reason: str, by: str, occurred_on: datetime | None) -> None:
    """Record a moderated judgement for an area of a case, with a reason."""
    _act(ctx, c.ModerateJudgement, "moderate_judgement", programme=programme, case=case,
         area=area, grade=value, reason=reason, by=by, occurred_on=_day(occurred_on))


@cli.group()
def concern() -> None:
    """Raise, acknowledge, act on, close and list concerns."""


@concern.command("raise")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--summary", required=True, help="what was found (no child's name)")
@click.option("--child-at-risk", is_flag=True, help="a child may be at risk now")
@BY
@ON
@click.pass_context
def concern_raise(ctx: click.Context, programme: str, case: str, agency: str, summary: str,
                  child_at_risk: bool, by: str, occurred_on: datetime | None) -> None:
    """Record a concern; the agency's managers are alerted."""
    _act(ctx, c.RaiseConcern, "raise_concern", programme=programme, case=case, agency=agency,
         summary=summary, child_at_risk=child_at_risk, by=by, occurred_on=_day(occurred_on))


def _act(ctx: click.Context, cls: type[C], method: str, **fields: Any) -> None:
    """Carry out one command, say what it did, and bring the views up to date."""
    cmd = _command(cls, **fields)
    w = _wiring(ctx)
    _outcome(getattr(w.app, method)(cmd))
    w.follower.catch_up()


@concern.command("acknowledge")
@click.argument("programme")
@click.argument("concern_ref", metavar="CONCERN")
@BY
@ON
@click.pass_context
def concern_acknowledge(ctx: click.Context, programme: str, concern_ref: str, by: str,
                        occurred_on: datetime | None) -> None:
    """Acknowledge a concern (managers of the agency concerned)."""
    _act(ctx, c.AcknowledgeConcern, "acknowledge_concern", programme=programme,
                 concern=concern_ref, by=by, occurred_on=_day(occurred_on))


@concern.command("action")
@click.argument("programme")
@click.argument("concern_ref", metavar="CONCERN")
@click.option("--action", "action_text", required=True, help="what was done")
@BY
@ON
@click.pass_context
def concern_action(ctx: click.Context, programme: str, concern_ref: str, action_text: str,
                   by: str, occurred_on: datetime | None) -> None:
    """Record the action taken on a concern."""
    _act(ctx, c.RecordConcernAction, "record_concern_action", programme=programme,
                 concern=concern_ref, action=action_text, by=by, occurred_on=_day(occurred_on))


@concern.command("close")
@click.argument("programme")
@click.argument("concern_ref", metavar="CONCERN")
@click.option("--outcome", required=True)
@BY
@ON
@click.pass_context
def concern_close(ctx: click.Context, programme: str, concern_ref: str, outcome: str, by: str,
                  occurred_on: datetime | None) -> None:
    """Close a concern with its outcome."""
    _act(ctx, c.CloseConcern, "close_concern", programme=programme, concern=concern_ref,
                 outcome=outcome, by=by, occurred_on=_day(occurred_on))


@concern.command("list")
@click.argument("programme")
@click.option("--open", "only_open", is_flag=True, help="only concerns not yet closed")
@FORMAT
@click.pass_context
def concern_list(ctx: click.Context, programme: str, only_open: bool, fmt: str) -> None:
    """The programme's concerns, oldest first."""
    views = _wiring(ctx).fresh_views()
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
                    f"{k['raised_by']}  step {k['step']}  {state}{risk}\n    {k['summary']}\n")
        return out or "No concerns.\n"

    _emit(rows, fmt, text)


@cli.group()
def feedback() -> None:
    """Acknowledge feedback, respond to issues, list feedback."""


@feedback.command("acknowledge")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@BY
@ON
@click.pass_context
def feedback_acknowledge(ctx: click.Context, programme: str, case: str, agency: str, by: str,
                         occurred_on: datetime | None) -> None:
    """Acknowledge your feedback on a case."""
    _act(ctx, c.AcknowledgeFeedback, "acknowledge_feedback", programme=programme,
                 case=case, agency=agency, by=by, occurred_on=_day(occurred_on))


@feedback.command("respond")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--issue", required=True, type=int, help="the issue's number in the feedback")
@click.option("--response", required=True)
@BY
@ON
@click.pass_context
def feedback_respond(ctx: click.Context, programme: str, case: str, agency: str, issue: int,
                     response: str, by: str, occurred_on: datetime | None) -> None:
    """Respond to one issue raised in your feedback."""
    _act(ctx, c.RespondToIssue, "respond_to_issue", programme=programme, case=case,
                 agency=agency, issue=issue, response=response, by=by,
                 occurred_on=_day(occurred_on))


@feedback.command("list")
@click.argument("programme")
@click.option("--person", default=None, help="only feedback for this practitioner or manager")
@FORMAT
@click.pass_context
def feedback_list(ctx: click.Context, programme: str, person: str | None, fmt: str) -> None:
    """Feedback issued, acknowledged and answered."""
    views = _wiring(ctx).fresh_views()
    views.programme(programme)
    rows = [f for f in views.feedback(programme)
            if person is None or person in (f["practitioner"], f["manager"])]

    def text(rows: list[dict[str, Any]]) -> str:
        out = ""
        for f in rows:
            waiting = [i["number"] for i in f["issues"] if str(i["number"]) not in f["responses"]]
            ack = f"acknowledged by {f['acknowledged_by']}" if f["acknowledged_by"] else \
                "awaiting acknowledgement"
            out += (f"case {f['case']}  {f['agency']}  to {f['practitioner']} (manager "
                    f"{f['manager'] or '-'})  {ack}; issues awaiting a response: "
                    f"{', '.join(map(str, waiting)) or 'none'}\n")
        return out or "No feedback.\n"

    _emit(rows, fmt, text)


@cli.group()
def recommendation() -> None:
    """Add and list recommendations."""


@recommendation.command("add")
@click.argument("programme")
@click.option("--number", required=True, type=int)
@click.option("--text", required=True)
@BY
@ON
@click.pass_context
def recommendation_add(ctx: click.Context, programme: str, number: int, text: str, by: str,
                       occurred_on: datetime | None) -> None:
    """Add a numbered recommendation from the overview report."""
    _act(ctx, c.AddRecommendation, "add_recommendation", programme=programme,
                 number=number, text=text, by=by, occurred_on=_day(occurred_on))


@cli.group()
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
@BY
@ON
@click.pass_context
def action_plan(ctx: click.Context, programme: str, action_id: str, recommendation: int,
                description: str, measure: str, owner: str, due: datetime, by: str,
                occurred_on: datetime | None) -> None:
    """Plan a SMART action for a recommendation."""
    _act(ctx, c.PlanAction, "plan_action", programme=programme, action=action_id,
                 recommendation=recommendation, description=description, measure=measure,
                 owner=owner, due=due.date(), by=by, occurred_on=_day(occurred_on))


@action.command("ratify")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@BY
@ON
@click.pass_context
def action_ratify(ctx: click.Context, programme: str, action_id: str, by: str,
                  occurred_on: datetime | None) -> None:
    """Ratify an action (the board)."""
    _act(ctx, c.RatifyAction, "ratify_action", programme=programme, action=action_id,
                 by=by, occurred_on=_day(occurred_on))


@action.command("update")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--rag", required=True, type=click.Choice(["red", "amber", "green"]))
@click.option("--note", required=True)
@BY
@ON
@click.pass_context
def action_update(ctx: click.Context, programme: str, action_id: str, rag: str, note: str,
                  by: str, occurred_on: datetime | None) -> None:
    """Record progress on an action, with its RAG status."""
    _act(ctx, c.RecordActionProgress, "record_action_progress", programme=programme,
                 action=action_id, rag=rag, note=note, by=by, occurred_on=_day(occurred_on))


@action.command("complete")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--evidence", required=True)
@BY
@ON
@click.pass_context
def action_complete(ctx: click.Context, programme: str, action_id: str, evidence: str, by: str,
                    occurred_on: datetime | None) -> None:
    """Complete an action, with the evidence that it is done."""
    _act(ctx, c.CompleteAction, "complete_action", programme=programme,
                 action=action_id, evidence=evidence, by=by, occurred_on=_day(occurred_on))


@action.command("replan")
@click.argument("programme")
@click.argument("action_id", metavar="ACTION")
@click.option("--reason", required=True)
@click.option("--due", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--owner", default=None)
@click.option("--measure", default=None)
@click.option("--description", default=None)
@BY
@ON
@click.pass_context
def action_replan(ctx: click.Context, programme: str, action_id: str, reason: str,
                  due: datetime | None, owner: str | None, measure: str | None,
                  description: str | None, by: str, occurred_on: datetime | None) -> None:
    """Change an action's plan (due date, owner, measure), with a reason."""
    _act(ctx, c.ReplanAction, "replan_action", programme=programme, action=action_id,
                 reason=reason, due=_day(due), owner=owner, measure=measure,
                 description=description, by=by, occurred_on=_day(occurred_on))


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
    views = _wiring(ctx).fresh_views()
    views.programme(programme)
    day = _day(today) or date.today()
    rows = [action_status(a, day) for a in views.actions(programme)]
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

    _emit(rows, fmt, text)


# ---- the people directory --------------------------------------------------------------


@cli.group()
def person() -> None:
    """Add people to the directory, change their roles, manager and Slack link."""


def _slack_free(ctx: click.Context, slack_user: str | None, person_id: str) -> None:
    """One Slack user stands for one person: the directory view says who holds it now."""
    if not slack_user:
        return
    holder = _wiring(ctx).fresh_views().person_by_slack(slack_user)
    if holder is not None and holder["person"] != person_id:
        raise Refused([f"slack user {slack_user} is already linked to {holder['person']}"])


@person.command("add")
@click.argument("person_id", metavar="PERSON")
@click.option("--agency", required=True)
@click.option("--name", default="")
@click.option("--role", "roles", multiple=True, help="repeat for several roles")
@click.option("--manager", default=None)
@click.option("--slack-user", default=None, help="their Slack user id, e.g. U0123ABCD")
@BY
@click.pass_context
def person_add(ctx: click.Context, person_id: str, agency: str, name: str,
               roles: tuple[str, ...], manager: str | None, slack_user: str | None,
               by: str) -> None:
    """Add a person to the directory (quality leads)."""
    _slack_free(ctx, slack_user, person_id)
    _act(ctx, c.RegisterPerson, "register_person", person=person_id, agency=agency, name=name,
         roles=list(roles), manager=manager, slack_user=slack_user, by=by)


@person.command("grant")
@click.argument("person_id", metavar="PERSON")
@click.option("--role", required=True)
@BY
@click.pass_context
def person_grant(ctx: click.Context, person_id: str, role: str, by: str) -> None:
    """Grant a role."""
    _act(ctx, c.ChangeRole, "grant_role", person=person_id, role=role, by=by)


@person.command("revoke")
@click.argument("person_id", metavar="PERSON")
@click.option("--role", required=True)
@BY
@click.pass_context
def person_revoke(ctx: click.Context, person_id: str, role: str, by: str) -> None:
    """Revoke a role."""
    _act(ctx, c.ChangeRole, "revoke_role", person=person_id, role=role, by=by)


@person.command("manager")
@click.argument("person_id", metavar="PERSON")
@click.option("--manager", required=True)
@BY
@click.pass_context
def person_manager(ctx: click.Context, person_id: str, manager: str, by: str) -> None:
    """Set who manages a person (their feedback is copied to them)."""
    _act(ctx, c.AssignManager, "assign_manager", person=person_id, manager=manager, by=by)


@person.command("link-slack")
@click.argument("person_id", metavar="PERSON")
@click.option("--slack-user", required=True, help="their Slack user id, e.g. U0123ABCD")
@BY
@click.pass_context
def person_link_slack(ctx: click.Context, person_id: str, slack_user: str, by: str) -> None:
    """Link a person to their Slack user, so the bot knows who they are."""
    _slack_free(ctx, slack_user, person_id)
    _act(ctx, c.LinkSlackUser, "link_slack_user", person=person_id, slack_user=slack_user, by=by)


@person.command("list")
@FORMAT
@click.pass_context
def person_list(ctx: click.Context, fmt: str) -> None:
    """The directory: agency, roles, manager, Slack link."""
    rows = _wiring(ctx).fresh_views().people()
    _emit(rows, fmt, lambda rows: "".join(
        f"{p['person']}  {p['agency']}  {', '.join(p['roles']) or '-'}  manager "
        f"{p['manager'] or '-'}  slack {p['slack_user'] or '-'}\n" for p in rows) or "Nobody.\n")


# ---- the views ---------------------------------------------------------------------


@cli.group()
def projections() -> None:
    """The views' position, rebuilding and following the log."""


@projections.command("status")
@FORMAT
@click.pass_context
def projections_status(ctx: click.Context, fmt: str) -> None:
    """Each view's position against the log's head."""
    from projections.views import VIEWS

    w = _wiring(ctx)
    s = w.follower.status()
    data = {"head": s.head, "views": {v: {"position": s.position, "behind": s.behind}
                                      for v in VIEWS}}
    _emit(data, fmt, lambda d: f"log head {s.head}; views at {s.position} "
          f"({s.behind} events behind) in {w.settings.describe()}\n"
          f"views: {', '.join(VIEWS)}\n")


@projections.command("rebuild")
@FORMAT
@click.pass_context
def projections_rebuild(ctx: click.Context, fmt: str) -> None:
    """Drop every view and fold it again from the whole log."""
    w = _wiring(ctx)
    read = w.follower.rebuild()
    s = w.follower.status()
    _emit({"events": read, "head": s.head, "position": s.position}, fmt,
          lambda d: f"rebuilt the views from {read} events; now at {s.position} of {s.head}\n")


@projections.command("follow")
@click.option("--interval", default=0.2, show_default=True, help="seconds between polls")
@click.pass_context
def projections_follow(ctx: click.Context, interval: float) -> None:
    """Keep folding new events into the views until stopped (Ctrl-C)."""
    w = _wiring(ctx)
    stop = threading.Event()
    click.echo(f"following {w.settings.describe()}; Ctrl-C to stop", err=True)
    try:
        w.follower.follow(stop, interval)
    except KeyboardInterrupt:
        stop.set()


@cli.command()
def keygen() -> None:
    """Print a new key for AUDIT_LEDGER_KEY."""
    from eventsourcing.cryptography import AESCipher

    click.echo(AESCipher.create_key(num_bytes=32))


# ---- command groups kept in their own modules (one registration line each) -------------

from .bot_commands import bot  # noqa: E402
from .erase_commands import erase  # noqa: E402
from .security_commands import export_digest, verify  # noqa: E402
from .worker_commands import worker  # noqa: E402

cli.add_command(bot)
cli.add_command(erase)
cli.add_command(verify)
cli.add_command(export_digest)
cli.add_command(worker)


def main() -> None:
    cli(prog_name="audit-ledger")


if __name__ == "__main__":
    main()
