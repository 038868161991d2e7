"""`audit-ledger bot serve|socket|try`: the Slack front door, wired to the configured store."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Callable
from typing import Any

import click
from slack_sdk.errors import SlackApiError

from bot.app import build_app, quiet_bolt_logger
from bot.deliver import api_url
from bot.lease import lease_for
from bot.worker import Worker
from projections.queries import person_key

from .serving import MOST_WORKERS, ServingApp, default_workers, health, slack_app
from .shared import PARTNERSHIP, chosen_partnership, slack_door, wiring
from .slack_setup import (
    APP_TOKEN,
    BOT_TOKEN,
    CLIENT,
    SIGNING_SECRET,
    check_token,
    checked_clock,
    daily_digest,
    log_to_stderr,
    many_workspaces,
    needed,
    refuse,
    services_for,
)


@click.group()
def bot() -> None:
    """The Slack app: serve it over HTTP, over Socket Mode, or try it in this terminal."""


@bot.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (0.0.0.0 for every interface)")
@click.option("--port", type=int, default=3000, show_default=True, envvar="PORT",
              help="port to listen on (PORT)")
@click.option("--no-worker", is_flag=True,
              help="do not run the alert and reminder worker in this process (run "
                   "`audit-ledger worker` elsewhere)")
@click.option("--workers", type=click.IntRange(1, 64), default=None, envvar="WEB_CONCURRENCY",
              help="processes answering requests on the one port (WEB_CONCURRENCY; default: "
                   f"one per CPU but one, at least 1, at most {MOST_WORKERS}); the alert worker "
                   "runs once, whatever the number")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_worker: bool,
          workers: int | None) -> None:
    """Serve the Slack app: POST /slack/events (commands, buttons, forms, events), GET /healthz."""
    from bot.installations import Installations
    from bot.server import EVENTS_PATH, asgi_app
    from bot.server import serve as run_server

    many = many_workspaces(ctx)
    creds = needed(ctx, {**(CLIENT if many else BOT_TOKEN), **SIGNING_SECRET})
    clock = checked_clock(ctx)
    log_to_stderr()
    w = slack_door(wiring(ctx))
    url = api_url()
    installations = Installations(w.settings, creds["SLACK_CLIENT_ID"]) if many else None
    services = services_for(w, creds.get("SLACK_BOT_TOKEN", ""), clock,
                            installations=installations)
    if not many:
        check_token(ctx, services, url)
    processes = workers or default_workers()

    worker = None if no_worker else Worker(services, lease=lease_for(w.settings),
                                           daily=daily_digest(ctx, w, services))
    app: Any
    if processes == 1:
        bolt = slack_app(services, creds["SLACK_SIGNING_SECRET"], installations,
                         creds.get("SLACK_CLIENT_SECRET", ""),
                         os.environ.get("SLACK_REDIRECT_URI", ""))
        app = asgi_app(bolt, health(w, worker is not None))
    else:  # each worker process builds its own; this one binds the port and runs the worker
        root = ctx.find_root().ensure_object(dict)
        app = ServingApp(url=root.get("url"), key=root.get("key"),
                         token=creds.get("SLACK_BOT_TOKEN", ""),
                         signing_secret=creds["SLACK_SIGNING_SECRET"], base_url=url,
                         with_worker=worker is not None,
                         client_id=creds.get("SLACK_CLIENT_ID", ""),
                         client_secret=creds.get("SLACK_CLIENT_SECRET", ""),
                         redirect_uri=os.environ.get("SLACK_REDIRECT_URI", ""),
                         workspace=services.directory.workspace)

    background: list[Callable[[Any], None]] = []
    if worker is not None:
        background.append(worker.run)
    click.echo(f"Serving the Slack app on http://{host}:{port}{EVENTS_PATH} (health: /healthz); "
               f"events in {w.settings.describe()}; "
               f"{processes} serving process{'' if processes == 1 else 'es'}; "
               f"{'no worker' if no_worker else 'with the alert and reminder worker'}"
               f"{install_note(host, port) if many else ''}. Ctrl-C to stop.", err=True)
    try:
        run_server(app, host, port, background, workers=processes)
    finally:
        services.close()
        if installations is not None:
            installations.close()


def install_note(host: str, port: int) -> str:
    from bot.workspaces import INSTALL_PATH, REDIRECT_PATH

    return (f"; serving every workspace that installs the app: install page "
            f"http://{host}:{port}{INSTALL_PATH}, redirect URL {REDIRECT_PATH}")


@bot.command()
@click.option("--no-worker", is_flag=True,
              help="do not run the alert and reminder worker in this process (run "
                   "`audit-ledger worker` elsewhere)")
@click.pass_context
def socket(ctx: click.Context, no_worker: bool) -> None:
    """Run the Slack app over Socket Mode (no public URL needed). Stops on Ctrl-C or SIGTERM."""
    import signal
    import threading
    from types import FrameType

    from slack_bolt.adapter.socket_mode import SocketModeHandler

    creds = needed(ctx, {**APP_TOKEN, **BOT_TOKEN})
    if not creds["SLACK_APP_TOKEN"].startswith("xapp-"):
        refuse(ctx, "SLACK_APP_TOKEN does not look like an app-level token (it starts with "
                    "xapp-); the bot token (xoxb-) goes in SLACK_BOT_TOKEN")
    clock = checked_clock(ctx)
    log_to_stderr()
    w = slack_door(wiring(ctx))
    url = api_url()
    services = services_for(w, creds["SLACK_BOT_TOKEN"], clock)
    check_token(ctx, services, url)
    bolt = build_app(services, client=services.deliver.client,
                     signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or "unused-in-socket-mode")
    stop = threading.Event()
    background: list[threading.Thread] = []
    if not no_worker:
        worker = Worker(services, lease=lease_for(w.settings),
                        daily=daily_digest(ctx, w, services))
        background.append(threading.Thread(target=worker.run, args=(stop,), daemon=True,
                                           name="alert-worker"))
        background[0].start()
    click.echo(f"Connecting to Slack over Socket Mode; events in {w.settings.describe()}. "
               "Ctrl-C to stop.", err=True)
    handler: SocketModeHandler | None = None

    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Both, explicitly: a process started in the background (`nohup ... &`, some supervisors)
    # inherits SIGINT ignored, and a service manager stops with SIGTERM; either way the
    # connection is closed and the worker finishes its message before the store closes.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        handler = SocketModeHandler(bolt, creds["SLACK_APP_TOKEN"])
        handler.start()
    except KeyboardInterrupt:
        pass
    except SlackApiError as e:
        code = e.response.get("error") if e.response is not None else "error"
        refuse(ctx, f"Slack refused SLACK_APP_TOKEN ({code}): check the app-level token and "
                    "that Socket Mode is turned on for the app")
    finally:
        stop.set()
        if handler is not None:  # its socket and message threads would hold the process open
            handler.close()
        for thread in background:  # as `bot serve` does: the worker stops before its store closes
            thread.join(timeout=5)
        services.close()


@bot.command("try")
@click.option("--as", "person_id", required=True, metavar="PERSON",
              help="the person you are (their directory id)")
@PARTNERSHIP
@click.pass_context
def try_command(ctx: click.Context, person_id: str, partnership: str | None) -> None:
    """Try the Slack app in this terminal as PERSON, against a stand-in for Slack on this machine.

    Type /audit commands, press the buttons of the messages you receive, fill in forms. What
    you do is recorded in the configured ledger, as it would be from Slack.
    """
    from bot.console import Console
    from bot.standin import StandIn

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    quiet_bolt_logger()
    clock = checked_clock(ctx)
    w = wiring(ctx)
    views = w.fresh_views()
    within = chosen_partnership(ctx, partnership)
    person = views.person(person_id, within)
    if person is None:
        known = sorted(p["person"] for p in views.people(within))
        hint = (f"; people: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''}" if known
                else "; the directory is empty: load an audit first (audit-ledger demo)")
        refuse(ctx, f"--as: no person {person_id!r} in the directory{hint}")
        return
    w.app.acting(person_id, within)  # a person bound to an account is tried only from it
    slack_user = person.get("slack_user") or ""
    extra = {}
    if not slack_user:
        slack_user = "U0TRY" + secrets.token_hex(3).upper()
        extra[slack_user] = person_key(person)
    standin = StandIn()
    standin.start()
    token = "xoxb-try-" + secrets.token_hex(8)
    signing_secret = secrets.token_hex(16)
    services = services_for(w, token, clock, standin.api_url, extra)
    bolt = build_app(services, signing_secret=signing_secret, client=services.deliver.client)
    console = Console(services, bolt, standin, person, slack_user, signing_secret,
                      sys.stdin, sys.stdout)
    try:
        code = console.run()
    except KeyboardInterrupt:
        code = 0
    finally:
        services.wait_idle(timeout=5)
        services.close()
        standin.stop()
    ctx.exit(code)
