"""`person add|grant|revoke|manager|link-slack|list`: the people directory."""

from __future__ import annotations

import click

from ledger import commands as c

from .group import Refused
from .shared import BY, FORMAT, act, emit, wiring


@click.group()
def person() -> None:
    """Add people to the directory, change their roles, manager and Slack link."""


def _slack_free(ctx: click.Context, slack_user: str | None, person_id: str) -> None:
    """One Slack user stands for one person: the directory view says who holds it now."""
    if not slack_user:
        return
    holder = wiring(ctx).fresh_views().person_by_slack(slack_user)
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
    act(ctx, c.RegisterPerson, "register_person", person=person_id, agency=agency, name=name,
        roles=list(roles), manager=manager, slack_user=slack_user, by=by)


@person.command("grant")
@click.argument("person_id", metavar="PERSON")
@click.option("--role", required=True)
@BY
@click.pass_context
def person_grant(ctx: click.Context, person_id: str, role: str, by: str) -> None:
    """Grant a role."""
    act(ctx, c.ChangeRole, "grant_role", person=person_id, role=role, by=by)


@person.command("revoke")
@click.argument("person_id", metavar="PERSON")
@click.option("--role", required=True)
@BY
@click.pass_context
def person_revoke(ctx: click.Context, person_id: str, role: str, by: str) -> None:
    """Revoke a role."""
    act(ctx, c.ChangeRole, "revoke_role", person=person_id, role=role, by=by)


@person.command("manager")
@click.argument("person_id", metavar="PERSON")
@click.option("--manager", required=True)
@BY
@click.pass_context
def person_manager(ctx: click.Context, person_id: str, manager: str, by: str) -> None:
    """Set who manages a person (their feedback is copied to them)."""
    act(ctx, c.AssignManager, "assign_manager", person=person_id, manager=manager, by=by)


@person.command("link-slack")
@click.argument("person_id", metavar="PERSON")
@click.option("--slack-user", required=True, help="their Slack user id, e.g. U0123ABCD")
@BY
@click.pass_context
def person_link_slack(ctx: click.Context, person_id: str, slack_user: str, by: str) -> None:
    """Link a person to their Slack user, so the bot knows who they are."""
    _slack_free(ctx, slack_user, person_id)
    act(ctx, c.LinkSlackUser, "link_slack_user", person=person_id, slack_user=slack_user, by=by)


@person.command("list")
@FORMAT
@click.pass_context
def person_list(ctx: click.Context, fmt: str) -> None:
    """The directory: agency, roles, manager, Slack link."""
    rows = wiring(ctx).fresh_views().people()
    emit(rows, fmt, lambda rows: "".join(
        f"{p['person']}  {p['agency']}  {', '.join(p['roles']) or '-'}  manager "
        f"{p['manager'] or '-'}  slack {p['slack_user'] or '-'}\n" for p in rows) or "Nobody.\n")
