"""Integrating each agency's grade into one judgement per area, with its provenance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    made without an object per contribution: the views' fold calls this once per area of
    every return it folds, and building frozen dataclasses there was a tenth of a rebuild.
    `moderation` is a moderation's fields (grade, reason, by, on)."""
    if not grades_by_agency and moderation is None:
        return None
    ordered = sorted(grades_by_agency.items())
    contributions = [{"agency": agency, "grade": grade} for agency, grade in ordered]
    if moderation is not None:
        return {"grade": moderation["grade"], "rule": "moderated",
                "contributions": contributions,
                "moderation": {f: moderation[f] for f in ("grade", "reason", "by", "on")}}
    return {"grade": RULES[rule](scale, [grade for _, grade in ordered]), "rule": rule,
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
