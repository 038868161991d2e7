"""`partnership add|list|link-slack`: the partnerships one store serves, each with its own
directory and, when it uses Slack, its workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ledger import commands as c

from .shared import FORMAT, act, emit, wiring


@click.group()
def partnership() -> None:
    """Register the partnerships this store serves, and list them."""


@partnership.command("add")
@click.argument("partnership_id", metavar="PARTNERSHIP")
@click.option("--name", required=True, help="the partnership's name, as people say it")
@click.option("--slack-team", default=None, help="its Slack workspace id, e.g. T0123ABCD")
@click.pass_context
def partnership_add(ctx: click.Context, partnership_id: str, name: str,
                    slack_team: str | None) -> None:
    """Register a partnership (an administrative act of whoever holds the store). Its people
    are then added with `person add ... --partnership PARTNERSHIP`, or by importing a pack
    that names it."""
    from ledger.handlers.directory import ADMIN

    act(ctx, c.RegisterPartnership, "register_partnership", partnership=partnership_id,
        name=name, slack_team=slack_team, by=ADMIN)


@partnership.command("link-slack")
@click.argument("partnership_id", metavar="PARTNERSHIP")
@click.option("--slack-team", required=True,
              help="its Slack workspace id, e.g. T0123ABCD (in Slack: the workspace's URL "
                   "https://app.slack.com/client/T0123ABCD/...)")
@click.pass_context
def partnership_link_slack(ctx: click.Context, partnership_id: str, slack_team: str) -> None:
    """Link a partnership to its Slack workspace (again, to move it): the bot then answers
    people from that workspace with this partnership's items, and sends its messages there.
    Several partnerships may share one workspace. An administrative act of whoever holds the
    store."""
    from ledger.handlers.directory import ADMIN

    act(ctx, c.LinkPartnershipSlack, "link_partnership_slack", partnership=partnership_id,
        slack_team=slack_team, by=ADMIN)


@partnership.command("list")
@FORMAT
@click.pass_context
def partnership_list(ctx: click.Context, fmt: str) -> None:
    """The partnerships in this store: id, name, Slack workspace, people and programmes."""
    views = wiring(ctx).fresh_views()
    programmes = views.programmes()
    people = views.everyone()
    rows = [{**p, "programmes": sum(1 for g in programmes
                                    if g.get("partnership", "default") == p["partnership"]),
             "people": sum(1 for d in people
                           if d.get("partnership", "default") == p["partnership"])}
            for p in views.partnerships()]
    emit(rows, fmt, lambda rows: "".join(
        f"{p['partnership']}  {p['name'] or '-'}  slack {p['slack_team'] or '-'}  "
        f"{p['programmes']} programmes  {p['people']} people\n" for p in rows)
        or "No partnership yet: import a pack or add one (audit-ledger partnership add).\n")


@partnership.command("export")
@click.argument("partnership_id", metavar="PARTNERSHIP")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the file to write (JSON lines; replaced whole, never left half-written)")
@click.pass_context
def partnership_export(ctx: click.Context, partnership_id: str, output: Path) -> None:
    """Export every event of one partnership (its directory, programmes, cases, feedback,
    concerns, actions, reports, messages) into a file that verifies on its own
    (`audit-ledger partnership verify-export FILE`). Each event is written as stored: an
    encrypted store's events stay encrypted, sealed case text stays sealed."""
    from datetime import UTC, datetime

    from ledger.chain import batches
    from ledger.partnership_export import export_lines

    from .group import Refused

    w = wiring(ctx)
    known = {str(p["partnership"]): p for p in w.fresh_views().partnerships()}
    if partnership_id not in known:
        held = ", ".join(sorted(known)) or "none yet"
        raise Refused([f"partnership {partnership_id!r} is not in this store (it holds: "
                       f"{held}); audit-ledger partnership list shows them"])
    mapper = w.app.mapper

    def decode(state: bytes) -> dict[str, Any]:
        if mapper.cipher:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor:
            state = mapper.compressor.decompress(state)
        return mapper.transcoder.decode(state)  # type: ignore[no-any-return]

    exported_at = datetime.now(UTC).isoformat(timespec="seconds")
    partial = output.with_name(output.name + ".partial")
    with w.app.recorder.chain_snapshot() as snapshot:  # type: ignore[attr-defined]
        rows = (row for rows in batches(snapshot.events_after, key=lambda r: int(r[0]))
                for row in rows)
        lines = 0
        head: dict[str, Any] = {}
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            for line in export_lines(partnership_id, str(known[partnership_id].get("name") or ""),
                                     rows, decode, exported_at):
                out.write(line + "\n")
                lines += 1
                head = json.loads(line) if line.startswith('{"head"') else head
    partial.replace(output)
    events, digest = head["head"]["events"], head["head"]["hash"]
    click.echo(f"exported {events} events of partnership {partnership_id} to {output}; "
               f"head hash {digest} (keep it apart from the file: "
               "audit-ledger partnership verify-export checks the file against it)")


@partnership.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--head", "expected_head", default=None, metavar="HASH",
              help="the head hash printed at export: prove the file is the one exported")
@FORMAT
@click.pass_context
def partnership_verify_export(ctx: click.Context, file: Path, expected_head: str | None,
                              fmt: str) -> None:
    """Check a partnership export on its own, without the store: exit 0 when every line
    matches the export's hash chain, exit 1 naming the first line that does not."""
    from ledger.partnership_export import verify_export

    with file.open("rb") as f:
        verdict = verify_export(line.rstrip(b"\n") for line in f)
    problem = verdict.problem
    if problem is None and expected_head and expected_head.strip().lower() != verdict.head:
        problem = (f"the file verifies on its own but its head hash is {verdict.head}, not "
                   f"{expected_head.strip()}: it is not the file that was exported")
    if fmt == "json":
        click.echo(json.dumps({"partnership": verdict.partnership, "events": verdict.events,
                               "head": verdict.head, "intact": problem is None,
                               "problem": problem, "line": verdict.line}, indent=2))
    if problem is not None:
        click.echo(f"{file}: {problem}", err=True)
        ctx.exit(1)
    if fmt == "text":
        click.echo(f"verified {verdict.events} events of partnership {verdict.partnership} "
                   f"in {file}: the export's hash chain is intact; head hash {verdict.head}")


@partnership.command("erase")
@click.argument("partnership_id", metavar="PARTNERSHIP")
@click.option("--by", required=True,
              help="the partnership's quality lead who authorises the erasure")
@click.option("--reason", required=True,
              help="the order: its reference, date and who made it. It is kept in the clear "
                   "after the text is gone, so write no names or personal details in it")
@click.option("--yes", is_flag=True, help="yes, erase it: there is no undo")
@click.pass_context
def partnership_erase(ctx: click.Context, partnership_id: str, by: str, reason: str,
                      yes: bool) -> None:
    """Erase a partnership's personal text for good, by destroying its data key (which wraps
    its cases' keys): when it leaves the service, after `partnership export`. Every
    comment, reason, summary, response and child's detail of its cases then reads
    "[erased]"; grades, dates and references remain, and `verify` still passes (no event is
    edited). Only one of the partnership's quality leads may; the erasure is recorded as an
    event (who, when, the order). There is no undo."""
    import time

    from ledger.case_keys import KEY_TTL
    from ledger.personal import ERASED
    from projections.queries import partnership_of

    from .group import Refused

    w = wiring(ctx)
    views = w.fresh_views()
    known = {str(p["partnership"]) for p in views.partnerships()}
    if partnership_id not in known:
        raise Refused([f"partnership {partnership_id!r} is not in this store (it holds: "
                       f"{', '.join(sorted(known)) or 'none yet'})"])
    cmd = c.ErasePartnershipText.model_validate(
        {"partnership": partnership_id, "by": by, "reason": reason})
    if not yes:
        raise Refused([f"erasing partnership {partnership_id}'s text cannot be undone: export "
                       "it first (audit-ledger partnership export), then run this again with "
                       "--yes"])
    programmes = [str(g["programme"]) for g in views.programmes()
                  if partnership_of(g) == partnership_id]
    outcome = w.app.erase_partnership_text(cmd, programmes)
    if outcome.changed:
        # Other processes may use a key they read up to KEY_TTL ago: refold once none can.
        time.sleep(KEY_TTL + 0.1)
    # Refolded again when it was erased before, in case an earlier run stopped before this.
    with w.store.erasing() as problems:
        read = w.follower.rebuild()
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(f"{outcome.message}: its text reads {ERASED} from now on; views rebuilt from "
               f"{read} events. The log is untouched and still verifies. Copies outside the "
               "store (exports, reports, backups) are not reached by this: see \"When an "
               "erasure is final\" in the README.")
