"""`audit-ledger bot serve|socket|try`: the Slack front door, wired to the configured store."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click
from slack_sdk.errors import SlackApiError

from bot.app import build_app, quiet_bolt_logger
from bot.clock import Clock
from bot.deliver import Deliverer, api_url, make_client
from bot.directory import Directory
from bot.lease import lease_for
from bot.services import BotServices
from bot.worker import TRACKING_NAME as WORKER_TRACKING
from bot.worker import Worker
from projections.views import TRACKING_NAME as VIEWS_TRACKING

from .wiring import Wiring, clock_from_environment, wire

log = logging.getLogger("bot")


def _wiring(ctx: click.Context) -> Wiring:
    obj = ctx.find_root().ensure_object(dict)
    if "wiring" not in obj:
        obj["wiring"] = wire(obj.get("url"), obj.get("key"))
        ctx.call_on_close(obj["wiring"].close)
    return obj["wiring"]  # type: ignore[no-any-return]


def _refuse(ctx: click.Context, *lines: str) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    ctx.exit(2)


def _needed(ctx: click.Context, names: dict[str, str]) -> dict[str, str]:
    """The named environment variables, or a refusal naming each one missing."""
    values = {n: os.environ.get(n, "").strip() for n in names}
    missing = [f"{n} is not set: {why}" for n, why in names.items() if not values[n]]
    if missing:
        _refuse(ctx, *missing)
    return values


def _logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_bolt_logger()


def _clock(ctx: click.Context) -> Clock:
    try:
        return clock_from_environment()
    except ValueError as e:
        _refuse(ctx, str(e))


def _services(w: Wiring, token: str, clock: Clock, base_url: str | None = None,
              extra: dict[str, str] | None = None) -> BotServices:
    client = make_client(token, base_url)
    return BotServices(app=w.app, views=w.views, follower=w.follower,
                       deliver=Deliverer(client), directory=Directory(w.views, extra),
                       clock=clock)


def _check_token(ctx: click.Context, services: BotServices, url: str) -> None:
    """auth.test before anything else: a wrong token is said plainly, and nothing starts."""
    try:
        services.deliver.client.auth_test()
    except SlackApiError as e:
        code = e.response.get("error") if e.response is not None else "error"
        _refuse(ctx, f"Slack refused SLACK_BOT_TOKEN ({code}): check the Bot User OAuth Token "
                     "on your Slack app's OAuth & Permissions page (it starts with xoxb-)")
    except Exception as e:  # noqa: BLE001 - network and the like: say what and where
        _refuse(ctx, f"could not reach Slack at {url} to check SLACK_BOT_TOKEN "
                     f"({type(e).__name__}); check SLACK_API_URL and the network")


def _health(w: Wiring, with_worker: bool) -> Callable[[], tuple[bool, dict[str, Any]]]:
    """What /healthz says: the log's head and the views' position (and the worker's, when
    this `bot serve` runs the worker), read from the store."""
    def health() -> tuple[bool, dict[str, Any]]:
        positions = w.store.positions()
        detail: dict[str, Any] = {"log_head": w.follower.head(),
                                  "views_position": positions.get(VIEWS_TRACKING, 0)}
        if with_worker:
            detail["worker_position"] = positions.get(WORKER_TRACKING, 0)
        return True, detail
    return health


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

    def __call__(self) -> Any:
        from bot.server import asgi_app

        _logging()
        try:
            w = wire(self.url, self.key)
        except Exception as e:  # noqa: BLE001 - say what, not a trace; the parent stops
            log.error("a serving process could not open the store (%s)", type(e).__name__)
            raise SystemExit(STARTUP_FAILURE) from None
        services = _services(w, self.token, clock_from_environment(), self.base_url)
        try:
            bolt = build_app(services, signing_secret=self.signing_secret,
                             client=services.deliver.client)
        except Exception as e:  # noqa: BLE001
            log.error("a serving process could not start the Slack app (%s)", type(e).__name__)
            services.close()
            w.close()
            raise SystemExit(STARTUP_FAILURE) from None

        def closing() -> None:
            services.close()
            w.close()

        return asgi_app(bolt, _health(w, self.with_worker), closing)


BOT_TOKEN = {"SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-...) from your Slack app's "
                                "OAuth & Permissions page"}
SIGNING_SECRET = {"SLACK_SIGNING_SECRET": "the Signing Secret from your Slack app's Basic "
                                          "Information page"}
APP_TOKEN = {"SLACK_APP_TOKEN": "an app-level token (xapp-...) with the connections:write scope, "
                                "from your Slack app's Basic Information page, for Socket Mode"}


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
    from bot.server import EVENTS_PATH, asgi_app
    from bot.server import serve as run_server

    creds = _needed(ctx, {**BOT_TOKEN, **SIGNING_SECRET})
    clock = _clock(ctx)
    _logging()
    w = _wiring(ctx)
    url = api_url()
    services = _services(w, creds["SLACK_BOT_TOKEN"], clock)
    _check_token(ctx, services, url)
    processes = workers or default_workers()

    worker = None if no_worker else Worker(services, lease=lease_for(w.settings))
    app: Any
    if processes == 1:
        bolt = build_app(services, signing_secret=creds["SLACK_SIGNING_SECRET"],
                         client=services.deliver.client)
        app = asgi_app(bolt, _health(w, worker is not None))
    else:  # each worker process builds its own; this one binds the port and runs the worker
        root = ctx.find_root().ensure_object(dict)
        app = ServingApp(url=root.get("url"), key=root.get("key"),
                         token=creds["SLACK_BOT_TOKEN"],
                         signing_secret=creds["SLACK_SIGNING_SECRET"], base_url=url,
                         with_worker=worker is not None)

    background: list[Callable[[Any], None]] = []
    if worker is not None:
        background.append(worker.run)
    click.echo(f"Serving the Slack app on http://{host}:{port}{EVENTS_PATH} (health: /healthz); "
               f"events in {w.settings.describe()}; "
               f"{processes} serving process{'' if processes == 1 else 'es'}; "
               f"{'no worker' if no_worker else 'with the alert and reminder worker'}. "
               "Ctrl-C to stop.", err=True)
    try:
        run_server(app, host, port, background, workers=processes)
    finally:
        services.close()


@bot.command()
@click.option("--no-worker", is_flag=True,
              help="do not run the alert and reminder worker in this process (run "
                   "`audit-ledger worker` elsewhere)")
@click.pass_context
def socket(ctx: click.Context, no_worker: bool) -> None:
    """Run the Slack app over Socket Mode (no public URL needed)."""
    import threading

    from slack_bolt.adapter.socket_mode import SocketModeHandler

    creds = _needed(ctx, {**APP_TOKEN, **BOT_TOKEN})
    if not creds["SLACK_APP_TOKEN"].startswith("xapp-"):
        _refuse(ctx, "SLACK_APP_TOKEN does not look like an app-level token (it starts with "
                     "xapp-); the bot token (xoxb-) goes in SLACK_BOT_TOKEN")
    clock = _clock(ctx)
    _logging()
    w = _wiring(ctx)
    url = api_url()
    services = _services(w, creds["SLACK_BOT_TOKEN"], clock)
    _check_token(ctx, services, url)
    bolt = build_app(services, client=services.deliver.client,
                     signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or "unused-in-socket-mode")
    stop = threading.Event()
    if not no_worker:
        threading.Thread(target=Worker(services, lease=lease_for(w.settings)).run, args=(stop,),
                         daemon=True, name="alert-worker").start()
    click.echo(f"Connecting to Slack over Socket Mode; events in {w.settings.describe()}. "
               "Ctrl-C to stop.", err=True)
    try:
        SocketModeHandler(bolt, creds["SLACK_APP_TOKEN"]).start()
    except KeyboardInterrupt:
        pass
    except SlackApiError as e:
        code = e.response.get("error") if e.response is not None else "error"
        _refuse(ctx, f"Slack refused SLACK_APP_TOKEN ({code}): check the app-level token and "
                     "that Socket Mode is turned on for the app")
    finally:
        stop.set()
        services.close()


@bot.command("try")
@click.option("--as", "person_id", required=True, metavar="PERSON",
              help="the person you are (their directory id)")
@click.pass_context
def try_command(ctx: click.Context, person_id: str) -> None:
    """Try the Slack app in this terminal as PERSON, against a stand-in for Slack on this machine.

    Type /audit commands, press the buttons of the messages you receive, fill in forms. What
    you do is recorded in the configured ledger, as it would be from Slack.
    """
    from bot.console import Console
    from bot.standin import StandIn

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    quiet_bolt_logger()
    clock = _clock(ctx)
    w = _wiring(ctx)
    views = w.fresh_views()
    person = views.person(person_id)
    if person is None:
        known = sorted(p["person"] for p in views.people())
        hint = (f"; people: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''}" if known
                else "; the directory is empty: load an audit first (audit-ledger demo)")
        _refuse(ctx, f"--as: no person {person_id!r} in the directory{hint}")
        return
    slack_user = person.get("slack_user") or ""
    extra = {}
    if not slack_user:
        slack_user = "U0TRY" + secrets.token_hex(3).upper()
        extra[slack_user] = person_id
    standin = StandIn()
    standin.start()
    token = "xoxb-try-" + secrets.token_hex(8)
    signing_secret = secrets.token_hex(16)
    services = _services(w, token, clock, standin.api_url, extra)
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
