"""A fake Slack owned by the tests: the Web API over real HTTP on 127.0.0.1, and Slack's side of
the requests it sends to an app (signed slash commands, block_actions, view_submission, events).

The Web API answers auth.test, chat.postMessage, chat.update, conversations.open, views.open,
views.update, views.publish, chat.postEphemeral, users.info, apps.connections.open and
oauth.v2.access; it records every call with its body, and the token (so the workspace) it came
with; it can be told to answer 429 (with Retry-After) or 500 to the next N calls, and to refuse
for good, as Slack does, users and channels it does not know. It refuses blocks as Slack does:
more than 50 in a message (100 in a view) or a section over 3,000 characters is
`invalid_blocks`, and a message whose blocks hold more than 12,000 characters of text in all is
`msg_blocks_too_long`, even when each block is within its own limit. Anything posted to a
response_url (`/response/...`) is recorded as a call named "response_url".

For an app installed in many workspaces (`workspace`), `GET /oauth/v2/authorize` is Slack's
install page: as if the person had pressed Allow, it sends the browser back to the app's
redirect URL with a one-time code, which oauth.v2.access exchanges, with the app's client id and
secret, for a new bot token of that workspace.

`FakeSocketMode` is Slack's Socket Mode end: a WebSocket server on 127.0.0.1 that says hello,
sends envelopes (slash commands, interactions, events) and collects the app's acknowledgements.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

Doc = dict[str, Any]

TEAM_ID = "T0FAKE"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret-0123456789"
TEAM_DOMAIN = "fake-partnership"
APP_ID = "A0AUDIT"
BOT_USER = "U0AUDITBOT"
VERIFICATION_TOKEN = "fake-verification-token"


@dataclass
class Call:
    method: str
    body: Doc
    token: str
    status: int
    answer: Doc = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    status: int
    retry_after: int = 0


class FakeSlack:
    def __init__(self, tokens: tuple[str, ...] = ("xoxb-fake-bot-token",)) -> None:
        self.tokens = set(tokens)
        self.app_tokens: set[str] = set()
        self.socket_url = ""
        """What apps.connections.open answers to an app-level token (a FakeSocketMode's url)."""
        self.text_limit = SLACK_TEXT_LIMIT
        """Characters of block text beyond which a message is refused (msg_blocks_too_long)."""
        self.zones: dict[str, str] = {}
        """Each Slack user's time zone (users.info `tz`); Europe/London for anyone else."""
        self.unknown_users: set[str] = set()
        self.unknown_channels: set[str] = set()
        """Users and channels Slack refuses for good (user_not_found, channel_not_found)."""
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.lock = threading.Lock()
        self.ids = itertools.count(100)
        self.server: ThreadingHTTPServer | None = None
        self.teams: dict[str, str] = {t: TEAM_ID for t in tokens}
        """The workspace each bot token belongs to."""
        self.workspaces: dict[str, str] = {TEAM_ID: "Fake"}
        self.redirect_url = ""
        """The app's OAuth redirect URL, as set in its settings (where Allow sends the browser)."""
        self.codes: dict[str, str] = {}  # one-time OAuth code -> team
        self.installs: list[Doc] = []  # what each install page visit asked for

    def workspace(self, team: str, name: str) -> None:
        """Another workspace the app can be installed in."""
        with self.lock:
            self.workspaces[team] = name

    # ---- running ---------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.reply(*fake.handle(self.path, dict(self.headers.items()), raw))

            def do_GET(self) -> None:
                self.reply(*fake.authorize(self.path))

            def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    @property
    def api_url(self) -> str:
        return self.base + "api/"

    def response_url(self) -> str:
        return f"{self.base}response/{next(self.ids)}"

    # ---- telling it what to do ---------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500, retry_after: int = 1) -> None:
        """The next n Web API calls get this status (429 with Retry-After) instead of an answer."""
        with self.lock:
            self.failures += [Failure(status, retry_after if status == 429 else 0)] * n

    # ---- what happened -------------------------------------------------------------------------------

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and (c.status == 200 or
                                                                     not ok_only)]

    def wait_for(self, method: str, where: Callable[[Call], bool] = lambda c: True,
                 count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_to(method) if where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} {method} calls, got {len(found)}: "
                                     f"{[c.method for c in self.calls]}")
            time.sleep(0.02)

    # ---- answering ----------------------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Doc, bytes]:
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        body = parse_body(raw, content_type)
        token = auth.removeprefix("Bearer ").strip() or str(body.get("token", ""))
        if path.startswith("/response/"):
            refused = blocks_refused("chat.postMessage", body, self.text_limit)
            if refused:
                with self.lock:
                    self.calls.append(Call("response_url", {**body, "url": self.base + path[1:]},
                                           "", 400, {"ok": False, "error": refused}))
                return 400, {"Content-Type": "application/json"}, json.dumps(
                    {"ok": False, "error": refused}).encode()
            with self.lock:
                self.calls.append(Call("response_url", {**body, "url": self.base + path[1:]},
                                       "", 200))
            return 200, {"Content-Type": "text/plain"}, b"ok"
        method = path.removeprefix("/api/").split("?")[0]
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            if failure is not None:
                self.calls.append(Call(method, body, token, failure.status))
                headers_out = {"Content-Type": "application/json"}
                if failure.retry_after:
                    headers_out["Retry-After"] = str(failure.retry_after)
                error = "ratelimited" if failure.status == 429 else "fatal_error"
                return failure.status, headers_out, json.dumps({"ok": False,
                                                                "error": error}).encode()
            if method == "apps.connections.open":
                answer = ({"ok": True, "url": self.socket_url} if token in self.app_tokens
                          else {"ok": False, "error": "invalid_auth"})
            elif method == "oauth.v2.access":
                answer = self.exchange(auth, body)
            else:
                answer = self.answer(method, body, token) if token in self.tokens else \
                    {"ok": False, "error": "invalid_auth"}
            self.calls.append(Call(method, body, token, 200, answer))
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(answer).encode()

    def ts(self) -> str:
        return f"1700000000.{next(self.ids):06d}"

    # ---- installing the app (OAuth v2) ------------------------------------------------------------

    def authorize(self, path: str) -> tuple[int, Doc, bytes]:
        """Slack's install page, with Allow pressed: back to the app's redirect URL with a code
        for the workspace asked for (`team`, else the first), and the app's state."""
        parts = urlsplit(path)
        if parts.path != "/oauth/v2/authorize":
            return 404, {"Content-Type": "text/plain"}, b"not found"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.installs.append(query)
            team = query.get("team") or next(iter(self.workspaces))
            if query.get("client_id") != CLIENT_ID or team not in self.workspaces:
                return 400, {"Content-Type": "text/plain"}, b"invalid_client_id or team"
            code = f"code-{next(self.ids)}-{uuid.uuid4().hex[:8]}"
            self.codes[code] = team
        target = query.get("redirect_uri") or self.redirect_url
        location = f"{target}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return 302, {"Location": location, "Content-Type": "text/plain"}, b""

    def exchange(self, auth: str, body: Doc) -> Doc:
        """oauth.v2.access: a one-time code (with the app's id and secret, HTTP Basic) for a bot
        token of the workspace it was issued for."""
        try:
            client = base64.b64decode(auth.removeprefix("Basic ").strip()).decode()
        except ValueError:
            client = ""
        if client != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return {"ok": False, "error": "invalid_client_id"}
        team = self.codes.pop(str(body.get("code", "")), "")
        if not team:
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-{team.lower()}-{uuid.uuid4().hex[:12]}"
        self.tokens.add(token)
        self.teams[token] = team
        return {"ok": True, "access_token": token, "token_type": "bot",
                "scope": "commands,chat:write,im:write,im:history,users:read", "bot_user_id": BOT_USER,
                "app_id": APP_ID, "team": {"id": team, "name": self.workspaces[team]},
                "enterprise": None, "is_enterprise_install": False,
                "authed_user": {"id": "U0INSTALLER"}}

    def answer(self, method: str, body: Doc, token: str = "") -> Doc:
        team = self.teams.get(token, TEAM_ID)
        if method == "auth.test":
            return {"ok": True, "url": f"https://{TEAM_DOMAIN}.slack.com/",
                    "team": self.workspaces.get(team, "Fake"), "user": "audit", "team_id": team,
                    "user_id": BOT_USER, "bot_id": "B0AUDIT"}
        if method == "users.info":
            user = str(body.get("user", ""))
            if user in self.unknown_users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": user, "tz": self.zones.get(user, "Europe/London")}}
        refused = blocks_refused(method, body, self.text_limit)
        if refused:
            return {"ok": False, "error": refused}
        if method == "conversations.open":
            user = str(body.get("users", "")).split(",")[0]
            if user in self.unknown_users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": "D" + user}}
        if method in ("chat.postMessage", "chat.update") and \
                body.get("channel") in self.unknown_channels:
            return {"ok": False, "error": "channel_not_found"}
        if method == "chat.postMessage":
            ts = self.ts()
            return {"ok": True, "channel": body.get("channel"), "ts": ts,
                    "message": {"text": body.get("text"), "ts": ts, "bot_id": "B0AUDIT"}}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"),
                    "text": body.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.ts()}
        if method in ("views.open", "views.update", "views.publish"):
            view = dict(body.get("view") or {})
            view.update(id=body.get("view_id") or f"V{next(self.ids):08d}",
                        hash=f"{next(self.ids)}.abc", team_id=team, app_id=APP_ID)
            return {"ok": True, "view": view}
        return {"ok": False, "error": "unknown_method"}


SLACK_TEXT_LIMIT = 12000
"""Characters of block text in one message beyond which Slack answers msg_blocks_too_long."""


def block_text_length(x: Any) -> int:
    """Every character of text in blocks, as Slack counts it towards msg_blocks_too_long."""
    if isinstance(x, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_text_length(v)
                   for k, v in x.items())
    if isinstance(x, list):
        return sum(block_text_length(v) for v in x)
    return 0


def blocks_refused(method: str, body: Doc, text_limit: int = SLACK_TEXT_LIMIT) -> str:
    """Slack's error for blocks it will not take in this call, or "" when it takes them."""
    if method in ("views.open", "views.update", "views.publish", "views.push"):
        view = body.get("view")
        blocks = view.get("blocks") if isinstance(view, dict) else None
        limit = 100
    elif method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        blocks, limit = body.get("blocks"), 50
    else:
        return ""
    if not isinstance(blocks, list):
        return ""
    if len(blocks) > limit:
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text") if isinstance(block, dict) else None
        if isinstance(text, dict) and len(str(text.get("text", ""))) > 3000:
            return "invalid_blocks"
    if limit == 50 and block_text_length(blocks) > text_limit:
        return "msg_blocks_too_long"
    return ""


def parse_body(raw: bytes, content_type: str) -> Doc:
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {}
    form: Doc = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    for name in ("blocks", "view"):
        if isinstance(form.get(name), str) and form[name][:1] in "[{":
            form[name] = json.loads(form[name])
    return form


@contextmanager
def running(tokens: tuple[str, ...] = ("xoxb-fake-bot-token",)) -> Iterator[FakeSlack]:
    fake = FakeSlack(tokens).start()
    try:
        yield fake
    finally:
        fake.stop()


# ---- Socket Mode -----------------------------------------------------------------------------


class FakeSocketMode:
    """Slack's Socket Mode end: the app connects to `url` (handed out by apps.connections.open),
    is greeted with hello, receives envelopes and acknowledges each with its envelope_id."""

    def __init__(self) -> None:
        self.server: Server | None = None
        self.connections: queue.Queue[ServerConnection] = queue.Queue()
        self.acks: dict[str, Doc] = {}
        self.acked = threading.Condition()

    def start(self) -> FakeSocketMode:
        self.server = serve(self._session, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"

    def _session(self, ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": APP_ID},
                            "debug_info": {"host": "fake-socket-mode"}}))
        self.connections.put(ws)
        try:
            for message in ws:
                data = json.loads(message)
                if isinstance(data, dict) and data.get("envelope_id"):
                    with self.acked:
                        self.acks[str(data["envelope_id"])] = data
                        self.acked.notify_all()
        except ConnectionClosed:
            pass

    def connected(self, timeout: float = 20.0) -> ServerConnection:
        """The app's connection, once it has connected."""
        try:
            ws = self.connections.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the app never connected over Socket Mode") from None
        self.connections.put(ws)
        return ws

    def send(self, kind: str, payload: Doc) -> str:
        """An envelope to the app: kind is slash_commands, interactive or events_api."""
        envelope_id = str(uuid.uuid4())
        self.connected().send(json.dumps({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
            "retry_reason": ""}))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 20.0) -> Doc:
        """The app's acknowledgement of an envelope (with its response payload, if any)."""
        with self.acked:
            if not self.acked.wait_for(lambda: envelope_id in self.acks, timeout=timeout):
                raise AssertionError(f"envelope {envelope_id} was never acknowledged")
            return self.acks[envelope_id]


# ---- Slack's side of the requests it sends to an app -------------------------------------------


def signed_headers(body: str, secret: str, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}


def slash_fields(user: str, user_name: str, text: str, response_url: str,
                 channel: str = "D0CHANNEL", team: str = TEAM_ID) -> dict[str, str]:
    """`/audit TEXT` with every field Slack sends (as a form over HTTP, as JSON over Socket
    Mode)."""
    return {
        "token": VERIFICATION_TOKEN, "team_id": team, "team_domain": TEAM_DOMAIN,
        "channel_id": channel, "channel_name": "directmessage", "user_id": user,
        "user_name": user_name, "command": "/audit", "text": text, "api_app_id": APP_ID,
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": f"{int(time.time())}.13345224609.{user.lower()}trigger",
    }


def slash_command(user: str, user_name: str, text: str, response_url: str,
                  channel: str = "D0CHANNEL", team: str = TEAM_ID) -> str:
    """The form body of `/audit TEXT` from a workspace, with every field Slack sends."""
    return urlencode(slash_fields(user, user_name, text, response_url, channel, team))


def _user(user: str, name: str) -> Doc:
    return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}


def block_actions_payload(user: str, name: str, message: Doc, channel: str, action: Doc,
                          response_url: str, action_ts: str | None = None,
                          ephemeral: bool = False) -> Doc:
    """A button pressed on a message the bot posted (`message` as posted: its ts, text and
    blocks), with the fields Slack sends. An ephemeral message (an answer to a slash command)
    has no message in the payload, as in Slack."""
    block_id = next(b.get("block_id") or "Slack=gives+one" for b in message["blocks"]
                    if action in b.get("elements", []) or b.get("accessory") == action)
    payload: Doc = {
        "type": "block_actions",
        "user": _user(user, name),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                      "is_ephemeral": ephemeral},
        "trigger_id": f"{int(time.time())}.13345224609.{next(_trigger)}trigger",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "subtype": "bot_message", "text": message["text"],
                    "ts": message["ts"], "bot_id": "B0AUDIT", "blocks": message["blocks"]},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{"action_id": action["action_id"], "block_id": block_id,
                     "text": action["text"], "value": action.get("value", ""),
                     "style": action.get("style", ""), "type": "button",
                     "action_ts": action_ts or f"{time.time():.6f}"}],
    }
    if ephemeral:
        del payload["message"]
    return payload


def block_actions(user: str, name: str, message: Doc, channel: str, action: Doc,
                  response_url: str, action_ts: str | None = None,
                  ephemeral: bool = False) -> str:
    """The form body of a button pressed (`block_actions_payload`), as Slack posts it."""
    return "payload=" + quote(json.dumps(block_actions_payload(
        user, name, message, channel, action, response_url, action_ts, ephemeral)))


_trigger = itertools.count(1)


def view_submission(user: str, name: str, view: Doc, values: Doc) -> str:
    """The form body of a modal submitted: `view` as opened (with its id and hash)."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user, name),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": f"{int(time.time())}.13345224609.{next(_trigger)}trigger",
        "view": {**view, "team_id": TEAM_ID, "state": {"values": values}, "app_id": APP_ID,
                 "bot_id": "B0AUDIT", "root_view_id": view["id"], "previous_view_id": None,
                 "external_id": "", "app_installed_team_id": TEAM_ID},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return "payload=" + quote(json.dumps(payload))


def text_values(answers: dict[str, str | None]) -> Doc:
    """Modal state for text boxes: block id -> typed text."""
    return {block: {"answer": {"type": "plain_text_input", "value": text}}
            for block, text in answers.items()}


def app_home_opened(user: str, event_id: str = "Ev0HOME0001", team: str = TEAM_ID) -> str:
    return json.dumps({
        "token": VERIFICATION_TOKEN, "team_id": team, "api_app_id": APP_ID,
        "event": {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home",
                  "event_ts": f"{time.time():.6f}"},
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": BOT_USER,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": "4-fake",
    })


def im_message(user: str, text: str, event_id: str = "Ev0IM0001", **event: Any) -> str:
    """A message typed to the app in its Messages tab (the `message.im` event), as Slack sends
    it; `event` adds or overrides fields (a bot's own message has `bot_id`, an edit a
    `subtype`)."""
    ts = f"{time.time():.6f}"
    return json.dumps({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID,
        "event": {"type": "message", "channel_type": "im", "user": user, "channel": "D" + user,
                  "text": text, "ts": ts, "event_ts": ts, "team": TEAM_ID, **event},
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": "4-fake",
    })


def buttons(blocks: list[Doc]) -> dict[str, Doc]:
    """A message's buttons by action id."""
    found: dict[str, Doc] = {}
    for b in blocks:
        for e in b.get("elements", []) + ([b["accessory"]] if "accessory" in b else []):
            if e.get("type") == "button":
                found.setdefault(e["action_id"], e)
    return found


def all_text(blocks: list[Doc]) -> str:
    """Every piece of text in some blocks, for assertions."""
    out: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if isinstance(x.get("text"), str):
                out.append(x["text"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(blocks)
    return "\n".join(out)
