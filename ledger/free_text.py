"""Identifiers kept out of what a pack or a command carries: the ledger's side of the check.

`policies.identifiers` finds them in one text; here each text of a pack or a command is named
(its JSON path, or its field in words) and checked, with the names of the case's own people
where the ledger knows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from policies.identifiers import (
    age_band_problem,
    age_bands_of,
    case_ref_problems,
    identifier_problems,
)


class Named(Protocol):
    name: str


def text_problems(where: str, text: str, names: Iterable[str] = ()) -> list[str]:
    """`where: problem` for each kind of identifier in one text."""
    return [f"{where}: {p}" for p in identifier_problems(text, names)]


def names_of(people: Mapping[str, Named], ids: Iterable[str]) -> list[str]:
    """The names the directory holds for these people (none for those it does not know)."""
    return [people[pid].name for pid in ids if pid in people and people[pid].name]


def pack_identifier_problems(pack: Any, people: Mapping[str, Named],
                             stored_sample: Mapping[str, Any] | None = None,
                             stored_cases: Iterable[str] = ()) -> list[str]:
    """Every free text of a pack, and the reference and age band of each new case, checked;
    each problem names its place in the pack. `stored_sample` is the sample of the programme
    already in the ledger, whose age bands stand; `stored_cases` are already in the ledger."""
    problems: list[str] = []
    prog = pack.programme
    for field in ("title", "board", "terms_of_reference", "method"):
        problems += text_problems(f"programme.{field}", getattr(prog, field))
    bands = age_bands_of(dict(stored_sample if stored_sample is not None else prog.sample))
    case_people: dict[str, set[str]] = {}
    for r in pack.returns:
        case_people.setdefault(r.case, set()).update({r.auditor, r.practitioner})
    for k in pack.concerns:
        case_people.setdefault(k.case, set()).add(k.raised_by)
    every_name = names_of(people, people)
    old = set(stored_cases)
    for i, case in enumerate(pack.cases):
        if case.ref in old:
            continue
        problems += [f"cases[{i}].ref: {case.ref!r} {p}"
                     for p in case_ref_problems(case.ref, every_name)]
        band = age_band_problem(case.age_band, bands)
        if band:
            problems.append(f"cases[{i}].age_band: {band}")
    for i, r in enumerate(pack.returns):
        names = names_of(people, case_people.get(r.case, ()))
        for field in ("strengths", "concerns"):
            for area, text in getattr(r, field).items():
                problems += text_problems(f"returns[{i}].{field}.{area}", text, names)
    for i, k in enumerate(pack.concerns):
        problems += text_problems(f"concerns[{i}].summary", k.summary,
                                  names_of(people, case_people.get(k.case, ())))
    for i, rec in enumerate(pack.recommendations):
        problems += text_problems(f"recommendations[{i}].text", rec.text)
    for i, a in enumerate(pack.actions):
        for field in ("description", "measure"):
            problems += text_problems(f"actions[{i}].{field}", getattr(a, field))
    return problems
