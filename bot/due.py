"""What falls due by the clock: concerns to escalate, feedback and action reminders, the digest.

A sweep reads only what the due index files under the days up to today
(`projections.due_dates`), and checks each such item by the same rules as ever against what
was already sent (the deliveries view), so a check run twice on a day sends nothing twice.
Before each item's reads the courier's `before` is called (the worker looks for new alerts
there), so a sweep holds an alert back for one item's checks at most. An
escalation is recorded in the ledger (ConcernEscalated); its alert goes out when the worker
reads that event, like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from policies.escalation import (
    action_reminder,
    digest_week,
    escalation_due,
    feedback_reminder_number,
    ladder_from,
    recipients,
    step_started,
)
from policies.subjects import (
    CONCERN_ALERT,
    DIGEST,
    FEEDBACK,
    action_purpose,
    action_subject,
    concern_subject,
    digest_subject,
    feedback_reminder_purpose,
    feedback_subject,
)
from projections.due_dates import due_by
from projections.queries import action_status, natural_key, partnership_of

from . import alerts
from .courier import Courier, Message
from .services import BotServices

log = logging.getLogger("bot.worker")  # the worker's log, whichever part of it speaks

Doc = dict[str, Any]
Sent = dict[tuple[str, str, str], Doc]
"""What was delivered in a programme, by (subject, purpose, recipient)."""


class DueChecks:
    def __init__(self, services: BotServices, courier: Courier) -> None:
        self.s = services
        self.courier = courier

    def run(self, today: date, between: Callable[[], None] = lambda: None) -> None:
        """Escalations, reminders and the digest due today, for what the due index files under
        the days up to today (`projections.due_dates`), never the whole store; `between` is
        called before each programme's checks (the worker reads the log there, so alerts never
        wait for the whole sweep)."""
        self.s.follower.catch_up()
        due = due_by(self.s.views.store, today)
        found = self.s.views.store.get_many([("programme", pid) for pid in due])
        for pid in sorted(due):  # in the order the programmes' documents are kept
            prog = found.get(("programme", pid))
            if prog is not None:
                between()
                self.check_programme(prog, today, due[pid])

    def check_programme(self, prog: Doc, today: date, items: dict[str, Doc]) -> None:
        """One programme's due items: its concerns to escalate and, while it is open, its
        feedback and action reminders and its weekly digest."""
        pid = prog["programme"]
        listed: dict[str, list[str]] = {}
        for item in items:
            kind, _, rest = item.partition("/")
            listed.setdefault(kind, []).append(rest.partition("/")[2])
        concerns = self._docs("concern", pid, listed.get("concern"))
        self.escalations(prog, today, sorted(concerns, key=lambda k: (k["raised_at"], k["ref"])))
        if prog.get("status") == "closed":
            return
        self.feedback_reminders(prog, today, self._docs("feedback", pid, listed.get("feedback")))
        actions = [action_status(a, today) for a in self._docs("action", pid,
                                                                listed.get("action"))]
        self.action_reminders(prog, today, sorted(actions, key=lambda a: natural_key(a["id"])))
        if "digest" in listed:
            self.digest(prog, today)

    def _docs(self, view: str, pid: str, keys: list[str] | None) -> list[Doc]:
        """The documents of the listed items (read by key, in one read), in key order."""
        if not keys:
            return []
        found = self.s.views.store.get_many([(view, f"{pid}/{k}") for k in sorted(keys)])
        return [found[(view, f"{pid}/{k}")] for k in sorted(keys) if (view, f"{pid}/{k}") in found]

    def _sent(self, pid: str, subject: str) -> Sent:
        return {(d["subject"], d["purpose"], d["recipient"]): d
                for d in self.s.views.deliveries(pid, subject)}

    def escalations(self, prog: Doc, today: date, concerns: list[Doc]) -> None:
        pid = prog["programme"]
        try:
            ladder = ladder_from(prog.get("escalation") or None)
        except ValueError:
            ladder = ladder_from(None)
        directory = self.s.directory.within(partnership_of(prog))
        for k in concerns:
            if k.get("closed") or k.get("acknowledged_by"):
                continue
            self.courier.before()  # alerts first, between any two items' reads
            subject = concern_subject(k["ref"])
            alerted = [date.fromisoformat(d["delivered_on"])
                       for (s, p, _), d in self._sent(pid, subject).items()
                       if s == subject and p == CONCERN_ALERT]
            last = (k.get("escalations") or [None])[-1]
            escalated_on = (date.fromisoformat(last.get("on") or last["at"][:10])
                            if last else None)
            since = step_started(int(k["step"]), date.fromisoformat(k["raised_on"]),
                                 min(alerted) if alerted else None, escalated_on)
            up = escalation_due(int(k["step"]), since, today, False, False, ladder)
            if up is None:
                continue
            people = directory.reachable(k["agency"]).people()  # whom each step names
            to = recipients(up.step, k["agency"], people)
            outcome = self.s.app.escalate_concern(pid, k["ref"], up.step, to, up.reason,
                                                  self.courier.act())
            if outcome.changed:
                log.info("concern %s in %s escalated to step %d", k["ref"], pid, up.step)

    def feedback_reminders(self, prog: Doc, today: date, feedback: list[Doc]) -> None:
        pid = prog["programme"]
        for f in feedback:
            if f.get("acknowledged_by"):
                continue
            self.courier.before()
            subject = feedback_subject(f["case"], f["agency"])
            sent = self._sent(pid, subject)
            original = sent.get((subject, FEEDBACK, f["practitioner"]))
            if original is None:
                continue
            number = feedback_reminder_number(date.fromisoformat(original["delivered_on"]),
                                              today, False)
            purpose = feedback_reminder_purpose(number)
            if number < 1 or (subject, purpose, f["practitioner"]) in sent:
                continue
            text, blocks = alerts.feedback_reminder(f, prog, self.s.directory.of(pid).name,
                                                    sent_on=original["delivered_on"])
            self.courier.send(Message(pid, subject, purpose, f["practitioner"],
                                      original["slack_user"], text, blocks))

    def action_reminders(self, prog: Doc, today: date, actions: list[Doc]) -> None:
        pid = prog["programme"]
        directory = self.s.directory.of(pid)
        for a in actions:
            state = action_reminder(date.fromisoformat(a["due"]), today, a["completed"])
            if state is None:
                continue
            self.courier.before()
            subject, purpose = action_subject(a["id"]), action_purpose(state, a["due"])
            slack = directory.slack_user(a["owner"])
            if not slack or (subject, purpose, a["owner"]) in self._sent(pid, subject):
                continue
            text, blocks = alerts.action_reminder(a, prog, directory.name, state=state,
                                                  today=today)
            self.courier.send(Message(pid, subject, purpose, a["owner"], slack, text, blocks))

    def digest(self, prog: Doc, today: date) -> None:
        """This week's digest of overdue actions, to each quality lead on Slack who has not
        had it (the actions are read only when someone still needs it)."""
        week = digest_week(today)
        if week is None:
            return
        pid, subject = prog["programme"], digest_subject(week)
        directory = self.s.directory.within(partnership_of(prog)).reachable()
        sent = self._sent(pid, subject)
        leads = [(lead, directory.slack_user(lead)) for lead in sorted(
            p["person"] for p in directory.people() if "quality-lead" in (p.get("roles") or []))]
        waiting = [(lead, slack) for lead, slack in leads
                   if slack and (subject, DIGEST, lead) not in sent]
        if not waiting:
            return
        overdue = [a for a in (action_status(a, today) for a in self.s.views.actions(pid))
                   if a["overdue_days"] > 0]
        if not overdue:
            return
        text, blocks = alerts.overdue_digest(prog, overdue, directory.name, week=week)
        for lead, slack in waiting:
            self.courier.send(Message(pid, subject, DIGEST, lead, slack, text, blocks))
