"""`person add|grant|revoke|manager|link-slack|link-os-user|unlink-os-user|list`: the people
directory."""

from __future__ import annotations

import click

from ledger import commands as c

from .group import Refused
from .shared import BY, FORMAT, PARTNERSHIP, act, chosen_partnership, emit, wiring


@click.group()
def person() -> None:
    """Add people to the directory, change their roles, manager, Slack link and
    operating-system account."""


def _slack_free(ctx: click.Context, slack_user: str | None, person_id: str,
                partnership: str) -> None:
    """One Slack user stands for one person in a partnership (the same real person may be
    registered in several): the directory view says who holds it now."""
    if not slack_user:
        return
    holder = wiring(ctx).fresh_views().person_by_slack(slack_user, partnership)
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
@PARTNERSHIP
@click.pass_context
def person_add(ctx: click.Context, person_id: str, agency: str, name: str,
               roles: tuple[str, ...], manager: str | None, slack_user: str | None,
               by: str, partnership: str | None) -> None:
    """Add a person to the directory (quality leads)."""
    within = chosen_partnership(ctx, partnership)
    _slack_free(ctx, slack_user, person_id, within)
    act(ctx, c.RegisterPerson, "register_person", person=person_id, agency=agency, name=name,
        roles=list(roles), manager=manager, slack_user=slack_user, by=by, partnership=within)


@person.command("grant")
@click.argument("person_id", metavar="PERSON")
@click.option("--role", required=True)
@BY
@PARTNERSHIP
@click.pass_context
def person_grant(ctx: click.Context, person_id: str, role: str, by: str,
                 partnership: str | None) -> None:
    """Grant a role."""
    act(ctx, c.ChangeRole, "grant_role", person=person_id, role=role, by=by,
        partnership=chosen_partnership(ctx, partnership))


@person.command("revoke")
@click.argument("person_id", metavar="PERSON")
@click.option("--role", required=True)
@BY
@PARTNERSHIP
@click.pass_context
def person_revoke(ctx: click.Context, person_id: str, role: str, by: str,
                  partnership: str | None) -> None:
    """Revoke a role."""
    act(ctx, c.ChangeRole, "revoke_role", person=person_id, role=role, by=by,
        partnership=chosen_partnership(ctx, partnership))


@person.command("manager")
@click.argument("person_id", metavar="PERSON")
@click.option("--manager", required=True)
@BY
@PARTNERSHIP
@click.pass_context
def person_manager(ctx: click.Context, person_id: str, manager: str, by: str,
                   partnership: str | None) -> None:
    """Set who manages a person (their feedback is copied to them)."""
    act(ctx, c.AssignManager, "assign_manager", person=person_id, manager=manager, by=by,
        partnership=chosen_partnership(ctx, partnership))


@person.command("link-slack")
@click.argument("person_id", metavar="PERSON")
@click.option("--slack-user", required=True, help="their Slack user id, e.g. U0123ABCD")
@BY
@PARTNERSHIP
@click.pass_context
def person_link_slack(ctx: click.Context, person_id: str, slack_user: str, by: str,
                      partnership: str | None) -> None:
    """Link a person to their Slack user, so the bot knows who they are."""
    within = chosen_partnership(ctx, partnership)
    _slack_free(ctx, slack_user, person_id, within)
    act(ctx, c.LinkSlackUser, "link_slack_user", person=person_id, slack_user=slack_user, by=by,
        partnership=within)


@person.command("link-os-user")
@click.argument("person_id", metavar="PERSON")
@click.argument("os_user", metavar="OS_USER")
@BY
@PARTNERSHIP
@click.pass_context
def person_link_os_user(ctx: click.Context, person_id: str, os_user: str, by: str,
                        partnership: str | None) -> None:
    """Bind a person to their operating-system account: from then on the console takes
    --by PERSON only from commands run as OS_USER (quality leads)."""
    act(ctx, c.LinkOsUser, "link_os_user", person=person_id, os_user=os_user, by=by,
        partnership=chosen_partnership(ctx, partnership))


@person.command("unlink-os-user")
@click.argument("person_id", metavar="PERSON")
@BY
@PARTNERSHIP
@click.pass_context
def person_unlink_os_user(ctx: click.Context, person_id: str, by: str,
                          partnership: str | None) -> None:
    """Undo a person's binding to an operating-system account (recorded, like the binding):
    the console takes --by PERSON at its word again (quality leads)."""
    act(ctx, c.UnlinkOsUser, "unlink_os_user", person=person_id, by=by,
        partnership=chosen_partnership(ctx, partnership))


def account_words(account: str) -> str:
    """A bound account as people say it: its name, with its user id on this machine (or
    that this machine has no such account)."""
    try:
        import pwd
    except ImportError:  # not a POSIX system: the name as bound
        return account
    try:
        if account.isdigit():
            return f"{pwd.getpwuid(int(account)).pw_name} (uid {account})"
        return f"{account} (uid {pwd.getpwnam(account).pw_uid})"
    except KeyError:
        return f"{account} (no such account on this machine)"


@person.command("list")
@FORMAT
@PARTNERSHIP
@click.pass_context
def person_list(ctx: click.Context, fmt: str, partnership: str | None) -> None:
    """One partnership's directory: agency, roles, manager, Slack link, and the
    operating-system account a person is bound to (person link-os-user)."""
    within = chosen_partnership(ctx, partnership)
    w = wiring(ctx)
    rows = [{k: v for k, v in p.items() if k != "partnership"}
            for p in w.fresh_views().people(within)]
    for row in rows:  # the binding is in the log, not the views: one read a person
        bound = w.app.person(str(row["person"]), within).os_user
        if bound:
            row["os_user"] = bound
    emit(rows, fmt, lambda rows: "".join(
        f"{p['person']}  {p['agency']}  {', '.join(p['roles']) or '-'}  manager "
        f"{p['manager'] or '-'}  slack {p['slack_user'] or '-'}"
        + (f"  os account {account_words(p['os_user'])}" if p.get("os_user") else "")
        + "\n" for p in rows) or "Nobody.\n")
