"""A local stand-in for Slack's Web API, for `bot try`: real HTTP on 127.0.0.1, state in memory.

It answers the calls the bot makes (auth.test, conversations.open, chat.postMessage,
chat.update, chat.postEphemeral, views.open, views.update, views.publish, users.info) and the
response_url posts of commands and buttons, keeps the messages and views as Slack would, and
queues what arrives for the person at the console.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Doc = dict[str, Any]


@dataclass
class Arrival:
    """Something the person at the console should see: kind is message, update, ephemeral,
    response, modal or home."""

    kind: str
    data: Doc = field(default_factory=dict)


def parse_body(raw: bytes, content_type: str) -> Doc:
    """A Web API call's arguments, from JSON or a form (whose JSON fields are decoded)."""
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {}
    form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    for name in ("blocks", "view", "attachments"):
        if isinstance(form.get(name), str) and form[name][:1] in "[{":
            form[name] = json.loads(form[name])
    return form


class StandIn:
    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], Doc] = {}
        self.views: dict[str, Doc] = {}
        self.homes: dict[str, Doc] = {}
        self.dm_users: dict[str, str] = {}
        self.arrivals: queue.Queue[Arrival] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---- the server -------------------------------------------------------------------------

    def start(self) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                args = parse_body(raw, self.headers.get("Content-Type", ""))
                if self.path.startswith("/api/"):
                    result = standin.call(self.path[len("/api/"):].split("?")[0], args)
                elif self.path.startswith("/response/"):
                    standin.arrive("response", {**args, "response_url": standin.url +
                                                self.path.lstrip("/")})
                    result = None
                else:
                    result = {"ok": False, "error": "unknown_path"}
                body = b"ok" if result is None else json.dumps(result).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if result is None else
                                 "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="slack-standin",
                         daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self) -> str:
        return f"{self.url}response/{next(self._ids)}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- the Web API --------------------------------------------------------------------------

    def arrive(self, kind: str, data: Doc) -> None:
        self.arrivals.put(Arrival(kind, data))

    def ts(self) -> str:
        return f"{time.time():.6f}"[:-6] + f"{next(self._ids):06d}"

    def call(self, method: str, args: Doc) -> Doc:
        with self._lock:
            return self._call(method, args)

    def _call(self, method: str, args: Doc) -> Doc:
        if method == "auth.test":
            return {"ok": True, "url": "https://try.example/", "team": "Try it", "user": "audit",
                    "team_id": "T0TRY", "user_id": "U0AUDITBOT", "bot_id": "B0AUDITBOT"}
        if method == "users.info":
            return {"ok": True, "user": {"id": args.get("user", ""), "tz": "Europe/London"}}
        if method == "conversations.open":
            user = str(args.get("users", "")).split(",")[0]
            channel = "D" + user
            self.dm_users[channel] = user
            return {"ok": True, "channel": {"id": channel}}
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            message = {"channel": channel, "ts": self.ts(), "text": args.get("text", ""),
                       "blocks": args.get("blocks") or [], "to": self.dm_users.get(channel, "")}
            self.messages[(channel, message["ts"])] = message
            self.arrive("message", message)
            return {"ok": True, "channel": channel, "ts": message["ts"],
                    "message": {"text": message["text"], "ts": message["ts"]}}
        if method == "chat.update":
            key = (str(args.get("channel", "")), str(args.get("ts", "")))
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            message = {**self.messages[key], "text": args.get("text", ""),
                       "blocks": args.get("blocks") or []}
            self.messages[key] = message
            self.arrive("update", message)
            return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}
        if method == "chat.postEphemeral":
            message = {"channel": args.get("channel", ""), "to": args.get("user", ""),
                       "ts": self.ts(), "text": args.get("text", ""),
                       "blocks": args.get("blocks") or [], "response_url": self.response_url()}
            self.arrive("ephemeral", message)
            return {"ok": True, "message_ts": message["ts"]}
        if method in ("views.open", "views.push"):
            view = {**(args.get("view") or {}), "id": f"V{next(self._ids):08d}",
                    "hash": f"h{next(self._ids)}"}
            self.views[view["id"]] = view
            self.arrive("modal", view)
            return {"ok": True, "view": view}
        if method == "views.update":
            view_id = str(args.get("view_id", ""))
            if view_id not in self.views:
                return {"ok": False, "error": "not_found"}
            view = {**(args.get("view") or {}), "id": view_id, "hash": f"h{next(self._ids)}"}
            self.views[view_id] = view
            self.arrive("modal", view)
            return {"ok": True, "view": view}
        if method == "views.publish":
            user = str(args.get("user_id", ""))
            view = {**(args.get("view") or {}), "id": f"VH{user}", "hash": f"h{next(self._ids)}"}
            self.homes[user] = view
            self.arrive("home", {"user": user, "view": view})
            return {"ok": True, "view": view}
        return {"ok": False, "error": "unknown_method"}
