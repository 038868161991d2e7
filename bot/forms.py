"""The forms people submit: answers to feedback, a concern's action, an action's progress or evidence.

A form is checked and recorded within the ack budget, so its answer (close, errors under the
boxes, or a thank-you) goes back in the ack; what comes after (updating messages, Home tabs)
runs after it. Nothing is recorded while any box is wrong; each answer carries a key from the
form's view id, so a form sent twice records nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from ledger import commands as c
from projections.queries import partnership_of

from . import answering
from . import modals as m
from .acts import Done, carry_out, slack_key
from .handling import SORRY, Handling, budget_left, request_team
from .home import HomeTab

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

Doc = dict[str, Any]


@dataclass
class Reply:
    """How a form submission is answered: `ack` goes back to Slack (close, errors under boxes,
    or a new view); `tell` reaches the person instead if the form had to close first; `after`
    runs once Slack has its answer (update messages, refresh Home tabs)."""

    ack: Doc = field(default_factory=dict)
    tell: str = ""
    after: Callable[[], None] | None = None


def pressed_on(meta: Doc) -> int | None:
    """The issue whose own Answer button opened a form (its part of the message), if one did."""
    pressed = meta.get("b")
    return pressed if isinstance(pressed, int) else None


class Forms:
    def __init__(self, handling: Handling, home: HomeTab) -> None:
        self.h = handling
        self.s = handling.s
        self.home = home

    def submit(self, ack: Any, body: Doc, view: Doc, work: Callable[[], Reply],
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
            self.s.listeners.submit(self._later, future, body)
            return
        ack(**reply.ack)
        if reply.after is not None:
            self.s.listeners.submit(self._after, reply, body)
        elif not reply.ack.get("errors"):
            self.h.handled(body)

    def _later(self, future: Future[Reply], body: Doc) -> None:
        """After a form closed without its answer: tell the person any refusal, then the rest."""
        reply = future.result()  # guarded: never raises
        if reply.tell:
            self.h.tell({"user": body.get("user") or {}}, reply.tell)
        self._after(reply, body)

    def _after(self, reply: Reply, body: Doc) -> None:
        try:
            if reply.after is not None:
                reply.after()
        except Exception as e:  # noqa: BLE001 - the act is recorded; say what failed in a word
            log.error("after form %s failed (%s)", (body.get("view") or {}).get("callback_id"),
                      type(e).__name__)
        if not reply.ack.get("errors"):
            self.h.handled(body)

    def person_or_errors(self, body: Doc, block: str, programme: str
                         ) -> tuple[Doc | None, Reply | None]:
        """Who submitted the form, in the partnership that owns its programme."""
        user = (body.get("user") or {}).get("id", "")
        self.s.fresh()
        team = request_team(body)
        person = self.s.directory.person(user, self.s.partnership_of(programme), team=team)
        if person is None:
            how = self.s.directory.how_to_get_linked(user, team=team)
            return None, Reply({"response_action": "errors", "errors": {block: how}}, how)
        return person, None

    def submit_responses(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        """Answers sent: each box answered is recorded on its own; empty boxes wait."""
        meta = m.metadata(view)

        def work() -> Reply:
            person, refused = self.person_or_errors(body, m.issue_block(1), meta.get("p", ""))
            if person is None:
                return refused or Reply()
            doc = self.s.views.feedback_item(meta.get("p", ""), meta.get("c", ""),
                                             meta.get("a", ""))
            numbers = answering.issue_numbers(meta, doc) if doc else []
            first = m.issue_block(numbers[0] if numbers else 1)
            if doc is None or not numbers:
                gone = "I can't find this feedback in the ledger any more."
                return Reply({"response_action": "errors", "errors": {first: gone}}, gone)
            values = (view.get("state") or {}).get("values") or {}
            answers, errors = answering.read_answers(doc, values, numbers)
            if errors:
                return Reply({"response_action": "errors", "errors": errors})
            results = [(n, carry_out(self.s, c.RespondToIssue, "respond_to_issue",
                                     by=person["person"], programme=doc["programme"],
                                     case=doc["case"], agency=doc["agency"], issue=n,
                                     response=text,
                                     key=slack_key(str(view.get("id", "")), f"issue-{n}")))
                       for n, text in sorted(answers.items())]
            failed = {m.issue_block(n): d.message for n, d in results if not d.ok}
            now = self.s.views.feedback_item(doc["programme"], doc["case"], doc["agency"]) or doc

            def after() -> None:
                self.h.update(meta.get("ch", ""), meta.get("ts", ""),
                             self.h.feedback_render(doc, person), pressed_on(meta),
                             team=request_team(body))
                self.h.relist(body_user(body), meta, "Thank you: your answers are recorded.",
                              team=request_team(body))
                self.home.republish(partnership_of(person), person["person"],
                                    doc["practitioner"], doc.get("manager", ""))

            if failed:
                return Reply({"response_action": "errors", "errors": failed},
                             " ".join(failed.values()), after)
            recorded = sum(1 for _, d in results if d.changed)
            return Reply({"response_action": "update", "view": m.done_view(
                "Answers sent", answering.after_words(now, recorded))}, after=after)

        self.submit(ack, body, view, work, context)

    def closed(self, ack: Any, body: Doc, view: Doc) -> None:
        """A form closed without being sent: what was typed is kept as the person's draft."""
        ack()
        self.s.listeners.submit(self._keep_drafts, body, view)

    def _keep_drafts(self, body: Doc, view: Doc) -> None:
        try:
            meta = m.metadata(view)
            user = (body.get("user") or {}).get("id", "")
            self.s.fresh()
            person = self.s.directory.person(user, self.s.partnership_of(meta.get("p", "")),
                                             team=request_team(body))
            doc = self.s.views.feedback_item(meta.get("p", ""), meta.get("c", ""),
                                             meta.get("a", ""))
            if person is None or doc is None:
                return
            values = (view.get("state") or {}).get("values") or {}
            numbers = answering.issue_numbers(meta, doc)
            kept = [carry_out(self.s, c.DraftAnswer, "draft_answer", by=person["person"],
                              programme=doc["programme"], case=doc["case"],
                              agency=doc["agency"], issue=n, text=text,
                              key=slack_key(str(view.get("id", "")), str(view.get("hash", "")),
                                            f"draft-{n}"))
                    for n, text in answering.drafts_to_keep(doc, values, numbers,
                                                            person["person"]).items()]
            refused = [d.message for d in kept if not d.ok]
            if refused:  # a draft holding an identifier is not kept: say so, and why
                self.h.tell(body, "What you typed was not kept as a draft. " + " ".join(refused))
            if any(d.changed for d in kept):
                self.h.update(meta.get("ch", ""), meta.get("ts", ""),
                             self.h.feedback_render(doc, person), pressed_on(meta))
        except Exception as e:  # noqa: BLE001 - a draft is a kindness; the person can type again
            log.error("keeping a draft failed (%s)", type(e).__name__)
        finally:
            self.h.handled(body)

    # ---- concerns --------------------------------------------------------------------------------

    def submit_concern_action(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        meta = m.metadata(view)

        def work() -> Reply:
            block = m.CONCERN_ACTION_BLOCK
            person, refused = self.person_or_errors(body, block, meta.get("p", ""))
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
                    self.h.update(meta.get("ch", ""), meta.get("ts", ""),
                                 self.h.concern_render(doc), team=request_team(body))
                self.h.relist(body_user(body), meta, "Thank you: your action is recorded.",
                              team=request_team(body))
                self.home.republish(partnership_of(person), person["person"])

            return Reply({"response_action": "update", "view": m.done_view(
                "Action recorded", "Thank you. Your action is recorded on the concern.")},
                after=after)

        self.submit(ack, body, view, work, context)


    # ---- the action plan ----------------------------------------------------------------------

    def submit_action_update(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        meta = m.metadata(view)
        view_id = str(view.get("id", ""))

        def work() -> Reply:
            person, refused = self.person_or_errors(body, m.NOTE_BLOCK, meta.get("p", ""))
            if person is None:
                return refused or Reply()
            update, errors = m.read_action_update((view.get("state") or {}).get("values") or {})
            if update is None:
                return Reply({"response_action": "errors", "errors": errors})
            done = carry_out(self.s, c.RecordActionProgress, "record_action_progress",
                             by=person["person"], programme=meta.get("p", ""),
                             action=meta.get("x", ""), rag=update.rag, note=update.note,
                             key=slack_key(view_id, "progress"))
            return self._action_reply(body, meta, person, done, m.NOTE_BLOCK, "Action updated",
                                      f"progress recorded ({update.rag})")

        self.submit(ack, body, view, work, context)

    def submit_action_complete(self, ack: Any, body: Doc, view: Doc,
                               context: Any = None) -> None:
        meta = m.metadata(view)
        view_id = str(view.get("id", ""))

        def work() -> Reply:
            person, refused = self.person_or_errors(body, m.EVIDENCE_BLOCK, meta.get("p", ""))
            if person is None:
                return refused or Reply()
            evidence, errors = m.read_evidence((view.get("state") or {}).get("values") or {})
            if errors:
                return Reply({"response_action": "errors", "errors": errors})
            done = carry_out(self.s, c.CompleteAction, "complete_action", by=person["person"],
                             programme=meta.get("p", ""), action=meta.get("x", ""),
                             evidence=evidence, key=slack_key(view_id, "complete"))
            return self._action_reply(body, meta, person, done, m.EVIDENCE_BLOCK,
                                      "Action complete", "complete")

        self.submit(ack, body, view, work, context)

    def _action_reply(self, body: Doc, meta: Doc, person: Doc, done: Done, block: str,
                      title: str, said: str) -> Reply:
        if not done.ok:  # refused: the form says why, under the box; nothing else changes
            return Reply({"response_action": "errors", "errors": {block: done.message}},
                         done.message)

        def after() -> None:
            self.h.relist(body_user(body), meta, f"Action {meta.get('x', '')}: {said}.",
                          team=request_team(body))
            self.home.republish(partnership_of(person), person["person"])

        return Reply({"response_action": "update", "view": m.done_view(
            title, f"Thank you. Action {meta.get('x', '')}: {said}.")}, after=after)

def body_user(body: Doc) -> str:
    return str((body.get("user") or {}).get("id", ""))
