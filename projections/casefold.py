"""Folding one case's events into its document; shared by the views and by history replay,
so what history shows for any moment is what the views said at that moment."""

from __future__ import annotations

from typing import Any

from ledger.case_audit import CaseAudit
from policies.consolidation import judgement_records
from policies.scales import scale_named

Doc = dict[str, Any]


def new_case_doc(event: CaseAudit.Created) -> Doc:
    return {
        "programme": event.programme,
        "case": event.ref,
        "category": event.category,
        "age_band": event.age_band,
        "gender": event.gender,
        "ethnicity": event.ethnicity,
        "agencies": list(event.agencies),
        "selected_on": event.occurred_on,
        "returns": {},
        "moderations": {},
        "revisions": [],
        "judgements": {},
    }


def apply_case_event(doc: Doc, event: Any) -> set[str]:
    """Change the case document for one event; returns the areas whose grades it touched."""
    if isinstance(event, CaseAudit.ReturnRecorded):
        doc["returns"][event.agency] = {
            "agency": event.agency,
            "auditor": event.auditor,
            "practitioner": event.practitioner,
            "completed": event.completed,
            "grades": dict(event.grades),
            "strengths": dict(event.strengths),
            "concerns": dict(event.concerns),
        }
        return set(event.grades)
    if isinstance(event, CaseAudit.AreaGraded):
        r = doc["returns"].setdefault(event.agency, {
            "agency": event.agency, "auditor": event.auditor,
            "practitioner": event.practitioner, "completed": event.occurred_on,
            "grades": {}, "strengths": {}, "concerns": {}})
        r["grades"][event.area] = event.grade
        if event.strength:
            r["strengths"][event.area] = event.strength
        if event.concern:
            r["concerns"][event.area] = event.concern
        return {event.area}
    if isinstance(event, CaseAudit.GradeRevised):
        doc["returns"][event.agency]["grades"][event.area] = event.grade
        doc.setdefault("revisions", []).append({
            "agency": event.agency, "area": event.area, "grade": event.grade,
            "previous": event.previous, "reason": event.reason, "by": event.by,
            "on": event.occurred_on})
        return {event.area}
    if isinstance(event, CaseAudit.JudgementModerated):
        doc["moderations"][event.area] = {"grade": event.grade, "reason": event.reason,
                                          "by": event.by, "on": event.occurred_on}
        return {event.area}
    if isinstance(event, CaseAudit.TextErased):
        doc["erased"] = {"by": event.by, "on": event.occurred_on, "reason": event.reason}
    return set()


def judge(doc: Doc, areas: set[str], scale_id: str, rule: str) -> None:
    """Recompute the consolidated judgement of the touched areas, with provenance (all of
    them in one pass over the case's returns: a return touches every area it grades)."""
    if not areas:
        return
    returns, judgements = doc["returns"], doc["judgements"]
    for area, judgement in judgement_records(
            scale_named(scale_id), rule,
            [(agency, returns[agency]["grades"]) for agency in sorted(returns)],
            areas, doc["moderations"]).items():
        if judgement is None:
            judgements.pop(area, None)
        else:
            judgements[area] = judgement
