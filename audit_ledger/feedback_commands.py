"""`feedback acknowledge|seen|respond|list`: practitioners' feedback, acknowledged and answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from ledger import commands as c

from .shared import ALLOW, BY, FORMAT, ON, act, day, emit, wiring


@click.group()
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
    act(ctx, c.AcknowledgeFeedback, "acknowledge_feedback", programme=programme,
        case=case, agency=agency, by=by, occurred_on=day(occurred_on))


@feedback.command("seen")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@BY
@ON
@click.pass_context
def feedback_seen(ctx: click.Context, programme: str, case: str, agency: str, by: str,
                  occurred_on: datetime | None) -> None:
    """Record that you, the practitioner's manager, have seen your copy (it does not
    acknowledge the feedback for them)."""
    act(ctx, c.RecordFeedbackSeen, "record_feedback_seen", programme=programme,
        case=case, agency=agency, by=by, occurred_on=day(occurred_on))


@feedback.command("respond")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--issue", required=True, type=int, help="the issue's number in the feedback")
@click.option("--response", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def feedback_respond(ctx: click.Context, programme: str, case: str, agency: str, issue: int,
                     response: str, by: str, occurred_on: datetime | None) -> None:
    """Respond to one issue raised in your feedback."""
    act(ctx, c.RespondToIssue, "respond_to_issue", programme=programme, case=case,
        agency=agency, issue=issue, response=response, by=by,
        occurred_on=day(occurred_on))


@feedback.command("list")
@click.argument("programme")
@click.option("--person", default=None, help="only feedback for this practitioner or manager")
@FORMAT
@click.pass_context
def feedback_list(ctx: click.Context, programme: str, person: str | None, fmt: str) -> None:
    """Feedback issued, acknowledged and answered."""
    views = wiring(ctx).fresh_views()
    views.programme(programme)
    rows = [{k: v for k, v in f.items() if k != "drafts"}  # unsent drafts are their writer's
            for f in views.feedback(programme)
            if person is None or person in (f["practitioner"], f["manager"])]

    def text(rows: list[dict[str, Any]]) -> str:
        out = ""
        for f in rows:
            waiting = [i["number"] for i in f["issues"] if str(i["number"]) not in f["responses"]]
            ack = f"acknowledged by {f['acknowledged_by']}" if f["acknowledged_by"] else \
                "awaiting acknowledgement"
            if f.get("seen_by"):
                ack += f", seen by {f['seen_by']}"
            out += (f"case {f['case']}  {f['agency']}  to {f['practitioner']} (manager "
                    f"{f['manager'] or '-'})  {ack}; issues awaiting a response: "
                    f"{', '.join(map(str, waiting)) or 'none'}\n")
        return out or "No feedback.\n"

    emit(rows, fmt, text)
