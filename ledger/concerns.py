"""A concern referred to managers at once: raised, acknowledged, acted on, escalated, closed."""

from __future__ import annotations

from typing import Any

from .base import LedgerAggregate


class Concern(LedgerAggregate):
    TOPIC = "audit-ledger:Concern"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:ConcernRaised"
        CASE = ("programme", "case")  # which case this aggregate belongs to (ledger.sealing)
        PERSONAL = ("summary",)  # sealed with the case's key
        programme: str
        case: str
        agency: str
        ref: str
        summary: str
        child_at_risk: bool

    class Acknowledged(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ConcernAcknowledged"

        def apply(self, concern: Concern) -> None:
            concern.acknowledged_by = self.by
            concern.acknowledged_at = self.timestamp.isoformat()

    class ActionRecorded(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ConcernActionRecorded"
        PERSONAL = ("action",)
        action: str

        def apply(self, concern: Concern) -> None:
            concern.actions.append({"action": self.action, "by": self.by, "on": self.occurred_on})

    class Escalated(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ConcernEscalated"
        step: int
        to: list[str]
        reason: str

        def apply(self, concern: Concern) -> None:
            concern.step = self.step

    class Closed(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ConcernClosed"
        PERSONAL = ("outcome",)
        outcome: str

        def apply(self, concern: Concern) -> None:
            concern.closed = True

    def __init__(
        self,
        *,
        programme: str,
        case: str,
        agency: str,
        ref: str,
        summary: str,
        child_at_risk: bool,
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.case = case
        self.agency = agency
        self.ref = ref
        self.summary = summary
        self.child_at_risk = child_at_risk
        self.raised_by = by
        self.raised_on = occurred_on
        self.acknowledged_by = ""
        self.acknowledged_at = ""
        self.actions: list[dict[str, Any]] = []
        self.step = 1
        self.closed = False
