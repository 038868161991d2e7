"""Feedback to a practitioner on one agency's return: good practice, issues, their answers."""

from __future__ import annotations

from typing import Any

from . import ids
from .base import Act, LedgerAggregate


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


def feedback_from_return(
    programme: str, case: str, agency: str, auditor: str, practitioner: str, manager: str,
    grades: dict[str, int], strengths: dict[str, str], concerns: dict[str, str], act: Act,
) -> Feedback:
    """A return's feedback: its good practice first, then each issue to be answered."""
    return Feedback._create(
        Feedback.Created,
        id=ids.feedback_id(programme, case, agency),
        programme=programme,
        case=case,
        agency=agency,
        practitioner=practitioner,
        manager=manager,
        auditor=auditor,
        grades=dict(grades),
        good_practice=[{"area": a, "text": t} for a, t in strengths.items()],
        issues=[{"number": n, "area": a, "text": t}
                for n, (a, t) in enumerate(concerns.items(), start=1)],
        **act.fields(),
    )
