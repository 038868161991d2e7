"""What the worker tells people as the log moves: concern alerts, feedback, copies brought up to date.

A concern's alert goes to each of its step's people who can be reached (the quality leads when
none can), and at step 1 to the programme's channel; feedback to its practitioner and a copy to
their manager; and when a concern or feedback is acknowledged, answered, acted on or closed,
every copy delivered is rewritten in place to show where it stands (a message sent in several
parts, every part; and after an erasure, every copy of the case's feedback and concerns).
Moments are told in each reader's own time zone.
"""

from __future__ import annotations

import logging
from datetime import tzinfo
from typing import Any

from ledger.ids import DEFAULT_PARTNERSHIP
from ledger.personal import ERASED
from policies import permissions
from policies.escalation import alert_recipients, recipients
from policies.subjects import (
    CHANNEL,
    FEEDBACK,
    concern_purpose,
    concern_step,
    concern_subject,
    feedback_subject,
    part_of,
    part_purpose,
)
from projections.queries import partnership_of

from . import alerts
from . import blocks as b
from .courier import SMALLEST, Courier, Message, TooLong
from .directory import PartnershipDirectory
from .messages import concern_message, feedback_message
from .pages import MESSAGE_CHARS, continuation, parts
from .services import BotServices

log = logging.getLogger("bot.worker")  # the worker's log, whichever part of it speaks

Doc = dict[str, Any]


class Teller:
    def __init__(self, services: BotServices, courier: Courier) -> None:
        self.s = services
        self.courier = courier

    # ---- concerns ---------------------------------------------------------------------------------

    def concern_for(self, doc: Doc, step: int, person: str, directory: PartnershipDirectory,
                    slack_user: str = "", programme: Doc | None = None,
                    zone: tzinfo | None = None) -> tuple[str, b.Blocks]:
        """A concern's alert as one person should read it at a step: why it reached them, and
        buttons only if they may act on it."""
        if step > 1:
            entry: Doc = next((e for e in reversed(doc.get("escalations") or [])
                               if e["step"] == step), {})
            chosen = list(entry.get("to") or [])
            reason = str(entry.get("reason") or "")
        else:
            chosen = recipients(1, doc["agency"], directory.people())
            reason = ""
        who: Doc = directory.person(person) or {}
        roles = who.get("roles") or []
        can_act = (permissions.permission_problem("acknowledge concern", roles) is None
                   and (who.get("agency") == doc["agency"] or "quality-lead" in roles))
        return alerts.concern_alert(
            doc, programme if programme is not None else self.s.programme(doc["programme"]),
            directory.name, step=step, reason=reason, can_act=can_act,
            stand_in=person not in chosen,
            zone=zone or self.s.zone(slack_user, doc["programme"]))

    def alert_concern(self, programme: str, ref: str, step: int) -> None:
        """A concern's alert at a step, to each of that step's people who can be reached (the
        quality leads when none can), and at step 1 to the programme's channel. Reads the
        concern, its programme, and whom it can reach (`Directory.for_concern`: one indexed
        read, never the whole directory)."""
        doc = self.s.views.concern(programme, ref)
        if doc is None:
            log.warning("concern %s in %s is not in the views; no alert", ref, programme)
            return
        if doc.get("closed") or doc.get("acknowledged_by"):
            return  # answered before we got to it: nobody needs telling now
        prog = self.s.programme(programme)
        partnership = partnership_of(prog) if prog is not None else DEFAULT_PARTNERSHIP
        directory = self.s.directory.within(partnership).for_concern(doc)
        team = self.s.directory.team_of(partnership) if prog is not None else ""
        people = directory.people()  # the programme's partnership's: nobody else's
        chosen = None
        if step > 1:
            entry = next((e for e in reversed(doc.get("escalations") or [])
                          if e["step"] == step), None)
            chosen = list(entry["to"]) if entry else None
        reach, stand_in = alert_recipients(step, doc["agency"], people, chosen)
        if stand_in:
            log.warning("concern %s in %s, step %d: nobody for this step is linked to Slack; "
                        "telling the quality leads", ref, programme, step)
        subject, purpose = concern_subject(ref), concern_purpose(step)
        for person in reach:
            slack = directory.slack_user(person)
            text, blocks = self.concern_for(doc, step, person, directory, slack, prog,
                                            self.s.zone_in(slack, team))
            self.courier.send(Message(programme, subject, purpose, person, slack, text, blocks))
        channel = str((prog or {}).get("channel") or "")
        if step == 1 and channel:
            text, blocks = concern_message(doc, prog, directory.name, channel=True)
            self.courier.send(Message(programme, subject, purpose, CHANNEL + channel, "", text,
                                      blocks), channel=channel)

    # ---- feedback -------------------------------------------------------------------------------

    def send_feedback(self, programme: str, case: str, agency: str) -> None:
        """The practitioner's feedback and their manager's copy (for those linked to Slack)."""
        doc = self.s.views.feedback_item(programme, case, agency)
        if doc is None or doc.get("acknowledged_by"):
            return
        prog = self.s.programme(programme)
        directory = self.s.directory.of(programme)
        practitioner, manager = doc["practitioner"], str(doc.get("manager") or "")
        readers = [(practitioner, False)] + ([(manager, True)] if manager and
                                             manager != practitioner else [])
        for person, for_manager in readers:
            slack = directory.slack_user(person)
            if not slack:
                continue
            text, blocks = feedback_message(doc, prog, directory.name,
                                            for_manager=for_manager,
                                            zone=self.s.zone(slack, programme))
            self.courier.send(Message(programme, feedback_subject(case, agency), FEEDBACK,
                                      person, slack, text, blocks))

    # ---- copies brought up to date ----------------------------------------------------------------

    def erased(self, programme: str, case: str, note: str) -> int:
        """After a case's text is erased, every copy of its feedback and concerns rewritten to
        read as the record now does. The erasure is recorded after the case's key is
        destroyed, and the views open text with the key as it stands (this process's
        remembered keys forgotten first), so they read "[erased]" here; views that still hold
        plain text (folded by an older release) are left until they are folded again."""
        if self.s.views.keys is not None:
            self.s.views.keys.forget()
        self.s.follower.catch_up()
        feedback = [f for f in self.s.views.feedback(programme) if f["case"] == case]
        concerns = [k for k in self.s.views.concerns(programme) if k["case"] == case]
        if any(still_written(d) for d in feedback + concerns):
            log.info("case %s in %s erased; its Slack copies are updated once the views are "
                     "folded again", case, programme)
            return 0
        updated = sum(self.refresh(programme, feedback_subject(case, f["agency"]), note)
                      for f in feedback)
        updated += sum(self.refresh(programme, concern_subject(k["ref"]), note)
                       for k in concerns)
        log.info("case %s in %s erased: %d Slack copies updated", case, programme, updated)
        return updated

    def refresh(self, programme: str, subject: str, note: str) -> int:
        """Every delivered copy about a subject updated in place to show where it stands: each
        part of a copy sent in parts, a part posted if it now needs more, a part no longer
        needed said to be so. Returns how many messages were updated."""
        self.s.follower.catch_up()
        copies: dict[tuple[str, str], dict[int, Doc]] = {}
        for d in self.s.views.deliveries(programme, subject):
            purpose, number = part_of(d["purpose"])
            copies.setdefault((purpose, d["recipient"]), {})[number] = d
        updated = 0
        for (purpose, recipient), recorded in copies.items():
            first = recorded.get(1)
            if first is None or not (first.get("channel") and first.get("ts")):
                continue
            if all(note in (d.get("notes") or []) for d in recorded.values()):
                continue
            budget = MESSAGE_CHARS
            while True:
                try:
                    updated += self._rewrite(programme, subject, purpose, recipient, note,
                                             budget)
                    break
                except TooLong:
                    if budget <= SMALLEST:
                        log.warning("%s for %s in %s: Slack refuses its update even when "
                                    "small; left as it was", purpose, subject, programme)
                        break
                    budget //= 2
        return updated

    def _rewrite(self, programme: str, subject: str, purpose: str, recipient: str, note: str,
                 budget: int) -> int:
        """One copy's parts rewritten from the record as it now stands, split to `budget`;
        the update is recorded on each part only once Slack has taken every part, so a copy
        Slack refuses as too long is split smaller and rewritten whole."""
        recorded = {part_of(d["purpose"])[1]: d
                    for d in self.s.views.deliveries(programme, subject)
                    if d["recipient"] == recipient and part_of(d["purpose"])[0] == purpose}
        first = recorded[1]
        rendered = self.render(first)
        if rendered is None:
            return 0
        split = parts(*rendered, budget)
        rewritten: list[Doc] = []
        for number, (text, blocks) in enumerate(split, 1):
            part = recorded.get(number)
            if part is None:
                self.courier.send(Message(programme, subject, part_purpose(purpose, number),
                                          recipient, str(first.get("slack_user") or ""),
                                          text, blocks), channel=str(first["channel"]))
            elif note not in (part.get("notes") or []) and part.get("ts") and \
                    self.courier.update(part, text, blocks, note, record=False):
                rewritten.append(part)
        for number, d in sorted(recorded.items()):
            if number > len(split) and note not in (d.get("notes") or []) and d.get("ts"):
                gone = f"Part {number} is no longer needed: all of it is shown above."
                if self.courier.update(d, gone, [continuation(gone)], note, record=False):
                    rewritten.append(d)
        for d in rewritten:
            self.courier.noted(d, note)
        return len(rewritten)

    def render(self, d: Doc) -> tuple[str, b.Blocks] | None:
        """A delivered message (its first part) as it should read now, for its reader."""
        pid, subject, purpose = d["programme"], d["subject"], part_of(d["purpose"])[0]
        zone = self.s.zone(str(d.get("slack_user") or ""), pid)
        kind, _, rest = subject.partition("/")
        directory = self.s.directory.of(pid)
        if kind == "concern":
            doc = self.s.views.concern(pid, rest)
            if doc is None:
                return None
            if d["recipient"].startswith(CHANNEL):
                return concern_message(doc, self.s.programme(pid), directory.name,
                                       channel=True)
            return self.concern_for(doc, concern_step(purpose), d["recipient"], directory,
                                    str(d.get("slack_user") or ""))
        if kind == "feedback":
            case, _, agency = rest.partition("/")
            doc = self.s.views.feedback_item(pid, case, agency)
            if doc is None:
                return None
            programme = self.s.programme(pid)
            if purpose == FEEDBACK:
                for_manager = d["recipient"] == doc.get("manager") and \
                    d["recipient"] != doc["practitioner"]
                return feedback_message(doc, programme, directory.name,
                                        for_manager=for_manager, zone=zone)
            original = self.s.views.delivery(pid, subject, FEEDBACK, doc["practitioner"])
            return alerts.feedback_reminder(doc, programme, directory.name,
                                            sent_on=(original or d)["delivered_on"], zone=zone)
        return None


def still_written(doc: Doc) -> bool:
    """Whether a feedback or concern document still holds personal text (views not yet
    refolded after an erasure)."""
    texts = [g.get("text") for g in doc.get("good_practice") or []]
    texts += [i.get("text") for i in doc.get("issues") or []]
    texts += [r.get("response") for r in (doc.get("responses") or {}).values()]
    texts += [doc.get("summary"), doc.get("outcome")]
    texts += [a.get("action") for a in doc.get("actions") or []]
    return any(isinstance(t, str) and t and t != ERASED for t in texts)
