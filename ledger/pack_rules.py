"""A pack's references and rules: every person, case and recommendation it names resolved
(against the pack and the people the store already holds), and every grade, date and action
checked, each problem naming its place in the pack."""

from __future__ import annotations

from policies.consolidation import RULES
from policies.escalation import ladder_from
from policies.grading import grade_problems
from policies.scales import SCALES
from policies.smart import smart_problems

from .pack import Pack, PersonIn, SetAside


def referenced_people(pack: Pack) -> set[str]:
    ids = {p.manager for p in pack.people if p.manager}
    for r in pack.returns:
        ids |= {r.auditor, r.practitioner}
    ids |= {k.raised_by for k in pack.concerns}
    ids |= {a.owner for a in pack.actions}
    return ids


def reference_problems(  # noqa: C901 - one pass, one list
    pack: Pack, directory: dict[str, PersonIn] | None = None,
    set_aside: SetAside | None = None,
) -> list[str]:
    """Every reference resolved and every rule kept; `directory` adds people already stored;
    references to what was `set_aside` (already named as unreadable) are passed over."""
    problems: list[str] = []
    unread = set_aside or SetAside()
    prog = pack.programme
    if prog.scale not in SCALES:
        problems.append(f"programme.scale: {prog.scale!r} is not a known scale; allowed: "
                        f"{', '.join(sorted(SCALES))}")
    if prog.consolidation not in RULES:
        problems.append(f"programme.consolidation: {prog.consolidation!r} is not a rule; "
                        f"allowed: {', '.join(RULES)}")
    if prog.escalation:
        try:
            ladder_from(prog.escalation)
        except ValueError as e:
            problems.append(f"programme.escalation: {e}")
    people = {**(directory or {}), **{p.id: p for p in pack.people}}
    first_at: dict[str, int] = {}
    for i, p in enumerate(pack.people):
        if p.id in first_at:
            problems.append(f"people[{i}].id: {p.id!r} appears twice (first at "
                            f"people[{first_at[p.id]}])")
        first_at.setdefault(p.id, i)
        if p.manager is not None and p.manager not in unread.people:
            if p.manager not in people:
                problems.append(f"people[{i}].manager: {p.manager!r} is not in people")
            elif "manager" not in people[p.manager].roles:
                problems.append(f"people[{i}].manager: {p.manager!r} does not hold the "
                                "manager role")
    slack: dict[str, str] = {}
    for i, p in enumerate(pack.people):
        if p.slack_user:
            if p.slack_user in slack:
                problems.append(f"people[{i}].slack_user: {p.slack_user} is already linked to "
                                f"{slack[p.slack_user]}")
            slack[p.slack_user] = p.id
    cases = {}
    for i, case in enumerate(pack.cases):
        if case.ref in cases:
            problems.append(f"cases[{i}].ref: case {case.ref!r} appears twice")
        cases[case.ref] = case
        if len(set(case.agencies)) != len(case.agencies):
            problems.append(f"cases[{i}].agencies: an agency is listed twice")

    def person_check(where: str, pid: str, role: str, agency: str | None = None) -> None:
        person = people.get(pid)
        if person is None and pid in unread.people:
            return
        if person is None:
            problems.append(f"{where}: {pid!r} is not in people")
            return
        if role not in person.roles:
            problems.append(f"{where}: {pid!r} does not hold the {role} role "
                            f"(roles: {', '.join(person.roles) or 'none'})")
        if agency is not None and person.agency != agency:
            problems.append(f"{where}: {pid!r} works for {person.agency}, not {agency}")

    def case_agency_check(where: str, ref: str, agency: str) -> bool:
        case = cases.get(ref)
        if case is None and ref in unread.cases:
            return False
        if case is None:
            problems.append(f"{where}.case: {ref!r} is not in cases")
            return False
        if agency not in case.agencies:
            problems.append(f"{where}.agency: {agency!r} is not involved in case {ref} "
                            f"(involved: {', '.join(case.agencies)})")
            return False
        return True

    scale = SCALES.get(prog.scale)
    areas = pack.areas  # made afresh at each reading: read once
    seen_returns: dict[tuple[str, str], int] = {}
    for i, r in enumerate(pack.returns):
        where = f"returns[{i}]"
        case_agency_check(where, r.case, r.agency)
        if (r.case, r.agency) in seen_returns:
            problems.append(f"{where}: a second return from {r.agency} for case {r.case} "
                            f"(first at returns[{seen_returns[(r.case, r.agency)]}])")
        seen_returns.setdefault((r.case, r.agency), i)
        person_check(f"{where}.auditor", r.auditor, "auditor")
        person_check(f"{where}.practitioner", r.practitioner, "practitioner", r.agency)
        if scale is not None:
            for area, grade in r.grades.items():
                # The return's grades as its other grades: only the overall grade reads them,
                # and it reads the areas' alone (no copy less this one for each grade).
                for problem in grade_problems(scale, area, grade, r.grades, areas):
                    problems.append(f"{where}.grades.{area}: {problem}")
        for texts in ("strengths", "concerns"):
            for area in getattr(r, texts):
                if area != "overall" and area not in areas:
                    problems.append(f"{where}.{texts}.{area}: unknown area")
        if prog.opened and r.completed < prog.opened:
            problems.append(f"{where}.completed: {r.completed} is before the programme opened "
                            f"({prog.opened})")
    for i, k in enumerate(pack.concerns):
        where = f"concerns[{i}]"
        case_agency_check(where, k.case, k.agency)
        if k.raised_by not in people and k.raised_by not in unread.people:
            problems.append(f"{where}.raised_by: {k.raised_by!r} is not in people")
    numbers: dict[int, int] = {}
    for i, rec in enumerate(pack.recommendations):
        if rec.number in numbers:
            problems.append(f"recommendations[{i}].number: {rec.number} appears twice")
        numbers[rec.number] = i
    action_ids: set[str] = set()
    for i, a in enumerate(pack.actions):
        where = f"actions[{i}]"
        if a.id in action_ids:
            problems.append(f"{where}.id: action {a.id!r} appears twice")
        action_ids.add(a.id)
        if a.recommendation not in numbers and a.recommendation not in unread.recommendations:
            problems.append(f"{where}.recommendation: there is no recommendation {a.recommendation}")
        if a.owner not in people and a.owner not in unread.people:
            problems.append(f"{where}.owner: {a.owner!r} is not in people")
        for problem in smart_problems(a.description, a.measure, a.owner, a.due, prog.opened):
            problems.append(f"{where}.{problem}")
    return problems
