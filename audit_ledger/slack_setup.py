"""What `bot` and `worker` share: Slack credentials, logging, the bot's services, the token checked."""

from __future__ import annotations

import logging
import os
import sys

import click
from slack_sdk.errors import SlackApiError

from bot.app import quiet_bolt_logger
from bot.deliver import Deliverer, make_client
from bot.directory import Directory
from bot.services import BotServices

from .wiring import Wiring

BOT_TOKEN = {"SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) from your Slack app's "
                                "OAuth & Permissions page"}
SIGNING_SECRET = {"SLACK_SIGNING_SECRET": "the Signing Secret from your Slack app's Basic "
                                          "Information page"}
APP_TOKEN = {"SLACK_APP_TOKEN": "an app-level token (xapp-...) with the connections:write scope, "
                                "from your Slack app's Basic Information page, for Socket Mode"}


def refuse(ctx: click.Context, *lines: str) -> None:
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


def log_to_stderr(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_bolt_logger()


def services_for(w: Wiring, token: str, base_url: str | None = None,
                 extra: dict[str, str] | None = None) -> BotServices:
    client = make_client(token, base_url)
    return BotServices(app=w.app, views=w.views, follower=w.follower,
                       deliver=Deliverer(client), directory=Directory(w.views, extra))


def check_token(ctx: click.Context, services: BotServices, url: str) -> None:
    """auth.test before anything else: a wrong token is said plainly, and nothing starts."""
    try:
        services.deliver.client.auth_test()
    except SlackApiError as e:
        code = e.response.get("error") if e.response is not None else "error"
        refuse(ctx, f"Slack refused SLACK_BOT_TOKEN ({code}): check the Bot User OAuth Token "
                    "on your Slack app's OAuth & Permissions page (it starts with xoxb-)")
    except Exception as e:  # noqa: BLE001 - network and the like: say what and where
        refuse(ctx, f"could not reach Slack at {url} to check SLACK_BOT_TOKEN "
                    f"({type(e).__name__}); check SLACK_API_URL and the network")
