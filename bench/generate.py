"""Synthetic partnerships, deterministic from a seed, recorded through the ledger's own doors.

A partnership (a safeguarding children partnership) has a directory of people in its agencies
and runs audit programmes one after another. Every partnership is one of the store's
partnerships (each pack names it), with the same agency names and person ids as every other
one and Slack users of its own, as partnerships across England would be. Each programme is one
audit pack, imported with the ledger's `import_pack` (programme, cases, returns with their feedback, concerns,
recommendations, actions), followed by the single facts of the months after it, each through
the ledger's command (feedback acknowledged and answered, concerns acknowledged, acted on,
escalated and closed, grades revised, judgements moderated, actions ratified, updated monthly,
completed or replanned), in the order of their world dates.

Proportions (per programme): 10-40 cases; 2-6 agencies per case, one return each with 8 grades
(areas 2-8 and overall); about half the returns name a strength and about 30% a concern (each
concern comment an issue the practitioner answers); about 5% of returns raise a concern; 8
recommendations with 2 actions each, updated monthly. The alert worker's deliveries are recorded
as it records them (each feedback to its practitioner and their manager, each concern alert
and escalation to its recipients). About 700 events a programme, 12
programmes a partnership (quarterly audits over three years), so 1M events is about 160
partnerships: roughly every partnership in England.

Programme k is generated from `Random(f"{seed}:{k}")` alone, so a log of N events is a prefix
of a log of more: a store can be grown from 10k to 100k events without starting again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger import commands as c
from ledger.application import AuditLedger
from ledger.base import Act
from ledger.ids import concern_ref
from ledger.importer import import_pack
from ledger.pack import Pack, parse_pack

from . import parallel

AGENCIES = ("social-care", "police", "health", "school", "probation", "early-years", "housing",
            "camhs")
PROGRAMMES_PER_PARTNERSHIP = 12
PRACTITIONERS_PER_AGENCY = 5
GRADED = ("2", "3", "4", "5", "6", "7", "8")
THEMES = ("neglect", "domestic abuse", "child sexual exploitation", "emotional abuse",
          "physical abuse", "children missing education", "adolescent risk", "pre-birth")
CATEGORIES = ("neglect", "emotional", "physical", "sexual", "multiple")
AGE_BANDS = ("under 1", "1-4", "5-10", "11-15", "16-17")
GENDERS = ("female", "male", "not recorded")
ETHNICITIES = ("White British", "White other", "Black African", "Black Caribbean", "Asian British",
               "Mixed", "Other", "not recorded")

STRENGTHS = (
    "Clear chronology kept and used to inform the plan.",
    "The child was seen alone and their wishes and feelings are recorded in their own words.",
    "Timely and well-evidenced referral to children's social care.",
    "Good attendance at core group meetings with written contributions.",
    "Strategy discussion held promptly with all relevant agencies present.",
    "Supervision notes show reflective discussion of risk and of the family's history.",
    "The plan is specific, outcome-focused and reviewed against its measures.",
    "Information shared promptly when the family moved address.",
)
CONCERNS = (
    "The child was not seen alone at any visit in the review period.",
    "No record of the school's report being shared before the review conference.",
    "Risk from the mother's new partner was not assessed although it was known.",
    "Supervision is recorded but does not show how decisions were reached.",
    "Missed health appointments were not followed up or escalated.",
    "The plan's actions are not specific and have no timescales.",
    "Police attendance at the home was not shared with the core group.",
    "Chronology not updated since the initial child protection conference.",
    "Father's involvement was not considered in the assessment.",
    "Escalation to a manager did not happen when the family disengaged.",
)
RESPONSES = (
    "Agreed. I now see the child alone at every visit and record it on the visit template.",
    "Accepted; I have discussed this in supervision and the chronology is now up to date.",
    "I had shared the report by email but did not record it; I will record sharing from now on.",
    "The assessment has been updated to include the partner and was shared with the group.",
    "I will follow up missed appointments within five working days and tell the lead worker.",
)
CONCERN_SUMMARIES = (
    "Child disclosed an injury to a teacher and no referral has been made yet.",
    "Sibling not known to the plan appears to be living in the household.",
    "No visit recorded for six weeks although the plan requires fortnightly visits.",
    "Domestic abuse incident reported to police not shared with children's social care.",
    "Family has moved and the new address is not known to any agency.",
)
CONCERN_ACTIONS = (
    "Strategy discussion convened today with police and health.",
    "Home visit made; child seen alone and safe. Plan updated.",
    "Referral made to MASH and the outcome recorded on the case file.",
    "Information shared with the lead professional and core group.",
)
RECOMMENDATIONS = (
    "Practitioners in every agency see and speak to the child alone at each contact.",
    "Agencies share information with the core group within two working days of an incident.",
    "Managers make supervision decisions and their reasons explicit on the case record.",
    "Assessments consider every adult in the household, including fathers and new partners.",
    "Missed appointments are followed up and escalated when a pattern emerges.",
    "Plans are SMART and reviewed against their measures at every core group.",
    "Schools provide a written report to every child protection conference and review.",
    "The partnership's escalation protocol is known and used by every agency.",
)
ACTION_TEXTS = (
    ("Deliver briefings on seeing the child alone to all frontline teams",
     "Attendance at 90% of teams; repeat audit shows improvement"),
    ("Revise the information-sharing protocol and publish it on the partnership site",
     "Protocol signed off by the board and published"),
    ("Add a supervision decision template to the case recording system",
     "Template in use in 80% of sampled supervision records"),
    ("Run multi-agency training on assessing risk from adults in the household",
     "Two sessions delivered; evaluation returned by 75% of attendees"),
    ("Set up a missed-appointment report for health visitors and school nurses",
     "Report produced monthly and reviewed by team managers"),
    ("Re-issue guidance on SMART plans with examples from this audit",
     "Guidance circulated; dip sample of 20 plans shows SMART actions"),
)
PROGRESS_NOTES = (
    "On track; first sessions delivered.",
    "Delayed by staff changes; new dates agreed.",
    "Draft circulated to agencies for comment.",
    "Completed in two of three localities.",
    "Awaiting sign-off at the next board meeting.",
)


@dataclass(frozen=True)
class Partnership:
    index: int

    @property
    def slug(self) -> str:
        return f"scp{self.index:04d}"

    @property
    def name(self) -> str:
        return f"Safeguarding Children Partnership {self.index}"

    def agencies(self) -> tuple[str, ...]:
        # Named as every partnership names them: each partnership's `police` is its own (a
        # different force from the next one's), kept apart by the store's partnerships.
        return AGENCIES

    def person(self, agency: str, role: str, n: int = 1) -> str:
        # The same ids in every partnership: a directory id means someone within one only.
        return f"{agency}.{role}{n}"

    def slack(self, person: str) -> str:
        # Slack users differ: each partnership's people are different people.
        return "U" + "".join(ch for ch in (self.slug + person).upper() if ch.isalnum())[:30]

    @property
    def quality_lead(self) -> str:
        return self.person("partnership", "ql")

    @property
    def moderator(self) -> str:
        return self.person("partnership", "mod")

    @property
    def chair(self) -> str:
        return self.person("partnership", "chair")

    def manager(self, agency: str) -> str:
        return self.person(agency, "mgr")

    def auditor(self, agency: str) -> str:
        return self.person(agency, "aud")

    def practitioners(self, agency: str) -> list[str]:
        return [self.person(agency, "pr", n) for n in range(1, PRACTITIONERS_PER_AGENCY + 1)]

    def people(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []

        def add(pid: str, agency: str, roles: list[str], manager: str | None = None) -> None:
            entry: dict[str, Any] = {"id": pid, "name": f"Person {pid}", "agency": agency,
                                     "roles": roles, "slack_user": self.slack(pid)}
            if manager:
                entry["manager"] = manager
            out.append(entry)

        add(self.quality_lead, "partnership", ["quality-lead"])
        add(self.moderator, "partnership", ["moderator"])
        add(self.chair, "partnership", ["board"])
        for agency in self.agencies():
            add(self.manager(agency), agency, ["manager"])
            add(self.auditor(agency), agency, ["auditor"])
            for p in self.practitioners(agency):
                add(p, agency, ["practitioner"], self.manager(agency))
        return out


Step = tuple[date, int, str, tuple[Any, ...]]
"""When it happens in the world, its place among the plan's steps, and the ledger's method
(a command's or a system act's) with its arguments."""


@dataclass
class ProgrammePlan:
    """One programme: its pack and the single facts that follow, in world-date order."""

    index: int
    programme: str
    pack: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)  # slack user -> person, for queries

    def add(self, on: date, method: str, *args: Any) -> None:
        self.steps.append((on, len(self.steps), method, args))


def _grades(rng: random.Random) -> dict[str, int]:
    grades = {a: rng.choices((2, 3, 4), weights=(45, 40, 15))[0] for a in GRADED}
    worst = max(grades.values())
    if worst == 2 and rng.random() < 0.3:
        overall = 1
    else:
        overall = max(2, min(4, round(sum(grades.values()) / len(grades) + rng.uniform(-.4, .4))))
    grades["overall"] = overall
    return grades


def plan_programme(seed: int, index: int) -> ProgrammePlan:  # noqa: C901 - one audit, top to bottom
    rng = random.Random(f"{seed}:{index}")
    partnership = Partnership(index // PROGRAMMES_PER_PARTNERSHIP)
    audit = index % PROGRAMMES_PER_PARTNERSHIP
    pid = f"{partnership.slug}-{2022 + audit // 4}-q{audit % 4 + 1}"
    opened = date(2022 + audit // 4, 1 + 3 * (audit % 4), 1) + timedelta(days=rng.randrange(30))
    theme = rng.choice(THEMES)
    ql, mod = partnership.quality_lead, partnership.moderator

    cases: list[dict[str, Any]] = []
    returns: list[dict[str, Any]] = []
    concerns: list[dict[str, Any]] = []
    for n in range(1, rng.randint(10, 40) + 1):
        agencies = rng.sample(partnership.agencies(), rng.randint(2, 6))
        ref = f"C{n:02d}"
        cases.append({"ref": ref, "category": rng.choice(CATEGORIES),
                      "age_band": rng.choice(AGE_BANDS), "gender": rng.choice(GENDERS),
                      "ethnicity": rng.choice(ETHNICITIES), "agencies": agencies})
        for agency in agencies:
            grades = _grades(rng)
            strengths = {a: rng.choice(STRENGTHS) for a in rng.sample(GRADED, rng.randint(1, 2))} \
                if rng.random() < 0.5 else {}
            weak = [a for a in GRADED if grades[a] >= 3] or list(GRADED)
            remarks = {a: rng.choice(CONCERNS) for a in rng.sample(weak, min(len(weak),
                                                                           rng.randint(1, 2)))} \
                if rng.random() < 0.3 else {}
            completed = opened + timedelta(days=rng.randint(14, 45))
            returns.append({"case": ref, "agency": agency, "auditor": partnership.auditor(agency),
                            "practitioner": rng.choice(partnership.practitioners(agency)),
                            "completed": completed.isoformat(), "grades": grades,
                            "strengths": strengths, "concerns": remarks})
            if rng.random() < 0.05:
                concerns.append({"case": ref, "agency": agency,
                                 "raised_by": partnership.auditor(agency),
                                 "summary": rng.choice(CONCERN_SUMMARIES),
                                 "child_at_risk": rng.random() < 0.1,
                                 "raised_on": completed.isoformat()})
    recommendations = [{"number": i + 1, "text": text} for i, text in
                       enumerate(rng.sample(RECOMMENDATIONS, 8))]
    actions: list[dict[str, Any]] = []
    reported = opened + timedelta(days=90)
    for rec in recommendations:
        for second in (1, 2):
            description, measure = rng.choice(ACTION_TEXTS)
            actions.append({"id": f"A{rec['number']}.{second}", "recommendation": rec["number"],
                            "description": description, "measure": measure,
                            "owner": partnership.manager(rng.choice(partnership.agencies())),
                            "due": (reported + timedelta(days=rng.randint(90, 300))).isoformat()})
    pack: dict[str, Any] = {
        "partnership": {"id": partnership.slug, "name": partnership.name},
        "programme": {"id": pid, "title": f"Multi-agency audit: {theme}",
                      "board": partnership.name,
                      "opened": opened.isoformat(), "scale": "ofsted-2009",
                      "consolidation": "worst", "method": "Case file audit by each agency, "
                      "integrated at a multi-agency moderation day.",
                      "sample": {"size": len(cases), "criteria": f"Children on a plan for {theme}"}},
        "people": partnership.people() if audit == 0 else [],
        "cases": cases, "returns": returns, "concerns": concerns,
        "recommendations": recommendations, "actions": actions,
    }
    plan = ProgrammePlan(index, pid, pack)
    plan.people = {p["slack_user"]: p["id"] for p in partnership.people()}

    # ---- the months after the import ---------------------------------------------------------
    sent = iter(range(1, 10**9))

    def deliver(on: date, subject: str, purpose: str, recipient: str) -> None:
        slack = partnership.slack(recipient)
        ts = f"{1_700_000_000 + index * 10_000 + next(sent)}.000100"
        plan.add(on, "record_delivery", pid, subject, purpose, recipient, slack, "D" + slack[1:],
                 ts, Act("worker", on.isoformat()))

    for r in returns:
        completed = date.fromisoformat(r["completed"])
        fb = dict(programme=pid, case=r["case"], agency=r["agency"])
        by = r["practitioner"]
        for recipient in (by, partnership.manager(r["agency"])):
            deliver(completed, f"feedback/{r['case']}/{r['agency']}", "feedback", recipient)
        if rng.random() < 0.85:
            on = completed + timedelta(days=rng.randint(1, 20))
            plan.add(on, "acknowledge_feedback", c.AcknowledgeFeedback(by=by, occurred_on=on, **fb))
        for number in range(1, len(r["concerns"]) + 1):
            if rng.random() < 0.8:
                on = completed + timedelta(days=rng.randint(5, 30))
                plan.add(on, "respond_to_issue", c.RespondToIssue(
                    by=by, occurred_on=on, issue=number, response=rng.choice(RESPONSES), **fb))
        if rng.random() < 0.03:
            area = rng.choice(GRADED)
            new = 2 if r["grades"][area] != 2 else 3
            if r["grades"]["overall"] == 1 and new > 2:
                new = 2 if r["grades"][area] != 2 else r["grades"][area]
            if new != r["grades"][area]:
                on = completed + timedelta(days=rng.randint(1, 10))
                plan.add(on, "revise_grade", c.ReviseGrade(
                    by=r["auditor"], occurred_on=on, programme=pid, case=r["case"],
                    agency=r["agency"], area=area, grade=new,
                    reason="Grade revised after discussion at moderation."))
    moderation_day = opened + timedelta(days=60)
    for case in cases:
        if rng.random() < 0.1:
            plan.add(moderation_day, "moderate_judgement", c.ModerateJudgement(
                by=mod, occurred_on=moderation_day, programme=pid, case=case["ref"],
                area=rng.choice(GRADED), grade=rng.choice((2, 3)),
                reason="Moderated at the multi-agency moderation day."))
    for k in concerns:
        ref = concern_ref(k["case"], k["agency"], k["summary"], k["raised_on"])
        raised = date.fromisoformat(k["raised_on"])
        manager = partnership.manager(k["agency"])
        deliver(raised, f"concern/{ref}", "concern-alert", manager)
        if rng.random() < 0.2:
            on = raised + timedelta(days=2)
            plan.add(on, "escalate_concern", pid, ref, 2, [ql],
                     "not acknowledged within one working day", Act("worker", on.isoformat()))
            deliver(on, f"concern/{ref}", "concern-step-2", ql)
        if rng.random() < 0.9:
            on = raised + timedelta(days=3)
            plan.add(on, "acknowledge_concern", c.AcknowledgeConcern(
                by=manager, occurred_on=on, programme=pid, concern=ref))
            if rng.random() < 0.85:
                on = on + timedelta(days=1)
                plan.add(on, "record_concern_action", c.RecordConcernAction(
                    by=manager, occurred_on=on, programme=pid, concern=ref,
                    action=rng.choice(CONCERN_ACTIONS)))
                if rng.random() < 0.7:
                    on = on + timedelta(days=rng.randint(7, 40))
                    plan.add(on, "close_concern", c.CloseConcern(
                        by=manager, occurred_on=on, programme=pid, concern=ref,
                        outcome="Risk addressed; case continues under the plan."))
    ratified = reported + timedelta(days=14)
    for action in actions:
        aid, owner, due = action["id"], action["owner"], date.fromisoformat(action["due"])
        plan.add(ratified, "ratify_action", c.RatifyAction(
            by=partnership.chair, occurred_on=ratified, programme=pid, action=aid))
        months = max(1, (due - ratified).days // 30)
        done_after = rng.randint(max(1, months - 3), months + 2)
        completes = rng.random() < 0.7
        for m in range(1, min(months + 2, done_after) + 1):
            on = ratified + timedelta(days=30 * m)
            plan.add(on, "record_action_progress", c.RecordActionProgress(
                by=owner, occurred_on=on, programme=pid, action=aid,
                rag=rng.choices(("green", "amber", "red"), weights=(6, 3, 1))[0],
                note=rng.choice(PROGRESS_NOTES)))
        end = ratified + timedelta(days=30 * done_after + 5)
        if completes:
            plan.add(end, "complete_action", c.CompleteAction(
                by=owner, occurred_on=end, programme=pid, action=aid,
                evidence="Repeat dip sample shows the change in practice."))
        elif rng.random() < 0.4:
            plan.add(end, "replan_action", c.ReplanAction(
                by=ql, occurred_on=end, programme=pid, action=aid,
                reason="Delayed by a restructure; new date agreed by the board.",
                due=due + timedelta(days=120)))
    plan.steps.sort(key=lambda s: (s[0], s[1]))
    return plan


def plans(seed: int, start: int = 0) -> Iterator[ProgrammePlan]:
    index = start
    while True:
        yield plan_programme(seed, index)
        index += 1


@dataclass
class Progress:
    """How far a log has been generated: programmes done and events stored."""

    programmes: int = 0
    events: int = 0
    last: ProgrammePlan | None = None
    people: dict[str, str] = field(default_factory=dict)


def importer_of(pack: Pack) -> str:
    """Who imports a generated pack: the quality lead it names (the first pack into a
    partnership brings them; later packs are theirs to import, as the ledger requires)."""
    named = (p.id for p in pack.people if "quality-lead" in p.roles)
    return next(named, Partnership(0).quality_lead)  # the same id in every partnership


def head(app: AuditLedger) -> int:
    return int(app.recorder.max_notification_id() or 0)


def run_plan(app: AuditLedger, plan: ProgrammePlan, budget: int | None = None) -> int:
    """Import the plan's pack and carry out its single facts; stop once `budget` events are
    stored (the pack is never split). Returns the number of events stored."""
    pack = parse_pack(plan.pack)
    summary = import_pack(app, pack, importer_of(pack))
    stored = summary.events
    start = head(app) - stored
    for _, _, method, args in plan.steps:
        if budget is not None and stored >= budget:
            break
        getattr(app, method)(*args)
        stored = head(app) - start
    return stored


def generate(app: AuditLedger, events: int, seed: int = 7, progress: Progress | None = None,
             ) -> Progress:
    """Grow the log of `app` to about `events` events (programme by programme, from where
    `progress` left off); the last programme's single facts stop at the target."""
    progress = progress or Progress()
    while progress.events < events:
        plan = plan_programme(seed, progress.programmes)
        progress.events += run_plan(app, plan, events - progress.events)
        progress.programmes += 1
        progress.last = plan
        progress.people.update(plan.people)
    return progress


SOURCE = {"PERSISTENCE_MODULE": "ledger.store_key:SQLiteLedgerFactory",
          "APPLICATION_RECORDER_TOPIC": "ledger.recorders:ChainedSQLiteRecorder",
          "LEDGER_KEY_CHECK": "no", "SQLITE_DBNAME": ":memory:"}
"""The in-memory ledger the generator's commands run against: the ledger's own recorder, which
stores new case keys in the events' transaction (the library's plain recorder dropped them, so
the benchmark's stores had no case keys and no case text could be opened)."""
COPY_BATCH = 1000


@dataclass
class Populator:
    """Grows several stores with the same log, fast.

    Each programme's pack is imported, and its single facts carried out, by the ledger's own
    import and commands against an in-memory ledger for its partnership (an SQLite database in
    memory: partnerships share nothing, so each starts a fresh one). The events they stored are
    then written, exactly as stored, to every target through the target's own recorder (the
    hash chain included), in transactions of COPY_BATCH events, with the keys of the cases
    whose personal text they seal (the `case_keys` rows beside the log). Every store ends up
    with the same log, byte for byte, as if the commands had run against it, at a fraction of
    the time: on a 2-core machine, commands run against an in-memory ledger at about 10k
    events/s, against an SQLite file at 3k/s and against PostgreSQL slower still.
    """

    targets: list[AuditLedger]
    seed: int = 7
    progress: Progress = field(default_factory=Progress)
    source: AuditLedger | None = None
    copied: int = 0
    command_seconds: float = 0.0
    store_seconds: list[float] = field(default_factory=list)
    programme_cases: dict[str, list[str]] = field(default_factory=dict)
    workers: int = field(default_factory=lambda: parallel.processes())
    """Processes that carry out whole partnerships at once (1: all in this one)."""
    keys_copied: set[str] = field(default_factory=set)
    """Partnerships whose key the targets have."""
    generate_cpu: float = 0.0
    """CPU seconds those processes spent."""

    def __post_init__(self) -> None:
        for target in self.targets:  # the events copied are named and stored as these say
            if target.ids.keyed or getattr(target.mapper, "cipher", None) is not None:
                raise ValueError(
                    "the generator copies events made without AUDIT_LEDGER_KEY into its target "
                    "stores byte for byte, so their ids are public (uuid5) and their events "
                    "plain: grow a store opened without a key")

    def grow(self, events: int) -> Progress:
        import time

        if not self.store_seconds:
            self.store_seconds = [0.0] * len(self.targets)
        while self.progress.events < events:
            index = self.progress.programmes
            if index % PROGRAMMES_PER_PARTNERSHIP == 0 and self.workers > 1 \
                    and events - self.progress.events > parallel.AHEAD:
                self._grow_in_parallel(events)
                continue
            if self.source is None or index % PROGRAMMES_PER_PARTNERSHIP == 0:
                if self.source is not None:
                    self.source.close()
                self.source = AuditLedger(env=SOURCE)
                self.copied = 0
            plan = plan_programme(self.seed, index)
            started = time.perf_counter()
            self.progress.events += run_plan(self.source, plan, events - self.progress.events)
            self.command_seconds += time.perf_counter() - started
            self.progress.programmes += 1
            self.progress.last = plan
            self.progress.people.update(plan.people)
            cases = [k["ref"] for k in plan.pack["cases"]]
            self.programme_cases[plan.programme] = cases
            self._copy([(plan.programme, ref) for ref in cases])
        return self.progress

    def _grow_in_parallel(self, events: int) -> None:
        """Whole partnerships carried out in processes of their own (`bench.parallel`), each
        copied in order as it comes, until the target is within one partnership's reach."""
        import time

        from eventsourcing.persistence import StoredEvent

        if self.source is not None:
            self.source.close()
            self.source = None
        # Partnerships store about 8k events each: ask for no more than the target leaves
        # room for (any left to grow after them are grown by the next round).
        count = max(1, (events - self.progress.events - parallel.AHEAD) // 9_000 + 1)
        started, storing = time.perf_counter(), 0.0
        for made in parallel.partnerships(self.seed, self.progress.programmes, count,
                                          self.workers):
            self.generate_cpu += made.cpu
            for i, target in enumerate(self.targets):
                began = time.perf_counter()
                parallel.store_keys(target, made.partnership_keys, made.keys)
                for at in range(0, len(made.events), COPY_BATCH):
                    target.recorder.insert_events(
                        [StoredEvent(*e) for e in made.events[at:at + COPY_BATCH]])
                self.store_seconds[i] += time.perf_counter() - began
                storing += time.perf_counter() - began
            for pid, cases, people, stored in made.programmes:
                self.progress.events += stored
                self.progress.programmes += 1
                self.progress.people.update(people)
                self.programme_cases[pid] = cases
            if events - self.progress.events <= parallel.AHEAD:
                break  # the generator closes the pool; partnerships begun are dropped
        self.command_seconds += time.perf_counter() - started - storing

    def _copy(self, cases: list[tuple[str, str]]) -> None:
        import time

        from eventsourcing.persistence import StoredEvent

        assert self.source is not None
        # The case keys first (their table's own calls: this is the one place the benchmark
        # reaches into the sealing's insides), then the events that need them.
        keys = getattr(self.source.mapper, "keys", None)
        if keys is not None:
            keys._table()
            rows = {case: wrapped for case, (wrapped, _) in keys._select(cases).items()}
            partnerships = {p: k for p, k in parallel.partnership_key_rows(self.source).items()
                            if p not in self.keys_copied}
            self.keys_copied.update(partnerships)
            for i, target in enumerate(self.targets if rows or partnerships else []):
                started = time.perf_counter()
                parallel.store_keys(target, partnerships, rows)
                self.store_seconds[i] += time.perf_counter() - started
        while True:
            found = self.source.recorder.select_notifications(
                start=self.copied, limit=COPY_BATCH, inclusive_of_start=False)
            if not found:
                return
            batch = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                     for n in found]
            for i, target in enumerate(self.targets):
                started = time.perf_counter()
                target.recorder.insert_events(batch)
                self.store_seconds[i] += time.perf_counter() - started
            self.copied = found[-1].id
