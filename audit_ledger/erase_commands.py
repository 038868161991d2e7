"""`audit-ledger erase`: a case's personal text gone for good, by destroying the case's key."""

from __future__ import annotations

import time
from datetime import datetime

import click

from ledger.case_keys import KEY_TTL
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
    (no event is edited). The erasure is recorded as an event. There is no undo.
    """
    fields = {"programme": programme, "case": case, "by": by, "reason": reason}
    if occurred_on is not None:
        fields["occurred_on"] = occurred_on.date().isoformat()
    cmd = EraseCaseText.model_validate(fields)
    w = wiring(ctx)
    refs = [k["ref"] for k in w.fresh_views().concerns(programme) if k["case"] == case]
    outcome = w.app.erase_case_text(cmd, refs)
    if outcome.changed:
        # Other processes (the bot, its worker) may use a key they read up to KEY_TTL ago:
        # refold only once none can, so none puts the text back into the views.
        time.sleep(KEY_TTL + 0.1)
    # The views still hold the text: fold them again from the log (where it now reads
    # "[erased]"), leaving no trace of the old documents on disk. Done again when the case
    # was already erased, in case an earlier run stopped before this step.
    with w.store.erasing() as problems:
        read = w.follower.rebuild()
    say(outcome.message)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(f"views rebuilt from {read} events; case {case}'s text now reads {ERASED} in "
               "every view, history and report, and the bot's worker rewrites the Slack "
               "messages it sent about the case. Copies outside the store (exported reports, "
               "backups taken before now) are not reached by this.")
