"""Posting and updating messages, modals and Home tabs through the Slack Web API (slack_sdk)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from .words import ENGLAND, zone_named

log = logging.getLogger(__name__)

ZONE_KEPT = 6 * 3600.0
"""Seconds a reader's time zone is remembered before Slack is asked again (people travel)."""

DEFAULT_API_URL = "https://slack.com/api/"
Blocks = list[dict[str, Any]]


def api_url(value: str | None = None) -> str:
    """The Web API base URL (SLACK_API_URL), always ending in a slash as slack_sdk needs."""
    url = (value if value is not None else os.environ.get("SLACK_API_URL", "")) or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def make_client(token: str, base_url: str | None = None, timeout: int = 10) -> WebClient:
    """A Web API client that waits out rate limits (429 Retry-After) and retries 5xx and lost
    connections a few times with backoff; without a token, one that only knows where Slack is
    (serving many workspaces, each call gets its workspace's token)."""
    return WebClient(
        token=token or None,
        base_url=api_url(base_url),
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def slack_error(e: Exception) -> str:
    """A Slack failure named for logs and people: the API's error code, never the request."""
    if isinstance(e, SlackApiError):
        code = e.response.get("error") if e.response is not None else None
        status = e.response.status_code if e.response is not None else "?"
        return f"{code or 'error'} (HTTP {status})"
    return type(e).__name__


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class NotInstalled(Exception):
    """The app is not installed in the workspace a message is for (multi-workspace mode)."""

    def __init__(self, team: str) -> None:
        super().__init__(f"the app is not installed in workspace {team or '(none linked)'}")
        self.team = team


class Deliverer:
    """Every call the bot makes to Slack, in one place.

    With one bot token (the default) every workspace is the token's. Serving many workspaces,
    `tokens` gives a workspace's bot token (from the installations), and `in_team` the
    deliverer that speaks there.
    """

    def __init__(self, client: WebClient, tokens: Callable[[str], str] | None = None) -> None:
        self.client = client
        self.tokens = tokens
        self._dm: dict[str, str] = {}
        self._teams: dict[str, Deliverer] = {}
        self._lock = threading.Lock()
        self._zones: dict[str, tuple[float, tzinfo]] = {}
        self._zones_lock = threading.Lock()

    def in_team(self, team: str) -> Deliverer:
        """The deliverer for a workspace: this one with one bot token; else one with the bot
        token of the workspace's installation (NotInstalled when there is none)."""
        if self.tokens is None:
            return self
        token = self.tokens(team) if team else ""
        if not token:
            raise NotInstalled(team)
        with self._lock:
            found = self._teams.get(team)
            if found is None or found.client.token != token:  # a reinstall gives a new token
                found = Deliverer(make_client(token, self.client.base_url))
                self._teams[team] = found
            return found

    def zone(self, slack_user: str) -> tzinfo:
        """The reader's own time zone, as their Slack profile says (users.info `tz`); England's
        when Slack does not say or cannot be asked (a moment is then still right, in UK time)."""
        if not slack_user or self.tokens is not None:  # serving many: asked of a workspace's
            return ENGLAND
        now = time.monotonic()
        with self._zones_lock:
            known = self._zones.get(slack_user)
        if known is not None and now - known[0] < ZONE_KEPT:
            return known[1]
        try:
            user = self.client.users_info(user=slack_user).get("user") or {}
            zone = zone_named(str(user.get("tz") or ""))
        except Exception as e:  # noqa: BLE001 - a time in UK time is better than no message
            log.info("no time zone for a reader (%s); telling UK time", slack_error(e))
            zone = ENGLAND
        with self._zones_lock:
            self._zones[slack_user] = (now, zone)
        return zone

    def dm_channel(self, slack_user: str) -> str:
        if slack_user not in self._dm:
            resp = self.client.conversations_open(users=slack_user)
            self._dm[slack_user] = str(resp["channel"]["id"])
        return self._dm[slack_user]

    def post(self, channel: str, text: str, blocks: Blocks) -> Posted:
        resp = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                            unfurl_links=False, unfurl_media=False)
        return Posted(str(resp["channel"]), str(resp["ts"]))

    def dm(self, slack_user: str, text: str, blocks: Blocks) -> Posted:
        return self.post(self.dm_channel(slack_user), text, blocks)

    def update(self, channel: str, ts: str, text: str, blocks: Blocks) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(self, channel: str, slack_user: str, text: str, blocks: Blocks | None = None
                  ) -> None:
        self.client.chat_postEphemeral(channel=channel, user=slack_user, text=text,
                                       blocks=blocks or [])

    def open_modal(self, trigger_id: str, view: dict[str, Any]) -> None:
        self.client.views_open(trigger_id=trigger_id, view=view)

    def publish_home(self, slack_user: str, view: dict[str, Any]) -> None:
        self.client.views_publish(user_id=slack_user, view=view)
