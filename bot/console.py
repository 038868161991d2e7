"""`bot try`: the real Bolt app, in this process, against a local stand-in for Slack, in a terminal.

The person types `/audit ...`; what the bot sends them is printed as text (`screen`), each button
with a number they can `press`; a form asks for each of its boxes in turn. Every request is
signed and dispatched to the Bolt app exactly as Slack would send it (`slack_side`).
"""

from __future__ import annotations

import json
import queue
import re
from typing import Any, TextIO

from slack_bolt import App

from projections.queries import partnership_of

from .outbox import concern_outgoing, feedback_outgoing
from .screen import Screen, still_there
from .services import BotServices
from .slack_side import SlackSide
from .standin import Arrival, StandIn

Doc = dict[str, Any]

WELCOME_LIMIT = 10

CONSOLE_HELP = """\
Type:
  /audit help          what the bot can do (also /audit my, progress, actions, case, history)
  press N              press button N of a message above (or just N)
  home                 open your Home tab
  anything else        a message to the bot, as in its Messages tab
  quit                 leave (or Ctrl-D)
"""


class Console:
    def __init__(self, services: BotServices, bolt: App, standin: StandIn, person: Doc,
                 slack_user: str, signing_secret: str, inp: TextIO, out: TextIO) -> None:
        self.s = services
        self.standin = standin
        self.person = person
        self.slack_user = slack_user
        self.inp = inp
        self.echo = not inp.isatty()
        self.screen = Screen(out)
        self.channel = services.deliver.dm_channel(slack_user)
        self.slack = SlackSide(bolt, signing_secret, person, slack_user, self.channel,
                               self.screen.say)
        self.home_asked = False

    # ---- input and output ----------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.screen.say(text)

    def read(self, prompt: str) -> str | None:
        self.screen.out.write(prompt)
        self.screen.out.flush()
        line = self.inp.readline()
        if not line:
            self.say()
            return None
        line = line.rstrip("\n")
        if self.echo:
            self.say(line)
        return line

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
        show = self.screen.message
        if arrival.kind in ("message", "update"):
            if data.get("to") != self.slack_user:
                return
            title = "Message from the audit bot" if arrival.kind == "message" else \
                "The message above was updated"
            show(title, data.get("blocks") or [], data.get("text", ""),
                 {"type": "message", "channel": data["channel"], "ts": data["ts"]})
        elif arrival.kind == "ephemeral":
            if data.get("to") != self.slack_user:
                return
            show("Only visible to you", data.get("blocks") or [], data.get("text", ""),
                 {"type": "ephemeral", "channel": data.get("channel", self.channel),
                  "ts": data["ts"], "response_url": data["response_url"]})
        elif arrival.kind == "response":
            show("Only visible to you", data.get("blocks") or [], data.get("text", ""),
                 {"type": "ephemeral", "channel": self.channel,
                  "ts": self.standin.ts(), "response_url": data["response_url"]})
        elif arrival.kind == "home":
            if data.get("user") != self.slack_user or not self.home_asked:
                return  # refreshed in the background; shown when the person opens it
            self.home_asked = False
            view = data["view"]
            show("Your Home tab", view.get("blocks") or [], "", {"type": "view", "view": view})
        elif arrival.kind == "modal":
            self.fill(data)

    # ---- what the person does ----------------------------------------------------------------

    def slash(self, text: str) -> None:
        response_url = self.standin.response_url()
        response = self.slack.slash(text, response_url)
        if response.status != 200:
            self.say(f"(the app answered {response.status})")
        elif response.body:
            data = json.loads(response.body)
            self.screen.message("Only visible to you", data.get("blocks") or [],
                                data.get("text", ""),
                                {"type": "ephemeral", "channel": self.channel,
                                 "ts": self.standin.ts(), "response_url": response_url})
        self.settle()

    def message(self, text: str) -> None:
        """A message typed to the bot in its direct message channel; its answer arrives there."""
        response = self.slack.message(text)
        if response.status != 200:
            self.say(f"(the app answered {response.status})")
        self.settle()

    def home(self) -> None:
        self.home_asked = True
        self.slack.home_opened()
        self.settle()

    def press(self, number: int) -> None:
        found = self.screen.buttons.get(number)
        if found is None:
            self.say(f"There is no button {number}.")
            return
        place = found.place
        current = None
        if place["type"] == "message":
            current = self.standin.messages.get((place["channel"], place["ts"]))
            if current is None or not still_there(current["blocks"], found):
                self.say("That button is gone: the message has changed since (see the latest "
                         "version above).")
                return
        ask = found.element.get("confirm")
        if isinstance(ask, dict):  # Slack's "are you sure?" dialog, before anything is sent
            self.say(f"\n{ask['title']['text']} {ask['text']['text']}")
            sure = self.read(f"Type yes to {ask['confirm']['text'].lower()}, anything else for "
                             f"{ask['deny']['text'].lower()}: ")
            if (sure or "").strip().lower() not in ("yes", "y"):
                self.say("Nothing was done.")
                return
        response = self.slack.press(found, current, self.standin.response_url)
        if response.status != 200:
            self.say(f"(the app answered {response.status})")
        self.settle()

    # ---- forms -------------------------------------------------------------------------------------

    def fill(self, view: Doc) -> None:
        title = view.get("title", {}).get("text", "Form")
        self.say(f"\n=== {title} (a form: answer each box; type 'cancel' to close it) ===")
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                self.screen.block(block, {"type": "view", "view": view})
        inputs = [blk for blk in view.get("blocks", []) if blk.get("type") == "input"]
        values: Doc = {}
        todo = inputs
        while True:
            for block in todo:
                got = self.ask(block)
                if got is None:
                    self.close(view, values)
                    return
                values[block["block_id"]] = got
            response = self.slack.submit(view, values)
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
                self.screen.message(done.get("title", {}).get("text", "Done"),
                                    done.get("blocks") or [], "", {"type": "view", "view": done})
            else:
                self.say("(form sent)")
            return

    def close(self, view: Doc, values: Doc) -> None:
        """Closed without sending: Slack tells the app (with what was typed) only when the form
        asked to be told."""
        if not view.get("notify_on_close"):
            self.say("(form closed; nothing was sent)")
            return
        self.slack.closed(view, values)
        self.settle()
        self.say("(form closed without sending; what you typed is kept as a draft for next "
                 "time)" if values else "(form closed; nothing was sent)")

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
        mine_only = [partnership_of(self.person)]
        for prog in sorted(views.programmes(mine_only), key=lambda p: p["programme"]):
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
                self.message(words)
