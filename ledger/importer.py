"""Importing a pack: everything checked against itself and the store first, then one save or none."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from policies.identifiers import identifier_problems, may_allow_identifiers

from . import ids
from .actions import Action, Recommendation
from .application import AuditLedger
from .base import Act
from .case_audit import CaseAudit
from .concerns import Concern
from .feedback import Feedback, feedback_fields
from .free_text import TextFound, case_problems, pack_texts_found
from .import_rights import import_problems
from .overrides import IdentifierOverride, identifiers_allowed, override_id
from .pack import (
    ConcernIn,
    Pack,
    PackProblems,
    PersonIn,
    ReturnIn,
    SetAside,
    parse_pack_leniently,
    place_in_pack,
    reference_problems,
    referenced_people,
)
from .partnership import Partnership
from .people import Person
from .personal import ERASED
from .programme import Programme
from .report_import import report_from_pack

IMPORTER = "import"

A = TypeVar("A", bound=Aggregate)


class Lookup:
    """Aggregates looked up together: their events read in a few queries (`stored_events_of`)
    instead of one query per aggregate, most of an import's being new. Each `find` replays
    afresh, as the ledger's does, so no two lookups share an aggregate."""

    def __init__(self, app: AuditLedger, aggregate_ids: Iterable[UUID]) -> None:
        self.app = app
        self.asked = set(aggregate_ids)
        self.stored = app.stored_events_of(self.asked)

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self.asked:
            return self.app.find(cls, aggregate_id)
        stored = self.stored.get(aggregate_id)
        return None if stored is None else self.app.rebuild(cls, aggregate_id, stored)


@dataclass
class NewCase:
    """A case the store does not hold yet, made as its events alone (`LedgerAggregate.creation`
    and `following`): all an import asks of it again is its agencies and the returns the pack
    gave it so far."""

    id: UUID
    agencies: list[str]
    events: list[Aggregate.Event]
    returns: dict[str, ReturnIn] = field(default_factory=dict)


Pending = Aggregate | Aggregate.Event | NewCase


def _events_of(pending: list[Pending]) -> list[Aggregate | Aggregate.Event]:
    """What one save takes: each new case's events in place of the case."""
    out: list[Aggregate | Aggregate.Event] = []
    for obj in pending:
        if isinstance(obj, NewCase):
            out += obj.events
        else:
            out.append(obj)
    return out


@dataclass
class ImportSummary:
    """What an import added, counted for the person who ran it."""

    programme: str
    added: dict[str, int] = field(default_factory=dict)
    events: int = 0

    def count(self, what: str, n: int = 1) -> None:
        self.added[what] = self.added.get(what, 0) + n

    @property
    def changed(self) -> bool:
        return self.events > 0

    def describe(self) -> str:
        if not self.changed:
            return (f"nothing to import: everything in this file is already in the ledger "
                    f"for {self.programme}")
        parts = ", ".join(f"{n} {what}" for what, n in self.added.items() if n)
        return f"imported into {self.programme}: {parts} ({self.events} events)"


_DIRECTORY_READ: weakref.WeakKeyDictionary[AuditLedger, dict[UUID, tuple[Any, PersonIn]]] = \
    weakref.WeakKeyDictionary()
DIRECTORY_REMEMBERED = 50_000


def _directory_read(app: AuditLedger) -> dict[UUID, tuple[Any, PersonIn]]:
    read = _DIRECTORY_READ.get(app)
    if read is None or len(read) > DIRECTORY_REMEMBERED:
        read = _DIRECTORY_READ[app] = {}
    return read


def directory_of(app: AuditLedger, person_ids: set[str], partnership: str,
                 lookup: Lookup | None = None) -> dict[str, PersonIn]:
    """The stored people of these ids in a partnership, as a pack would list them (`lookup`
    reads them).

    Each pack after a partnership's first names most of its directory again: a person is
    replayed once a process, and again only when their last stored event is another (its
    version and stored bytes, which the log never changes), not once a pack."""
    if lookup is None:
        lookup = Lookup(app, (ids.person_id(pid, partnership) for pid in person_ids))
    read = _directory_read(app)
    out = {}
    for pid in sorted(person_ids):
        uid = ids.person_id(pid, partnership)
        stored = lookup.stored.get(uid) if uid in lookup.asked else None
        last = (stored[-1].originator_version, stored[-1].state) if stored else None
        known = read.get(uid) if last is not None else None
        if known is not None and known[0] == last:
            out[pid] = known[1]
            continue
        person = lookup.find(Person, uid)
        if person is not None:
            out[pid] = PersonIn.model_validate(dict(
                                id=pid, name=person.name, agency=person.agency,
                                roles=list(person.roles), manager=person.manager or None,
                                slack_user=person.slack_user or None))
            if last is not None:
                read[uid] = (last, out[pid])
    return out


def import_pack_data(app: AuditLedger, data: Any, by: str = IMPORTER,
                     allow_identifiers: str = "") -> ImportSummary:
    """A pack as read from its file: every problem in it named in one run (its shape, its
    references and rules, what the ledger already holds), then all of it saved or none."""
    pack, problems, set_aside = parse_pack_leniently(data)
    try:
        summary = import_pack(app, pack, by, save=not problems, set_aside=set_aside,
                              allow_identifiers=allow_identifiers)
    except PackProblems as e:
        problems = problems + [set_aside.renumber(p) for p in e.problems]
    if problems:
        raise PackProblems(sorted(problems, key=place_in_pack))
    return summary


def import_pack(app: AuditLedger, pack: Pack, by: str = IMPORTER,
                save: bool = True, set_aside: SetAside | None = None,
                allow_identifiers: str = "") -> ImportSummary:
    """Check the pack against itself and the store; save all of it in one transaction or nothing.
    `allow_identifiers` is a quality lead's (`by`) reason for letting free text that holds an
    identifier through."""
    with _collecting_later():
        return app.retrying(lambda: _import_pack(app, pack, by, save, set_aside,
                                                 allow_identifiers))


@contextmanager
def _collecting_later() -> Iterator[None]:
    """The cyclic garbage collector held off while a pack is checked and saved: it makes a
    few objects an event and no cycles that matter, and the collections they triggered (each
    walking every object of the process) were a tenth of an import's CPU. What the pack
    leaves is collected once it is done."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _import_pack(app: AuditLedger, pack: Pack, by: str,  # noqa: C901
                 save: bool, set_aside: SetAside | None = None,
                 allow_identifiers: str = "") -> ImportSummary:
    in_pack = {p.id for p in pack.people}
    pid = pack.programme.id
    owner = pack.partnership_id
    outside = referenced_people(pack) - in_pack
    concerns: list[tuple[ConcernIn, date, str]] = []
    for raised in pack.concerns:
        raised_on = (raised.raised_on or _return_date(pack, raised.case, raised.agency)
                     or date.today())
        concerns.append((raised, raised_on, ids.concern_ref(
            raised.case, raised.agency, raised.summary, raised_on.isoformat())))
    # Everything the pack might add, looked up at once: in a fresh import none of it exists.
    lookup = Lookup(app, [
        ids.partnership_id(owner),
        ids.programme_id(pid),
        *(ids.person_id(p, owner) for p in sorted(outside | in_pack)),
        *(ids.case_id(pid, k.ref) for k in pack.cases),
        *(ids.concern_id(pid, ref) for _, _, ref in concerns),
        *(ids.recommendation_id(pid, rec.number) for rec in pack.recommendations),
        *(ids.action_id(pid, a.id) for a in pack.actions),
    ])
    directory = directory_of(app, outside, owner, lookup)
    problems = reference_problems(pack, directory, set_aside)
    summary = ImportSummary(pid)
    today = date.today().isoformat()
    opened = (pack.programme.opened or date.today()).isoformat()
    admin = Act(by, opened)
    # Brand-new aggregates the import only saves go in as their first event alone
    # (`LedgerAggregate.creation`): nothing here reads them back.
    pending: list[Pending] = []
    in_pending: set[int] = set()  # cases among pending (an aggregate's == compares its state)

    partnership = _partnership(lookup, pack, Act(by, today), problems)
    if partnership is not None:
        pending.append(partnership)
        summary.count("partnership")
    programme = lookup.find(Programme, ids.programme_id(pid))
    if programme is not None and programme.partnership != owner:
        raise PackProblems(problems + [f"programme.id: {pid} is another partnership's programme; name "
                            "this audit's programme otherwise"])
    if programme is None:
        terms = pack.programme
        programme = Programme._create(
            Programme.Created, id=ids.programme_id(pid), partnership=owner, programme=pid,
            title=terms.title,
            board=terms.board, opened=opened, scale=terms.scale,
            consolidation=terms.consolidation, areas=pack.areas,
            terms_of_reference=terms.terms_of_reference, method=terms.method,
            sample=dict(terms.sample), channel=terms.channel, baseline=terms.baseline,
            escalation=list(terms.escalation or []), **admin.fields())
        pending.append(programme)
        summary.count("programme")
    else:
        for name in ("scale", "consolidation"):
            if getattr(programme, name) != getattr(pack.programme, name):
                problems.append(f"programme.{name}: the ledger has {getattr(programme, name)!r} "
                                f"for {pid}; this pack says {getattr(pack.programme, name)!r}")

    if getattr(programme, "channel_detail", "recorded") != pack.programme.channel_detail:
        programme.record(Programme.ChannelDetailSet, admin,
                         detail=pack.programme.channel_detail)
        if programme not in pending:
            pending.append(programme)
            summary.count("programme updated")

    due = pack.programme.returns_due
    if due and getattr(programme, "returns_due", "") != due.isoformat():
        programme.record(Programme.ReturnsDueSet, admin, due=due.isoformat())
        if programme not in pending:
            pending.append(programme)
            summary.count("programme updated")

    people: dict[str, Person] = {}
    for i, p in enumerate(pack.people):
        person = lookup.find(Person, ids.person_id(p.id, owner))
        if person is None:
            person = Person._create(
                Person.Created, id=ids.person_id(p.id, owner), partnership=owner, person=p.id,
                name=p.name,
                agency=p.agency, roles=list(p.roles), manager=p.manager or "",
                slack_user=p.slack_user or "", **Act(by, today).fields())
            pending.append(person)
            summary.count("people")
        else:
            if person.agency != p.agency:
                problems.append(f"people[{i}].agency: {p.id} is in the ledger with agency "
                                f"{person.agency}; this pack says {p.agency}")
            before = person.version
            for role in p.roles:
                if role not in person.roles:
                    person.record(Person.RoleGranted, Act(by, today), role=role)
            if p.manager and person.manager != p.manager:
                person.record(Person.ManagerAssigned, Act(by, today), manager=p.manager)
            if p.slack_user and person.slack_user != p.slack_user:
                person.record(Person.SlackUserLinked, Act(by, today), slack_user=p.slack_user)
            if person.version != before:
                pending.append(person)
                summary.count("people updated")
        people[p.id] = person

    def manager_of(practitioner: str) -> str:
        if practitioner in people:
            return people[practitioner].manager
        known = directory.get(practitioner)
        return (known.manager or "") if known else ""

    cases: dict[str, CaseAudit | NewCase] = {}
    for i, k in enumerate(pack.cases):
        cid = ids.case_id(pid, k.ref)
        case = lookup.find(CaseAudit, cid)
        if case is None:
            new = NewCase(cid, list(k.agencies), [CaseAudit.creation(
                CaseAudit.Created, cid, programme=pid, ref=k.ref,
                category=k.category, age_band=k.age_band, gender=k.gender,
                ethnicity=k.ethnicity, agencies=list(k.agencies), **admin.fields())])
            pending.append(new)
            summary.count("cases")
            cases[k.ref] = new
            continue
        if sorted(case.agencies) != sorted(k.agencies):
            problems.append(f"cases[{i}].agencies: case {k.ref} is in the ledger with "
                            f"{', '.join(case.agencies)}; this pack says {', '.join(k.agencies)}")
        cases[k.ref] = case
    named = {**directory, **{p.id: p for p in pack.people}}
    problems += case_problems(
        pack, named, stored_sample=None if summary.added.get("programme") else programme.sample,
        stored_cases={ref for ref, case in cases.items() if not isinstance(case, NewCase)})
    texts_found = pack_texts_found(pack, named)
    if texts_found:
        problems += _allowing(app, pack, texts_found, by, allow_identifiers, named, summary,
                              pending)

    for i, r in enumerate(pack.returns):
        held = cases.get(r.case)
        if held is None:
            continue  # already named by reference_problems
        existing = held.returns.get(r.agency)
        if existing is not None:
            if _same_return(existing, r):
                continue
            problems.append(f"returns[{i}]: {r.agency}'s return for case {r.case} is already in "
                            "the ledger with other grades or comments; revise grades one by one "
                            "with a reason instead")
            continue
        act = Act(r.auditor, r.completed.isoformat())
        recorded = dict(agency=r.agency, auditor=r.auditor, practitioner=r.practitioner,
                        completed=r.completed.isoformat(), grades=dict(r.grades),
                        strengths=dict(r.strengths), concerns=dict(r.concerns))
        if isinstance(held, NewCase):
            held.events.append(CaseAudit.following(
                CaseAudit.ReturnRecorded, held.id, len(held.events) + 1, **act.fields(),
                **recorded))
            held.returns[r.agency] = r
        else:
            held.record(CaseAudit.ReturnRecorded, act, **recorded)
            if id(held) not in in_pending:
                in_pending.add(id(held))
                pending.append(held)
        pending.append(Feedback.creation(
            Feedback.Created, ids.feedback_id(pid, r.case, r.agency), **feedback_fields(
                pid, r.case, r.agency, r.auditor, r.practitioner, manager_of(r.practitioner),
                dict(r.grades), dict(r.strengths), dict(r.concerns), act)))
        summary.count("returns")
        summary.count("feedback issued")

    for raised, raised_on, ref in concerns:
        if lookup.find(Concern, ids.concern_id(pid, ref)) is not None:
            continue
        pending.append(Concern.creation(
            Concern.Created, ids.concern_id(pid, ref), programme=pid, case=raised.case,
            agency=raised.agency, ref=ref, summary=raised.summary,
            child_at_risk=raised.child_at_risk,
            **Act(raised.raised_by, raised_on.isoformat()).fields()))
        summary.count("concerns")

    for i, rec in enumerate(pack.recommendations):
        made = lookup.find(Recommendation, ids.recommendation_id(pid, rec.number))
        if made is not None:
            if made.text != rec.text:
                problems.append(f"recommendations[{i}]: recommendation {rec.number} is in the "
                                "ledger with other words")
            continue
        pending.append(Recommendation.creation(
            Recommendation.Created, ids.recommendation_id(pid, rec.number), programme=pid,
            number=rec.number, text=rec.text, **admin.fields()))
        summary.count("recommendations")

    for i, a in enumerate(pack.actions):
        planned = lookup.find(Action, ids.action_id(pid, a.id))
        if planned is not None:
            if (planned.description, planned.owner, planned.due) != (a.description, a.owner,
                                                                     a.due.isoformat()):
                problems.append(f"actions[{i}]: action {a.id} is in the ledger with another "
                                "plan; replan it with a reason instead")
            continue
        pending.append(Action.creation(
            Action.Created, ids.action_id(pid, a.id), programme=pid, action=a.id,
            recommendation=a.recommendation, description=a.description, measure=a.measure,
            owner=a.owner, due=a.due.isoformat(), **admin.fields()))
        summary.count("actions")

    authored, said = report_from_pack(lookup, pack, by, cases)
    problems += said
    if authored is not None:
        pending.append(authored)
        summary.count("report parts", sum(1 for e in authored.pending_events
                                          if type(e).__name__ != "Created"))
    summary.events = sum(1 if isinstance(obj, Aggregate.Event) else
                         len(obj.events if isinstance(obj, NewCase) else obj.pending_events)
                         for obj in pending)
    if summary.events:  # who may import is asked only of an import that writes
        problems += import_problems(
            app, owner, None if by == IMPORTER else by,
            lookup.find(Person, ids.person_id(by, owner)), summary.added, pack.people,
            new_partnership=partnership is not None and owner != ids.DEFAULT_PARTNERSHIP,
            refused=bool(problems) or not save,
            actors={name: lookup.find(Person, ids.person_id(name, owner)) for name in
                    {r.auditor for r in pack.returns} | {c.raised_by for c in pack.concerns}})
    if problems:
        raise PackProblems(problems)
    if summary.events and save:
        app.save(*_events_of(pending))
    return summary


def _partnership(lookup: Lookup, pack: Pack, act: Act, problems: list[str]
                 ) -> Partnership | None:
    """The pack's partnership, new to the store (to be saved), or None: named by no partnership
    section (the default one), or already registered as the pack says (else a problem)."""
    named = pack.partnership
    if named is None:
        return None
    stored = lookup.find(Partnership, ids.partnership_id(named.id))
    if stored is None:
        if not named.name and named.id == ids.DEFAULT_PARTNERSHIP:
            return None  # the default partnership needs no registering
        if not named.name:
            problems.append(f"partnership.name: partnership {named.id} is not in the ledger yet; "
                            "give its name to register it")
            return None
        return Partnership._create(Partnership.Created, id=ids.partnership_id(named.id),
                                   partnership=named.id, name=named.name,
                                   slack_team=named.slack_team or "", **act.fields())
    if named.name and named.name != stored.name:
        problems.append(f"partnership.name: the ledger has {stored.name!r} for {named.id}; this "
                        f"pack says {named.name!r}")
    if named.slack_team and named.slack_team != stored.slack_team:
        problems.append(f"partnership.slack_team: the ledger has "
                        f"{stored.slack_team or 'no Slack team'} for {named.id}; this pack says "
                        f"{named.slack_team}")
    return None


ALLOW_IN_A_FILE = ("what identifies a child or family is kept out of free text; if such text "
                   "must stay, a quality lead may allow it, giving a reason: import the file "
                   "again with --by QUALITY-LEAD --allow-identifiers REASON")


def _allowing(app: AuditLedger, pack: Pack, texts: list[TextFound], by: str, reason: str,
              named: dict[str, PersonIn], summary: ImportSummary,
              pending: list[Pending]) -> list[str]:
    """Texts holding identifiers: refused, or let through by a quality lead with a reason,
    each override recorded once (with the file's text's own id)."""
    if not reason:
        return [p for t in texts for p in t.problems] + [ALLOW_IN_A_FILE]
    known = named.get(by)
    roles = list(known.roles) if known else list(getattr(
        app.find(Person, ids.person_id(by, pack.partnership_id)), "roles", []))
    if not may_allow_identifiers(roles):
        return [f"--by {by}: only a quality lead may allow text that holds what identifies a "
                "child or family"]
    said = identifier_problems(reason)
    if said:
        return [f"--allow-identifiers: the reason {p}" for p in said]
    pid = pack.programme.id
    act = Act(by, date.today().isoformat())
    for t in texts:
        oid = override_id(pid, t.natural)
        if app.find(IdentifierOverride, oid) is None:
            pending.append(identifiers_allowed(pid, t.case, t.field, t.kinds, t.act_of, reason,
                                               act, oid))
            summary.count("texts allowed by a quality lead")
    return []


def _same_return(existing: Any, r: ReturnIn) -> bool:
    return (existing.grades == dict(r.grades) and _same_texts(existing.strengths, r.strengths)
            and _same_texts(existing.concerns, r.concerns) and existing.auditor == r.auditor
            and existing.practitioner == r.practitioner)


def _same_texts(stored: dict[str, str], given: dict[str, str]) -> bool:
    """The same comments, where a comment since erased matches whatever the file says."""
    return stored.keys() == given.keys() and all(text in (ERASED, given[area])
                                                 for area, text in stored.items())


def _return_date(pack: Pack, case: str, agency: str) -> date | None:
    for r in pack.returns:
        if r.case == case and r.agency == agency:
            return r.completed
    return None
