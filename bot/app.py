"""The Bolt app: `/audit`, the buttons, the forms and the Home tab.

Every request is acknowledged within Slack's three seconds: buttons and events at once, with
the work after the ack; `/audit` answers and form checks when ready within two seconds, else a
holding reply and the answer later (through the command's response_url). Every act carries an
idempotency key from the payload, so a retried request or a second click records nothing twice.

Bolt runs each listener in the thread that dispatches the request and answers Slack when the
listener returns (`process_before_response`): no thread handed the listener, and none polling
for its ack. So a listener returns as soon as it has acknowledged, and hands any work after
the ack to the services' listener pool. The two-second budget counts from when the
request reached the server (the server notes it in the request's context), not from when its
listener began, so a request that queued for a thread still gets its answer or its holding
reply in time.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from ledger import commands as c
from policies.permissions import permission_problem
from projections.queries import NotInViews

from . import blocks as b
from . import modals as m
from .acts import Done, carry_out, slack_key
from .answers import answer, waiting_for
from .deliver import slack_error
from .services import BotServices

log = logging.getLogger(__name__)

ACK_BUDGET = 2.0
"""Seconds a handler may spend before acknowledging; Slack gives up after three."""

RECEIVED_AT = "audit_ledger_received_at"
"""The key, in a request's Bolt context, of when the server received it (time.monotonic())."""

SORRY = ("Sorry, something went wrong on our side and I could not finish that. Nothing was "
         "recorded twice. Please try again in a minute.")

Doc = dict[str, Any]


@dataclass
class Reply:
    """How a form submission is answered: `ack` goes back to Slack (close, errors under boxes,
    or a new view); `tell` reaches the person instead if the form had to close first; `after`
    runs once Slack has its answer (update messages, refresh Home tabs)."""

    ack: Doc = field(default_factory=dict)
    tell: str = ""
    after: Callable[[], None] | None = None


def _ref(action: Doc) -> Doc:
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


def request_identity(body: Doc) -> str:
    """What makes a request the same request when Slack sends it again."""
    kind = body.get("type")
    if kind == "block_actions":
        acts = body.get("actions") or [{}]
        return f"action:{(body.get('user') or {}).get('id')}:{acts[0].get('action_ts')}"
    if kind == "view_submission":
        view = body.get("view") or {}
        return f"view:{view.get('id')}:{view.get('hash')}"
    if kind == "event_callback":
        return f"event:{body.get('event_id')}"
    return ""


class Handlers:
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

    def _handled(self, body: Doc) -> None:
        identity = request_identity(body)
        if identity:
            with self._lock:
                self._done[identity] = None
                while len(self._done) > 5000:
                    self._done.popitem(last=False)

    def button(self, work: Callable[[Doc, Any], None]) -> Callable[..., None]:
        """A button's listener: acknowledge at once, then do the work; a failure is logged by
        kind and the person is told, plainly."""
        def pressed(body: Doc, respond: Any) -> None:
            try:
                work(body, respond)
            except Exception as e:  # noqa: BLE001 - say sorry, never a stack trace
                log.error("button %s failed (%s)",
                          ((body.get("actions") or [{}])[0]).get("action_id"), type(e).__name__)
                self._tell(body, SORRY, respond)

        def listener(ack: Any, body: Doc, respond: Any) -> None:
            ack()
            self.s.listeners.submit(pressed, body, respond)
        return listener

    def on_error(self, error: Exception, body: Doc) -> None:
        log.error("handler failed on %s (%s)", body.get("type") or "a command", type(error).__name__)

    # ---- helpers ------------------------------------------------------------------------------

    def _tell(self, body: Doc, text: str, respond: Any = None) -> None:
        """A private note to the person who acted, where they acted."""
        user = (body.get("user") or {}).get("id") or body.get("user_id", "")
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        try:
            if respond is not None and body.get("response_url"):
                respond(text=text, response_type="ephemeral", replace_original=False)
            elif channel:
                self.s.deliver.ephemeral(channel, user, text, b.say(text)[1])
            elif user:
                self.s.deliver.dm(user, text, b.say(text)[1])
        except Exception as e:  # noqa: BLE001 - telling is best effort; the act stands
            log.warning("could not tell the person (%s)", slack_error(e))

    def _message_place(self, body: Doc) -> tuple[str, str]:
        """The channel and ts of the (non-ephemeral) message whose button was pressed."""
        container = body.get("container") or {}
        if container.get("type") != "message" or container.get("is_ephemeral"):
            return "", ""
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts") or ""
        return str(channel), str(ts)

    def _update(self, channel: str, ts: str, render: Callable[[], tuple[str, b.Blocks]]) -> None:
        if not (channel and ts):
            return
        try:
            text, blocks = render()
            self.s.deliver.update(channel, ts, text, blocks)
        except Exception as e:  # noqa: BLE001 - the act is recorded; the message stays as it was
            log.warning("could not update the message in place (%s)", slack_error(e))

    def publish_home(self, slack_user: str) -> None:
        try:
            views = self.s.fresh()
            person = self.s.directory.person(slack_user)
            w = waiting_for(views, person, self.s.today()) if person else None
            view = b.home_view(person, w, self.s.directory.name,
                               self.s.directory.how_to_get_linked(slack_user))
            self.s.deliver.publish_home(slack_user, view)
        except Exception as e:  # noqa: BLE001 - a Home tab is refreshed next time it is opened
            log.warning("could not publish a Home tab (%s)", slack_error(e))

    def republish(self, *people: str) -> None:
        """Refresh the Home tabs of the people an act concerns."""
        for slack_user in {self.s.directory.slack_user(p) for p in people if p} - {""}:
            self.publish_home(slack_user)

    def _who(self, body: Doc, respond: Any = None) -> Doc | None:
        user = (body.get("user") or {}).get("id", "")
        self.s.fresh()
        person = self.s.directory.person(user)
        if person is None:
            self._tell(body, self.s.directory.how_to_get_linked(user), respond)
        return person

    def _names(self, person: str) -> str:
        return self.s.directory.name(person)

    def _programme(self, pid: str) -> Doc | None:
        try:
            return self.s.views.programme(pid)
        except NotInViews:
            return None

    def _acknowledged_words(self, doc: Doc, done: Done) -> str:
        if done.changed:
            return "Thank you: acknowledged."
        return (f"This was already acknowledged by {self._names(doc.get('acknowledged_by', ''))} "
                f"at {b.when_plain(doc.get('acknowledged_at', ''))}.")

    # ---- /audit --------------------------------------------------------------------------------

    def command(self, ack: Any, body: Doc, respond: Any, context: Any = None) -> None:
        user = body.get("user_id", "")
        future = self.s.work.submit(answer, self.s, user, body.get("text") or "")
        try:
            text, blocks = future.result(timeout=max(0.0, budget_left(context)))
        except FutureTimeout:
            ack(response_type="ephemeral", text="Looking that up, one moment…")
            self.s.listeners.submit(self._answer_later, future, respond)
            return
        except Exception as e:  # noqa: BLE001 - say sorry, never a stack trace
            log.error("/audit failed (%s)", type(e).__name__)
            text, blocks = b.say(SORRY)
        ack(response_type="ephemeral", text=text, blocks=blocks)

    def _answer_later(self, future: Future[Any], respond: Any) -> None:
        """After a holding reply: the answer, when ready, through the command's response_url."""
        try:
            text, blocks = future.result()
        except Exception as e:  # noqa: BLE001
            log.error("/audit failed (%s)", type(e).__name__)
            text, blocks = b.say(SORRY)
        try:
            respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
        except Exception as e:  # noqa: BLE001 - the person asks again; say why in a word
            log.warning("could not send the /audit answer (%s)", slack_error(e))

    # ---- feedback --------------------------------------------------------------------------------

    def _feedback_render(self, doc: Doc, person: Doc) -> Callable[[], tuple[str, b.Blocks]]:
        for_manager = person["person"] == doc.get("manager") and \
            person["person"] != doc.get("practitioner")

        def render() -> tuple[str, b.Blocks]:
            fresh = self.s.views.feedback_item(doc["programme"], doc["case"], doc["agency"]) or doc
            programme = self._programme(doc["programme"])
            return b.feedback_message(fresh, programme, self._names, for_manager=for_manager)
        return render

    def acknowledge_feedback(self, body: Doc, respond: Any) -> None:
        person = self._who(body, respond)
        if person is None:
            return
        action = body["actions"][0]
        ref = _ref(action)
        done = carry_out(self.s, c.AcknowledgeFeedback, "acknowledge_feedback",
                         by=person["person"], programme=ref.get("p", ""), case=ref.get("c", ""),
                         agency=ref.get("a", ""),
                         key=press_key(body))
        doc = self.s.views.feedback_item(ref.get("p", ""), ref.get("c", ""), ref.get("a", ""))
        if not done.ok:
            self._tell(body, done.message, respond)
        elif (body.get("container") or {}).get("is_ephemeral") and doc is not None:
            self._tell(body, self._acknowledged_words(doc, done), respond)
        if doc is not None:
            self._update(*self._message_place(body), self._feedback_render(doc, person))
            self.republish(person["person"], doc["practitioner"], doc.get("manager", ""))
        self._handled(body)

    def open_responses(self, body: Doc, respond: Any) -> None:
        person = self._who(body, respond)
        if person is None:
            return
        ref = _ref(body["actions"][0])
        doc = self.s.views.feedback_item(ref.get("p", ""), ref.get("c", ""), ref.get("a", ""))
        if doc is None:
            self._tell(body, "I can't find that feedback in the ledger any more.", respond)
            return
        if person["person"] not in (doc["practitioner"], doc.get("manager")):
            self._tell(body, f"This feedback is for {self._names(doc['practitioner'])}; only they "
                             "and their manager can answer it.", respond)
            return
        channel, ts = self._message_place(body)
        meta = {"p": doc["programme"], "c": doc["case"], "a": doc["agency"], "ch": channel,
                "ts": ts}
        programme = self._programme(doc["programme"])
        try:
            self.s.deliver.open_modal(body["trigger_id"], m.respond_modal(doc, programme, meta))
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the answers form (%s)", slack_error(e))
            self._tell(body, "I couldn't open the form in time. Please press Respond again.",
                       respond)
        self._handled(body)

    def _form(self, ack: Any, body: Doc, view: Doc, work: Callable[[], Reply],
              context: Any = None) -> None:
        """A form submitted: `work` checks and records it within the budget, so its answer (close,
        errors under the boxes, or a thank-you) goes back in the ack. If it takes longer, the
        form closes first and a refusal reaches the person by direct message. What comes after
        (updating messages, Home tabs) runs after the ack."""
        first = next((blk["block_id"] for blk in view.get("blocks", [])
                      if blk.get("type") == "input"), "")

        def guarded() -> Reply:
            try:
                return work()
            except Exception as e:  # noqa: BLE001 - say sorry in the form, never a trace
                log.error("form %s failed (%s)", view.get("callback_id"), type(e).__name__)
                return Reply({"response_action": "errors", "errors": {first: SORRY}}, SORRY)

        future = self.s.work.submit(guarded)
        try:
            reply = future.result(timeout=max(0.0, budget_left(context)))
        except FutureTimeout:
            ack()
            self.s.listeners.submit(self._form_later, future, body)
            return
        ack(**reply.ack)
        if reply.after is not None:
            self.s.listeners.submit(self._form_after, reply, body)
        elif not reply.ack.get("errors"):
            self._handled(body)

    def _form_later(self, future: Future[Reply], body: Doc) -> None:
        """After a form closed without its answer: tell the person any refusal, then the rest."""
        reply = future.result()  # guarded: never raises
        if reply.tell:
            self._tell({"user": body.get("user") or {}}, reply.tell)
        self._form_after(reply, body)

    def _form_after(self, reply: Reply, body: Doc) -> None:
        try:
            if reply.after is not None:
                reply.after()
        except Exception as e:  # noqa: BLE001 - the act is recorded; say what failed in a word
            log.error("after form %s failed (%s)", (body.get("view") or {}).get("callback_id"),
                      type(e).__name__)
        if not reply.ack.get("errors"):
            self._handled(body)

    def _person_or_errors(self, body: Doc, block: str) -> tuple[Doc | None, Reply | None]:
        user = (body.get("user") or {}).get("id", "")
        self.s.fresh()
        person = self.s.directory.person(user)
        if person is None:
            how = self.s.directory.how_to_get_linked(user)
            return None, Reply({"response_action": "errors", "errors": {block: how}}, how)
        return person, None

    def submit_responses(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        meta = m.metadata(view)

        def work() -> Reply:
            first = m.issue_block(1)
            person, refused = self._person_or_errors(body, first)
            if person is None:
                return refused or Reply()
            doc = self.s.views.feedback_item(meta.get("p", ""), meta.get("c", ""),
                                             meta.get("a", ""))
            if doc is None:
                gone = "I can't find this feedback in the ledger any more."
                return Reply({"response_action": "errors", "errors": {first: gone}}, gone)
            answers, errors = m.read_answers(doc, (view.get("state") or {}).get("values") or {})
            if errors:
                return Reply({"response_action": "errors", "errors": errors})
            results = [(n, carry_out(self.s, c.RespondToIssue, "respond_to_issue",
                                     by=person["person"], programme=doc["programme"],
                                     case=doc["case"], agency=doc["agency"], issue=n,
                                     response=text,
                                     key=slack_key(str(view.get("id", "")), f"issue-{n}")))
                       for n, text in sorted(answers.items())]
            failed = {m.issue_block(n): d.message for n, d in results if not d.ok}

            def after() -> None:
                self._update(meta.get("ch", ""), meta.get("ts", ""),
                             self._feedback_render(doc, person))
                self.republish(person["person"], doc["practitioner"], doc.get("manager", ""))

            if failed:
                return Reply({"response_action": "errors", "errors": failed},
                             " ".join(failed.values()), after)
            return Reply({"response_action": "update", "view": m.done_view(
                "Answers sent", "Thank you. Your answers are now part of the audit record.")},
                after=after)

        self._form(ack, body, view, work, context)

    # ---- concerns --------------------------------------------------------------------------------

    def _concern_render(self, doc: Doc) -> Callable[[], tuple[str, b.Blocks]]:
        def render() -> tuple[str, b.Blocks]:
            fresh = self.s.views.concern(doc["programme"], doc["ref"]) or doc
            programme = self._programme(doc["programme"])
            return b.concern_message(fresh, programme, self._names)
        return render

    def acknowledge_concern(self, body: Doc, respond: Any) -> None:
        person = self._who(body, respond)
        if person is None:
            return
        action = body["actions"][0]
        ref = _ref(action)
        done = carry_out(self.s, c.AcknowledgeConcern, "acknowledge_concern",
                         by=person["person"], programme=ref.get("p", ""),
                         concern=ref.get("r", ""),
                         key=press_key(body))
        doc = self.s.views.concern(ref.get("p", ""), ref.get("r", ""))
        if not done.ok:
            self._tell(body, done.message, respond)
        elif (body.get("container") or {}).get("is_ephemeral") and doc is not None:
            self._tell(body, self._acknowledged_words(doc, done), respond)
        if doc is not None:
            self._update(*self._message_place(body), self._concern_render(doc))
        self.republish(person["person"])
        self._handled(body)

    def open_concern_action(self, body: Doc, respond: Any) -> None:
        person = self._who(body, respond)
        if person is None:
            return
        ref = _ref(body["actions"][0])
        doc = self.s.views.concern(ref.get("p", ""), ref.get("r", ""))
        if doc is None:
            self._tell(body, "I can't find that concern in the ledger any more.", respond)
            return
        roles = person.get("roles") or []
        problem = permission_problem("record concern action", roles)
        if problem is None and person.get("agency") != doc["agency"] and \
                "quality-lead" not in roles:
            problem = f"this concern is for {doc['agency']}'s managers"
        if problem:
            self._tell(body, problem[:1].upper() + problem[1:] + ".", respond)
            return
        channel, ts = self._message_place(body)
        meta = {"p": doc["programme"], "r": doc["ref"], "ch": channel, "ts": ts}
        try:
            self.s.deliver.open_modal(body["trigger_id"], m.concern_action_modal(doc, meta))
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the concern form (%s)", slack_error(e))
            self._tell(body, "I couldn't open the form in time. Please press the button again.",
                       respond)
        self._handled(body)

    def submit_concern_action(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        meta = m.metadata(view)

        def work() -> Reply:
            block = m.CONCERN_ACTION_BLOCK
            person, refused = self._person_or_errors(body, block)
            if person is None:
                return refused or Reply()
            text, errors = m.read_concern_action((view.get("state") or {}).get("values") or {})
            if errors:
                return Reply({"response_action": "errors", "errors": errors})
            done = carry_out(self.s, c.RecordConcernAction, "record_concern_action",
                             by=person["person"], programme=meta.get("p", ""),
                             concern=meta.get("r", ""), action=text,
                             key=slack_key(str(view.get("id", ""))))
            if not done.ok:
                return Reply({"response_action": "errors", "errors": {block: done.message}},
                             done.message)

            def after() -> None:
                doc = self.s.views.concern(meta.get("p", ""), meta.get("r", ""))
                if doc is not None:
                    self._update(meta.get("ch", ""), meta.get("ts", ""),
                                 self._concern_render(doc))
                self.republish(person["person"])

            return Reply({"response_action": "update", "view": m.done_view(
                "Action recorded", "Thank you. Your action is recorded on the concern.")},
                after=after)

        self._form(ack, body, view, work, context)

    # ---- the action plan -----------------------------------------------------------------------

    def open_action_update(self, body: Doc, respond: Any) -> None:
        person = self._who(body, respond)
        if person is None:
            return
        ref = _ref(body["actions"][0])
        doc = self.s.views.action(ref.get("p", ""), ref.get("x", ""))
        if doc is None:
            self._tell(body, "I can't find that action in the ledger any more.", respond)
            return
        if doc["owner"] != person["person"] and "quality-lead" not in (person.get("roles") or []):
            self._tell(body, f"Action {doc['id']} is owned by {self._names(doc['owner'])}; only "
                             "they or a quality lead can update it.", respond)
            return
        if doc["completed"]:
            self._tell(body, f"Action {doc['id']} is already complete.", respond)
            return
        meta = {"p": doc["programme"], "x": doc["id"]}
        try:
            self.s.deliver.open_modal(body["trigger_id"], m.action_update_modal(doc, meta))
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the action form (%s)", slack_error(e))
            self._tell(body, "I couldn't open the form in time. Please press Update again.",
                       respond)
        self._handled(body)

    def submit_action_update(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        meta = m.metadata(view)
        view_id = str(view.get("id", ""))

        def work() -> Reply:
            person, refused = self._person_or_errors(body, m.NOTE_BLOCK)
            if person is None:
                return refused or Reply()
            update, errors = m.read_action_update((view.get("state") or {}).get("values") or {})
            if update is None:
                return Reply({"response_action": "errors", "errors": errors})
            common = {"by": person["person"], "programme": meta.get("p", ""),
                      "action": meta.get("x", "")}
            results: dict[str, Done] = {}
            if update.rag and update.note:
                results[m.NOTE_BLOCK] = carry_out(
                    self.s, c.RecordActionProgress, "record_action_progress", rag=update.rag,
                    note=update.note, key=slack_key(view_id, "progress"), **common)
            if update.evidence and all(d.ok for d in results.values()):
                results[m.EVIDENCE_BLOCK] = carry_out(
                    self.s, c.CompleteAction, "complete_action", evidence=update.evidence,
                    key=slack_key(view_id, "complete"), **common)
            failed = {block: d.message for block, d in results.items() if not d.ok}

            def after() -> None:
                self.republish(person["person"])

            if failed:
                return Reply({"response_action": "errors", "errors": failed},
                             " ".join(failed.values()), after)
            said = "complete" if update.evidence else f"progress recorded ({update.rag})"
            return Reply({"response_action": "update", "view": m.done_view(
                "Action updated", f"Thank you. Action {meta.get('x', '')}: {said}.")},
                after=after)

        self._form(ack, body, view, work, context)

    # ---- the Home tab ---------------------------------------------------------------------------

    def home_opened(self, body: Doc, event: Doc) -> None:
        """Acknowledged when this returns; the Home tab is published after."""
        if event.get("tab", "home") == "home" and event.get("user"):
            self.s.listeners.submit(self._home_opened, body, str(event["user"]))
        else:
            self._handled(body)

    def _home_opened(self, body: Doc, slack_user: str) -> None:
        self.publish_home(slack_user)
        self._handled(body)


def quiet_bolt_logger() -> logging.Logger:
    """Bolt and slack_sdk log request bodies at DEBUG; keep them at WARNING whatever the root
    level, so no token, secret or personal text reaches a log."""
    for name in ("slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logger = logging.getLogger("bot.bolt")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _ClientGiven) for f in logger.filters):
        logger.addFilter(_ClientGiven())
    return logger


class _ClientGiven(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when a client is given;
    the client carries that very token, so the warning only confuses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_app(services: BotServices, *, signing_secret: str, client: WebClient,
              verify_token: bool = True) -> App:
    """The Bolt app for one workspace (its bot token is the client's), every handler registered."""
    app = App(
        signing_secret=signing_secret,
        client=client,
        process_before_response=True,  # each listener acks, then hands on what comes after
        listener_executor=services.listeners,
        token_verification_enabled=verify_token,
        logger=quiet_bolt_logger(),
    )
    h = Handlers(services)
    app.error(h.on_error)
    app.use(h.skip_handled_retries)
    app.command(re.compile(r"^/audit"))(h.command)
    app.action(b.FEEDBACK_ACKNOWLEDGE)(h.button(h.acknowledge_feedback))
    app.action(b.FEEDBACK_RESPOND)(h.button(h.open_responses))
    app.action(b.CONCERN_ACKNOWLEDGE)(h.button(h.acknowledge_concern))
    app.action(b.CONCERN_RECORD_ACTION)(h.button(h.open_concern_action))
    app.action(b.ACTION_UPDATE)(h.button(h.open_action_update))
    app.view(b.FEEDBACK_RESPOND)(h.submit_responses)
    app.view(b.CONCERN_RECORD_ACTION)(h.submit_concern_action)
    app.view(b.ACTION_UPDATE)(h.submit_action_update)
    app.event("app_home_opened")(h.home_opened)
    return app
