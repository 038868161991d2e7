"""What every listener shares: the ack budget, requests already handled, telling people, updating messages.

Bolt runs each listener in the thread that dispatches the request and answers Slack when the
listener returns (`process_before_response`). So a listener returns as soon as it has
acknowledged, and hands any work after the ack to the services' listener pool. The two-second
budget counts from when the request reached the server (the server notes it in the request's
context), not from when its listener began, so a request that queued for a thread still gets
its answer or its holding reply in time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_sdk.webhook import WebhookClient

from . import blocks as b
from .acts import Done, slack_key
from .deliver import Deliverer, slack_error
from .messages import concern_message, feedback_message
from .pages import parts
from .services import BotServices

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

ACK_BUDGET = 2.0
"""Seconds a handler may spend before acknowledging; Slack gives up after three."""

RECEIVED_AT = "audit_ledger_received_at"
"""The key, in a request's Bolt context, of when the server received it (time.monotonic())."""

SORRY = ("Sorry, something went wrong on our side and I could not finish that. Nothing was "
         "recorded twice. Please try again in a minute.")

Doc = dict[str, Any]
Render = Callable[[], tuple[str, b.Blocks]]


def button_ref(action: Doc) -> Doc:
    """The references a button acts on (its value), or nothing if they cannot be read."""
    try:
        ref = json.loads(action.get("value") or "{}")
    except json.JSONDecodeError:
        return {}
    return ref if isinstance(ref, dict) else {}


def press_key(body: Doc) -> str:
    """The idempotency key of a button press: the Slack user and the press's action_ts (the
    same in a retry of the request, different for a second click)."""
    action = (body.get("actions") or [{}])[0]
    moment = action.get("action_ts") or body.get("trigger_id") or ""
    return slack_key(str((body.get("user") or {}).get("id", "")), str(moment))


def budget_left(context: Any) -> float:
    """Seconds left of ACK_BUDGET for this request, counted from when the server received it
    (from when its listener began when nobody noted that: the console, the tests)."""
    received = context.get(RECEIVED_AT) if context is not None else None
    if not isinstance(received, float):
        return ACK_BUDGET
    return ACK_BUDGET - (time.monotonic() - received)


def request_team(body: Doc) -> str:
    """The workspace a request came from: `team_id` of a slash command or an event, `team` of
    a button press or a form."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") \
        or (body.get("user") or {}).get("team_id") or (body.get("view") or {}).get("team_id")
    return str(team or "")


def request_identity(body: Doc) -> str:
    """What makes a request the same request when Slack sends it again."""
    kind = body.get("type")
    if kind == "block_actions":
        acts = body.get("actions") or [{}]
        return f"action:{(body.get('user') or {}).get('id')}:{acts[0].get('action_ts')}"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view") or {}
        return f"{kind}:{view.get('id')}:{view.get('hash')}"
    if kind == "event_callback":
        return f"event:{body.get('event_id')}"
    return ""


class Handling:
    """Shared by the command, the buttons, the forms and the Home tab of one Bolt app."""

    def __init__(self, services: BotServices) -> None:
        self.s = services
        self._done: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    # ---- retries ------------------------------------------------------------------------------

    def skip_handled_retries(self, req: BoltRequest, next: Callable[[], None]) -> Any:
        """A retry (X-Slack-Retry-Num) of a request we already carried out is acknowledged
        without acting again. (Correctness never rests on this memory: every act's key makes the
        ledger refuse a second event even after a restart.)"""
        retry = (req.headers.get("x-slack-retry-num") or [""])[0]
        identity = request_identity(req.body) if retry else ""
        if identity:
            with self._lock:
                seen = identity in self._done
            if seen:
                log.info("retry %s of a request already handled: acknowledged, nothing done",
                         retry)
                return BoltResponse(status=200, body="")
        return next()

    def handled(self, body: Doc) -> None:
        identity = request_identity(body)
        if identity:
            with self._lock:
                self._done[identity] = None
                while len(self._done) > 5000:
                    self._done.popitem(last=False)

    def on_error(self, error: Exception, body: Doc) -> None:
        log.error("handler failed on %s (%s)", body.get("type") or "a command", type(error).__name__)

    # ---- people and places ----------------------------------------------------------------------

    def tell(self, body: Doc, text: str, respond: Any = None) -> None:
        """A private note to the person who acted, where they acted (its text escaped: Slack
        reads a message's text as mrkdwn, and it may carry a person's name)."""
        text, blocks = b.escape(text), b.say(text)[1]
        user = (body.get("user") or {}).get("id") or body.get("user_id", "")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        try:
            if respond is not None and body.get("response_url"):
                respond(text=text, response_type="ephemeral", replace_original=False)
            elif channel:
                self.slack(body).ephemeral(channel, user, text, blocks)
            elif user:
                self.slack(body).dm(user, text, blocks)
        except Exception as e:  # noqa: BLE001 - telling is best effort; the act stands
            log.warning("could not tell the person (%s)", slack_error(e))

    def slack(self, body: Doc) -> Deliverer:
        """Slack, spoken to in the workspace a request came from."""
        return self.s.deliver.in_team(request_team(body))

    def who(self, body: Doc, respond: Any = None, programme: str = "") -> Doc | None:
        """The person who acted (in the partnership that owns `programme`, when one is
        named), or None when they are not in that directory (and told so)."""
        user = (body.get("user") or {}).get("id", "")
        self.s.fresh()
        team = request_team(body)
        person = self.s.directory.person(user, self.s.partnership_of(programme)
                                         if programme else None, team=team)
        if person is None:
            self.tell(body, self.s.directory.how_to_get_linked(user, team=team), respond)
        return person

    def names(self, programme: str) -> Callable[[str], str]:
        """People's names as the partnership that owns a programme knows them."""
        return self.s.directory.of(programme).name

    def acknowledged_words(self, doc: Doc, done: Done) -> str:
        if done.changed:
            return "Thank you: acknowledged."
        directory = self.s.directory.of(doc["programme"])
        name = directory.name(doc.get("acknowledged_by", ""))
        zone = self.s.zone(directory.slack_user(doc.get("acknowledged_by", "")), doc["programme"])
        return (f"This was already acknowledged by {name} "
                f"on {b.when_plain(doc.get('acknowledged_at', ''), zone)}.")

    def seen_words(self, doc: Doc, done: Done) -> str:
        directory = self.s.directory.of(doc["programme"])
        practitioner = directory.name(doc["practitioner"])
        if done.changed:
            return (f"Thank you: recorded that you have seen this copy. Only {practitioner} can "
                    "acknowledge the feedback; their own Acknowledge button and reminders stay "
                    "until they do.")
        zone = self.s.deliver.zone(directory.slack_user(doc.get("seen_by", "")))
        return (f"You recorded seeing this copy on "
                f"{b.when_plain(doc.get('seen_at', ''), zone)}. Only {practitioner} can "
                "acknowledge the feedback.")

    # ---- lists replaced in place ----------------------------------------------------------------

    def list_origin(self, body: Doc) -> Doc:
        """Where a press on an ephemeral `/audit` list came from (its response_url and the
        question it answered), to carry through a form so the list is replaced afterwards."""
        ref = button_ref((body.get("actions") or [{}])[0])
        if not (body.get("container") or {}).get("is_ephemeral") or "q" not in ref or \
                not body.get("response_url"):
            return {}
        return {"ru": str(body["response_url"]), "q": str(ref["q"])}

    def relist(self, slack_user: str, origin: Doc, note: str, *, team: str) -> None:
        """The ephemeral list a press came from, answered afresh (for the Slack user in
        workspace `team`) and put in its place (so its buttons are those still to press),
        headed by what the press did."""
        if not origin.get("ru"):
            return
        from .answers import answer  # the answers need the handlers' services only
        from .replies import page_of

        try:
            query = str(origin.get("q") or "")
            text, blocks = page_of(*answer(self.s, slack_user, query, team), query, 1)
            WebhookClient(str(origin["ru"])).send(
                text=f"{note} {text}", blocks=[b.context(b.escape(note))] + blocks[:49],
                response_type="ephemeral", replace_original=True)
        except Exception as e:  # noqa: BLE001 - the act stands; the list is as it was
            log.warning("could not replace the list in place (%s)", slack_error(e))

    # ---- messages updated in place ----------------------------------------------------------------

    def message_place(self, body: Doc) -> tuple[str, str]:
        """The channel and ts of the (non-ephemeral) message whose button was pressed."""
        container = body.get("container") or {}
        if container.get("type") != "message" or container.get("is_ephemeral"):
            return "", ""
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts") or ""
        return str(channel), str(ts)

    def update(self, channel: str, ts: str, render: Render, issue: int | None = None,
               team: str = "") -> None:
        """The message at (channel, ts) as it now reads, rewritten in workspace `team` (the
        one token's by default): when the whole is sent in parts, the part holding `issue`'s
        own Answer button (the one pressed), else the part with the buttons at the end."""
        if not (channel and ts):
            return
        try:
            split = parts(*render())
            text, blocks = next((part for part in split if issue is not None
                                 and b.answer_button_for(part[1], issue)), split[-1])
            self.s.deliver.in_team(team).update(channel, ts, text, blocks)
        except Exception as e:  # noqa: BLE001 - the act is recorded; the message stays as it was
            log.warning("could not update the message in place (%s)", slack_error(e))

    def feedback_render(self, doc: Doc, person: Doc) -> Render:
        """Feedback as it stands now, as `person` (practitioner or manager) was sent it."""
        for_manager = person["person"] == doc.get("manager") and \
            person["person"] != doc.get("practitioner")

        def render() -> tuple[str, b.Blocks]:
            fresh = self.s.views.feedback_item(doc["programme"], doc["case"], doc["agency"]) or doc
            programme = self.s.programme(doc["programme"])
            directory = self.s.directory.of(doc["programme"])
            zone = self.s.zone(directory.slack_user(person["person"]), doc["programme"])
            return feedback_message(fresh, programme, directory.name, for_manager=for_manager,
                                    zone=zone)
        return render

    def concern_render(self, doc: Doc) -> Render:
        """A concern's alert as it stands now."""
        def render() -> tuple[str, b.Blocks]:
            fresh = self.s.views.concern(doc["programme"], doc["ref"]) or doc
            programme = self.s.programme(doc["programme"])
            return concern_message(fresh, programme, self.names(doc["programme"]))
        return render
