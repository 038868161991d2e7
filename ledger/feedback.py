"""Feedback to a practitioner on one agency's return: good practice, issues, their answers.

Two people read it and each leaves their own fact: the practitioner acknowledges it (or answers
every issue, which counts as acknowledging), and their manager records that they have seen
their copy. The manager's "seen" never stands in for the practitioner's acknowledgement.
"""

from __future__ import annotations

from typing import Any

from .base import Act, LedgerAggregate
from .ids import IdScheme


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
        issues: list[dict[str, int | str]]  # number, area, text (ledger.transcoder)

    class Acknowledged(LedgerAggregate.Event):
        """The practitioner's acknowledgement. Stores written before the manager's "seen"
        existed may hold one by the manager: it is read as what it was, their seeing it."""

        TOPIC = "audit-ledger:FeedbackAcknowledged"

        def apply(self, feedback: Feedback) -> None:
            if self.by == feedback.manager and self.by != feedback.practitioner:
                feedback.seen_by = self.by
                feedback.seen_at = self.timestamp.isoformat()
            else:
                feedback.acknowledged_by = self.by
                feedback.acknowledged_at = self.timestamp.isoformat()

    class SeenByManager(LedgerAggregate.Event):
        """The practitioner's manager has read their copy: theirs alone, not an acknowledgement."""

        TOPIC = "audit-ledger:FeedbackSeenByManager"

        def apply(self, feedback: Feedback) -> None:
            feedback.seen_by = self.by
            feedback.seen_at = self.timestamp.isoformat()

    class AnswerDrafted(LedgerAggregate.Event):
        """An answer typed but not yet sent, kept so that an interruption loses nothing; shown
        only to its writer, never part of the feedback's record, sealed like an answer."""

        TOPIC = "audit-ledger:FeedbackAnswerDrafted"
        PERSONAL = ("text",)
        issue: int
        text: str

        def apply(self, feedback: Feedback) -> None:
            if self.text:
                feedback.drafts[(self.by, self.issue)] = self.text
            else:
                feedback.drafts.pop((self.by, self.issue), None)

    class IssueResponded(LedgerAggregate.Event):
        TOPIC = "audit-ledger:IssueResponded"
        PERSONAL = ("response",)
        issue: int
        response: str

        def apply(self, feedback: Feedback) -> None:
            feedback.responses[self.issue] = {"response": self.response, "by": self.by,
                                              "on": self.occurred_on}
            feedback.drafts.pop((self.by, self.issue), None)

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
        self.seen_by = ""
        self.seen_at = ""
        self.responses: dict[int, dict[str, str]] = {}
        self.drafts: dict[tuple[str, int], str] = {}

    def unanswered(self) -> list[int]:
        return [int(i["number"]) for i in self.issues if int(i["number"]) not in self.responses]


def feedback_from_return(
    programme: str, case: str, agency: str, auditor: str, practitioner: str, manager: str,
    grades: dict[str, int], strengths: dict[str, str], concerns: dict[str, str], act: Act, *,
    scheme: IdScheme,
) -> Feedback:
    """A return's feedback: its good practice first, then each issue to be answered."""
    return Feedback._create(Feedback.Created, id=scheme.feedback_id(programme, case, agency),
                            **feedback_fields(programme, case, agency, auditor, practitioner,
                                               manager, grades, strengths, concerns, act))


def feedback_fields(
    programme: str, case: str, agency: str, auditor: str, practitioner: str, manager: str,
    grades: dict[str, int], strengths: dict[str, str], concerns: dict[str, str], act: Act,
) -> dict[str, Any]:
    """The fields of a return's feedback's first event (an import saves that event alone)."""
    return dict(
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
