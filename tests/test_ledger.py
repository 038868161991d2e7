"""Single facts through the ledger: rules kept, roles checked, nothing doubled."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from audit_ledger.wiring import Wiring
from ledger import commands as c
from ledger.base import NotPermitted, Rejected
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.report_figures import report_data

P = "mini-2026"


@pytest.fixture
def loaded(wiring: Wiring, mini_pack: dict[str, Any]) -> Wiring:
    import_pack(wiring.app, parse_pack(mini_pack))
    wiring.follower.catch_up()
    return wiring


@pytest.fixture
def loaded_2009(wiring: Wiring, mini_pack: dict[str, Any]) -> Wiring:
    """The small audit graded on the 2009 tool's scale, whose outstanding is overall only."""
    mini_pack["programme"]["scale"] = "ofsted-2009"
    import_pack(wiring.app, parse_pack(mini_pack))
    wiring.follower.catch_up()
    return wiring


def _area(w: Wiring, case: str, area: str) -> dict[str, Any]:
    w.follower.catch_up()
    return w.views.judgements(P, case)["areas"][area]  # type: ignore[no-any-return]


def test_revising_a_grade_needs_a_reason_and_moves_the_judgement(loaded: Wiring) -> None:
    assert _area(loaded, "K01", "6")["grade"] == 4
    with pytest.raises(ValidationError):
        c.ReviseGrade(by="sch.aud", programme=P, case="K01", agency="school", area="6",
                      grade=3, reason="  ")
    outcome = loaded.app.revise_grade(c.ReviseGrade(
        by="sch.aud", programme=P, case="K01", agency="school", area="6", grade=3,
        reason="report was sent but filed late"))
    assert outcome.changed
    assert _area(loaded, "K01", "6")["grade"] == 3


def test_revision_may_not_break_the_outstanding_rule(loaded_2009: Wiring) -> None:
    loaded = loaded_2009
    with pytest.raises(Rejected) as caught:
        loaded.app.revise_grade(c.ReviseGrade(
            by="sc.aud", programme=P, case="K02", agency="social-care", area="4", grade=3,
            reason="second look"))
    assert "overall grade 1" in caught.value.problems[0]


def test_moderation_overrides_worst_and_keeps_provenance(loaded: Wiring) -> None:
    with pytest.raises(NotPermitted) as caught:
        loaded.app.moderate_judgement(c.ModerateJudgement(
            by="sch.aud", programme=P, case="K01", area="6", grade=3, reason="x"))
    assert "need the role moderator" in caught.value.problems[0]
    loaded.app.moderate_judgement(c.ModerateJudgement(
        by="mod", programme=P, case="K01", area="6", grade=3,
        reason="agreed at the moderation meeting"))
    judgement = _area(loaded, "K01", "6")
    assert judgement["grade"] == 3 and judgement["rule"] == "moderated"
    assert judgement["moderation"]["reason"] == "agreed at the moderation meeting"
    assert {x["agency"] for x in judgement["contributions"]} == {"school", "social-care"}
    data = report_data(loaded.views, P, date(2026, 3, 1))
    area6 = next(a for a in data["areas"] if a["number"] == 6)
    assert area6["counts"] == {"1": 0, "2": 1, "3": 1, "4": 0}


def test_ilacs_allows_outstanding_for_an_area_as_ofsted_does(loaded: Wiring) -> None:
    loaded.app.grade_area(c.GradeArea(by="sch.aud", programme=P, case="K01", agency="school",
                                      area="3", grade=1, strength="Referral same day"))
    assert _area(loaded, "K01", "3")["contributions"][0] == {"agency": "school", "grade": 1}


def test_grading_one_area_at_a_time(loaded_2009: Wiring) -> None:
    loaded = loaded_2009
    with pytest.raises(Rejected) as caught:
        loaded.app.grade_area(c.GradeArea(by="sch.aud", programme=P, case="K01",
                                          agency="school", area="3", grade=1))
    assert "overall judgement only" in caught.value.problems[0]
    loaded.app.grade_area(c.GradeArea(by="sch.aud", programme=P, case="K01", agency="school",
                                      area="3", grade=4, concern="Referral was late"))
    assert _area(loaded, "K01", "3")["grade"] == 4
    with pytest.raises(Rejected):
        loaded.app.grade_area(c.GradeArea(by="sch.aud", programme=P, case="K01",
                                          agency="school", area="3", grade=3))


def test_only_the_practitioner_or_their_manager_acknowledges_feedback(loaded: Wiring) -> None:
    ack: dict[str, Any] = dict(programme=P, case="K01", agency="school")
    with pytest.raises(NotPermitted):
        loaded.app.acknowledge_feedback(c.AcknowledgeFeedback(by="sc.sw", **ack))
    first = loaded.app.acknowledge_feedback(c.AcknowledgeFeedback(by="sch.t", **ack))
    again = loaded.app.acknowledge_feedback(c.AcknowledgeFeedback(by="sch.t", **ack))
    assert first.changed and not again.changed
    assert "already acknowledged by sch.t" in again.message
    loaded.follower.catch_up()
    item = loaded.views.feedback_item(P, "K01", "school")
    assert item is not None and item["acknowledged_by"] == "sch.t"
    assert item["manager"] == "sch.mgr"


def test_responding_to_each_issue(loaded: Wiring) -> None:
    base: dict[str, Any] = dict(programme=P, case="K01", agency="social-care", by="sc.sw")
    with pytest.raises(Rejected) as caught:
        loaded.app.respond_to_issue(c.RespondToIssue(issue=9, response="?", **base))
    assert "issues: 1, 2" in caught.value.problems[0]
    loaded.app.respond_to_issue(c.RespondToIssue(issue=1, response="Now seen alone weekly",
                                                 key="slack-1", **base))
    repeat = loaded.app.respond_to_issue(c.RespondToIssue(issue=1, response="Now seen alone "
                                                          "weekly", key="slack-1", **base))
    assert not repeat.changed
    loaded.follower.catch_up()
    item = loaded.views.feedback_item(P, "K01", "social-care")
    assert item is not None and list(item["responses"]) == ["1"]


def test_concerns_go_to_the_agency_managers(loaded: Wiring) -> None:
    outcome = loaded.app.raise_concern(c.RaiseConcern(
        by="sc.aud", programme=P, case="K02", agency="social-care",
        summary="Visits missed for six weeks", child_at_risk=True))
    assert "emergency services" in outcome.message
    ref = outcome.message.split()[1]
    twice = loaded.app.raise_concern(c.RaiseConcern(
        by="sc.aud", programme=P, case="K02", agency="social-care",
        summary="Visits missed for six weeks", child_at_risk=True))
    assert not twice.changed
    with pytest.raises(NotPermitted):
        loaded.app.acknowledge_concern(c.AcknowledgeConcern(by="sch.mgr", programme=P,
                                                            concern=ref))
    loaded.app.acknowledge_concern(c.AcknowledgeConcern(by="sc.mgr", programme=P, concern=ref))
    loaded.app.record_concern_action(c.RecordConcernAction(
        by="sc.mgr", programme=P, concern=ref, action="Visit made same day; plan reviewed"))
    loaded.follower.catch_up()
    doc = loaded.views.concern(P, ref)
    assert doc is not None and doc["acknowledged_by"] == "sc.mgr" and len(doc["actions"]) == 1


def test_action_plan_cycle(loaded: Wiring) -> None:
    with pytest.raises(Rejected) as caught:
        loaded.app.plan_action(c.PlanAction(
            by="ql", programme=P, action="A1.2", recommendation=7, description="Do it",
            measure="Done", owner="ghost", due=date(2026, 9, 1)))
    problems = "\n".join(caught.value.problems)
    assert "recommendation 7" in problems and "ghost" in problems and "description" in problems
    loaded.app.ratify_action(c.RatifyAction(by="chair", programme=P, action="A1.1"))
    with pytest.raises(NotPermitted):
        loaded.app.record_action_progress(c.RecordActionProgress(
            by="sc.mgr", programme=P, action="A1.1", rag="amber", note="x"))
    with pytest.raises(Rejected):
        loaded.app.record_action_progress(c.RecordActionProgress(
            by="sch.mgr", programme=P, action="A1.1", rag="purple", note="x"))
    loaded.app.record_action_progress(c.RecordActionProgress(
        by="sch.mgr", programme=P, action="A1.1", rag="amber", note="Half the schools replied"))
    loaded.app.complete_action(c.CompleteAction(by="sch.mgr", programme=P, action="A1.1",
                                                evidence="All 40 schools confirmed"))
    loaded.follower.catch_up()
    data = report_data(loaded.views, P, date(2026, 12, 1))
    assert data["recommendations"][0]["status"] == "complete"
    assert data["outstanding_actions"] == []
    loaded.app.replan_action(c.ReplanAction(by="ql", programme=P, action="A1.1",
                                            due=date(2027, 1, 31), reason="Re-audit found gaps"))
    loaded.follower.catch_up()
    data = report_data(loaded.views, P, date(2026, 12, 1))
    assert data["outstanding_actions"][0]["due"] == "2027-01-31"


def test_unknown_people_are_told_so(loaded: Wiring) -> None:
    with pytest.raises(Exception) as caught:
        loaded.app.raise_concern(c.RaiseConcern(by="stranger", programme=P, case="K01",
                                                agency="school", summary="x"))
    assert "no person 'stranger'" in str(caught.value)
