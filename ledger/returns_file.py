"""Agencies' returns as a file holds them (a CSV's lines or a workbook's sheets): rows grouped
into returns, every problem in the file found in one run, then imported whole or not at all."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from policies.scales import AREAS, OVERALL, SCALES, UNGRADED_AREAS

from .application import AuditLedger
from .case_audit import CaseAudit
from .importer import ALLOW_IN_A_FILE, IMPORTER, ImportSummary, Lookup, import_pack
from .pack import NOBODY, Pack, PackProblems, SetAside, parse_pack_leniently
from .programme import Programme

RETURN_FIELDS = ("auditor", "practitioner", "completed")
"""What belongs to a whole return (the same on each of its rows), beside case and agency."""
KEY_FIELDS = ("case", "agency", "area")
NOT_GIVEN = date(9999, 12, 31)
"""Stands in for a completion date that is missing or unreadable (already named as a problem),
so that the rest of the return is still checked in the same run."""


@dataclass(frozen=True)
class Row:
    """One area of one return as the file holds it, and how to name where each value is."""

    order: tuple[int, ...]
    at: str
    values: dict[str, str]
    cells: dict[str, str] = field(default_factory=dict)

    def where(self, column: str = "") -> str:
        return self.cells.get(column, self.at)


@dataclass
class Problems:
    """Problems found in a file, listed in the file's order, each said once."""

    found: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def add(self, order: tuple[int, ...], text: str) -> None:
        self.found.setdefault(text, order)

    def __bool__(self) -> bool:
        return bool(self.found)

    def listed(self) -> list[str]:
        return [text for text, _ in sorted(self.found.items(), key=lambda kv: kv[1])]


def read_date(text: str) -> date | None:
    """A day as files hold it: YYYY-MM-DD, or DD/MM/YYYY as spreadsheets in England save it."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def read_grade(text: str, scale_id: str) -> int | None:
    """A grade as written: its number ("3"), or as the template's lists show it ("3 adequate"),
    or its words alone ("adequate")."""
    match = re.match(r"^\s*(\d+)(\.0)?\b", text)
    if match:
        return int(match.group(1))
    scale = SCALES.get(scale_id)
    words = text.strip().lower()
    if scale is not None:
        for grade, label in scale.labels.items():
            if words == label.lower():
                return grade
    return None


def import_return_rows(app: AuditLedger, programme: str, rows: list[Row],
                       problems: Problems | None = None, by: str = IMPORTER,
                       allow_identifiers: str = "") -> ImportSummary:
    """The rows' returns imported in one save, or every problem in them named and nothing saved.
    `problems` brings those the reader already found (a header, a sheet's layout)."""
    problems = problems or Problems()
    pack, placed, set_aside = _returns_pack(app, programme, rows, problems)
    summary: ImportSummary | None = None
    if pack is not None:
        try:
            summary = import_pack(app, pack, by, save=not problems, set_aside=set_aside,
                                  allow_identifiers=allow_identifiers)
        except PackProblems as e:
            for p in e.problems:
                problems.add(*placed(set_aside.renumber(p)))
    if problems:
        raise PackProblems(problems.listed())
    return summary or ImportSummary(programme)


def _returns_pack(app: AuditLedger, programme: str, rows: list[Row],  # noqa: C901
                  problems: Problems) -> tuple[Pack | None, Placer, SetAside]:
    """The rows read into a pack of returns for a programme already in the ledger, and how to
    place a pack's problem in the file; the problems of the rows themselves go to `problems`."""
    found = app.find(Programme, app.ids.programme_id(programme))
    if found is None:
        raise PackProblems([f"no programme {programme!r} in the ledger; import its pack first"])
    areas = found.areas or AREAS
    returns: dict[tuple[str, str], dict[str, Any]] = {}
    rows_of: dict[tuple[str, str], list[Row]] = {}
    seen_area: dict[tuple[str, str, str], Row] = {}
    for row in rows:
        values = row.values
        blank = [c for c in KEY_FIELDS if c in values and not values[c]]
        if blank:
            problems.add(row.order, f"{row.where(blank[0])}: {', '.join(blank)} must not be blank")
            continue
        area = values["area"].lower()
        if area.endswith(".0"):
            area = area[:-2]
        if area != OVERALL and area not in areas:
            problems.add(row.order, f"{row.where('area')}: area {values['area']!r} is not "
                                    f"allowed; allowed: {', '.join(list(areas) + [OVERALL])}")
            continue
        key = (values["case"], values["agency"])
        earlier = seen_area.get((*key, area))
        if earlier is not None:
            problems.add(row.order, f"{row.where('area')}: area {area} for {key[1]} on case "
                                    f"{key[0]} is already on {earlier.at}")
            continue
        seen_area[(*key, area)] = row
        entry = returns.setdefault(key, {"case": key[0], "agency": key[1], "grades": {},
                                         "strengths": {}, "concerns": {}})
        rows_of.setdefault(key, []).append(row)
        _return_fields(entry, row, rows_of[key][0], problems)
        grade = values.get("grade", "")
        if area in UNGRADED_AREAS:
            if grade:
                problems.add(row.order, f"{row.where('grade')}: area {area} takes no grade; "
                                        "leave grade blank")
        elif grade:
            number = read_grade(grade, found.scale)
            if number is None:
                scale = SCALES.get(found.scale)
                allowed = f"; allowed: {scale.describe()}" if scale else ""
                problems.add(row.order, f"{row.where('grade')}: grade {grade!r} is not a whole "
                                        f"number on the {found.scale} scale{allowed}")
            else:
                entry["grades"][area] = number
        for name in ("strengths", "concerns"):
            if values.get(name):
                entry[name][area] = values[name]
    for key, entry in returns.items():
        first = rows_of[key][0]
        if "completed" not in entry:
            if "completed" in first.values or first.cells.get("completed"):
                problems.add(first.order, f"{first.where('completed')} (case {key[0]}, {key[1]}): "
                                          "no completion date; write the day the return was "
                                          "completed (YYYY-MM-DD)")
            entry["completed"] = NOT_GIVEN.isoformat()
        for name in ("auditor", "practitioner"):
            if not entry.get(name):
                if name in first.values or first.cells.get(name):
                    problems.add(first.order, f"{first.where(name)} (case {key[0]}, {key[1]}): "
                                              f"no {name}; name them by their directory id")
                entry[name] = NOBODY
    if not returns:
        return None, _placer([], {}), SetAside()
    keys = list(returns)
    programme_data = {"id": programme, "scale": found.scale,
                      "consolidation": found.consolidation, "areas": dict(areas)}
    refs = sorted({k[0] for k in keys})
    lookup = Lookup(app, (app.ids.case_id(programme, ref) for ref in refs))
    cases: list[dict[str, Any]] = []
    for ref in refs:
        case = lookup.find(CaseAudit, app.ids.case_id(programme, ref))
        if case is None:
            first = min((rows_of[k][0] for k in keys if k[0] == ref), key=lambda r: r.order)
            problems.add(first.order, f"{first.where('case')}: no case {ref!r} in {programme}")
            continue
        cases.append({"ref": ref, "agencies": case.agencies})
    known = {c["ref"] for c in cases}
    kept = [k for k in keys if k[0] in known]
    data = {"partnership": {"id": found.partnership}, "programme": programme_data,
            "cases": cases,
            "returns": [_as_pack(returns[k]) for k in kept]}
    pack, shape, set_aside = parse_pack_leniently(data)
    set_aside.people.add(NOBODY)
    placed = _placer(kept, rows_of)
    for p in shape:
        problems.add(*placed(p))
    return pack, placed, set_aside


def _return_fields(entry: dict[str, Any], row: Row, first: Row, problems: Problems) -> None:
    """A return's auditor, practitioner and completion date, the same on each of its rows."""
    for name in RETURN_FIELDS:
        value = row.values.get(name, "")
        if not value:
            continue
        if name == "completed":
            day = read_date(value)
            if day is None:
                problems.add(row.order, f"{row.where(name)}: completed {value!r} is not a date; "
                                        "write it as YYYY-MM-DD")
                entry.setdefault(name, NOT_GIVEN.isoformat())
                entry.setdefault(f"{name} at", row)
                continue
            value = day.isoformat()
        if name not in entry:
            entry[name] = value
            entry[f"{name} at"] = row
        elif entry[name] != value:
            problems.add(row.order, f"{row.where(name)}: {name} {row.values[name]!r} differs from "
                                    f"{entry[f'{name} at'].at} ({entry[name]!r}) for the same return")


def _as_pack(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not k.endswith(" at")}


FIELD_WORDS = {"grades": "grade", "strengths": "strengths", "concerns": "concerns"}


Placer = Callable[[str], tuple[tuple[int, ...], str]]


def _placer(keys: list[tuple[str, str]], rows_of: dict[tuple[str, str], list[Row]]) -> Placer:
    """Turn a pack's 'returns[i].field.area: ...' into the file's place and plain words."""

    def placed(problem: str) -> tuple[tuple[int, ...], str]:
        match = re.match(r"^returns\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?: (.*)$", problem, re.S)
        if not match:  # a problem of the whole file: first, but the closing word on identifiers
            return ((1 << 30,) if problem == ALLOW_IN_A_FILE else (0,)), problem
        key = keys[int(match.group(1))]
        name, area, rest = match.group(2) or "", match.group(3) or "", match.group(4)
        rows = rows_of[key]
        row = rows[0]
        if area:
            row = next((r for r in rows if r.values.get("area", "").lower() == area), row)
            column = FIELD_WORDS.get(name, name)
            what = f"{column} for area {area}" if area != OVERALL else f"overall {column}"
        else:
            column = name
            what = name
        where = row.where("grade" if name == "grades" else column)
        said = f"{what}: {rest}" if what else rest
        return row.order, f"{where} (case {key[0]}, {key[1]}): {said}"

    return placed
