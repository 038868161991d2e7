"""`audit-ledger erase`: a case's personal text gone for good, by destroying the case's key."""

from __future__ import annotations

from datetime import datetime

import click

from ledger.commands import EraseCaseText
from ledger.personal import ERASED

from .shared import say, wiring


@click.command()
@click.argument("programme")
@click.argument("case")
@click.option("--by", required=True, help="the person carrying out the order (a quality lead)")
@click.option("--reason", required=True,
              help="the order: its reference, date and who made it. It is kept in the clear "
                   "after the text is gone, so write no names, comments or other personal "
                   "details in it")
@click.option("--on", "occurred_on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="the date the order was carried out (default: today)")
@click.pass_context
def erase(ctx: click.Context, programme: str, case: str, by: str, reason: str,
          occurred_on: datetime | None) -> None:
    """Erase a case's personal text for good, by destroying the case's key.

    The comments, reasons, summaries, responses, actions and outcomes of the case, its
    feedback and its concerns, and the child's gender, ethnicity and age band, read
    "[erased]" from then on: in the log, the views, history and reports. Grades, counts,
    dates, references and the shape of the case's history remain; `verify` still passes
    (no event is edited). The erasure is recorded as an event. There is no undo. Stopped
    half way, the erasure is reported as pending (`projections status`, `verify`) until
    this is run again.
    """
    fields = {"programme": programme, "case": case, "by": by, "reason": reason}
    if occurred_on is not None:
        fields["occurred_on"] = occurred_on.date().isoformat()
    cmd = EraseCaseText.model_validate(fields)
    w = wiring(ctx)
    refs = [k["ref"] for k in w.fresh_views().concerns(programme) if k["case"] == case]
    outcome = w.app.erase_case_text(cmd, refs)
    say(outcome.message)
    # No refold: the views keep the case's text sealed with the key just destroyed, so it
    # reads [erased] there at once (other processes within KEY_TTL seconds, as they forget
    # the key they read).
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"case {case}'s text now reads {ERASED} in every view, history and report, and "
               "the bot's worker rewrites the Slack messages it sent about the case. Copies "
               "outside the store (exported reports, backups taken before now) are not reached "
               "by this.")
