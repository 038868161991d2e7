"""The ledger application: loads aggregates, asks the policies, records events in one save."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    StoredEvent,
    Transcoding,
)
from eventsourcing.sqlite import SQLiteAggregateRecorder

from policies import permissions
from policies.consolidation import consolidate
from policies.grading import grade_problems
from policies.scales import OVERALL, scale_named
from policies.smart import rag_problem, smart_problems

from . import commands as c
from . import ids
from .actions import Action, Recommendation
from .base import Act, NotFound, NotPermitted, Rejected
from .case_audit import CaseAudit
from .concerns import Concern
from .deliveries import Delivery
from .feedback import Feedback
from .people import Person
from .programme import Programme
from .sealing import ERASED, SealingEventStore, SealingMapper, ledger_mapper, personal_texts

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

CONFLICT_RETRIES = 20
LOOKUP_BATCH = 500  # aggregate ids a query: within SQLite's oldest limit of bound parameters
QUOTE_MIN = 12  # an erasure's reason may not repeat a text of the case this long or longer


@dataclass(frozen=True)
class Outcome:
    """What a command did, in words for the person who asked."""

    changed: bool
    message: str


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _quoted(reason: str, texts: list[str]) -> str:
    """A text that an erasure's reason repeats (the reason outlives the text), or ''."""
    said = " ".join(reason.casefold().split())
    for text in texts:
        words = " ".join(text.casefold().split())
        if (len(words) >= QUOTE_MIN and words in said) or \
                (len(said) >= QUOTE_MIN and said in words):
            return text
    return ""


def _select_events_of(recorder: AggregateRecorder, aggregate_ids: list[UUID]
                      ) -> list[StoredEvent] | None:
    """The stored events of all these aggregates in one query, in version order per
    aggregate; None when the recorder offers no such query (ask it per aggregate then)."""
    if isinstance(recorder, SQLiteAggregateRecorder):  # the ledger's chained one too
        by_hex = {aggregate_id.hex: aggregate_id for aggregate_id in aggregate_ids}
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT originator_id, originator_version, topic, state FROM "
                         f"{recorder.events_table_name} WHERE originator_id IN "
                         f"({','.join('?' * len(by_hex))}) "
                         "ORDER BY originator_id, originator_version", list(by_hex))
            return [StoredEvent(by_hex[row["originator_id"]], row["originator_version"],
                                row["topic"], row["state"]) for row in curs.fetchall()]
    try:
        from eventsourcing.postgres import PostgresAggregateRecorder
    except ImportError:  # without the postgres extra
        return None
    if isinstance(recorder, PostgresAggregateRecorder) and \
            recorder.datastore.originator_id_type == "uuid":
        from psycopg.sql import SQL, Identifier

        statement = SQL("SELECT originator_id, originator_version, topic, state FROM {}.{} "
                        "WHERE originator_id = ANY(%s) "
                        "ORDER BY originator_id, originator_version").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        # Results in binary: the states' bytes as they are, not hex to be decoded.
        with recorder.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(statement, [aggregate_ids], prepare=True)
            return [StoredEvent(row["originator_id"], row["originator_version"], row["topic"],
                                bytes(row["state"])) for row in curs.fetchall()]
    return None


def act_of(cmd: c.Command) -> Act:
    return Act(by=cmd.by, occurred_on=cmd.occurred_on.isoformat(), key=cmd.key)


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


class AuditLedger(Application[UUID]):
    """Every audit fact goes through here, from every door."""

    name = "AuditLedger"
    is_snapshotting_enabled = False

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_mapper(self) -> Mapper[UUID]:
        # Personal text is sealed per case here, in the write path's one place.
        return ledger_mapper(self.factory, self.construct_transcoder())

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        if isinstance(self.mapper, SealingMapper):
            self.mapper.recorder = recorder  # to find the case of an aggregate's later events
        return recorder

    def construct_event_store(self) -> EventStore[UUID]:
        return SealingEventStore(mapper=self.mapper, recorder=self.recorder)

    # ---- loading -------------------------------------------------------------

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, cls)
        return aggregate

    def stored_events_of(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events, in version order, of those of these aggregates that exist.

        A few hundred aggregates a query rather than a query each: an import looks up every
        aggregate of its pack, most of them new. Give them to `rebuild`.
        """
        wanted = list(dict.fromkeys(aggregate_ids))
        out: dict[UUID, list[StoredEvent]] = {}
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start:start + LOOKUP_BATCH]
            events = _select_events_of(self.recorder, batch)
            if events is None:
                for aggregate_id in batch:
                    found = list(self.recorder.select_events(aggregate_id))
                    if found:
                        out[aggregate_id] = found
                continue
            for event in events:
                assert isinstance(event.originator_id, UUID)
                out.setdefault(event.originator_id, []).append(event)
        return out

    def rebuild(self, cls: type[A], aggregate_id: UUID,
                stored: Sequence[StoredEvent]) -> A | None:
        """The aggregate replayed afresh from its events read by `stored_events_of`: what
        `find` gives (`find` itself, should the repository cache or snapshot aggregates)."""
        if self.repository.cache is not None or self.repository.snapshot_store is not None:
            return self.find(cls, aggregate_id)
        # The library's project_aggregate, without its runtime protocol check on each event
        # (the ledger's events are the library's aggregate events, each with `mutate`).
        mapper = self.mapper
        events: Iterable[Any] = (mapper.to_domain_events(stored)
                                 if isinstance(mapper, SealingMapper)
                                 else map(mapper.to_domain_event, stored))
        aggregate: Aggregate | None = None
        for event in events:
            aggregate = event.mutate(aggregate)
        if aggregate is None:
            return None
        assert isinstance(aggregate, cls)
        return aggregate

    def person(self, person: str) -> Person:
        found = self.find(Person, ids.person_id(person))
        if found is None:
            raise NotFound(f"no person {person!r} in the directory")
        return found

    def programme(self, programme: str) -> Programme:
        found = self.find(Programme, ids.programme_id(programme))
        if found is None:
            raise NotFound(f"no programme {programme!r}")
        return found

    def case(self, programme: str, case: str) -> CaseAudit:
        found = self.find(CaseAudit, ids.case_id(programme, case))
        if found is None:
            raise NotFound(f"no case {case!r} in programme {programme!r}")
        return found

    def feedback(self, programme: str, case: str, agency: str) -> Feedback:
        found = self.find(Feedback, ids.feedback_id(programme, case, agency))
        if found is None:
            raise NotFound(f"no feedback for {agency} on case {case!r} in {programme!r}")
        return found

    def concern(self, programme: str, ref: str) -> Concern:
        found = self.find(Concern, ids.concern_id(programme, ref))
        if found is None:
            raise NotFound(f"no concern {ref!r} in programme {programme!r}")
        return found

    def action(self, programme: str, action: str) -> Action:
        found = self.find(Action, ids.action_id(programme, action))
        if found is None:
            raise NotFound(f"no action {action!r} in programme {programme!r}")
        return found

    def require(self, act: str, person: str) -> Person:
        who = self.person(person)
        problem = permissions.permission_problem(act, who.roles)
        if problem:
            raise NotPermitted(f"{person}: {problem}")
        return who

    # ---- writing -------------------------------------------------------------

    def retrying(self, attempt: Callable[[], T]) -> T:
        """Run a load-decide-save attempt again when another writer got there first."""
        for n in range(CONFLICT_RETRIES):
            try:
                return attempt()
            except IntegrityError:
                if n == CONFLICT_RETRIES - 1:
                    raise
                time.sleep(0.005 * (n + 1))
        raise AssertionError("unreachable")

    # ---- returns and judgements ---------------------------------------------

    def record_return(self, cmd: c.RecordReturn) -> Outcome:
        return self.retrying(lambda: self._record_return(cmd))

    def _record_return(self, cmd: c.RecordReturn) -> Outcome:
        self.require("record return", cmd.by)
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
        act = act_of(cmd)
        case.record(CaseAudit.ReturnRecorded, act, agency=cmd.agency, auditor=cmd.by,
                    practitioner=cmd.practitioner, completed=cmd.completed.isoformat(),
                    grades=dict(cmd.grades), strengths=dict(cmd.strengths),
                    concerns=dict(cmd.concerns))
        practitioner = self.person(cmd.practitioner)
        feedback = feedback_from_return(
            cmd.programme, cmd.case, cmd.agency, cmd.by, cmd.practitioner, practitioner.manager,
            dict(cmd.grades), dict(cmd.strengths), dict(cmd.concerns), act)
        self.save(case, feedback)
        return Outcome(True, f"recorded {cmd.agency}'s return for case {cmd.case}; "
                             f"feedback issued to {cmd.practitioner}")

    def _return_problems(self, programme: Programme, case: CaseAudit, agency: str,
                         practitioner: str, grades: dict[str, int]) -> list[str]:
        scale = scale_named(programme.scale)
        problems: list[str] = []
        if agency not in case.agencies:
            problems.append(f"agency {agency!r} is not involved in case {case.ref}; "
                            f"involved: {', '.join(case.agencies)}")
        problems += self._practitioner_problems(practitioner, agency)
        for area, grade in grades.items():
            others = {a: g for a, g in grades.items() if a != area}
            problems += [f"area {area}: {p}"
                         for p in grade_problems(scale, area, grade, others, programme.areas)]
        return problems

    def _practitioner_problems(self, practitioner: str, agency: str) -> list[str]:
        found = self.find(Person, ids.person_id(practitioner))
        if found is None:
            return [f"practitioner {practitioner!r} is not in the directory"]
        if found.agency != agency:
            return [f"practitioner {practitioner!r} works for {found.agency}, not {agency}"]
        return []

    def grade_area(self, cmd: c.GradeArea) -> Outcome:
        return self.retrying(lambda: self._grade_area(cmd))

    def _grade_area(self, cmd: c.GradeArea) -> Outcome:
        self.require("grade area", cmd.by)
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
        case.record(CaseAudit.AreaGraded, act_of(cmd), agency=cmd.agency, auditor=cmd.by,
                    practitioner=practitioner, area=cmd.area, grade=cmd.grade,
                    strength=cmd.strength, concern=cmd.concern)
        self.save(case)
        return Outcome(True, f"area {cmd.area} graded {cmd.grade} for {cmd.agency} "
                             f"on case {cmd.case}")

    def revise_grade(self, cmd: c.ReviseGrade) -> Outcome:
        return self.retrying(lambda: self._revise_grade(cmd))

    def _revise_grade(self, cmd: c.ReviseGrade) -> Outcome:
        self.require("revise grade", cmd.by)
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
        case.record(CaseAudit.GradeRevised, act_of(cmd), agency=cmd.agency, area=cmd.area,
                    grade=cmd.grade, previous=previous, reason=cmd.reason)
        self.save(case)
        return Outcome(True, f"area {cmd.area} for {cmd.agency} revised from {previous} to "
                             f"{cmd.grade} on case {cmd.case}")

    def moderate_judgement(self, cmd: c.ModerateJudgement) -> Outcome:
        return self.retrying(lambda: self._moderate(cmd))

    def _moderate(self, cmd: c.ModerateJudgement) -> Outcome:
        self.require("moderate judgement", cmd.by)
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
        case.record(CaseAudit.JudgementModerated, act_of(cmd), area=cmd.area, grade=cmd.grade,
                    reason=cmd.reason)
        self.save(case)
        return Outcome(True, f"area {cmd.area} on case {cmd.case} moderated to {cmd.grade}")

    # ---- concerns ---------------------------------------------------------------

    def raise_concern(self, cmd: c.RaiseConcern) -> Outcome:
        return self.retrying(lambda: self._raise_concern(cmd))

    def _raise_concern(self, cmd: c.RaiseConcern) -> Outcome:
        self.require("raise concern", cmd.by)
        case = self.case(cmd.programme, cmd.case)
        if cmd.agency not in case.agencies:
            raise Rejected(f"agency {cmd.agency!r} is not involved in case {cmd.case}; "
                           f"involved: {', '.join(case.agencies)}")
        ref = ids.concern_ref(cmd.case, cmd.agency, cmd.summary, cmd.occurred_on.isoformat())
        if self.find(Concern, ids.concern_id(cmd.programme, ref)) is not None:
            return Outcome(False, f"concern {ref} was already raised")
        concern = Concern._create(
            Concern.Created, id=ids.concern_id(cmd.programme, ref), programme=cmd.programme,
            case=cmd.case, agency=cmd.agency, ref=ref, summary=cmd.summary,
            child_at_risk=cmd.child_at_risk, **act_of(cmd).fields())
        self.save(concern)
        urgent = (" A child may be at risk now: contact the children's services front door "
                  "(MASH) or emergency services (999) now; do not wait for a reply."
                  if cmd.child_at_risk else "")
        return Outcome(True, f"concern {ref} raised on case {cmd.case} for {cmd.agency}; "
                             f"the agency's managers are alerted.{urgent}")

    def _concern_for_manager(self, cmd: c.ConcernCommand, act_name: str) -> Concern:
        who = self.require(act_name, cmd.by)
        concern = self.concern(cmd.programme, cmd.concern)
        if who.agency != concern.agency and not {"quality-lead", "board"} & set(who.roles):
            raise NotPermitted(f"{cmd.by}: concern {cmd.concern} is for {concern.agency}'s "
                               f"managers; you manage in {who.agency}")
        if concern.closed and act_name != "close concern":
            raise Rejected(f"concern {cmd.concern} is closed; raise a new concern if there is "
                           "more to do")
        return concern

    def acknowledge_concern(self, cmd: c.AcknowledgeConcern) -> Outcome:
        return self.retrying(lambda: self._acknowledge_concern(cmd))

    def _acknowledge_concern(self, cmd: c.AcknowledgeConcern) -> Outcome:
        concern = self._concern_for_manager(cmd, "acknowledge concern")
        if concern.acknowledged_by:
            return Outcome(False, f"concern {cmd.concern} was already acknowledged by "
                                  f"{concern.acknowledged_by} at {concern.acknowledged_at}")
        concern.record(Concern.Acknowledged, act_of(cmd))
        self.save(concern)
        return Outcome(True, f"concern {cmd.concern} acknowledged by {cmd.by}")

    def record_concern_action(self, cmd: c.RecordConcernAction) -> Outcome:
        return self.retrying(lambda: self._record_concern_action(cmd))

    def _record_concern_action(self, cmd: c.RecordConcernAction) -> Outcome:
        concern = self._concern_for_manager(cmd, "record concern action")
        if cmd.key and concern.has_key(cmd.key):
            return Outcome(False, "action already recorded")
        if not concern.acknowledged_by:
            concern.record(Concern.Acknowledged, Act(cmd.by, cmd.occurred_on.isoformat()))
        concern.record(Concern.ActionRecorded, act_of(cmd), action=cmd.action)
        self.save(concern)
        return Outcome(True, f"action recorded on concern {cmd.concern}")

    def close_concern(self, cmd: c.CloseConcern) -> Outcome:
        return self.retrying(lambda: self._close_concern(cmd))

    def _close_concern(self, cmd: c.CloseConcern) -> Outcome:
        concern = self._concern_for_manager(cmd, "close concern")
        if concern.closed:
            return Outcome(False, f"concern {cmd.concern} is already closed")
        concern.record(Concern.Closed, act_of(cmd), outcome=cmd.outcome)
        self.save(concern)
        return Outcome(True, f"concern {cmd.concern} closed")

    # ---- feedback ---------------------------------------------------------------

    def _feedback_for(self, cmd: c.FeedbackCommand, act_name: str) -> Feedback:
        who = self.require(act_name, cmd.by)
        feedback = self.feedback(cmd.programme, cmd.case, cmd.agency)
        if cmd.by not in (feedback.practitioner, feedback.manager):
            raise NotPermitted(f"{cmd.by}: this feedback is for {feedback.practitioner} "
                               f"(and their manager); only they may {act_name}")
        del who
        return feedback

    def acknowledge_feedback(self, cmd: c.AcknowledgeFeedback) -> Outcome:
        return self.retrying(lambda: self._acknowledge_feedback(cmd))

    def _acknowledge_feedback(self, cmd: c.AcknowledgeFeedback) -> Outcome:
        feedback = self._feedback_for(cmd, "acknowledge feedback")
        if feedback.acknowledged_by:
            return Outcome(False, f"already acknowledged by {feedback.acknowledged_by} at "
                                  f"{feedback.acknowledged_at}")
        feedback.record(Feedback.Acknowledged, act_of(cmd))
        self.save(feedback)
        return Outcome(True, f"feedback on case {cmd.case} ({cmd.agency}) acknowledged")

    def respond_to_issue(self, cmd: c.RespondToIssue) -> Outcome:
        return self.retrying(lambda: self._respond(cmd))

    def _respond(self, cmd: c.RespondToIssue) -> Outcome:
        feedback = self._feedback_for(cmd, "respond to issue")
        numbers = [i["number"] for i in feedback.issues]
        if cmd.issue not in numbers:
            allowed = ", ".join(str(n) for n in numbers) or "none: this feedback raised no issues"
            raise Rejected(f"issue {cmd.issue} is not in this feedback; issues: {allowed}")
        if cmd.key and feedback.has_key(cmd.key):
            return Outcome(False, "response already recorded")
        previous = feedback.responses.get(cmd.issue)
        if previous and previous["response"] == cmd.response:
            return Outcome(False, f"issue {cmd.issue} already has this response")
        feedback.record(Feedback.IssueResponded, act_of(cmd), issue=cmd.issue,
                        response=cmd.response)
        self.save(feedback)
        return Outcome(True, f"response to issue {cmd.issue} recorded")

    # ---- recommendations and actions ---------------------------------------------

    def add_recommendation(self, cmd: c.AddRecommendation) -> Outcome:
        return self.retrying(lambda: self._add_recommendation(cmd))

    def _add_recommendation(self, cmd: c.AddRecommendation) -> Outcome:
        self.require("add recommendation", cmd.by)
        self.programme(cmd.programme)
        rid = ids.recommendation_id(cmd.programme, cmd.number)
        existing = self.find(Recommendation, rid)
        if existing is not None:
            if existing.text == cmd.text:
                return Outcome(False, f"recommendation {cmd.number} is already in the ledger")
            raise Rejected(f"recommendation {cmd.number} already exists with other words")
        rec = Recommendation._create(Recommendation.Created, id=rid, programme=cmd.programme,
                                     number=cmd.number, text=cmd.text, **act_of(cmd).fields())
        self.save(rec)
        return Outcome(True, f"recommendation {cmd.number} added")

    def plan_action(self, cmd: c.PlanAction) -> Outcome:
        return self.retrying(lambda: self._plan_action(cmd))

    def _plan_action(self, cmd: c.PlanAction) -> Outcome:
        self.require("plan action", cmd.by)
        self.programme(cmd.programme)
        problems = smart_problems(cmd.description, cmd.measure, cmd.owner, cmd.due)
        if self.find(Recommendation, ids.recommendation_id(cmd.programme,
                                                            cmd.recommendation)) is None:
            problems.append(f"recommendation: there is no recommendation {cmd.recommendation}")
        if self.find(Person, ids.person_id(cmd.owner)) is None:
            problems.append(f"owner: {cmd.owner!r} is not in the directory")
        aid = ids.action_id(cmd.programme, cmd.action)
        if self.find(Action, aid) is not None:
            problems.append(f"action {cmd.action} is already planned; replan it instead")
        if problems:
            raise Rejected(*problems)
        action = Action._create(Action.Created, id=aid, programme=cmd.programme,
                                action=cmd.action, recommendation=cmd.recommendation,
                                description=cmd.description, measure=cmd.measure,
                                owner=cmd.owner, due=cmd.due.isoformat(), **act_of(cmd).fields())
        self.save(action)
        return Outcome(True, f"action {cmd.action} planned, owned by {cmd.owner}, "
                             f"due {cmd.due.isoformat()}")

    def ratify_action(self, cmd: c.RatifyAction) -> Outcome:
        return self.retrying(lambda: self._ratify(cmd))

    def _ratify(self, cmd: c.RatifyAction) -> Outcome:
        self.require("ratify action", cmd.by)
        action = self.action(cmd.programme, cmd.action)
        if action.ratified:
            return Outcome(False, f"action {cmd.action} is already ratified")
        action.record(Action.Ratified, act_of(cmd))
        self.save(action)
        return Outcome(True, f"action {cmd.action} ratified")

    def _owned_action(self, cmd: c.ActionCommand, act_name: str) -> Action:
        who = self.require(act_name, cmd.by)
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
        action.record(Action.ProgressRecorded, act_of(cmd), rag=cmd.rag, note=cmd.note)
        self.save(action)
        return Outcome(True, f"progress on action {cmd.action} recorded ({cmd.rag})")

    def complete_action(self, cmd: c.CompleteAction) -> Outcome:
        return self.retrying(lambda: self._complete(cmd))

    def _complete(self, cmd: c.CompleteAction) -> Outcome:
        action = self._owned_action(cmd, "complete action")
        if action.completed:
            return Outcome(False, f"action {cmd.action} is already complete")
        action.record(Action.Completed, act_of(cmd), evidence=cmd.evidence)
        self.save(action)
        return Outcome(True, f"action {cmd.action} completed")

    def replan_action(self, cmd: c.ReplanAction) -> Outcome:
        return self.retrying(lambda: self._replan(cmd))

    def _replan(self, cmd: c.ReplanAction) -> Outcome:
        self.require("replan action", cmd.by)
        action = self.action(cmd.programme, cmd.action)
        due = cmd.due.isoformat() if cmd.due else action.due
        owner = cmd.owner or action.owner
        description = cmd.description or action.description
        measure = cmd.measure or action.measure
        problems = smart_problems(description, measure, owner, date.fromisoformat(due))
        if self.find(Person, ids.person_id(owner)) is None:
            problems.append(f"owner: {owner!r} is not in the directory")
        if problems:
            raise Rejected(*problems)
        action.record(Action.Replanned, act_of(cmd), description=description, measure=measure,
                      owner=owner, due=due, reason=cmd.reason)
        self.save(action)
        return Outcome(True, f"action {cmd.action} replanned: owner {owner}, due {due}")

    # ---- erasure ---------------------------------------------------------------------

    def erase_case_text(self, cmd: c.EraseCaseText, concern_refs: Sequence[str] = ()) -> Outcome:
        """Record the erasure and destroy the case's key: its personal text reads "[erased]"
        for ever after, while its grades, counts and history's shape remain. The views still
        hold the text until they are refolded (the console's `erase` does that at once)."""
        return self.retrying(lambda: self._erase_case_text(cmd, concern_refs))

    def _erase_case_text(self, cmd: c.EraseCaseText, concern_refs: Sequence[str]) -> Outcome:
        self.require("erase case text", cmd.by)
        case = self.case(cmd.programme, cmd.case)
        mapper = self.mapper
        if not isinstance(mapper, SealingMapper) or mapper.keys is None:
            raise Rejected("this store keeps no case keys, so no case's text can be erased")
        where = (cmd.programme, cmd.case)
        if case.erased:
            done = f"on {case.erased['on']} by {case.erased['by']}"
            if mapper.keys.destroy(where):  # an erasure interrupted before its key went
                return Outcome(True, f"case {cmd.case}'s erasure recorded {done} is now "
                                     "complete: its key is destroyed")
            return Outcome(False, f"case {cmd.case}'s personal text was already erased {done}")
        aggregates = [ids.case_id(cmd.programme, cmd.case)]
        aggregates += [ids.feedback_id(cmd.programme, cmd.case, a) for a in case.agencies]
        aggregates += [ids.concern_id(cmd.programme, ref) for ref in concern_refs]
        stored = [e for a in aggregates for e in self.recorder.select_events(a)]
        quoted = _quoted(cmd.reason, [t for e in stored
                                      for t in personal_texts(mapper.to_domain_event(e))])
        if quoted:
            raise Rejected("reason: it repeats text from the case's record "
                           f"({quoted[:20]!r}...); the reason is kept in the clear after the "
                           "text is erased: give the order's reference and who made it instead")
        case.record(CaseAudit.TextErased, act_of(cmd), reason=cmd.reason)
        self.save(case)
        mapper.keys.destroy(where)
        message = (f"case {cmd.case}'s personal text is erased: its key is destroyed; grades, "
                   f"counts and dates remain and its text reads {ERASED}")
        plain = sum(1 for e in stored if mapper.holds_plain_text(e))
        if plain:
            message += (f". Warning: {plain} of its events were stored before text was sealed "
                        "per case: they read [erased] from now on, but their text stays in the "
                        "log (encrypted only with AUDIT_LEDGER_KEY, if set)")
        return Outcome(True, message)

    # ---- the people directory ------------------------------------------------------

    def register_person(self, cmd: c.RegisterPerson) -> Outcome:
        return self.retrying(lambda: self._register_person(cmd))

    def _register_person(self, cmd: c.RegisterPerson) -> Outcome:
        self.require("register person", cmd.by)
        if self.find(Person, ids.person_id(cmd.person)) is not None:
            return Outcome(False, f"{cmd.person} is already in the directory")
        problems = []
        if cmd.manager:
            problems += self._manager_problems(cmd.manager)
        if problems:
            raise Rejected(*problems)
        person = Person._create(Person.Created, id=ids.person_id(cmd.person), person=cmd.person,
                                name=cmd.name, agency=cmd.agency, roles=list(cmd.roles),
                                manager=cmd.manager or "", slack_user=cmd.slack_user or "",
                                **act_of(cmd).fields())
        self.save(person)
        return Outcome(True, f"{cmd.person} added to the directory ({cmd.agency})")

    def _manager_problems(self, manager: str) -> list[str]:
        found = self.find(Person, ids.person_id(manager))
        if found is None:
            return [f"manager: {manager!r} is not in the directory"]
        if "manager" not in found.roles:
            return [f"manager: {manager!r} does not hold the manager role"]
        return []

    def grant_role(self, cmd: c.ChangeRole) -> Outcome:
        return self.retrying(lambda: self._change_role(cmd, grant=True))

    def revoke_role(self, cmd: c.ChangeRole) -> Outcome:
        return self.retrying(lambda: self._change_role(cmd, grant=False))

    def _change_role(self, cmd: c.ChangeRole, grant: bool) -> Outcome:
        self.require("register person", cmd.by)
        person = self.person(cmd.person)
        if grant == (cmd.role in person.roles):
            state = "already holds" if grant else "does not hold"
            return Outcome(False, f"{cmd.person} {state} the {cmd.role} role")
        event = Person.RoleGranted if grant else Person.RoleRevoked
        person.record(event, act_of(cmd), role=cmd.role)
        self.save(person)
        return Outcome(True, f"{cmd.person} {'now holds' if grant else 'no longer holds'} "
                             f"the {cmd.role} role")

    def assign_manager(self, cmd: c.AssignManager) -> Outcome:
        return self.retrying(lambda: self._assign_manager(cmd))

    def _assign_manager(self, cmd: c.AssignManager) -> Outcome:
        self.require("register person", cmd.by)
        person = self.person(cmd.person)
        problems = self._manager_problems(cmd.manager)
        if problems:
            raise Rejected(*problems)
        if person.manager == cmd.manager:
            return Outcome(False, f"{cmd.manager} already manages {cmd.person}")
        person.record(Person.ManagerAssigned, act_of(cmd), manager=cmd.manager)
        self.save(person)
        return Outcome(True, f"{cmd.person}'s manager is now {cmd.manager}")

    def link_slack_user(self, cmd: c.LinkSlackUser) -> Outcome:
        return self.retrying(lambda: self._link_slack(cmd))

    def _link_slack(self, cmd: c.LinkSlackUser) -> Outcome:
        self.require("register person", cmd.by)
        person = self.person(cmd.person)
        if person.slack_user == cmd.slack_user:
            return Outcome(False, f"{cmd.person} is already linked to {cmd.slack_user}")
        person.record(Person.SlackUserLinked, act_of(cmd), slack_user=cmd.slack_user)
        self.save(person)
        return Outcome(True, f"{cmd.person} is now linked to Slack user {cmd.slack_user}")

    # ---- what the worker records (system acts: no person's role is involved) -------

    def delivered(self, programme: str, subject: str, purpose: str, recipient: str) -> bool:
        return self.find(Delivery, ids.delivery_id(programme, subject, purpose,
                                                   recipient)) is not None

    def record_delivery(self, programme: str, subject: str, purpose: str, recipient: str,
                        slack_user: str, channel: str, ts: str, act: Act) -> Outcome:
        """Note that a message reached Slack; a second record of the same one changes nothing."""
        did = ids.delivery_id(programme, subject, purpose, recipient)
        if self.find(Delivery, did) is not None:
            return Outcome(False, "already recorded")
        delivery = Delivery._create(Delivery.Created, id=did, programme=programme,
                                    subject=subject, purpose=purpose, recipient=recipient,
                                    slack_user=slack_user, channel=channel, ts=ts,
                                    **act.fields())
        try:
            self.save(delivery)
        except IntegrityError:
            return Outcome(False, "already recorded")
        return Outcome(True, f"{purpose} for {subject} delivered to {recipient}")

    def record_delivery_update(self, programme: str, subject: str, purpose: str,
                               recipient: str, note: str, act: Act) -> Outcome:
        return self.retrying(lambda: self._delivery_update(programme, subject, purpose,
                                                           recipient, note, act))

    def _delivery_update(self, programme: str, subject: str, purpose: str, recipient: str,
                         note: str, act: Act) -> Outcome:
        delivery = self.find(Delivery, ids.delivery_id(programme, subject, purpose, recipient))
        if delivery is None:
            raise NotFound(f"no {purpose} for {subject} was delivered to {recipient}")
        if note in delivery.notes:
            return Outcome(False, "already updated")
        delivery.record(Delivery.Updated, act, note=note)
        self.save(delivery)
        return Outcome(True, "updated")

    def escalate_concern(self, programme: str, ref: str, step: int, to: list[str],
                         reason: str, act: Act) -> Outcome:
        return self.retrying(lambda: self._escalate(programme, ref, step, to, reason, act))

    def _escalate(self, programme: str, ref: str, step: int, to: list[str], reason: str,
                  act: Act) -> Outcome:
        concern = self.concern(programme, ref)
        if concern.step >= step or concern.acknowledged_by or concern.closed:
            return Outcome(False, f"concern {ref} is already at step {concern.step} or answered")
        concern.record(Concern.Escalated, act, step=step, to=list(to), reason=reason)
        self.save(concern)
        return Outcome(True, f"concern {ref} escalated to step {step}")
