"""What falls due by the clock: concerns to escalate, feedback and action reminders, the digest.

Each check reads the views and what was already sent (the deliveries view), so a check run
twice on a day sends nothing twice. An escalation is recorded in the ledger (ConcernEscalated);
its alert goes out when the worker reads that event, like any other.
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
from projections.queries import action_status, partnership_of

from . import alerts
from .courier import Courier, Message
from .services import BotServices
from .subjects import (
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

log = logging.getLogger("bot.worker")  # the worker's log, whichever part of it speaks

Doc = dict[str, Any]
Sent = dict[tuple[str, str, str], Doc]
"""What was delivered in a programme, by (subject, purpose, recipient)."""


class DueChecks:
    def __init__(self, services: BotServices, courier: Courier) -> None:
        self.s = services
        self.courier = courier

    def run(self, today: date, between: Callable[[], None] = lambda: None) -> None:
        """Escalations, reminders and the digest due today; `between` is called after each
        programme (the worker reads the log there, so alerts never wait for the whole sweep)."""
        self.s.follower.catch_up()
        views = self.s.views
        directories: dict[str, list[Doc]] = {}  # each partnership's people, read once a run
        for person in views.everyone():
            directories.setdefault(partnership_of(person), []).append(person)
        for prog in views.programmes():
            between()
            pid = prog["programme"]
            people = directories.get(partnership_of(prog), [])  # its partnership's only
            sent = {(d["subject"], d["purpose"], d["recipient"]): d
                    for d in views.deliveries(pid)}
            self.escalations(prog, today, people, sent)
            if prog.get("status") == "closed":
                continue
            self.feedback_reminders(prog, today, sent)
            actions = [action_status(a, today) for a in views.actions(pid)]
            self.action_reminders(prog, today, actions, sent)
            self.digest(prog, today, actions, people, sent)

    def escalations(self, prog: Doc, today: date, people: list[Doc], sent: Sent) -> None:
        pid = prog["programme"]
        try:
            ladder = ladder_from(prog.get("escalation") or None)
        except ValueError:
            ladder = ladder_from(None)
        for k in self.s.views.concerns(pid):
            if k.get("closed") or k.get("acknowledged_by"):
                continue
            subject = concern_subject(k["ref"])
            alerted = [date.fromisoformat(d["delivered_on"]) for (s, p, _), d in sent.items()
                       if s == subject and p == CONCERN_ALERT]
            last = (k.get("escalations") or [None])[-1]
            escalated_on = (date.fromisoformat(last.get("on") or last["at"][:10])
                            if last else None)
            since = step_started(int(k["step"]), date.fromisoformat(k["raised_on"]),
                                 min(alerted) if alerted else None, escalated_on)
            up = escalation_due(int(k["step"]), since, today, False, False, ladder)
            if up is None:
                continue
            to = recipients(up.step, k["agency"], people)
            outcome = self.s.app.escalate_concern(pid, k["ref"], up.step, to, up.reason,
                                                  self.courier.act())
            if outcome.changed:
                log.info("concern %s in %s escalated to step %d", k["ref"], pid, up.step)

    def feedback_reminders(self, prog: Doc, today: date, sent: Sent) -> None:
        pid = prog["programme"]
        for f in self.s.views.feedback(pid):
            if f.get("acknowledged_by"):
                continue
            subject = feedback_subject(f["case"], f["agency"])
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

    def action_reminders(self, prog: Doc, today: date, actions: list[Doc], sent: Sent) -> None:
        pid = prog["programme"]
        directory = self.s.directory.of(pid)
        for a in actions:
            state = action_reminder(date.fromisoformat(a["due"]), today, a["completed"])
            if state is None:
                continue
            subject, purpose = action_subject(a["id"]), action_purpose(state, a["due"])
            slack = directory.slack_user(a["owner"])
            if not slack or (subject, purpose, a["owner"]) in sent:
                continue
            text, blocks = alerts.action_reminder(a, prog, directory.name, state=state,
                                                  today=today)
            self.courier.send(Message(pid, subject, purpose, a["owner"], slack, text, blocks))

    def digest(self, prog: Doc, today: date, actions: list[Doc], people: list[Doc],
               sent: Sent) -> None:
        week = digest_week(today)
        overdue = [a for a in actions if a["overdue_days"] > 0]
        if week is None or not overdue:
            return
        pid, subject = prog["programme"], digest_subject(week)
        directory = self.s.directory.of(pid)
        text, blocks = alerts.overdue_digest(prog, overdue, directory.name, week=week)
        for lead in sorted(p["person"] for p in people if "quality-lead" in (p.get("roles") or [])):
            slack = directory.slack_user(lead)
            if slack and (subject, DIGEST, lead) not in sent:
                self.courier.send(Message(pid, subject, DIGEST, lead, slack, text, blocks))
