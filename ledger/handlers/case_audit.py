"""Case audit: each agency's return, its grades one by one and their revision, and moderation."""

from __future__ import annotations

from policies.consolidation import consolidate
from policies.grading import grade_problems
from policies.scales import OVERALL, scale_named

from .. import commands as c
from ..base import Rejected
from ..case_audit import CaseAudit
from ..feedback import feedback_from_return
from ..people import Person
from ..programme import Programme
from .shared import LedgerCommands, Outcome, act_of


class CaseAuditCommands(LedgerCommands):
    """Returns and judgements: what each agency's auditor grades, and what moderation decides."""

    def record_return(self, cmd: c.RecordReturn) -> Outcome:
        return self.retrying(lambda: self._record_return(cmd))

    def _record_return(self, cmd: c.RecordReturn) -> Outcome:
        self.require("record return", cmd.by, self.partnership_of(cmd.programme))
        programme = self.programme(cmd.programme)
        case = self.case(cmd.programme, cmd.case)
        if cmd.key and case.has_key(cmd.key):
            return Outcome(False, "already recorded")
        problems = self._return_problems(programme, case, cmd.agency, cmd.practitioner,
                                         cmd.grades)
        if cmd.agency in case.returns:
            problems.append(f"{cmd.agency} has already made a return for case {cmd.case}; "
                            "revise a grade instead")
        if problems:
            raise Rejected(*problems)
        allowed = self.keep_identifiers_out(
            cmd, {f"{field} (area {area})": text for field in ("strengths", "concerns")
                  for area, text in getattr(cmd, field).items()},
            programme=cmd.programme, case=cmd.case,
            names=self.names_on_case(case, cmd.by, cmd.practitioner))
        act = act_of(cmd)
        case.record(CaseAudit.ReturnRecorded, act, agency=cmd.agency, auditor=cmd.by,
                    practitioner=cmd.practitioner, completed=cmd.completed.isoformat(),
                    grades=dict(cmd.grades), strengths=dict(cmd.strengths),
                    concerns=dict(cmd.concerns))
        practitioner = self.person(cmd.practitioner, programme.partnership)
        feedback = feedback_from_return(
            cmd.programme, cmd.case, cmd.agency, cmd.by, cmd.practitioner, practitioner.manager,
            dict(cmd.grades), dict(cmd.strengths), dict(cmd.concerns), act, scheme=self.ids)
        self.save(case, feedback, *allowed)
        return Outcome(True, f"recorded {cmd.agency}'s return for case {cmd.case}; "
                             f"feedback issued to {cmd.practitioner}")

    def _return_problems(self, programme: Programme, case: CaseAudit, agency: str,
                         practitioner: str, grades: dict[str, int]) -> list[str]:
        scale = scale_named(programme.scale)
        problems: list[str] = []
        if agency not in case.agencies:
            problems.append(f"agency {agency!r} is not involved in case {case.ref}; "
                            f"involved: {', '.join(case.agencies)}")
        problems += self._practitioner_problems(practitioner, agency, programme.partnership)
        for area, grade in grades.items():
            others = {a: g for a, g in grades.items() if a != area}
            problems += [f"area {area}: {p}"
                         for p in grade_problems(scale, area, grade, others, programme.areas)]
        return problems

    def _practitioner_problems(self, practitioner: str, agency: str, partnership: str
                               ) -> list[str]:
        found = self.find(Person, self.ids.person_id(practitioner, partnership))
        if found is None:
            return [f"practitioner {practitioner!r} is not in the directory"]
        if found.agency != agency:
            return [f"practitioner {practitioner!r} works for {found.agency}, not {agency}"]
        return []

    def grade_area(self, cmd: c.GradeArea) -> Outcome:
        return self.retrying(lambda: self._grade_area(cmd))

    def _grade_area(self, cmd: c.GradeArea) -> Outcome:
        self.require("grade area", cmd.by, self.partnership_of(cmd.programme))
        programme = self.programme(cmd.programme)
        case = self.case(cmd.programme, cmd.case)
        if cmd.key and case.has_key(cmd.key):
            return Outcome(False, "already recorded")
        existing = case.returns.get(cmd.agency)
        practitioner = cmd.practitioner or (existing.practitioner if existing else None)
        if practitioner is None:
            raise Rejected(f"{cmd.agency} has no return for case {cmd.case} yet: "
                           "name the practitioner (--practitioner)")
        others = dict(existing.grades) if existing else {}
        if cmd.area in others:
            raise Rejected(f"area {cmd.area} is already graded {others[cmd.area]} by "
                           f"{cmd.agency}; revise it with a reason instead")
        problems = self._return_problems(programme, case, cmd.agency, practitioner,
                                         {**others, cmd.area: cmd.grade})
        if problems:
            raise Rejected(*problems)
        allowed = self.keep_identifiers_out(
            cmd, {"strength": cmd.strength, "concern": cmd.concern}, programme=cmd.programme,
            case=cmd.case, names=self.names_on_case(case, cmd.by, practitioner))
        case.record(CaseAudit.AreaGraded, act_of(cmd), agency=cmd.agency, auditor=cmd.by,
                    practitioner=practitioner, area=cmd.area, grade=cmd.grade,
                    strength=cmd.strength, concern=cmd.concern)
        self.save(case, *allowed)
        return Outcome(True, f"area {cmd.area} graded {cmd.grade} for {cmd.agency} "
                             f"on case {cmd.case}")

    def revise_grade(self, cmd: c.ReviseGrade) -> Outcome:
        return self.retrying(lambda: self._revise_grade(cmd))

    def _revise_grade(self, cmd: c.ReviseGrade) -> Outcome:
        self.require("revise grade", cmd.by, self.partnership_of(cmd.programme))
        programme = self.programme(cmd.programme)
        case = self.case(cmd.programme, cmd.case)
        if cmd.key and case.has_key(cmd.key):
            return Outcome(False, "already revised")
        existing = case.returns.get(cmd.agency)
        if existing is None or cmd.area not in existing.grades:
            raise Rejected(f"{cmd.agency} has not graded area {cmd.area} on case {cmd.case}; "
                           "nothing to revise")
        previous = existing.grades[cmd.area]
        if previous == cmd.grade:
            return Outcome(False, f"area {cmd.area} is already graded {cmd.grade}")
        scale = scale_named(programme.scale)
        others = {a: g for a, g in existing.grades.items() if a != cmd.area}
        problems = grade_problems(scale, cmd.area, cmd.grade, others, programme.areas)
        if cmd.area != OVERALL and existing.grades.get(OVERALL) in scale.overall_only:
            overall = existing.grades[OVERALL]
            problems += grade_problems(scale, OVERALL, overall, {**others, cmd.area: cmd.grade},
                                       programme.areas)
        if problems:
            raise Rejected(*problems)
        allowed = self.keep_identifiers_out(cmd, {"reason": cmd.reason}, programme=cmd.programme,
                                            case=cmd.case, names=self.names_on_case(case))
        case.record(CaseAudit.GradeRevised, act_of(cmd), agency=cmd.agency, area=cmd.area,
                    grade=cmd.grade, previous=previous, reason=cmd.reason)
        self.save(case, *allowed)
        return Outcome(True, f"area {cmd.area} for {cmd.agency} revised from {previous} to "
                             f"{cmd.grade} on case {cmd.case}")

    def moderate_judgement(self, cmd: c.ModerateJudgement) -> Outcome:
        return self.retrying(lambda: self._moderate(cmd))

    def _moderate(self, cmd: c.ModerateJudgement) -> Outcome:
        self.require("moderate judgement", cmd.by, self.partnership_of(cmd.programme))
        programme = self.programme(cmd.programme)
        case = self.case(cmd.programme, cmd.case)
        if cmd.key and case.has_key(cmd.key):
            return Outcome(False, "already moderated")
        scale = scale_named(programme.scale)
        others: dict[str, int] = {}
        if cmd.area == OVERALL:
            for area, by_agency in case.grades_by_area().items():
                judgement = consolidate(scale, programme.consolidation, by_agency)
                if area != OVERALL and judgement is not None:
                    others[area] = judgement.grade
        problems = grade_problems(scale, cmd.area, cmd.grade, others, programme.areas)
        if problems:
            raise Rejected(*problems)
        allowed = self.keep_identifiers_out(cmd, {"reason": cmd.reason}, programme=cmd.programme,
                                            case=cmd.case, names=self.names_on_case(case))
        case.record(CaseAudit.JudgementModerated, act_of(cmd), area=cmd.area, grade=cmd.grade,
                    reason=cmd.reason)
        self.save(case, *allowed)
        return Outcome(True, f"area {cmd.area} on case {cmd.case} moderated to {cmd.grade}")
