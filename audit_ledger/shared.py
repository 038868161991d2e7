"""What the command modules share: the store's wiring, the common options, text or JSON out, one act."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from projections.inert import for_terminal

from .wiring import Reading, Wiring, wire, wire_reading

if TYPE_CHECKING:
    from ledger.commands import Command

C = TypeVar("C", bound="Command")

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="text for people, json for scripts")
BY = click.option("--by", required=True, help="the person acting (their directory id)")
ON = click.option("--on", "occurred_on", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="the date it happened in the world (default: today)")
PARTNERSHIP = click.option("--partnership", default=None, metavar="P",
                           help="whose directory (needed only when the store holds several)")
TODAY = click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="count overdue days against this date (default: today)")



def _remember(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[f"audit_ledger.{param.name}"] = value


def ALLOW(f: Callable[..., Any]) -> Callable[..., Any]:  # noqa: N802 - reads as the options
    """--allow-identifiers REASON [--allowed-by QUALITY-LEAD] on a command that takes free text;
    `act` passes them on, and the ledger records who allowed it and why."""
    f = click.option("--allowed-by", default=None, expose_value=False, callback=_remember,
                     help="the quality lead allowing it (default: --by)")(f)
    return click.option("--allow-identifiers", default=None, expose_value=False,
                        callback=_remember, metavar="REASON",
                        help="a quality lead lets text holding what looks like an NHS number, "
                             "postcode, date of birth... through, for this reason")(f)


def wiring(ctx: click.Context) -> Wiring:
    """The store, ledger and views of this run, opened once on first use (from --url and
    --key on the root command) and closed when the command ends."""
    obj = ctx.find_root().ensure_object(dict)
    if "wiring" not in obj:
        obj["wiring"] = wire(obj.get("url"), obj.get("key"))
        obj["wiring"].app.console_user = os_account()
        ctx.call_on_close(obj["wiring"].close)
    return obj["wiring"]  # type: ignore[no-any-return]


def slack_door(w: Wiring) -> Wiring:
    """The wiring of a process that serves Slack: Slack's signed requests say who acts, so
    the console's operating-system account binds nobody there."""
    w.app.console_user = None
    return w


def os_account() -> str:
    """The operating-system account this command runs as, from the process's user id (never
    from USER or LOGNAME, which anyone can set); a person bound to an account is acted for
    at the console only from it."""
    import os

    try:
        import pwd
    except ImportError:  # not a POSIX system
        import getpass

        return getpass.getuser()
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a user id with no name (some containers): the number itself
        return str(os.geteuid())


def reading(ctx: click.Context) -> Reading | Wiring:
    """The views of this run for a command that only reads them: the wiring when this run
    already opened it, else the views without the ledger's command handlers."""
    obj = ctx.find_root().ensure_object(dict)
    if "wiring" in obj:
        return obj["wiring"]  # type: ignore[no-any-return]
    if "reading" not in obj:
        obj["reading"] = wire_reading(obj.get("url"), obj.get("key"))
        ctx.call_on_close(obj["reading"].close)
    return obj["reading"]  # type: ignore[no-any-return]


def say(text: str, nl: bool = True, err: bool = False) -> None:
    """Write to the terminal (or the file it is sent to) with people's text in it: control
    characters shown, never obeyed (`projections.inert.for_terminal`)."""
    click.echo(for_terminal(text), nl=nl, err=err)


def emit(data: Any, fmt: str, text: Callable[[Any], str]) -> None:
    if fmt == "json":
        say(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        say(text(data), nl=False)


def day(value: datetime | None) -> date | None:
    return value.date() if value else None


def act(ctx: click.Context, cls: type[C], method: str, **fields: Any) -> None:
    """Carry out one command, say what it did, and bring the views up to date."""
    for name in ("allow_identifiers", "allowed_by"):
        fields.setdefault(name, ctx.meta.get(f"audit_ledger.{name}"))
    cmd = cls.model_validate({k: v for k, v in fields.items() if v is not None})
    w = wiring(ctx)
    say(getattr(w.app, method)(cmd).message)
    w.follower.catch_up()


def chosen_partnership(ctx: click.Context, given: str | None) -> str:
    """The partnership a directory command acts in: the one named, else the store's only one
    (the default one in a store that holds none yet)."""
    from ledger.ids import DEFAULT_PARTNERSHIP

    from .group import Refused

    held = [str(p["partnership"]) for p in wiring(ctx).fresh_views().partnerships()]
    if given:
        if given != DEFAULT_PARTNERSHIP and given not in held:
            raise Refused([f"--partnership: no partnership {given!r} in this store"
                           + (f"; partnerships: {', '.join(held)}" if held else "")
                           + " (audit-ledger partnership add registers one)"])
        return given
    if len(held) > 1:
        raise Refused([f"--partnership: this store holds several partnerships "
                       f"({', '.join(held)}); say whose directory this is"])
    return held[0] if held else DEFAULT_PARTNERSHIP
