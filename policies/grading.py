"""Grade rules: which grade a return may give to which area."""

from __future__ import annotations

from collections.abc import Mapping

from .scales import OVERALL, UNGRADED_AREAS, Scale


def area_keys(areas: Mapping[str, str]) -> list[str]:
    return [a for a in areas if a not in UNGRADED_AREAS] + [OVERALL]


def grade_problems(
    scale: Scale, area: str, grade: int, other_grades: Mapping[str, int], areas: Mapping[str, str]
) -> list[str]:
    """Why this grade may not stand for this area ([] when it may).

    `other_grades` are the rest of the same return's grades, needed because
    the overall-only grade (outstanding) needs every graded area good or better; only the
    areas' grades are read, so the whole return's grades may be given.
    """
    if area in UNGRADED_AREAS:
        return [f"area {area} ({areas.get(area, 'case details')}) takes no grade"]
    if area != OVERALL and area not in areas:
        allowed = ", ".join(area_keys(areas))
        return [f"unknown area {area!r}; allowed: {allowed}"]
    if grade not in scale.labels:
        allowed = ", ".join(str(g) for g in scale.grades)
        return [f"grade {grade} is not on the {scale.id} scale; allowed: {allowed}"]
    if area != OVERALL and grade in scale.overall_only:
        allowed = ", ".join(str(g) for g in scale.area_grades())
        return [
            f"grade {grade} ({scale.label(grade)}) is for the overall judgement only; "
            f"an area takes {allowed}"
        ]
    if area == OVERALL and grade in scale.overall_only:
        weaker = sorted(a for a, g in other_grades.items()
                        if a != OVERALL and g > scale.good_or_better)
        if weaker:
            return [
                f"overall grade {grade} ({scale.label(grade)}) needs every graded area "
                f"good or better; area(s) {', '.join(weaker)} are not"
            ]
    return []


def return_problems(
    scale: Scale, grades: Mapping[str, int], areas: Mapping[str, str]
) -> list[str]:
    """All problems with one agency's set of grades, each prefixed by its area."""
    problems: list[str] = []
    for area, grade in grades.items():
        others = {a: g for a, g in grades.items() if a != area}
        problems += [f"{area}: {p}" for p in grade_problems(scale, area, grade, others, areas)]
    return problems
