"""`bot try`: the real Bolt app, in this process, against a local stand-in for Slack, in a terminal.

The person types `/audit ...`; what the bot sends them is printed as text, each button with a
number they can `press`; a form asks for each of its boxes in turn. Every request is signed and
dispatched to the Bolt app exactly as Slack would send it.
"""

from __future__ import annotations

import html
import itertools
import json
import queue
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote, urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from .outbox import concern_outgoing, feedback_outgoing
from .services import BotServices
from .standin import Arrival, StandIn

Doc = dict[str, Any]

TEAM = {"id": "T0TRY", "domain": "try"}
APP_ID = "A0TRY"
VERIFICATION = "try-verification-token"
WELCOME_LIMIT = 10

DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")
EMOJI = {":white_check_mark:": "✓", ":rotating_light:": "(!)", ":tada:": ""}

CONSOLE_HELP = """\
Type:
  /audit help          what the bot can do (also /audit my, progress, actions, case, history)
  press N              press button N of a message above (or just N)
  home                 open your Home tab
  quit                 leave (or Ctrl-D)
"""


def to_text(md: str) -> str:
    """Slack mrkdwn as plain terminal text."""
    text = DATE.sub(r"\1", md)
    text = LINK.sub(r"\2 (\1)", text)
    text = ITALIC.sub(r"\1", text)
    for code, char in EMOJI.items():
        text = text.replace(code, char)
    return html.unescape(text.replace("*", "").replace("`", "")).strip()


@dataclass
class Button:
    element: Doc
    block_id: str
    place: Doc


class Console:
    def __init__(self, services: BotServices, bolt: App, standin: StandIn, person: Doc,
                 slack_user: str, signing_secret: str, inp: TextIO, out: TextIO) -> None:
        self.s = services
        self.bolt = bolt
        self.standin = standin
        self.person = person
        self.slack_user = slack_user
        self.verifier = SignatureVerifier(signing_secret)
        self.inp = inp
        self.out = out
        self.echo = not inp.isatty()
        self.buttons: dict[int, Button] = {}
        self.numbers = itertools.count(1)
        self.ids = itertools.count(1)
        self.channel = services.deliver.dm_channel(slack_user)
        self.home_asked = False
        self.user = {"id": slack_user, "username": person["person"], "name": person["person"],
                     "team_id": TEAM["id"]}

    # ---- input and output ----------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def read(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        if not line:
            self.say()
            return None
        line = line.rstrip("\n")
        if self.echo:
            self.say(line)
        return line

    # ---- talking to the app as Slack does ------------------------------------------------------------

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

    def settle(self) -> None:
        """Wait for the app's work after its acks, then show what arrived."""
        while True:
            self.s.wait_idle()
            try:
                arrival = self.standin.arrivals.get_nowait()
            except queue.Empty:
                return
            self.show(arrival)

    def show(self, arrival: Arrival) -> None:
        data = arrival.data
        if arrival.kind in ("message", "update"):
            if data.get("to") != self.slack_user:
                return
            title = "Message from the audit bot" if arrival.kind == "message" else \
                "The message above was updated"
            self.message(title, data.get("blocks") or [], data.get("text", ""),
                         {"type": "message", "channel": data["channel"], "ts": data["ts"]})
        elif arrival.kind == "ephemeral":
            if data.get("to") != self.slack_user:
                return
            self.message("Only visible to you", data.get("blocks") or [], data.get("text", ""),
                         {"type": "ephemeral", "channel": data.get("channel", self.channel),
                          "ts": data["ts"], "response_url": data["response_url"]})
        elif arrival.kind == "response":
            self.message("Only visible to you", data.get("blocks") or [], data.get("text", ""),
                         {"type": "ephemeral", "channel": self.channel,
                          "ts": self.standin.ts(), "response_url": data["response_url"]})
        elif arrival.kind == "home":
            if data.get("user") != self.slack_user or not self.home_asked:
                return  # refreshed in the background; shown when the person opens it
            self.home_asked = False
            view = data["view"]
            self.message("Your Home tab", view.get("blocks") or [], "",
                         {"type": "view", "view": view})
        elif arrival.kind == "modal":
            self.fill(data)

    def message(self, title: str, blocks: list[Doc], text: str, place: Doc) -> None:
        self.say(f"\n--- {title} " + "-" * max(3, 60 - len(title)))
        if not blocks:
            self.say(to_text(text))
        for block in blocks:
            self.block(block, place)
        self.say("-" * 66)

    def block(self, block: Doc, place: Doc) -> None:
        kind = block.get("type")
        if kind == "header":
            self.say(block["text"]["text"].upper())
        elif kind == "section":
            self.say(to_text(block.get("text", {}).get("text", "")))
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                self.say("   " + self.register(accessory, block.get("block_id", ""), place))
        elif kind == "context":
            self.say("   " + " ".join(to_text(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "divider":
            self.say("   " + "·" * 30)
        elif kind == "actions":
            shown = [self.register(e, block.get("block_id", ""), place)
                     for e in block.get("elements", []) if e.get("type") == "button"]
            self.say("   " + "   ".join(shown))

    def register(self, element: Doc, block_id: str, place: Doc) -> str:
        number = next(self.numbers)
        self.buttons[number] = Button(element, block_id, place)
        return f"[{number} {element['text']['text']}]"

    # ---- what the person does ----------------------------------------------------------------

    def slash(self, text: str) -> None:
        response_url = self.standin.response_url()
        fields = {"token": VERIFICATION, "team_id": TEAM["id"], "team_domain": TEAM["domain"],
                  "channel_id": self.channel, "channel_name": "directmessage",
                  "user_id": self.slack_user, "user_name": self.person["person"],
                  "command": "/audit", "text": text, "api_app_id": APP_ID,
                  "is_enterprise_install": "false", "response_url": response_url,
                  "trigger_id": self.trigger()}
        response = self.dispatch(urlencode(fields), "application/x-www-form-urlencoded")
        if response.status != 200:
            self.say(f"(the app answered {response.status})")
        elif response.body:
            data = json.loads(response.body)
            self.message("Only visible to you", data.get("blocks") or [], data.get("text", ""),
                         {"type": "ephemeral", "channel": self.channel, "ts": self.standin.ts(),
                          "response_url": response_url})
        self.settle()

    def home(self) -> None:
        body = {"token": VERIFICATION, "team_id": TEAM["id"], "api_app_id": APP_ID,
                "type": "event_callback", "event_id": f"Ev{next(self.ids):08d}",
                "event_time": int(time.time()),
                "event": {"type": "app_home_opened", "user": self.slack_user,
                          "channel": self.channel, "tab": "home",
                          "event_ts": f"{time.time():.6f}"},
                "authorizations": [{"team_id": TEAM["id"], "user_id": "U0AUDITBOT",
                                    "is_bot": True, "is_enterprise_install": False}],
                "is_ext_shared_channel": False}
        self.home_asked = True
        self.dispatch(json.dumps(body), "application/json")
        self.settle()

    def press(self, number: int) -> None:
        found = self.buttons.get(number)
        if found is None:
            self.say(f"There is no button {number}.")
            return
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
            if not ephemeral:
                current = self.standin.messages.get((channel, ts))
                if current is None or not self._still_there(current["blocks"], found):
                    self.say("That button is gone: the message has changed since (see the latest "
                             "version above).")
                    return
                payload["message"] = {"type": "message", "ts": ts, "text": current["text"],
                                      "blocks": current["blocks"], "bot_id": "B0AUDITBOT"}
            payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel,
                                    "is_ephemeral": ephemeral}
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["response_url"] = place.get("response_url") or self.standin.response_url()
        response = self.dispatch("payload=" + quote(json.dumps(payload)),
                                 "application/x-www-form-urlencoded")
        if response.status != 200:
            self.say(f"(the app answered {response.status})")
        self.settle()

    @staticmethod
    def _still_there(blocks: list[Doc], button: Button) -> bool:
        for block in blocks:
            elements = block.get("elements", []) + ([block["accessory"]] if "accessory" in block
                                                    else [])
            for e in elements:
                if (e.get("action_id") == button.element.get("action_id")
                        and e.get("value") == button.element.get("value")):
                    return True
        return False

    # ---- forms -------------------------------------------------------------------------------------

    def fill(self, view: Doc) -> None:
        title = view.get("title", {}).get("text", "Form")
        self.say(f"\n=== {title} (a form: answer each box; type 'cancel' to close it) ===")
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                self.block(block, {"type": "view", "view": view})
        inputs = [blk for blk in view.get("blocks", []) if blk.get("type") == "input"]
        values: Doc = {}
        todo = inputs
        while True:
            for block in todo:
                got = self.ask(block)
                if got is None:
                    self.say("(form closed; nothing was sent)")
                    return
                values[block["block_id"]] = got
            submitted = {**view, "state": {"values": values}, "team_id": TEAM["id"],
                         "app_id": APP_ID, "bot_id": "B0AUDITBOT", "root_view_id": view["id"],
                         "previous_view_id": None}
            payload = {"type": "view_submission", "team": TEAM, "user": self.user,
                       "api_app_id": APP_ID, "token": VERIFICATION, "trigger_id": self.trigger(),
                       "view": submitted, "response_urls": [], "is_enterprise_install": False,
                       "enterprise": None}
            response = self.dispatch("payload=" + quote(json.dumps(payload)),
                                     "application/x-www-form-urlencoded")
            answer = json.loads(response.body) if response.body else {}
            if response.status != 200:
                self.say(f"(the app answered {response.status}; the form stays open)")
                return
            if answer.get("response_action") == "errors":
                errors = answer.get("errors") or {}
                self.say("Please fix:")
                for block_id, problem in errors.items():
                    label = next((blk["label"]["text"] for blk in inputs
                                  if blk["block_id"] == block_id), block_id)
                    self.say(f"  ! {label}: {problem}")
                todo = [blk for blk in inputs if blk["block_id"] in errors]
                continue
            if answer.get("response_action") == "update":
                done = answer.get("view") or {}
                self.message(done.get("title", {}).get("text", "Done"), done.get("blocks") or [],
                             "", {"type": "view", "view": done})
            else:
                self.say("(form sent)")
            return

    def ask(self, block: Doc) -> Doc | None:
        label = block["label"]["text"] + ("" if not block.get("optional") else " (optional)")
        element = block["element"]
        if block.get("hint"):
            self.say(f"   ({block['hint']['text']})")
        if element["type"] == "static_select":
            options = element.get("options", [])
            listed = "  ".join(f"{i}) {o['text']['text']}" for i, o in enumerate(options, 1))
            initial = element.get("initial_option")
            now = f" [now {initial['text']['text']}; Enter keeps it]" if initial else ""
            line = self.read(f"{label}: {listed}{now}\n> ")
            if line is None or line.strip().lower() == "cancel":
                return None
            choice = line.strip().lower()
            chosen = initial if not choice else next(
                (o for i, o in enumerate(options, 1)
                 if choice in (str(i), o["value"].lower(), o["text"]["text"].lower())), None)
            return {element["action_id"]: {"type": "static_select", "selected_option": chosen}}
        initial = element.get("initial_value") or ""
        now = f" [now: {initial[:60]}{'…' if len(initial) > 60 else ''}; Enter keeps it]" \
            if initial else ""
        line = self.read(f"{label}{now}\n> ")
        if line is None or line.strip().lower() == "cancel":
            return None
        text = line if line.strip() else initial
        return {element["action_id"]: {"type": "plain_text_input", "value": text or None}}

    # ---- the session --------------------------------------------------------------------------------

    def welcome(self) -> None:
        roles = ", ".join(self.person.get("roles") or []) or "no role"
        self.say(f"You are {self.person.get('name') or self.person['person']} "
                 f"({self.person['person']}: {roles}, {self.person.get('agency') or '-'}).")
        self.say("Slack is stood in for on this machine: nothing is sent anywhere, but what you "
                 "do is recorded in the ledger.")
        self.say(CONSOLE_HELP)
        self.deliver_waiting()

    def deliver_waiting(self) -> None:
        """Send what a real workspace would already have sent this person."""
        views = self.s.fresh()
        me = self.person["person"]
        outgoing = []
        for prog in sorted(views.programmes(), key=lambda p: p["programme"]):
            pid = prog["programme"]
            if "manager" in (self.person.get("roles") or []):
                outgoing += [o for k in views.concerns(pid)
                             if k["agency"] == self.person.get("agency") and not k["closed"]
                             and not k["acknowledged_by"]
                             for o in concern_outgoing(self.s, k)]
            outgoing += [o for f in views.feedback(pid)
                         if not f["acknowledged_by"] and me in (f["practitioner"], f["manager"])
                         for o in feedback_outgoing(self.s, f)]
        mine = [o for o in outgoing if o.slack_user == self.slack_user]
        for o in mine[:WELCOME_LIMIT]:
            self.s.deliver.dm(o.slack_user, o.text, o.blocks)
        self.settle()
        if len(mine) > WELCOME_LIMIT:
            self.say(f"({len(mine) - WELCOME_LIMIT} more are waiting: type /audit my)")

    def run(self) -> int:
        self.welcome()
        while True:
            line = self.read("\n> ")
            if line is None:
                return 0
            words = line.strip()
            lowered = words.lower()
            if not words:
                continue
            if lowered in ("quit", "exit", "q"):
                return 0
            if lowered in ("help", "?"):
                self.say(CONSOLE_HELP)
            elif lowered == "home":
                self.home()
            elif lowered.startswith("/audit") or lowered.startswith("audit "):
                self.slash(words.split(None, 1)[1] if " " in words else "")
            elif re.fullmatch(r"(press\s+)?\d+", lowered):
                self.press(int(lowered.split()[-1]))
            else:
                self.say("I didn't understand that. " + CONSOLE_HELP)
