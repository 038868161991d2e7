"""Importing a pack: everything checked against itself and the store first, then one save or none."""

from __future__ import annotations

from datetime import date
from typing import Any

from . import ids
from .actions import Action, Recommendation
from .application import AuditLedger
from .base import Act
from .case_audit import CaseAudit
from .concerns import Concern
from .feedback import Feedback, feedback_fields
from .free_text import case_problems, pack_texts_found
from .import_parts import (
    ALLOW_IN_A_FILE,
    IMPORTER,
    ImportSummary,
    NewCase,
    Pending,
    allowing,
    events_in,
    events_of,
    pack_partnership,
    return_date,
    same_return,
)
from .import_reading import Lookup, directory_of
from .import_rights import import_problems, opening_directory
from .memory import collecting_later
from .pack import (
    ConcernIn,
    Pack,
    PackProblems,
    SetAside,
    parse_pack_leniently,
    place_in_pack,
)
from .pack_rules import reference_problems, referenced_people
from .people import Person
from .programme import Programme
from .report_import import report_from_pack

# What other modules take from here, as before these parts had modules of their own.
__all__ = ["ALLOW_IN_A_FILE", "IMPORTER", "ImportSummary", "Lookup", "directory_of",
           "import_pack", "import_pack_data"]


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
    with collecting_later():
        return app.retrying(lambda: _import_pack(app, pack, by, save, set_aside,
                                                 allow_identifiers))


def _import_pack(app: AuditLedger, pack: Pack, by: str,  # noqa: C901
                 save: bool, set_aside: SetAside | None = None,
                 allow_identifiers: str = "") -> ImportSummary:
    in_pack = {p.id for p in pack.people}
    pid = pack.programme.id
    owner = pack.partnership_id
    outside = referenced_people(pack) - in_pack
    concerns: list[tuple[ConcernIn, date, str]] = []
    for raised in pack.concerns:
        raised_on = (raised.raised_on or return_date(pack, raised.case, raised.agency)
                     or date.today())
        concerns.append((raised, raised_on, ids.concern_ref(
            raised.case, raised.agency, raised.summary, raised_on.isoformat())))
    # Everything the pack might add, looked up at once: in a fresh import none of it exists.
    lookup = Lookup(app, [
        app.ids.partnership_id(owner),
        app.ids.programme_id(pid),
        *(app.ids.person_id(p, owner) for p in sorted(outside | in_pack)),
        *(app.ids.case_id(pid, k.ref) for k in pack.cases),
        *(app.ids.concern_id(pid, ref) for _, _, ref in concerns),
        *(app.ids.recommendation_id(pid, rec.number) for rec in pack.recommendations),
        *(app.ids.action_id(pid, a.id) for a in pack.actions),
        app.ids.person_id(by, owner),  # the importer, asked of every import that writes
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

    partnership = pack_partnership(lookup, pack, Act(by, today), problems)
    if partnership is not None:
        pending.append(partnership)
        summary.count("partnership")
    programme = lookup.find(Programme, app.ids.programme_id(pid))
    if programme is not None and programme.partnership != owner:
        raise PackProblems(problems + [f"programme.id: {pid} is another partnership's programme; name "
                            "this audit's programme otherwise"])
    if programme is None:
        terms = pack.programme
        programme = Programme._create(
            Programme.Created, id=app.ids.programme_id(pid), partnership=owner, programme=pid,
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
        person = lookup.find(Person, app.ids.person_id(p.id, owner))
        if person is None:
            person = Person._create(
                Person.Created, id=app.ids.person_id(p.id, owner), partnership=owner, person=p.id,
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
        cid = app.ids.case_id(pid, k.ref)
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
        problems += allowing(app, pack, texts_found, by, allow_identifiers, named, summary,
                              pending)

    for i, r in enumerate(pack.returns):
        held = cases.get(r.case)
        if held is None:
            continue  # already named by reference_problems
        existing = held.returns.get(r.agency)
        if existing is not None:
            if same_return(existing, r):
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
            Feedback.Created, app.ids.feedback_id(pid, r.case, r.agency), **feedback_fields(
                pid, r.case, r.agency, r.auditor, r.practitioner, manager_of(r.practitioner),
                dict(r.grades), dict(r.strengths), dict(r.concerns), act)))
        summary.count("returns")
        summary.count("feedback issued")

    for raised, raised_on, ref in concerns:
        if lookup.find(Concern, app.ids.concern_id(pid, ref)) is not None:
            continue
        pending.append(Concern.creation(
            Concern.Created, app.ids.concern_id(pid, ref), programme=pid, case=raised.case,
            agency=raised.agency, ref=ref, summary=raised.summary,
            child_at_risk=raised.child_at_risk,
            **Act(raised.raised_by, raised_on.isoformat()).fields()))
        summary.count("concerns")

    for i, rec in enumerate(pack.recommendations):
        made = lookup.find(Recommendation, app.ids.recommendation_id(pid, rec.number))
        if made is not None:
            if made.text != rec.text:
                problems.append(f"recommendations[{i}]: recommendation {rec.number} is in the "
                                "ledger with other words")
            continue
        pending.append(Recommendation.creation(
            Recommendation.Created, app.ids.recommendation_id(pid, rec.number), programme=pid,
            number=rec.number, text=rec.text, **admin.fields()))
        summary.count("recommendations")

    for i, a in enumerate(pack.actions):
        planned = lookup.find(Action, app.ids.action_id(pid, a.id))
        if planned is not None:
            if (planned.description, planned.owner, planned.due) != (a.description, a.owner,
                                                                     a.due.isoformat()):
                problems.append(f"actions[{i}]: action {a.id} is in the ledger with another "
                                "plan; replan it with a reason instead")
            continue
        pending.append(Action.creation(
            Action.Created, app.ids.action_id(pid, a.id), programme=pid, action=a.id,
            recommendation=a.recommendation, description=a.description, measure=a.measure,
            owner=a.owner, due=a.due.isoformat(), **admin.fields()))
        summary.count("actions")

    authored, said = report_from_pack(lookup, pack, by, cases)
    problems += said
    if authored is not None:
        pending.append(authored)
        summary.count("report parts", sum(1 for e in authored.pending_events
                                          if type(e).__name__ != "Created"))
    summary.events = events_in(pending)
    importer = lookup.find(Person, app.ids.person_id(by, owner)) if summary.events else None
    if summary.events:  # who may import is asked only of an import that writes
        problems += import_problems(
            app, owner, None if by == IMPORTER else by,
            importer, summary.added, pack.people,
            new_partnership=partnership is not None and owner != ids.DEFAULT_PARTNERSHIP,
            refused=bool(problems) or not save,
            actors=lambda: {name: lookup.find(Person, app.ids.person_id(name, owner)) for name in
                            {r.auditor for r in pack.returns}
                            | {c.raised_by for c in pack.concerns}})
    if problems:
        raise PackProblems(problems)
    if summary.events and save:
        opening = opening_directory(owner, importer, summary.added, admin, app.ids)
        summary.events += len(opening)  # the directory's opening is written with the pack
        app.save(*events_of(pending), *opening)
    return summary
