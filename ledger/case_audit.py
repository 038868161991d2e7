"""One sampled case: each agency's return, revisions and moderation of its judgements."""

from __future__ import annotations

from typing import Any

from .base import LedgerAggregate


class AgencyReturn:
    """One agency's completed audit tool for the case (plain state, rebuilt from events)."""

    def __init__(self, agency: str, auditor: str, practitioner: str, completed: str) -> None:
        self.agency = agency
        self.auditor = auditor
        self.practitioner = practitioner
        self.completed = completed
        self.grades: dict[str, int] = {}
        self.strengths: dict[str, str] = {}
        self.concerns: dict[str, str] = {}


class CaseAudit(LedgerAggregate):
    TOPIC = "audit-ledger:CaseAudit"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:CaseSelected"
        CASE = ("programme", "ref")  # which case this aggregate is (see ledger.sealing)
        PERSONAL = ("age_band", "gender", "ethnicity")  # sealed with the case's key
        programme: str
        ref: str
        category: str
        age_band: str
        gender: str
        ethnicity: str
        agencies: list[str]

    class ReturnRecorded(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ReturnRecorded"
        PERSONAL = ("strengths", "concerns")
        agency: str
        auditor: str
        practitioner: str
        completed: str
        grades: dict[str, int]
        strengths: dict[str, str]
        concerns: dict[str, str]

        def apply(self, case: CaseAudit) -> None:
            r = AgencyReturn(self.agency, self.auditor, self.practitioner, self.completed)
            r.grades = dict(self.grades)
            r.strengths = dict(self.strengths)
            r.concerns = dict(self.concerns)
            case.returns[self.agency] = r

    class AreaGraded(LedgerAggregate.Event):
        TOPIC = "audit-ledger:AreaGraded"
        PERSONAL = ("strength", "concern")
        agency: str
        auditor: str
        practitioner: str
        area: str
        grade: int
        strength: str
        concern: str

        def apply(self, case: CaseAudit) -> None:
            r = case.returns.get(self.agency)
            if r is None:
                r = AgencyReturn(self.agency, self.auditor, self.practitioner, self.occurred_on)
                case.returns[self.agency] = r
            r.grades[self.area] = self.grade
            if self.strength:
                r.strengths[self.area] = self.strength
            if self.concern:
                r.concerns[self.area] = self.concern

    class GradeRevised(LedgerAggregate.Event):
        TOPIC = "audit-ledger:GradeRevised"
        PERSONAL = ("reason",)
        agency: str
        area: str
        grade: int
        previous: int
        reason: str

        def apply(self, case: CaseAudit) -> None:
            case.returns[self.agency].grades[self.area] = self.grade

    class JudgementModerated(LedgerAggregate.Event):
        TOPIC = "audit-ledger:JudgementModerated"
        PERSONAL = ("reason",)
        area: str
        grade: int
        reason: str

        def apply(self, case: CaseAudit) -> None:
            case.moderations[self.area] = {
                "grade": self.grade,
                "reason": self.reason,
                "by": self.by,
                "on": self.occurred_on,
            }

    class TextErased(LedgerAggregate.Event):
        """The case's personal text was erased (its key destroyed) by order. The reason is a
        record of the order, kept in the clear: it holds no personal details."""

        TOPIC = "audit-ledger:CaseTextErased"
        reason: str

        def apply(self, case: CaseAudit) -> None:
            case.erased = {"by": self.by, "on": self.occurred_on, "reason": self.reason}

    def __init__(
        self,
        *,
        programme: str,
        ref: str,
        category: str,
        age_band: str,
        gender: str,
        ethnicity: str,
        agencies: list[str],
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.ref = ref
        self.category = category
        self.age_band = age_band
        self.gender = gender
        self.ethnicity = ethnicity
        self.agencies = list(agencies)
        self.returns: dict[str, AgencyReturn] = {}
        self.moderations: dict[str, dict[str, Any]] = {}
        self.erased: dict[str, str] | None = None

    def grades_by_area(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for agency, r in self.returns.items():
            for area, grade in r.grades.items():
                out.setdefault(area, {})[agency] = grade
        return out
