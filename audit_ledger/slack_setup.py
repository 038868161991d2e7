"""What `bot` and `worker` share: Slack credentials, logging, the clock, the bot's services, the token."""

from __future__ import annotations

import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

import click
from slack_sdk.errors import SlackApiError

from bot.app import quiet_bolt_logger
from bot.clock import Clock, FixedClock, SystemClock
from bot.deliver import Deliverer, make_client
from bot.digests import DailyDigest, slack_poster
from bot.directory import Directory
from bot.installations import Installations
from bot.services import BotServices

from .wiring import Wiring

BOT_TOKEN = {"SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) from your Slack app's "
                                "OAuth & Permissions page"}
SIGNING_SECRET = {"SLACK_SIGNING_SECRET": "the Signing Secret from your Slack app's Basic "
                                          "Information page"}
CLIENT = {"SLACK_CLIENT_ID": "the Client ID from your Slack app's Basic Information page (App "
                             "Credentials)",
          "SLACK_CLIENT_SECRET": "the Client Secret from your Slack app's Basic Information page "
                                 "(App Credentials)"}
APP_TOKEN = {"SLACK_APP_TOKEN": "an app-level token (xapp-...) with the connections:write scope, "
                                "from your Slack app's Basic Information page, for Socket Mode"}


def refuse(ctx: click.Context, *lines: str) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    ctx.exit(2)


def needed(ctx: click.Context, names: dict[str, str]) -> dict[str, str]:
    """The named environment variables, or a refusal naming each one missing."""
    values = {n: os.environ.get(n, "").strip() for n in names}
    missing = [f"{n} is not set: {why}" for n, why in names.items() if not values[n]]
    if missing:
        refuse(ctx, *missing)
    return values


def many_workspaces(ctx: click.Context) -> bool:
    """Whether the app serves every workspace that installs it (SLACK_CLIENT_ID set) rather
    than the one workspace of SLACK_BOT_TOKEN (the default); both set is refused, as it cannot
    be told which was meant."""
    if not os.environ.get("SLACK_CLIENT_ID", "").strip():
        return False
    if os.environ.get("SLACK_BOT_TOKEN", "").strip():
        refuse(ctx, "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: set SLACK_BOT_TOKEN to "
                    "serve one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to serve "
                    "every workspace that installs the app, not both")
    return True


def log_to_stderr(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_bolt_logger()


CLOCK = "AUDIT_LEDGER_CLOCK"


def clock_from_environment() -> Clock:
    """The bot's and the worker's day: today in England, or the day AUDIT_LEDGER_CLOCK fixes
    (YYYY-MM-DD), for trying and testing, so what falls due never depends on when they run.
    A value that is not a date raises ValueError, saying so."""
    text = os.environ.get(CLOCK, "").strip()
    if not text:
        return SystemClock()
    try:
        return FixedClock(date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{CLOCK} is not a date: write it as YYYY-MM-DD (for example "
                         "2026-04-02), or unset it for today") from None


def checked_clock(ctx: click.Context) -> Clock:
    """The clock from the environment, or a refusal saying what is wrong with it."""
    try:
        return clock_from_environment()
    except ValueError as e:
        refuse(ctx, str(e))


def services_for(w: Wiring, token: str, clock: Clock, base_url: str | None = None,
                 extra: dict[str, str] | None = None,
                 installations: Installations | None = None) -> BotServices:
    """The bot's services: with one bot token, or (given the installations, serving many
    workspaces) with the token of each workspace's installation."""
    client = make_client(token, base_url)
    tokens = installations.bot_token if installations is not None else None
    return BotServices(app=w.app, views=w.views, follower=w.follower,
                       deliver=Deliverer(client, tokens),
                       directory=Directory(w.views, extra, any_workspace=tokens is None),
                       clock=clock)


def check_token(ctx: click.Context, services: BotServices, url: str) -> None:
    """auth.test before anything else: a wrong token is said plainly, and nothing starts."""
    try:
        said = services.deliver.client.auth_test()
        services.directory.workspace = str(said.get("team_id") or "")
    except SlackApiError as e:
        code = e.response.get("error") if e.response is not None else "error"
        refuse(ctx, f"Slack refused SLACK_BOT_TOKEN ({code}): check the Bot User OAuth Token "
                    "on your Slack app's OAuth & Permissions page (it starts with xoxb-)")
    except Exception as e:  # noqa: BLE001 - network and the like: say what and where
        refuse(ctx, f"could not reach Slack at {url} to check SLACK_BOT_TOKEN "
                    f"({type(e).__name__}); check SLACK_API_URL and the network")


DIGEST_DIR = "AUDIT_LEDGER_DIGEST_DIR"
DIGEST_CHANNEL = "AUDIT_LEDGER_DIGEST_CHANNEL"


def daily_digest(ctx: click.Context, w: Wiring, services: BotServices,
                 folder: str | None = None, channel: str | None = None) -> DailyDigest | None:
    """The worker's daily digest, when a folder is given (--digest-dir, else
    AUDIT_LEDGER_DIGEST_DIR), posted also to a Slack channel when one is (--digest-channel,
    else AUDIT_LEDGER_DIGEST_CHANNEL); None when no folder is. Refused in words, before
    anything starts, when it could not be published."""
    folder = (folder if folder is not None else os.environ.get(DIGEST_DIR, "")).strip()
    channel = (channel if channel is not None else os.environ.get(DIGEST_CHANNEL, "")).strip()
    if not folder:
        if channel:
            refuse(ctx, f"{DIGEST_CHANNEL} (--digest-channel) needs {DIGEST_DIR} "
                        "(--digest-dir) too: the folder keeps each day's digest and records "
                        "that the day's message was posted")
        return None
    if channel and services.deliver.tokens is not None:
        refuse(ctx, f"{DIGEST_CHANNEL} needs SLACK_BOT_TOKEN: serving every workspace that "
                    "installs the app, it cannot be told which workspace the channel is in")
    path = Path(folder).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        refuse(ctx, f"{DIGEST_DIR} {path}: the folder cannot be made "
                    f"({(e.strerror or type(e).__name__).lower()})")
    if not os.access(path, os.W_OK | os.X_OK):
        refuse(ctx, f"{DIGEST_DIR} {path}: this process cannot write there")
    return DailyDigest(w.app.recorder, getattr(w.app.recorder, "signer", None), path,
                       slack_poster(services.deliver.client), channel)
