"""Integrating each agency's grade into one judgement per area, with its provenance."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .scales import Scale


@dataclass(frozen=True)
class Contribution:
    agency: str
    grade: int


@dataclass(frozen=True)
class Moderation:
    grade: int
    reason: str
    by: str
    on: str


@dataclass(frozen=True)
class Judgement:
    """A consolidated judgement that can explain itself to an inspector."""

    grade: int
    rule: str
    contributions: tuple[Contribution, ...]
    moderation: Moderation | None

    def as_dict(self) -> dict[str, Any]:
        # Written out rather than `dataclasses.asdict`, whose recursive deep copy was a
        # quarter of a views rebuild (one call per area of every return folded).
        m = self.moderation
        return {
            "grade": self.grade,
            "rule": self.rule,
            "contributions": [{"agency": c.agency, "grade": c.grade}
                              for c in self.contributions],
            "moderation": {"grade": m.grade, "reason": m.reason, "by": m.by, "on": m.on}
            if m else None,
        }


def _worst(scale: Scale, grades: list[int]) -> int:
    return scale.worst(grades)


def _best(scale: Scale, grades: list[int]) -> int:
    return min(grades)


def _median(scale: Scale, grades: list[int]) -> int:
    ordered = sorted(grades)
    # The weaker of the two middle grades: a tie never flatters practice.
    return ordered[len(ordered) // 2]


RULES: dict[str, Callable[[Scale, list[int]], int]] = {
    "worst": _worst,
    "median": _median,
    "best": _best,
}
DEFAULT_RULE = "worst"


def rule_problem(rule: str) -> str | None:
    if rule in RULES:
        return None
    return f"unknown consolidation rule {rule!r}; allowed: {', '.join(RULES)}"


def judgement_record(
    scale: Scale,
    rule: str,
    grades_by_agency: Mapping[str, int],
    moderation: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """`consolidate`'s judgement as the plain data a view document holds (`Judgement.as_dict`),
    made without an object per contribution. `moderation` is a moderation's fields (grade,
    reason, by, on)."""
    return _record(scale, rule, [{"agency": agency, "grade": grade}
                                 for agency, grade in sorted(grades_by_agency.items())],
                   moderation)


def judgement_records(
    scale: Scale,
    rule: str,
    graded: Iterable[tuple[str, Mapping[str, int]]],
    areas: Iterable[str],
    moderations: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any] | None]:
    """`judgement_record` of each of `areas` at once, from every agency's grades by area
    (`graded`, in the agencies' order) and the moderations by area: the views' fold judges
    every area of a return it folds, and going through the returns once for all of them,
    each contribution made once, took two fifths off judging a case."""
    by_area: dict[str, tuple[list[dict[str, Any]], list[int]]] = {
        area: ([], []) for area in areas}
    for agency, grades in graded:
        for area, grade in grades.items():
            found = by_area.get(area)
            if found is not None:
                found[0].append({"agency": agency, "grade": grade})
                found[1].append(grade)
    combine = RULES[rule]
    out: dict[str, dict[str, Any] | None] = {}
    for area, (contributions, area_grades) in by_area.items():
        moderation = moderations.get(area)
        if moderation is not None:
            out[area] = _record(scale, rule, contributions, moderation)
        elif contributions:
            out[area] = {"grade": combine(scale, area_grades), "rule": rule,
                         "contributions": contributions, "moderation": None}
        else:
            out[area] = None
    return out


def _record(scale: Scale, rule: str, contributions: list[dict[str, Any]],
            moderation: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """One judgement's plain data from its contributions (in the agencies' order)."""
    if moderation is not None:
        return {"grade": moderation["grade"], "rule": "moderated",
                "contributions": contributions,
                "moderation": {"grade": moderation["grade"], "reason": moderation["reason"],
                               "by": moderation["by"], "on": moderation["on"]}}
    if not contributions:
        return None
    return {"grade": RULES[rule](scale, [c["grade"] for c in contributions]), "rule": rule,
            "contributions": contributions, "moderation": None}


def consolidate(
    scale: Scale,
    rule: str,
    grades_by_agency: Mapping[str, int],
    moderation: Moderation | None = None,
) -> Judgement | None:
    """One judgement for an area from every agency that graded it (None if nobody did).

    A moderator's judgement stands over the rule, but the agencies'
    contributions are kept beside it so the moderation can be defended.
    """
    contributions = tuple(
        Contribution(agency, grade) for agency, grade in sorted(grades_by_agency.items())
    )
    if not contributions and moderation is None:
        return None
    if moderation is not None:
        return Judgement(moderation.grade, "moderated", contributions, moderation)
    grade = RULES[rule](scale, [c.grade for c in contributions])
    return Judgement(grade, rule, contributions, None)
