"""Identifiers kept out of what a pack or a command carries: the ledger's side of the check.

`policies.identifiers` finds them in one text; here each text of a pack or a command is named
(its JSON path, or its field in words) and checked, with the names of the case's own people
where the ledger knows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from policies.identifiers import (
    age_band_problem,
    age_bands_of,
    case_ref_problems,
    identifier_problems,
    identifiers_in,
)


class Named(Protocol):
    name: str


def text_problems(where: str, text: str, names: Iterable[str] = ()) -> list[str]:
    """`where: problem` for each kind of identifier in one text."""
    return [f"{where}: {p}" for p in identifier_problems(text, names)]


def names_of(people: Mapping[str, Named], ids: Iterable[str]) -> list[str]:
    """The names the directory holds for these people (none for those it does not know)."""
    return [people[pid].name for pid in ids if pid in people and people[pid].name]


@dataclass(frozen=True)
class TextFound:
    """Identifiers found in one text of a pack: where, whose act, which kinds, in words; and
    the natural key of that text, so that a quality lead's override is recorded once."""

    where: str
    field: str
    case: str
    act_of: str
    kinds: list[str]
    problems: list[str]
    natural: str


def _found(where: str, field: str, text: str, names: Iterable[str], case: str, act_of: str,
           natural: str) -> list[TextFound]:
    names = list(names)
    findings = identifiers_in(text, names)
    if not findings:
        return []
    return [TextFound(where, field, case, act_of, sorted({f.kind for f in findings}),
                      text_problems(where, text, names), natural)]


def pack_texts_found(pack: Any, people: Mapping[str, Named]) -> list[TextFound]:
    """Every free text of a pack checked, with the names of each case's own people."""
    found: list[TextFound] = []
    prog = pack.programme
    for field in ("title", "board", "terms_of_reference", "method"):
        found += _found(f"programme.{field}", f"programme {field}", getattr(prog, field), (),
                        "", "",
                        f"programme/{field}")
    case_people: dict[str, set[str]] = {}
    for r in pack.returns:
        case_people.setdefault(r.case, set()).update({r.auditor, r.practitioner})
    for k in pack.concerns:
        case_people.setdefault(k.case, set()).add(k.raised_by)
    case_names: dict[str, list[str]] = {}  # each case's people's names, worked out once
    for i, r in enumerate(pack.returns):
        names = case_names.get(r.case)
        if names is None:
            names = case_names[r.case] = names_of(people, case_people.get(r.case, ()))
        for field in ("strengths", "concerns"):
            for area, text in getattr(r, field).items():
                found += _found(f"returns[{i}].{field}.{area}",
                                f"{r.agency}'s return: {field} (area {area})", text, names,
                                r.case, r.auditor, f"return/{r.case}/{r.agency}/{field}/{area}")
    for i, k in enumerate(pack.concerns):
        found += _found(f"concerns[{i}].summary", "concern summary", k.summary,
                        names_of(people, case_people.get(k.case, ())), k.case, k.raised_by,
                        f"concern/{k.case}/{k.agency}/{k.summary}")
    for i, rec in enumerate(pack.recommendations):
        found += _found(f"recommendations[{i}].text", f"recommendation {rec.number}", rec.text,
                        (), "", "",
                        f"recommendation/{rec.number}")
    for i, a in enumerate(pack.actions):
        for field in ("description", "measure"):
            found += _found(f"actions[{i}].{field}", f"action {a.id}: {field}",
                            getattr(a, field), (), "", a.owner,
                            f"action/{a.id}/{field}")
    return found + _report_texts_found(pack)


def _report_texts_found(pack: Any) -> list[TextFound]:
    """The author's words in the pack's `report` section."""
    words = getattr(pack, "report", None)
    if words is None:
        return []
    texts = [(f"report.areas.{a}", f"report: summary of area {a}", t)
             for a, t in words.areas.items()]
    for i, theme in enumerate(words.themes):
        texts += [(f"report.themes[{i}].title", f"report: theme {theme.id}", theme.title),
                  (f"report.themes[{i}].text", f"report: theme {theme.id}", theme.text)]
    texts += [(f"report.key_findings[{i}]", "report: key finding", k)
              for i, k in enumerate(words.key_findings or [])]
    texts += [("report.conclusions", "report: conclusions", words.conclusions or "")]
    found: list[TextFound] = []
    for where, field, text in texts:
        found += _found(where, field, text, (), "", "", where)
    return found


def case_problems(pack: Any, people: Mapping[str, Named],
                  stored_sample: Mapping[str, Any] | None = None,
                  stored_cases: Iterable[str] = ()) -> list[str]:
    """The reference and age band of each new case: a code, and a band of the programme's list
    (`stored_sample` is the sample of the programme already in the ledger, whose bands stand;
    `stored_cases` are already in the ledger and pass as they are)."""
    prog = pack.programme
    bands = age_bands_of(dict(stored_sample if stored_sample is not None else prog.sample))
    every_name = tuple(names_of(people, people))
    old = set(stored_cases)
    problems: list[str] = []
    # A category, gender or ethnicity is one of a few words, over and over: each checked once.
    said: dict[str, list[str]] = {}
    for i, case in enumerate(pack.cases):
        if case.ref in old:
            continue
        problems += [f"cases[{i}].ref: {case.ref!r} {p}"
                     for p in case_ref_problems(case.ref, every_name)]
        band = age_band_problem(case.age_band, bands)
        if band:
            problems.append(f"cases[{i}].age_band: {band}")
        for field in ("category", "gender", "ethnicity"):
            text = getattr(case, field)
            if text not in said:
                said[text] = identifier_problems(text, every_name)
            problems += [f"cases[{i}].{field}: {p}" for p in said[text]]
    return problems


def pack_identifier_problems(pack: Any, people: Mapping[str, Named],
                             stored_sample: Mapping[str, Any] | None = None,
                             stored_cases: Iterable[str] = ()) -> list[str]:
    """Every problem of a pack's texts, case references and age bands, each naming its place."""
    return (case_problems(pack, people, stored_sample, stored_cases)
            + [p for found in pack_texts_found(pack, people) for p in found.problems])
