"""Importing a returns CSV: each row one area of a return, read into a pack and imported whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from policies.scales import AREAS, OVERALL, UNGRADED_AREAS

from . import ids
from .application import AuditLedger
from .case_audit import CaseAudit
from .importer import IMPORTER, ImportSummary, Lookup, import_pack
from .pack import Pack, PackProblems, parse_pack
from .programme import Programme

RETURNS_COLUMNS = ("case", "agency", "auditor", "practitioner", "area", "grade", "strengths",
                   "concerns")
MAX_CSV_BYTES = 20 * 1024 * 1024


def import_returns(app: AuditLedger, programme: str, text: str,
                   by: str = IMPORTER) -> ImportSummary:
    """A returns CSV imported whole or not at all; every problem names its CSV line."""
    pack, lines, early = _returns_pack(app, programme, text)
    try:
        summary = import_pack(app, pack, by, save=not early)
    except PackProblems as e:
        raise PackProblems(sorted(early + [lines(p) for p in e.problems],
                                  key=_line_number)) from None
    if early:
        raise PackProblems(early)
    return summary


def _line_number(problem: str) -> int:
    word = problem.split(" ")[1].rstrip(":") if problem.startswith("line ") else ""
    return int(word) if word.isdigit() else 0


def returns_pack(app: AuditLedger, programme: str, text: str) -> Pack:
    pack, _, early = _returns_pack(app, programme, text)
    if early:
        raise PackProblems(early)
    return pack


def _returns_pack(app: AuditLedger, programme: str, text: str
                  ) -> tuple[Pack, Callable[[str], str], list[str]]:
    """A returns CSV read into a pack of returns for a programme already in the ledger;
    how to name its lines, and the problems found so far (returns for unknown cases are left
    out of the pack, named here instead). Problems name their CSV line (the header is line 1).
    """
    found = app.find(Programme, ids.programme_id(programme))
    if found is None:
        raise PackProblems([f"no programme {programme!r} in the ledger; import its pack first"])
    problems: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in RETURNS_COLUMNS if c not in header]
    extra = [c for c in header if c not in RETURNS_COLUMNS + ("completed",)]
    if missing or extra:
        if missing:
            problems.append(f"line 1: missing column(s) {', '.join(missing)}; the header must be "
                            + ",".join(RETURNS_COLUMNS))
        if extra:
            problems.append(f"line 1: unknown column(s) {', '.join(extra)}; allowed: "
                            + ", ".join(RETURNS_COLUMNS + ("completed",)))
        raise PackProblems(problems)
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    first_line: dict[tuple[str, str], int] = {}
    seen_area: dict[tuple[str, str, str], int] = {}
    areas = found.areas or AREAS
    for line, row in _numbered(reader):
        if None in row:
            problems.append(f"line {line}: more values than columns")
            continue
        values = {k: (v or "").strip() for k, v in row.items()}
        blank = [c for c in ("case", "agency", "auditor", "practitioner", "area") if not values[c]]
        if blank:
            problems.append(f"line {line}: {', '.join(blank)} must not be blank")
            continue
        area = values["area"].lower()
        if area != OVERALL and area not in areas:
            problems.append(f"line {line}: area {values['area']!r} is not allowed; allowed: "
                            f"{', '.join(list(areas) + [OVERALL])}")
            continue
        key = (values["case"], values["agency"])
        if (key[0], key[1], area) in seen_area:
            problems.append(f"line {line}: area {area} for {key[1]} on case {key[0]} is already "
                            f"on line {seen_area[(key[0], key[1], area)]}")
            continue
        seen_area[(key[0], key[1], area)] = line
        entry = grouped.setdefault(key, {"case": key[0], "agency": key[1],
                                         "auditor": values["auditor"],
                                         "practitioner": values["practitioner"],
                                         "completed": values.get("completed") or
                                         date.today().isoformat(),
                                         "grades": {}, "strengths": {}, "concerns": {}})
        first_line.setdefault(key, line)
        for name in ("auditor", "practitioner"):
            if entry[name] != values[name]:
                problems.append(f"line {line}: {name} {values[name]!r} differs from line "
                                f"{first_line[key]} ({entry[name]!r}) for the same return")
        grade = values["grade"]
        if area in UNGRADED_AREAS:
            if grade:
                problems.append(f"line {line}: area {area} takes no grade; leave grade blank")
        elif grade:
            try:
                entry["grades"][area] = int(grade)
            except ValueError:
                problems.append(f"line {line}: grade {grade!r} is not a whole number")
        if values["strengths"]:
            entry["strengths"][area] = values["strengths"]
        if values["concerns"]:
            entry["concerns"][area] = values["concerns"]
    if problems:
        raise PackProblems(problems)
    pack_data: dict[str, Any] = {
        "partnership": {"id": found.partnership},
        "programme": {"id": programme, "scale": found.scale, "consolidation": found.consolidation,
                      "areas": {a: t for a, t in areas.items()}},
        "returns": list(grouped.values()),
    }
    try:
        pack = parse_pack(pack_data)
    except PackProblems as e:
        raise PackProblems([_line_of(p, list(grouped), first_line) for p in e.problems]
                           ) from None
    # Cases come from the ledger; stand them in so references resolve.
    cases: list[dict[str, Any]] = []
    refs = sorted({r.case for r in pack.returns})
    lookup = Lookup(app, (ids.case_id(programme, ref) for ref in refs))
    for ref in refs:
        case = lookup.find(CaseAudit, ids.case_id(programme, ref))
        if case is None:
            lines = sorted(v for (c, _), v in first_line.items() if c == ref)
            problems.append(f"line {lines[0]}: no case {ref!r} in {programme}")
            continue
        cases.append({"ref": ref, "agencies": case.agencies})
    known = {k["ref"] for k in cases}
    pack_data["returns"] = [r for r in pack_data["returns"] if r["case"] in known]
    pack = Pack.model_validate({**pack_data, "cases": cases})
    keys = [(r.case, r.agency) for r in pack.returns]
    return pack, lambda problem: _line_of(problem, keys, first_line), problems


def _numbered(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for row in reader:
        yield reader.line_num, row


def _line_of(problem: str, keys: list[tuple[str, str]],
             first_line: dict[tuple[str, str], int]) -> str:
    """Turn a 'returns[i]...' path into the CSV line where that return starts."""
    if problem.startswith("returns["):
        index = int(problem[len("returns["):problem.index("]")])
        key = keys[index]
        rest = problem[problem.index("]") + 1:]
        rest = rest[1:] if rest.startswith(".") else rest.lstrip(": ")
        return f"line {first_line[key]} (case {key[0]}, {key[1]}): {rest}"
    return problem
