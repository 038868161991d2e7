"""`partnership add|list|link-slack`: the partnerships one store serves, each with its own
directory and, when it uses Slack, its workspace."""

from __future__ import annotations

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
