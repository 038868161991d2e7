"""Feedback to a practitioner on one agency's return: good practice, issues, their answers."""

from __future__ import annotations

from typing import Any

from .base import LedgerAggregate


class Feedback(LedgerAggregate):
    TOPIC = "audit-ledger:Feedback"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:FeedbackIssued"
        CASE = ("programme", "case")  # which case this aggregate belongs to (ledger.sealing)
        PERSONAL = ("good_practice[].text", "issues[].text")  # sealed with the case's key
        programme: str
        case: str
        agency: str
        practitioner: str
        manager: str
        auditor: str
        grades: dict[str, int]
        good_practice: list[dict[str, str]]
        issues: list[dict[str, Any]]

    class Acknowledged(LedgerAggregate.Event):
        TOPIC = "audit-ledger:FeedbackAcknowledged"

        def apply(self, feedback: Feedback) -> None:
            feedback.acknowledged_by = self.by
            feedback.acknowledged_at = self.timestamp.isoformat()

    class IssueResponded(LedgerAggregate.Event):
        TOPIC = "audit-ledger:IssueResponded"
        PERSONAL = ("response",)
        issue: int
        response: str

        def apply(self, feedback: Feedback) -> None:
            feedback.responses[self.issue] = {"response": self.response, "by": self.by,
                                              "on": self.occurred_on}

    def __init__(
        self,
        *,
        programme: str,
        case: str,
        agency: str,
        practitioner: str,
        manager: str,
        auditor: str,
        grades: dict[str, int],
        good_practice: list[dict[str, str]],
        issues: list[dict[str, Any]],
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.case = case
        self.agency = agency
        self.practitioner = practitioner
        self.manager = manager
        self.auditor = auditor
        self.grades = grades
        self.good_practice = good_practice
        self.issues = issues
        self.acknowledged_by = ""
        self.acknowledged_at = ""
        self.responses: dict[int, dict[str, str]] = {}
