"""Slack's side of `bot try`: one person's requests, shaped and signed as Slack sends them, dispatched."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from .screen import Button

Doc = dict[str, Any]

TEAM = {"id": "T0TRY", "domain": "try"}
APP_ID = "A0TRY"
VERIFICATION = "try-verification-token"
FORM = "application/x-www-form-urlencoded"


class SlackSide:
    def __init__(self, bolt: App, signing_secret: str, person: Doc, slack_user: str,
                 channel: str, say: Callable[[str], None]) -> None:
        self.bolt = bolt
        self.verifier = SignatureVerifier(signing_secret)
        self.person = person
        self.slack_user = slack_user
        self.channel = channel
        self.say = say
        self.ids = itertools.count(1)
        self.user = {"id": slack_user, "username": person["person"], "name": person["person"],
                     "team_id": TEAM["id"]}

    def dispatch(self, body: str, content_type: str) -> BoltResponse:
        ts = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=ts, body=body) or ""
        headers: dict[str, str | Sequence[str]] = {
            "content-type": [content_type], "x-slack-request-timestamp": [ts],
            "x-slack-signature": [signature]}
        started = time.monotonic()
        response = self.bolt.dispatch(BoltRequest(body=body, headers=headers))
        if time.monotonic() - started > 3:
            self.say("(the app took more than Slack's three seconds to answer)")
        return response

    def trigger(self) -> str:
        return f"{next(self.ids)}.{int(time.time())}.try"

    def slash(self, text: str, response_url: str) -> BoltResponse:
        """`/audit TEXT`, with every field Slack sends."""
        fields = {"token": VERIFICATION, "team_id": TEAM["id"], "team_domain": TEAM["domain"],
                  "channel_id": self.channel, "channel_name": "directmessage",
                  "user_id": self.slack_user, "user_name": self.person["person"],
                  "command": "/audit", "text": text, "api_app_id": APP_ID,
                  "is_enterprise_install": "false", "response_url": response_url,
                  "trigger_id": self.trigger()}
        return self.dispatch(urlencode(fields), FORM)

    def home_opened(self) -> BoltResponse:
        body = {"token": VERIFICATION, "team_id": TEAM["id"], "api_app_id": APP_ID,
                "type": "event_callback", "event_id": f"Ev{next(self.ids):08d}",
                "event_time": int(time.time()),
                "event": {"type": "app_home_opened", "user": self.slack_user,
                          "channel": self.channel, "tab": "home",
                          "event_ts": f"{time.time():.6f}"},
                "authorizations": [{"team_id": TEAM["id"], "user_id": "U0AUDITBOT",
                                    "is_bot": True, "is_enterprise_install": False}],
                "is_ext_shared_channel": False}
        return self.dispatch(json.dumps(body), "application/json")

    def press(self, found: Button, current: Doc | None, response_url: Callable[[], str]
              ) -> BoltResponse:
        """A button pressed where it was shown: on a view, an ephemeral answer, or a message
        (`current`: the message as it now reads)."""
        place = found.place
        payload: Doc = {"type": "block_actions", "user": self.user, "api_app_id": APP_ID,
                        "token": VERIFICATION, "trigger_id": self.trigger(), "team": TEAM,
                        "enterprise": None, "is_enterprise_install": False,
                        "state": {"values": {}},
                        "actions": [{**{k: found.element[k] for k in
                                        ("action_id", "text", "value", "style")
                                        if k in found.element},
                                     "block_id": found.block_id, "type": "button",
                                     "action_ts": f"{time.time():.6f}"}]}
        if place["type"] == "view":
            payload["container"] = {"type": "view", "view_id": place["view"]["id"]}
            payload["view"] = place["view"]
        else:
            channel, ts = place["channel"], place["ts"]
            ephemeral = place["type"] == "ephemeral"
            if current is not None:
                payload["message"] = {"type": "message", "ts": ts, "text": current["text"],
                                      "blocks": current["blocks"], "bot_id": "B0AUDITBOT"}
            payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel,
                                    "is_ephemeral": ephemeral}
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["response_url"] = place.get("response_url") or response_url()
        return self.dispatch("payload=" + quote(json.dumps(payload)), FORM)

    def submit(self, view: Doc, values: Doc) -> BoltResponse:
        """A form submitted with the values typed in its boxes."""
        submitted = {**view, "state": {"values": values}, "team_id": TEAM["id"],
                     "app_id": APP_ID, "bot_id": "B0AUDITBOT", "root_view_id": view["id"],
                     "previous_view_id": None}
        payload = {"type": "view_submission", "team": TEAM, "user": self.user,
                   "api_app_id": APP_ID, "token": VERIFICATION, "trigger_id": self.trigger(),
                   "view": submitted, "response_urls": [], "is_enterprise_install": False,
                   "enterprise": None}
        return self.dispatch("payload=" + quote(json.dumps(payload)), FORM)

    def closed(self, view: Doc, values: Doc) -> BoltResponse:
        """A form closed without being sent (Slack tells the app only when the form asked,
        with `notify_on_close`), with what was typed in its boxes."""
        closed = {**view, "state": {"values": values}, "team_id": TEAM["id"], "app_id": APP_ID,
                  "bot_id": "B0AUDITBOT", "root_view_id": view["id"], "previous_view_id": None}
        payload = {"type": "view_closed", "team": TEAM, "user": self.user, "api_app_id": APP_ID,
                   "token": VERIFICATION, "view": closed, "is_cleared": False,
                   "is_enterprise_install": False, "enterprise": None}
        return self.dispatch("payload=" + quote(json.dumps(payload)), FORM)

    def message(self, text: str) -> BoltResponse:
        """A message typed to the bot in its direct message channel (the Messages tab)."""
        ts = f"{time.time():.6f}"
        body = {"token": VERIFICATION, "team_id": TEAM["id"], "api_app_id": APP_ID,
                "type": "event_callback", "event_id": f"Ev{next(self.ids):08d}",
                "event_time": int(time.time()),
                "event": {"type": "message", "channel_type": "im", "user": self.slack_user,
                          "channel": self.channel, "text": text, "ts": ts, "event_ts": ts,
                          "team": TEAM["id"]},
                "authorizations": [{"team_id": TEAM["id"], "user_id": "U0AUDITBOT",
                                    "is_bot": True, "is_enterprise_install": False}],
                "is_ext_shared_channel": False}
        return self.dispatch(json.dumps(body), "application/json")
