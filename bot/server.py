"""HTTP for the Slack app: `POST /slack/events` (commands, buttons, forms, events) and `GET /healthz`;
serving many workspaces, also `GET /slack/install` and `GET /slack/oauth_redirect` (installing
the app in a workspace through Slack's OAuth flow).

An ASGI app (Starlette) on uvicorn. Bolt's dispatch is synchronous, so each request runs in a
thread of the app's own dispatch pool: one slow request never holds up another. The time a
request reached the server goes into its Bolt context, so the handlers' two-second budget
counts from then, however long it waited for a thread.

One process serves on one CPU at a time (Python's GIL), so `serve` can run several worker
processes on one listening socket. Each builds its own store connections, views follower and
Bolt app (they share nothing in memory: the views live in the store, and several followers
never fold an event twice), exactly as several `bot serve` processes against one store do.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, cast

import uvicorn
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .handling import RECEIVED_AT

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
EVENTS_PATH = "/slack/events"
DISPATCHERS = 64
"""Threads dispatching requests to Bolt in one process. A handler holds its thread until it
acknowledges (at most the two-second budget), so this is how many requests one process
answers at once; more wait their turn, their budget already counting."""
Health = Callable[[], tuple[bool, dict[str, Any]]]


def asgi_app(bolt: App, health: Health,
             closing: Callable[[], None] | None = None) -> Starlette:
    """The ASGI app; `closing`, if given, runs when the server shuts down (its lifespan)."""
    pool = ThreadPoolExecutor(max_workers=DISPATCHERS, thread_name_prefix="bot-dispatch")

    async def events(request: Request) -> Response:
        received = time.monotonic()
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("request too large", status_code=413)
        headers: dict[str, list[str]] = {}
        for name, value in request.scope["headers"]:  # lower-case names, as ASGI gives them
            headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        text = body.decode("utf-8", errors="replace")
        try:
            bolt_request = BoltRequest(body=text,
                                       query=request.scope.get("query_string", b"").decode(
                                           "latin-1"),
                                       headers=cast(dict[str, str | Sequence[str]], headers),
                                       context={RECEIVED_AT: received})
        except (ValueError, TypeError, AttributeError, KeyError) as e:
            return unreadable(bolt, text, headers, e)
        try:
            answer = await asyncio.get_running_loop().run_in_executor(pool, bolt.dispatch,
                                                                      bolt_request)
        except Exception as e:  # noqa: BLE001 - one line in the log, never a traceback
            log.error("a request could not be handled (%s)", type(e).__name__)
            return Response("could not handle the request", status_code=500)
        return Response(status_code=answer.status, content=answer.body,
                        headers=answer.first_headers_without_set_cookie())

    async def oauth(request: Request) -> Response:
        """The install page (it sets the state cookie) and Slack's return from it."""
        flow = bolt.oauth_flow
        assert flow is not None
        headers = {name.decode("latin-1"): [value.decode("latin-1")]
                   for name, value in request.scope["headers"]}
        bolt_request = BoltRequest(body="", query=request.scope.get("query_string", b"")
                                   .decode("latin-1"),
                                   headers=cast(dict[str, str | Sequence[str]], headers))
        step = flow.handle_installation if request.url.path == flow.install_path \
            else flow.handle_callback
        answer = await asyncio.get_running_loop().run_in_executor(pool, step, bolt_request)
        response = Response(status_code=answer.status, content=answer.body)
        for name, values in answer.headers.items():
            for value in values:
                response.headers.append(name, value)
        return response

    async def healthz(request: Request) -> Response:
        try:
            ok, detail = await asyncio.get_running_loop().run_in_executor(pool, health)
        except Exception as e:  # noqa: BLE001 - unhealthy, say why in a word
            ok, detail = False, {"problem": type(e).__name__}
        return JSONResponse({"ok": ok, **detail}, status_code=200 if ok else 503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            pool.shutdown(wait=False)
            if closing is not None:
                closing()

    routes = [Route(EVENTS_PATH, events, methods=["POST"]),
              Route("/healthz", healthz, methods=["GET"])]
    if bolt.oauth_flow is not None:
        routes += [Route(bolt.oauth_flow.install_path, oauth, methods=["GET"]),
                   Route(bolt.oauth_flow.redirect_uri_path, oauth, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)


def unreadable(bolt: App, body: str, headers: dict[str, list[str]], e: Exception) -> Response:
    """A request whose body is not what Slack sends (a payload that is not a JSON object, JSON
    cut short): 401 unless signed with the signing secret, else 400 and one line in the log."""
    secret = str(getattr(bolt, "_signing_secret", "") or "")
    flat = {k: v[0] for k, v in headers.items() if v}
    if not secret or not SignatureVerifier(secret).is_valid_request(body, flat):
        return Response("invalid request", status_code=401)
    log.warning("a signed request that cannot be read (%s): answered 400", type(e).__name__)
    return Response("the request's body cannot be read", status_code=400)


def serve(app: Starlette | Callable[[], Starlette], host: str, port: int,
          background: list[Callable[[threading.Event], None]], workers: int = 1) -> None:
    """Serve until SIGINT or SIGTERM; background loops (run in this process) get a stop event
    and are told to stop.

    With one worker `app` is served in this process. With more, `app` is a factory, picklable
    (it is sent to each worker process, which starts afresh rather than as a fork of this
    one), that builds the app in each worker; this process binds the socket, watches the
    workers (one that dies is started again) and stops them when told to stop.
    """
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), name=f"bot-background-{i}",
                                daemon=True) for i, loop in enumerate(background)]
    for t in threads:
        t.start()
    options: dict[str, Any] = dict(host=host, port=port, log_level="warning", access_log=False,
                                   lifespan="on", timeout_graceful_shutdown=5)
    try:
        if workers <= 1:
            built = app if isinstance(app, Starlette) else app()
            uvicorn.Server(uvicorn.Config(built, **options)).run()
        else:
            _serve_in_workers(app, workers, options)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)


def _serve_in_workers(factory: Any, workers: int, options: dict[str, Any]) -> None:
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(factory, factory=True, workers=workers, **options)
    sockets = [config.bind_socket()]
    try:
        try:
            supervisor = Multiprocess(config, sockets=sockets)  # uvicorn 0.30 and later
        except TypeError:  # earlier: the supervisor is told what each worker runs
            supervisor = Multiprocess(config, target=uvicorn.Server(config).run,  # type: ignore[call-arg]
                                      sockets=sockets)
        supervisor.run()
    finally:
        for sock in sockets:
            sock.close()
