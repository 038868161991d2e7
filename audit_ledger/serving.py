"""`bot serve`'s processes: how many by default, what each one builds, and what /healthz says."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App

from bot.app import build_app
from bot.installations import Installations
from bot.services import BotServices
from bot.worker import TRACKING_NAME as WORKER_TRACKING

from .slack_setup import clock_from_environment, log_to_stderr, services_for
from .wiring import Wiring, wire

log = logging.getLogger("bot")

MOST_WORKERS = 4
STARTUP_FAILURE = 3
"""The exit code with which a serving process tells uvicorn's supervisor that it could not
start (so the supervisor stops, rather than starting it again and again)."""


def default_workers() -> int:
    """Serving processes by default: one for each CPU this process may run on but one, left
    for the rest of the host (the store, the alert worker, a proxy); at least one, at most
    MOST_WORKERS (each holds its own store connections and memory). A process answers on one
    CPU at a time, so more processes than free CPUs only take turns: on a 2-CPU host shared
    with the store, one process answered 50 concurrent clients with a tighter p99 than two."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus - 1, MOST_WORKERS))


def health(w: Wiring, with_worker: bool) -> Callable[[], tuple[bool, dict[str, Any]]]:
    """What /healthz says: the log's head and the views' position (and the worker's, when
    this `bot serve` runs the worker), read from the store."""
    def answer() -> tuple[bool, dict[str, Any]]:
        detail: dict[str, Any] = {"log_head": w.follower.head(),
                                  "views_position": w.follower.position()}
        if with_worker:
            detail["worker_position"] = w.store.positions().get(WORKER_TRACKING, 0)
        return True, detail
    return answer


def slack_app(services: BotServices, signing_secret: str, installations: Installations | None,
              client_secret: str = "", redirect_uri: str = "") -> App:
    """The Bolt app: for the one workspace of the services' bot token, or, given the
    installations, for every workspace that installs it (with its install pages)."""
    oauth = None
    if installations is not None:
        from bot.workspaces import oauth_settings

        oauth = oauth_settings(installations, client_id=installations.client_id,
                               client_secret=client_secret,
                               api_url=str(services.deliver.client.base_url),
                               redirect_uri=redirect_uri or None)
    return build_app(services, signing_secret=signing_secret, client=services.deliver.client,
                     oauth=oauth)


@dataclass(frozen=True)
class ServingApp:
    """Builds the HTTP app in each worker process of `bot serve --workers N`: its own store
    connections, views follower, Slack client and Bolt app. Sent to each worker (started
    afresh, not forked), so it holds only what they need to build them."""

    url: str | None = field(repr=False)  # a PostgreSQL URL may hold a password
    key: str | None = field(repr=False)
    token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    base_url: str = ""
    with_worker: bool = False
    client_id: str = ""
    """Set when serving every workspace that installs the app (then `token` is empty)."""
    client_secret: str = field(default="", repr=False)
    redirect_uri: str = ""
    workspace: str = ""
    """The one bot token's workspace, as Slack told the parent (auth.test)."""

    def __call__(self) -> Any:
        from bot.server import asgi_app

        log_to_stderr()
        try:
            w = wire(self.url, self.key)
            installations = Installations(w.settings, self.client_id) if self.client_id \
                else None
        except Exception as e:  # noqa: BLE001 - say what, not a trace; the parent stops
            log.error("a serving process could not open the store (%s)", type(e).__name__)
            raise SystemExit(STARTUP_FAILURE) from None
        services = services_for(w, self.token, clock_from_environment(), self.base_url,
                                installations=installations)
        services.directory.workspace = self.workspace
        try:
            bolt = slack_app(services, self.signing_secret, installations,
                             self.client_secret, self.redirect_uri)
        except Exception as e:  # noqa: BLE001
            log.error("a serving process could not start the Slack app (%s)", type(e).__name__)
            services.close()
            w.close()
            raise SystemExit(STARTUP_FAILURE) from None

        def closing() -> None:
            services.close()
            if installations is not None:
                installations.close()
            w.close()

        return asgi_app(bolt, health(w, self.with_worker), closing)
