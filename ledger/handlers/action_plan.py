"""The action plan: recommendations, and the SMART actions that answer them, tracked to the end."""

from __future__ import annotations

from datetime import date

from policies.smart import rag_problem, smart_problems

from .. import commands as c
from ..actions import Action, Recommendation
from ..base import NotPermitted, Rejected
from ..people import Person
from .shared import LedgerCommands, Outcome, act_of


class ActionPlanCommands(LedgerCommands):
    """Recommendations added, actions planned, ratified, updated, completed and replanned."""

    def add_recommendation(self, cmd: c.AddRecommendation) -> Outcome:
        return self.retrying(lambda: self._add_recommendation(cmd))

    def _add_recommendation(self, cmd: c.AddRecommendation) -> Outcome:
        self.require("add recommendation", cmd.by, self.partnership_of(cmd.programme))
        self.programme(cmd.programme)
        rid = self.ids.recommendation_id(cmd.programme, cmd.number)
        existing = self.find(Recommendation, rid)
        if existing is not None:
            if existing.text == cmd.text:
                return Outcome(False, f"recommendation {cmd.number} is already in the ledger")
            raise Rejected(f"recommendation {cmd.number} already exists with other words")
        allowed = self.keep_identifiers_out(cmd, {"text": cmd.text}, programme=cmd.programme)
        rec = Recommendation._create(Recommendation.Created, id=rid, programme=cmd.programme,
                                     number=cmd.number, text=cmd.text, **act_of(cmd).fields())
        self.save(rec, *allowed)
        return Outcome(True, f"recommendation {cmd.number} added")

    def plan_action(self, cmd: c.PlanAction) -> Outcome:
        return self.retrying(lambda: self._plan_action(cmd))

    def _plan_action(self, cmd: c.PlanAction) -> Outcome:
        self.require("plan action", cmd.by, self.partnership_of(cmd.programme))
        self.programme(cmd.programme)
        problems = smart_problems(cmd.description, cmd.measure, cmd.owner, cmd.due)
        if self.find(Recommendation, self.ids.recommendation_id(cmd.programme,
                                                            cmd.recommendation)) is None:
            problems.append(f"recommendation: there is no recommendation {cmd.recommendation}")
        if self.find(Person, self.ids.person_id(cmd.owner, self.partnership_of(cmd.programme))) is None:
            problems.append(f"owner: {cmd.owner!r} is not in the directory")
        aid = self.ids.action_id(cmd.programme, cmd.action)
        if self.find(Action, aid) is not None:
            problems.append(f"action {cmd.action} is already planned; replan it instead")
        if problems:
            raise Rejected(*problems)
        allowed = self.keep_identifiers_out(
            cmd, {"description": cmd.description, "measure": cmd.measure},
            programme=cmd.programme)
        action = Action._create(Action.Created, id=aid, programme=cmd.programme,
                                action=cmd.action, recommendation=cmd.recommendation,
                                description=cmd.description, measure=cmd.measure,
                                owner=cmd.owner, due=cmd.due.isoformat(), **act_of(cmd).fields())
        self.save(action, *allowed)
        return Outcome(True, f"action {cmd.action} planned, owned by {cmd.owner}, "
                             f"due {cmd.due.isoformat()}")

    def ratify_action(self, cmd: c.RatifyAction) -> Outcome:
        return self.retrying(lambda: self._ratify(cmd))

    def _ratify(self, cmd: c.RatifyAction) -> Outcome:
        self.require("ratify action", cmd.by, self.partnership_of(cmd.programme))
        action = self.action(cmd.programme, cmd.action)
        if action.ratified:
            return Outcome(False, f"action {cmd.action} is already ratified")
        action.record(Action.Ratified, act_of(cmd))
        self.save(action)
        return Outcome(True, f"action {cmd.action} ratified")

    def _owned_action(self, cmd: c.ActionCommand, act_name: str) -> Action:
        who = self.require(act_name, cmd.by, self.partnership_of(cmd.programme))
        action = self.action(cmd.programme, cmd.action)
        if cmd.by != action.owner and "quality-lead" not in who.roles:
            raise NotPermitted(f"{cmd.by}: action {cmd.action} is owned by {action.owner}; "
                               "only the owner or a quality-lead may update it")
        return action

    def record_action_progress(self, cmd: c.RecordActionProgress) -> Outcome:
        return self.retrying(lambda: self._progress(cmd))

    def _progress(self, cmd: c.RecordActionProgress) -> Outcome:
        problem = rag_problem(cmd.rag)
        if problem:
            raise Rejected(f"rag: {problem}")
        action = self._owned_action(cmd, "record action progress")
        if cmd.key and action.has_key(cmd.key):
            return Outcome(False, "progress already recorded")
        if action.completed:
            raise Rejected(f"action {cmd.action} is complete; replan it to reopen it")
        allowed = self.keep_identifiers_out(cmd, {"note": cmd.note}, programme=cmd.programme)
        action.record(Action.ProgressRecorded, act_of(cmd), rag=cmd.rag, note=cmd.note)
        self.save(action, *allowed)
        return Outcome(True, f"progress on action {cmd.action} recorded ({cmd.rag})")

    def complete_action(self, cmd: c.CompleteAction) -> Outcome:
        return self.retrying(lambda: self._complete(cmd))

    def _complete(self, cmd: c.CompleteAction) -> Outcome:
        action = self._owned_action(cmd, "complete action")
        if action.completed:
            return Outcome(False, f"action {cmd.action} is already complete")
        allowed = self.keep_identifiers_out(cmd, {"evidence": cmd.evidence},
                                            programme=cmd.programme)
        action.record(Action.Completed, act_of(cmd), evidence=cmd.evidence)
        self.save(action, *allowed)
        return Outcome(True, f"action {cmd.action} completed")

    def replan_action(self, cmd: c.ReplanAction) -> Outcome:
        return self.retrying(lambda: self._replan(cmd))

    def _replan(self, cmd: c.ReplanAction) -> Outcome:
        self.require("replan action", cmd.by, self.partnership_of(cmd.programme))
        action = self.action(cmd.programme, cmd.action)
        due = cmd.due.isoformat() if cmd.due else action.due
        owner = cmd.owner or action.owner
        description = cmd.description or action.description
        measure = cmd.measure or action.measure
        problems = smart_problems(description, measure, owner, date.fromisoformat(due))
        if self.find(Person, self.ids.person_id(owner, self.partnership_of(cmd.programme))) is None:
            problems.append(f"owner: {owner!r} is not in the directory")
        if problems:
            raise Rejected(*problems)
        allowed = self.keep_identifiers_out(
            cmd, {"reason": cmd.reason, "description": cmd.description, "measure": cmd.measure},
            programme=cmd.programme)
        action.record(Action.Replanned, act_of(cmd), description=description, measure=measure,
                      owner=owner, due=due, reason=cmd.reason)
        self.save(action, *allowed)
        return Outcome(True, f"action {cmd.action} replanned: owner {owner}, due {due}")
