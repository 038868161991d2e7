"""HTTP for the Slack app: `POST /slack/events` (commands, buttons, forms, events) and `GET /healthz`.

An ASGI app (Starlette) on uvicorn. Bolt's dispatch is synchronous, so each request runs in a
worker thread: one slow request never holds up another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from slack_bolt import App, BoltRequest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
EVENTS_PATH = "/slack/events"
Health = Callable[[], tuple[bool, dict[str, Any]]]


def asgi_app(bolt: App, health: Health) -> Starlette:
    async def events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("request too large", status_code=413)
        headers: dict[str, str | Sequence[str]] = {k: request.headers.getlist(k)
                                                   for k in request.headers.keys()}
        bolt_request = BoltRequest(body=body.decode("utf-8", errors="replace"),
                                   query=request.url.query, headers=headers)
        answer = await run_in_threadpool(bolt.dispatch, bolt_request)
        return Response(status_code=answer.status, content=answer.body,
                        headers=answer.first_headers_without_set_cookie())

    async def healthz(request: Request) -> Response:
        try:
            ok, detail = await run_in_threadpool(health)
        except Exception as e:  # noqa: BLE001 - unhealthy, say why in a word
            ok, detail = False, {"problem": type(e).__name__}
        return JSONResponse({"ok": ok, **detail}, status_code=200 if ok else 503)

    return Starlette(routes=[Route(EVENTS_PATH, events, methods=["POST"]),
                             Route("/healthz", healthz, methods=["GET"])])


def serve(app: Starlette, host: str, port: int,
          background: list[Callable[[threading.Event], None]]) -> None:
    """Serve until SIGINT or SIGTERM; background loops get a stop event and are told to stop."""
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), name=f"bot-background-{i}",
                                daemon=True) for i, loop in enumerate(background)]
    for t in threads:
        t.start()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
