"""The buttons: acknowledge feedback or a concern; open the forms to answer, act on or update.

Each press is acknowledged at once and the work done after, in the listener pool; a failure is
logged by its kind and the person told, plainly. An acknowledgement carries the press's key, so
a retried request or a second click records nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ledger import commands as c
from policies.permissions import permission_problem, refusal_words
from projections.queries import partnership_of

from . import answering
from . import modals as m
from .acts import carry_out
from .deliver import slack_error
from .handling import SORRY, Handling, button_ref, press_key, request_team
from .home import HomeTab

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

Doc = dict[str, Any]


class Buttons:
    def __init__(self, handling: Handling, home: HomeTab) -> None:
        self.h = handling
        self.s = handling.s
        self.home = home

    def listener(self, work: Callable[[Doc, Any], None]) -> Callable[..., None]:
        """A button's listener: acknowledge at once, then do the work; a failure is logged by
        kind and the person is told, plainly."""
        def pressed(body: Doc, respond: Any) -> None:
            try:
                work(body, respond)
            except Exception as e:  # noqa: BLE001 - say sorry, never a stack trace
                log.error("button %s failed (%s)",
                          ((body.get("actions") or [{}])[0]).get("action_id"), type(e).__name__)
                self.h.tell(body, SORRY, respond)

        def listener(ack: Any, body: Doc, respond: Any) -> None:
            ack()
            self.s.listeners.submit(pressed, body, respond)
        return listener

    # ---- feedback --------------------------------------------------------------------------------

    def acknowledge_feedback(self, body: Doc, respond: Any) -> None:
        """Acknowledge (the practitioner) or Seen (their manager): each press records the
        presser's own fact, whichever copy it was on; a manager's press on an older copy's
        Acknowledge records that they have seen it, never the practitioner's acknowledgement."""
        person = self.h.who(body, respond, button_ref(body["actions"][0]).get("p", ""))
        if person is None:
            return
        ref = button_ref(body["actions"][0])
        where = {"programme": ref.get("p", ""), "case": ref.get("c", ""),
                 "agency": ref.get("a", "")}
        doc = self.s.views.feedback_item(where["programme"], where["case"], where["agency"])
        me = person["person"]
        seeing = doc is not None and me == doc.get("manager") and me != doc["practitioner"]
        if seeing:
            done = carry_out(self.s, c.RecordFeedbackSeen, "record_feedback_seen", by=me,
                             key=press_key(body), **where)
        else:
            done = carry_out(self.s, c.AcknowledgeFeedback, "acknowledge_feedback", by=me,
                             key=press_key(body), **where)
        doc = self.s.views.feedback_item(where["programme"], where["case"], where["agency"])
        if not done.ok:  # refused: nothing changes, and only the presser is told why
            self.h.tell(body, done.message, respond)
            self.h.handled(body)
            return
        words = "" if doc is None else self.h.seen_words(doc, done) if seeing else \
            self.h.acknowledged_words(doc, done)
        origin = self.h.list_origin(body)
        if origin and doc is not None:
            self.h.relist(person_slack(body), origin, words, team=request_team(body))
        elif doc is not None and (seeing or (body.get("container") or {}).get("is_ephemeral")):
            self.h.tell(body, words, respond)
        if doc is not None:
            self.h.update(*self.h.message_place(body), self.h.feedback_render(doc, person),
                          team=request_team(body))
            self.home.republish(partnership_of(person), me, doc["practitioner"],
                                doc.get("manager", ""))
        self.h.handled(body)

    def open_responses(self, body: Doc, respond: Any) -> None:
        """Answer (one issue: the button's `i`) or Respond (every issue still waiting, or all
        of them once each is answered): a form whose boxes start from drafts and answers."""
        person = self.h.who(body, respond, button_ref(body["actions"][0]).get("p", ""))
        if person is None:
            return
        ref = button_ref(body["actions"][0])
        doc = self.s.views.feedback_item(ref.get("p", ""), ref.get("c", ""), ref.get("a", ""))
        if doc is None:
            self.h.tell(body, "I can't find that feedback in the ledger any more.", respond)
            return
        if person["person"] not in (doc["practitioner"], doc.get("manager")):
            self.h.tell(body, f"This feedback is for "
                              f"{self.h.names(doc['programme'])(doc['practitioner'])}; only "
                              "they and their manager can answer it.", respond)
            return
        responses = doc.get("responses") or {}
        every = [int(i["number"]) for i in doc.get("issues") or []]
        if str(ref.get("i", "")).isdigit():
            numbers = [n for n in every if n == int(ref["i"])]
        else:
            numbers = [n for n in every if str(n) not in responses] or every
        if not numbers:
            self.h.tell(body, "This feedback raised no issues: there is nothing to answer.",
                        respond)
            return
        channel, ts = self.h.message_place(body)
        meta = {"p": doc["programme"], "c": doc["case"], "a": doc["agency"], "ch": channel,
                "ts": ts, **self.h.list_origin(body)}
        if str(ref.get("i", "")).isdigit():
            meta["b"] = int(ref["i"])  # pressed on this part of the message
        programme = self.s.programme(doc["programme"])
        view = answering.answer_modal(doc, programme, meta, numbers, person["person"])
        try:
            self.h.slack(body).open_modal(body["trigger_id"], view)
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the answers form (%s)", slack_error(e))
            self.h.tell(body, "I couldn't open the form in time. Please press the button "
                              "again.", respond)
        self.h.handled(body)

    # ---- concerns --------------------------------------------------------------------------------

    def acknowledge_concern(self, body: Doc, respond: Any) -> None:
        person = self.h.who(body, respond, button_ref(body["actions"][0]).get("p", ""))
        if person is None:
            return
        action = body["actions"][0]
        ref = button_ref(action)
        done = carry_out(self.s, c.AcknowledgeConcern, "acknowledge_concern",
                         by=person["person"], programme=ref.get("p", ""),
                         concern=ref.get("r", ""),
                         key=press_key(body))
        doc = self.s.views.concern(ref.get("p", ""), ref.get("r", ""))
        if not done.ok:  # refused: nothing changes, and only the presser is told why
            self.h.tell(body, done.message, respond)
            self.h.handled(body)
            return
        origin = self.h.list_origin(body)
        if origin and doc is not None:
            self.h.relist(person_slack(body), origin, self.h.acknowledged_words(doc, done),
                          team=request_team(body))
        elif (body.get("container") or {}).get("is_ephemeral") and doc is not None:
            self.h.tell(body, self.h.acknowledged_words(doc, done), respond)
        if doc is not None:
            self.h.update(*self.h.message_place(body), self.h.concern_render(doc),
                          team=request_team(body))
        self.home.republish(partnership_of(person), person["person"])
        self.h.handled(body)

    def open_concern_action(self, body: Doc, respond: Any) -> None:
        person = self.h.who(body, respond, button_ref(body["actions"][0]).get("p", ""))
        if person is None:
            return
        ref = button_ref(body["actions"][0])
        doc = self.s.views.concern(ref.get("p", ""), ref.get("r", ""))
        if doc is None:
            self.h.tell(body, "I can't find that concern in the ledger any more.", respond)
            return
        roles = person.get("roles") or []
        problem = ""
        if permission_problem("record concern action", roles) is not None:
            problem = refusal_words("record concern action", roles)
        elif person.get("agency") != doc["agency"] and "quality-lead" not in roles:
            problem = (f"This concern is for {doc['agency']}'s managers (and the quality leads) "
                       "to act on; please make sure they know.")
        if problem:
            self.h.tell(body, problem, respond)
            return
        channel, ts = self.h.message_place(body)
        meta = {"p": doc["programme"], "r": doc["ref"], "ch": channel, "ts": ts,
                **self.h.list_origin(body)}
        try:
            self.h.slack(body).open_modal(body["trigger_id"], m.concern_action_modal(
                doc, meta, self.s.programme(doc["programme"])))
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the concern form (%s)", slack_error(e))
            self.h.tell(body, "I couldn't open the form in time. Please press the button again.",
                        respond)
        self.h.handled(body)

    # ---- the action plan -----------------------------------------------------------------------

    def open_action_update(self, body: Doc, respond: Any) -> None:
        self._open_action_form(body, respond, m.action_update_modal, "Update")

    def open_action_complete(self, body: Doc, respond: Any) -> None:
        self._open_action_form(body, respond, m.action_complete_modal, "Mark complete")

    def _open_action_form(self, body: Doc, respond: Any,
                          form: Callable[[Doc, Doc], Doc], label: str) -> None:
        person = self.h.who(body, respond, button_ref(body["actions"][0]).get("p", ""))
        if person is None:
            return
        ref = button_ref(body["actions"][0])
        doc = self.s.views.action(ref.get("p", ""), ref.get("x", ""))
        if doc is None:
            self.h.tell(body, "I can't find that action in the ledger any more.", respond)
            return
        if doc["owner"] != person["person"] and "quality-lead" not in (person.get("roles") or []):
            self.h.tell(body, f"Action {doc['id']} is owned by "
                              f"{self.h.names(doc['programme'])(doc['owner'])}; "
                              "only they or a quality lead can update it.", respond)
            return
        if doc["completed"]:
            self.h.tell(body, f"Action {doc['id']} is already complete.", respond)
            return
        meta = {"p": doc["programme"], "x": doc["id"], **self.h.list_origin(body)}
        try:
            self.h.slack(body).open_modal(body["trigger_id"], form(doc, meta))
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the action form (%s)", slack_error(e))
            self.h.tell(body, f"I couldn't open the form in time. Please press {label} again.",
                        respond)
        self.h.handled(body)

def person_slack(body: Doc) -> str:
    return str((body.get("user") or {}).get("id", ""))
