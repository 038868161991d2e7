"""Random command sequences, folded in randomly split batches: the views equal a rebuild.

Each example gets a fresh store of the parametrised kind (an SQLite file, or a
PostgreSQL schema dropped afterwards), loads a small audit, then runs a random
mix of single commands, some of them refused by the ledger. Between commands the
views are sometimes brought up to date, by followers with random (often tiny)
batch sizes and sometimes only part of the way, so batches split at random
points. At the end the views, byte for byte, must be what a rebuild produces,
and the summary must agree with the case documents it counts.
"""

from __future__ import annotations

import base64
import copy
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_ledger.wiring import Wiring, wire
from ledger import commands as c
from ledger import ids
from ledger.base import Act, LedgerError
from ledger.handlers.shared import Outcome
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.follower import Follower
from projections.partitions import DIRECTORY, PARTITIONS, programme_partition
from projections.queries import Views

from .conftest import fresh_store, log_head

P = "mini-2026"
CASES = ["K01", "K02", "K03"]
AGENCIES = ["social-care", "school", "police"]
AREAS = ["2", "3", "4", "5", "6", "7", "8", "overall"]
AUDITOR = {"social-care": "sc.aud", "school": "sch.aud", "police": "pol.aud"}
PRACTITIONER = {"social-care": "sc.sw", "school": "sch.t", "police": "pol.off"}
MANAGER = {"social-care": "sc.mgr", "school": "sch.mgr", "police": "pol.mgr"}
PEOPLE = ["ql", "mod", "chair", *AUDITOR.values(), *PRACTITIONER.values(), *MANAGER.values()]
DAYS = [date(2026, 3, d) for d in (2, 3, 9, 16)]
TEXTS = ["Child seen alone and views recorded.", "Plan not reviewed on time.",
         "Chronology missing key events."]
ACTION_IDS = ["A1.1", "A1.2", "A2.1", "A3.1"]
RECOMMENDATIONS = {1: "Schools must report to every review.",
                   2: "Supervision is recorded on the child's file.",
                   3: "Police share strategy discussion notes within a day."}

CPUS = len(os.sched_getaffinity(0))
SQLITE_EXAMPLES = 25
POSTGRES_EXAMPLES = 10

KEY = base64.b64encode(bytes(range(32))).decode()


def _pack(mini_pack: dict[str, Any]) -> dict[str, Any]:
    """mini_pack with a third agency and a third case that nobody has graded yet."""
    pack = copy.deepcopy(mini_pack)
    pack["people"] += [
        {"id": "pol.mgr", "name": "Pol Manager", "agency": "police", "roles": ["manager"]},
        {"id": "pol.off", "name": "Pol Officer", "agency": "police", "roles": ["practitioner"],
         "manager": "pol.mgr"},
        {"id": "pol.aud", "name": "Pol Auditor", "agency": "police", "roles": ["auditor"]},
    ]
    pack["cases"].append({"ref": "K03", "category": "physical", "age_band": "0-4",
                          "gender": "female", "ethnicity": "Mixed",
                          "agencies": ["social-care", "police"]})
    return pack


@contextmanager
def fresh_wiring(kind: str, tmp_path: Path, key: str = "") -> Iterator[Wiring]:
    """A wiring on a store nobody has used: a new SQLite file, or a new PostgreSQL schema."""
    with fresh_store(kind, tmp_path) as url:
        w = wire(url, key)
        try:
            yield w
        finally:
            w.close()


class Scenario:
    """Turns random draws into commands on the loaded audit, and checks each one's effect.

    Most draws are steered towards commands the ledger accepts (an agency of the case,
    an area not yet graded, the concern's own manager ...); the rest are anything from
    the same small world, so refusals and "nothing to do" answers are mixed in.
    """

    def __init__(self, w: Wiring, data: st.DataObject, pack: dict[str, Any]) -> None:
        self.w = w
        self.data = data
        first = pack["concerns"][0]
        # The pack's concern was raised on its return's completion date.
        self.concerns = {ids.concern_ref(first["case"], first["agency"], first["summary"],
                                         "2026-02-02"): first["agency"]}
        self.actions = {a["id"]: a["owner"] for a in pack["actions"]}
        self.feedback = [(r["case"], r["agency"]) for r in pack["returns"]]
        self.outcomes: Counter[tuple[str, str]] = Counter()

    def draw(self, strategy: st.SearchStrategy[Any], label: str) -> Any:
        return self.data.draw(strategy, label=label)

    def pick(self, options: list[Any], label: str) -> Any:
        return self.draw(st.sampled_from(options), label)

    def steer(self, label: str) -> bool:
        """Mostly True: aim this choice at something the ledger will accept."""
        return bool(self.pick([True, True, True, False], f"steer {label}"))

    def on(self) -> date:
        return self.pick(DAYS, "on")

    # ---- the commands ---------------------------------------------------------------

    def grade_area(self) -> Callable[[], Outcome]:
        case = self.pick(CASES, "case")
        agencies = self.w.app.case(P, case).agencies if self.steer("agency") else AGENCIES
        agency = self.pick(list(agencies), "agency")
        found = self.w.app.case(P, case).returns.get(agency)
        graded = dict(found.grades) if found else {}
        open_areas = [a for a in AREAS if a not in graded]
        area = self.pick(open_areas if open_areas and self.steer("area") else AREAS, "area")
        grades = [2, 3, 4] if area != "overall" and self.steer("grade") else [1, 2, 3, 4]
        cmd = c.GradeArea(
            by=AUDITOR[agency] if self.steer("by") else self.pick(PEOPLE, "by"), programme=P,
            case=case, agency=agency, area=area, grade=self.pick(grades, "grade"),
            practitioner=(PRACTITIONER[agency] if self.steer("practitioner")
                          else self.pick([None, "sc.sw"], "practitioner")),
            strength=self.pick(["", TEXTS[0]], "strength"),
            concern=self.pick(["", TEXTS[1]], "concern"), occurred_on=self.on())
        return lambda: self.w.app.grade_area(cmd)

    def revise_grade(self) -> Callable[[], Outcome]:
        graded = [(k, a, area) for k in CASES
                  for a, r in self.w.app.case(P, k).returns.items() for area in r.grades]
        if graded and self.steer("area"):
            case, agency, area = self.pick(graded, "graded area")
        else:
            case, agency = self.pick(CASES, "case"), self.pick(AGENCIES, "agency")
            area = self.pick(AREAS, "area")
        grades = [2, 3, 4] if area != "overall" and self.steer("grade") else [1, 2, 3, 4]
        cmd = c.ReviseGrade(
            by=self.pick([AUDITOR[agency], "mod"] if self.steer("by") else PEOPLE, "by"),
            programme=P, case=case, agency=agency, area=area, grade=self.pick(grades, "grade"),
            reason="second look at the file", occurred_on=self.on())
        return lambda: self.w.app.revise_grade(cmd)

    def moderate_judgement(self) -> Callable[[], Outcome]:
        area = self.pick(AREAS, "area")
        grades = [2, 3, 4] if area != "overall" and self.steer("grade") else [1, 2, 3, 4]
        cmd = c.ModerateJudgement(
            by="mod" if self.steer("by") else self.pick(PEOPLE, "by"), programme=P,
            case=self.pick(CASES, "case"), area=area, grade=self.pick(grades, "grade"),
            reason="moderation panel view", occurred_on=self.on())
        return lambda: self.w.app.moderate_judgement(cmd)

    def raise_concern(self) -> Callable[[], Outcome]:
        case = self.pick(CASES, "case")
        agencies = self.w.app.case(P, case).agencies if self.steer("agency") else AGENCIES
        agency = self.pick(list(agencies), "agency")
        summary, on = self.pick(TEXTS, "summary"), self.on()
        cmd = c.RaiseConcern(
            by=(self.pick([AUDITOR[agency], MANAGER[agency]], "by") if self.steer("by")
                else self.pick(PEOPLE, "by")),
            programme=P, case=case, agency=agency, summary=summary,
            child_at_risk=self.draw(st.booleans(), "at risk"), occurred_on=on)
        ref = ids.concern_ref(case, agency, summary, on.isoformat())

        def run() -> Outcome:
            outcome = self.w.app.raise_concern(cmd)
            self.concerns[ref] = agency
            return outcome
        return run

    def _concern_fields(self) -> dict[str, Any]:
        if self.steer("concern"):
            ref = self.pick(sorted(self.concerns), "concern")
            by = self.pick([MANAGER[self.concerns[ref]], "ql"], "by")
        else:
            ref = self.pick([*sorted(self.concerns), "K01-000000"], "concern")
            by = self.pick(PEOPLE, "by")
        return {"by": by, "programme": P, "concern": ref, "occurred_on": self.on()}

    def acknowledge_concern(self) -> Callable[[], Outcome]:
        cmd = c.AcknowledgeConcern(**self._concern_fields())
        return lambda: self.w.app.acknowledge_concern(cmd)

    def record_concern_action(self) -> Callable[[], Outcome]:
        cmd = c.RecordConcernAction(**self._concern_fields(), action=self.pick(TEXTS, "action"))
        return lambda: self.w.app.record_concern_action(cmd)

    def close_concern(self) -> Callable[[], Outcome]:
        cmd = c.CloseConcern(**self._concern_fields(), outcome="strategy meeting held")
        return lambda: self.w.app.close_concern(cmd)

    def _feedback_fields(self) -> dict[str, Any]:
        if self.steer("feedback"):
            case, agency = self.pick(self.feedback, "feedback")
            by = self.pick([PRACTITIONER[agency], MANAGER[agency]], "by")
        else:
            case, agency = self.pick(CASES, "case"), self.pick(AGENCIES, "agency")
            by = self.pick(PEOPLE, "by")
        return {"by": by, "programme": P, "case": case, "agency": agency,
                "occurred_on": self.on()}

    def acknowledge_feedback(self) -> Callable[[], Outcome]:
        cmd = c.AcknowledgeFeedback(**self._feedback_fields())
        return lambda: self.w.app.acknowledge_feedback(cmd)

    def respond_to_issue(self) -> Callable[[], Outcome]:
        fields = self._feedback_fields()
        issues = [1, 2, 3]
        if (fields["case"], fields["agency"]) in self.feedback and self.steer("issue"):
            found = self.w.app.feedback(P, fields["case"], fields["agency"])
            issues = [i["number"] for i in found.issues] or issues
        cmd = c.RespondToIssue(**fields, issue=self.pick(issues, "issue"),
                               response=self.pick(TEXTS, "response"))
        return lambda: self.w.app.respond_to_issue(cmd)

    def add_recommendation(self) -> Callable[[], Outcome]:
        number = self.pick(sorted(RECOMMENDATIONS), "number")
        text = RECOMMENDATIONS[number] if self.steer("text") else "Other words entirely."
        cmd = c.AddRecommendation(by="ql" if self.steer("by") else self.pick(PEOPLE, "by"),
                                  programme=P, number=number, text=text, occurred_on=self.on())
        return lambda: self.w.app.add_recommendation(cmd)

    def plan_action(self) -> Callable[[], Outcome]:
        action = self.pick(ACTION_IDS, "action")
        owner = self.pick(list(MANAGER.values()) if self.steer("owner") else PEOPLE + ["nobody"],
                          "owner")
        cmd = c.PlanAction(
            by="ql" if self.steer("by") else self.pick(PEOPLE, "by"), programme=P, action=action,
            recommendation=self.pick(sorted(RECOMMENDATIONS), "recommendation"),
            description=("Audit ten more files in the quarter" if self.steer("description")
                         else "short"),
            measure="Ten files audited", owner=owner,
            due=self.pick([date(2026, 6, 30), date(2026, 9, 30)], "due"), occurred_on=self.on())

        def run() -> Outcome:
            outcome = self.w.app.plan_action(cmd)
            self.actions[action] = owner
            return outcome
        return run

    def _action_fields(self, act: str) -> dict[str, Any]:
        if self.steer("action"):
            action = self.pick(sorted(self.actions), "action")
            by = self.pick({"ratify": ["chair", "ql"], "replan": ["ql"]}.get(
                act, [self.actions[action], "ql"]), "by")
        else:
            action, by = self.pick(ACTION_IDS, "action"), self.pick(PEOPLE, "by")
        return {"by": by, "programme": P, "action": action, "occurred_on": self.on()}

    def ratify_action(self) -> Callable[[], Outcome]:
        cmd = c.RatifyAction(**self._action_fields("ratify"))
        return lambda: self.w.app.ratify_action(cmd)

    def record_action_progress(self) -> Callable[[], Outcome]:
        rag = self.pick(["red", "amber", "green"] if self.steer("rag") else ["blue"], "rag")
        cmd = c.RecordActionProgress(**self._action_fields("progress"), rag=rag,
                                     note=self.pick(TEXTS, "note"))
        return lambda: self.w.app.record_action_progress(cmd)

    def complete_action(self) -> Callable[[], Outcome]:
        cmd = c.CompleteAction(**self._action_fields("complete"), evidence="review minutes")
        return lambda: self.w.app.complete_action(cmd)

    def replan_action(self) -> Callable[[], Outcome]:
        fields = self._action_fields("replan")
        owner = self.pick([None, *MANAGER.values()] if self.steer("owner") else ["nobody"],
                          "owner")
        cmd = c.ReplanAction(
            **fields, reason="the team was reorganised",
            due=self.pick([None, date(2026, 12, 31)], "due"), owner=owner,
            description=self.pick(["", "Audit twenty files by the year end"]
                                  if self.steer("description") else ["tiny"], "description"))

        def run() -> Outcome:
            outcome = self.w.app.replan_action(cmd)
            if owner:
                self.actions[fields["action"]] = owner
            return outcome
        return run

    def assign_manager(self) -> Callable[[], Outcome]:
        cmd = c.AssignManager(by="ql" if self.steer("by") else self.pick(PEOPLE, "by"),
                              person=self.pick(PEOPLE, "person"),
                              manager=self.pick([*MANAGER.values(), "ql", "nobody"], "manager"),
                              occurred_on=self.on())
        return lambda: self.w.app.assign_manager(cmd)

    def _delivery_fields(self) -> tuple[str, str, str, str]:
        return (P, self.pick(["concern/K01-1", "feedback/K01/school"], "subject"),
                self.pick(["concern-alert", "feedback"], "purpose"),
                self.pick(["sc.mgr", "sch.mgr"], "recipient"))

    def record_delivery(self) -> Callable[[], Outcome]:
        fields, act = self._delivery_fields(), Act("worker", self.on().isoformat())
        return lambda: self.w.app.record_delivery(*fields, "U01", "D01", "1700000000.000100",
                                                  act)

    def update_delivery(self) -> Callable[[], Outcome]:
        """A delivered message updated in place: its document is found without an `ids`
        entry (from the delivery's first event when delivered in an earlier batch)."""
        fields, act = self._delivery_fields(), Act("worker", self.on().isoformat())
        note = self.pick(["acknowledged", "answered"], "note")
        return lambda: self.w.app.record_delivery_update(*fields, note, act)

    COMMANDS = ("record_delivery", "update_delivery", "assign_manager", "grade_area",
                "revise_grade", "moderate_judgement", "raise_concern",
                "acknowledge_concern", "record_concern_action", "close_concern",
                "acknowledge_feedback", "respond_to_issue", "add_recommendation", "plan_action",
                "ratify_action", "record_action_progress", "complete_action", "replan_action")

    def step(self) -> None:
        name = self.pick(list(self.COMMANDS), "command")
        run = getattr(self, name)()
        before = log_head(self.w)
        try:
            outcome = run()
        except LedgerError:
            self.outcomes[(name, "refused")] += 1
            assert log_head(self.w) == before, f"{name} was refused but wrote events"
            return
        if outcome.changed:
            self.outcomes[(name, "changed")] += 1
            assert log_head(self.w) > before, f"{name} said it changed something: {outcome}"
        else:
            self.outcomes[(name, "unchanged")] += 1
            assert log_head(self.w) == before, f"{name} said nothing changed: {outcome}"

    def maybe_catch_up(self) -> None:
        """Fold nothing, everything, or part of what is new, in batches of a random size."""
        how = self.pick(["skip", "skip", "all", "part", "some"], "catch up")
        if how == "skip":
            return
        follower = Follower(self.w.app, self.w.store, batch=self.pick([1, 2, 3, 500], "batch"))
        if how == "some":  # some partitions only, as each of a parallel rebuild's processes
            mine = programme_partition(P)
            follower.catch_up(parts=self.pick([frozenset({DIRECTORY}), frozenset({mine}),
                                               PARTITIONS - {DIRECTORY}], "partitions"))
        elif how == "all":
            follower.catch_up()
            assert follower.position() == log_head(self.w)
            check_summary(self.w.views)
            check_waiting(self.w.views)
        else:
            position, head = follower.position(), log_head(self.w)
            if head > position:
                until = self.draw(st.integers(position + 1, head), "until")
                follower.catch_up(until=until)
                assert until <= follower.position() <= head


def check_summary(views: Views) -> None:
    """The summary and coverage count exactly what the case documents hold."""
    cases = views.cases(P)
    areas: dict[str, dict[str, int]] = {}
    for case in cases:
        for area, judgement in case["judgements"].items():
            counts = areas.setdefault(area, {})
            counts[str(judgement["grade"])] = counts.get(str(judgement["grade"]), 0) + 1
    assert views.summary(P) == {"cases": len(cases), "areas": areas}
    coverage = views.coverage(P)
    assert coverage["cases"] == len(cases)
    for field in ("category", "age_band", "gender", "ethnicity"):
        spread: dict[str, int] = {}
        for case in cases:
            value = case[field] or "not recorded"
            spread[value] = spread.get(value, 0) + 1
        assert coverage[field] == spread, field
    agencies: dict[str, int] = {}
    for case in cases:
        for agency in case["agencies"]:
            agencies[agency] = agencies.get(agency, 0) + 1
    assert coverage["agencies"] == agencies


def check_waiting(views: Views) -> None:
    """The indexes behind "what is waiting for me?" list exactly what a scan of every
    programme's feedback, concerns and actions finds for each person and their team."""
    people = views.people("default")
    for person in people:
        me = person["person"]
        team = {p["person"] for p in people if p.get("manager") == me}
        open_feedback = [f for f in views.feedback(P)
                         if not f["acknowledged_by"]
                         or any(str(i["number"]) not in f["responses"] for i in f["issues"])]
        open_actions = [a for a in views.actions(P) if not a["completed"]]
        expected = {
            "team": sorted(team),
            "feedback": sorted(f"{P}/{f['case']}/{f['agency']}" for f in open_feedback
                               if f["practitioner"] == me),
            "team_feedback": sorted(f"{P}/{f['case']}/{f['agency']}" for f in open_feedback
                                    if f["practitioner"] in team),
            "actions": sorted(a["id"] for a in open_actions if a["owner"] == me),
            "team_actions": sorted(a["id"] for a in open_actions if a["owner"] in team),
            "concerns": sorted(k["ref"] for k in views.concerns(P)
                               if "manager" in person["roles"]
                               and k["agency"] == person["agency"] and not k["closed"]
                               and (not k["acknowledged_by"] or not k["actions"])),
        }
        found = views.waiting(person)
        assert {
            "team": sorted(found["team"]),
            "feedback": sorted(f"{P}/{f['case']}/{f['agency']}" for f in found["feedback"]),
            "team_feedback": sorted(f"{P}/{f['case']}/{f['agency']}"
                                    for f in found["team_feedback"]),
            "actions": sorted(a["id"] for a in found["actions"]),
            "team_actions": sorted(a["id"] for a in found["team_actions"]),
            "concerns": sorted(k["ref"] for k in found["concerns"]),
        } == expected, me


def test_views_folded_in_random_batches_equal_a_rebuild(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    kind = "sqlite" if store_url.startswith("sqlite") else "postgres"
    pack = _pack(mini_pack)
    outcomes: Counter[tuple[str, str]] = Counter()

    @settings(max_examples=SQLITE_EXAMPLES if kind == "sqlite" else POSTGRES_EXAMPLES,
              deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def example(data: st.DataObject) -> None:
        # Half the stores with a key: keyed ids, and the case's agencies hidden in view keys.
        keyed = data.draw(st.booleans(), label="keyed")
        with fresh_wiring(kind, tmp_path, KEY if keyed else "") as w:
            import_pack(w.app, parse_pack(pack))
            assert w.app.ids.keyed is w.store.names_hidden is keyed
            scenario = Scenario(w, data, pack)
            scenario.maybe_catch_up()
            for _ in range(data.draw(st.integers(1, 40), label="commands")):
                scenario.step()
                scenario.maybe_catch_up()
            w.follower.catch_up()
            assert w.follower.position() == log_head(w)
            check_summary(w.views)
            check_waiting(w.views)
            incremental = w.store.dump()
            positions = w.store.positions()
            w.follower.parallel_from = 0  # however short the log
            w.follower.rebuild()  # in a process per CPU (each folding some partitions)
            assert w.follower.processes == min(CPUS, len(PARTITIONS))
            assert w.store.positions() == positions
            rebuilt = w.store.dump()
            assert [(v, k) for v, k, _ in incremental] == [(v, k) for v, k, _ in rebuilt]
            for (view, key, doc), (_, _, again) in zip(incremental, rebuilt, strict=True):
                assert doc == again, (view, key, doc, again)
            assert incremental == rebuilt
            outcomes.update(scenario.outcomes)

    example()
    print(f"{kind}: " + ", ".join(f"{n} {what}: {k}" for (n, what), k in sorted(outcomes.items())))
    # The mix must exercise refusals, no-ops and changes, or the property says little.
    assert {what for _, what in outcomes} == {"refused", "unchanged", "changed"}, outcomes
