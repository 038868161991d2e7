"""`audit-ledger worker`: the alert, escalation and reminder worker on its own."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from bot.deliver import api_url
from bot.installations import Installations
from bot.lease import lease_for
from bot.worker import POLL, Worker

from .shared import slack_door, wiring
from .slack_setup import (
    BOT_TOKEN,
    CLIENT,
    DIGEST_CHANNEL,
    DIGEST_DIR,
    check_token,
    checked_clock,
    daily_digest,
    log_to_stderr,
    many_workspaces,
    needed,
    services_for,
)


@click.command()
@click.option("--poll", type=click.FloatRange(0.01, 60.0), default=POLL, show_default=True,
              help="seconds between looks at the log")
@click.option("--digest-dir", envvar=DIGEST_DIR, default=None, metavar="DIR",
              help=f"publish a signed digest of the log once a day, a file a day in this "
                   f"folder ({DIGEST_DIR})")
@click.option("--digest-channel", envvar=DIGEST_CHANNEL, default=None, metavar="CHANNEL",
              help=f"also post each day's digest to this Slack channel id, whose history then "
                   f"witnesses it ({DIGEST_CHANNEL}; needs --digest-dir)")
@click.pass_context
def worker(ctx: click.Context, poll: float, digest_dir: str | None,
           digest_channel: str | None) -> None:
    """Run the alert, escalation and reminder worker (for deployments that run it apart from
    `bot serve --no-worker`). Stops on Ctrl-C or SIGTERM."""
    many = many_workspaces(ctx)
    creds = needed(ctx, {"SLACK_CLIENT_ID": CLIENT["SLACK_CLIENT_ID"]} if many else BOT_TOKEN)
    clock = checked_clock(ctx)
    log_to_stderr()
    w = slack_door(wiring(ctx))
    installations = Installations(w.settings, creds["SLACK_CLIENT_ID"]) if many else None
    services = services_for(w, creds.get("SLACK_BOT_TOKEN", ""), clock,
                            installations=installations)
    if not many:
        check_token(ctx, services, api_url())
    daily = daily_digest(ctx, w, services, digest_dir, digest_channel)
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    click.echo(f"Alert and reminder worker on {w.settings.describe()}. Ctrl-C to stop.",
               err=True)
    try:
        Worker(services, poll=poll, lease=lease_for(w.settings), daily=daily).run(stop)
    finally:
        services.close()
        if installations is not None:
            installations.close()
