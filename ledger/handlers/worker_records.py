"""What the worker records: messages delivered to Slack, and concerns escalated up the ladder."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError

from ..base import Act, NotFound
from ..concerns import Concern
from ..deliveries import Delivery
from .shared import LedgerCommands, Outcome


class WorkerRecords(LedgerCommands):
    """System acts: no person's role is involved, and a second record of the same act changes
    nothing."""

    def delivered(self, programme: str, subject: str, purpose: str, recipient: str) -> bool:
        return self.find(Delivery, self.ids.delivery_id(programme, subject, purpose,
                                                   recipient)) is not None

    def record_delivery(self, programme: str, subject: str, purpose: str, recipient: str,
                        slack_user: str, channel: str, ts: str, act: Act) -> Outcome:
        """Note that a message reached Slack; a second record of the same one changes nothing."""
        did = self.ids.delivery_id(programme, subject, purpose, recipient)
        if self.find(Delivery, did) is not None:
            return Outcome(False, "already recorded")
        delivery = Delivery._create(Delivery.Created, id=did, programme=programme,
                                    subject=subject, purpose=purpose, recipient=recipient,
                                    slack_user=slack_user, channel=channel, ts=ts,
                                    **act.fields())
        try:
            self.save(delivery)
        except IntegrityError:
            return Outcome(False, "already recorded")
        return Outcome(True, f"{purpose} for {subject} delivered to {recipient}")

    def record_delivery_update(self, programme: str, subject: str, purpose: str,
                               recipient: str, note: str, act: Act) -> Outcome:
        return self.retrying(lambda: self._delivery_update(programme, subject, purpose,
                                                           recipient, note, act))

    def _delivery_update(self, programme: str, subject: str, purpose: str, recipient: str,
                         note: str, act: Act) -> Outcome:
        delivery = self.find(Delivery, self.ids.delivery_id(programme, subject, purpose, recipient))
        if delivery is None:
            raise NotFound(f"no {purpose} for {subject} was delivered to {recipient}")
        if note in delivery.notes:
            return Outcome(False, "already updated")
        delivery.record(Delivery.Updated, act, note=note)
        self.save(delivery)
        return Outcome(True, "updated")

    def escalate_concern(self, programme: str, ref: str, step: int, to: list[str],
                         reason: str, act: Act) -> Outcome:
        return self.retrying(lambda: self._escalate(programme, ref, step, to, reason, act))

    def _escalate(self, programme: str, ref: str, step: int, to: list[str], reason: str,
                  act: Act) -> Outcome:
        concern = self.concern(programme, ref)
        if concern.step >= step or concern.acknowledged_by or concern.closed:
            return Outcome(False, f"concern {ref} is already at step {concern.step} or answered")
        concern.record(Concern.Escalated, act, step=step, to=list(to), reason=reason)
        self.save(concern)
        return Outcome(True, f"concern {ref} escalated to step {step}")
