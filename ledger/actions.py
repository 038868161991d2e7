"""Recommendations from the overview report and the SMART actions that answer them."""

from __future__ import annotations

from .base import LedgerAggregate


class Recommendation(LedgerAggregate):
    TOPIC = "audit-ledger:Recommendation"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:RecommendationMade"
        programme: str
        number: int
        text: str

    def __init__(
        self, *, programme: str, number: int, text: str, by: str, occurred_on: str, key: str
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.number = number
        self.text = text


class Action(LedgerAggregate):
    TOPIC = "audit-ledger:Action"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:ActionPlanned"
        programme: str
        action: str
        recommendation: int
        description: str
        measure: str
        owner: str
        due: str

    class Ratified(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ActionRatified"

        def apply(self, action: Action) -> None:
            action.ratified = True

    class ProgressRecorded(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ActionProgressRecorded"
        rag: str
        note: str

        def apply(self, action: Action) -> None:
            action.rag = self.rag
            action.progress_note = self.note

    class Completed(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ActionCompleted"
        evidence: str

        def apply(self, action: Action) -> None:
            action.completed = True
            action.rag = "green"
            action.evidence = self.evidence

    class Replanned(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ActionReplanned"
        description: str
        measure: str
        owner: str
        due: str
        reason: str

        def apply(self, action: Action) -> None:
            action.description = self.description
            action.measure = self.measure
            action.owner = self.owner
            action.due = self.due
            if action.completed:
                action.rag = ""  # reopened: its progress starts again
            action.completed = False

    def __init__(
        self,
        *,
        programme: str,
        action: str,
        recommendation: int,
        description: str,
        measure: str,
        owner: str,
        due: str,
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.action = action
        self.recommendation = recommendation
        self.description = description
        self.measure = measure
        self.owner = owner
        self.due = due
        self.ratified = False
        self.rag = ""
        self.completed = False
        self.progress_note = ""
        self.evidence = ""

    @property
    def tracker_note(self) -> str:
        """The note the action tracker shows: the evidence once complete, else the latest
        progress note."""
        return self.evidence if self.completed else self.progress_note
