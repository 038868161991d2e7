"""Grading scales as data: the scale is a property of the programme, never hard-coded."""

from __future__ import annotations

from dataclasses import dataclass, field

OVERALL = "overall"
AREAS: dict[str, str] = {
    "1": "Case details",
    "2": "History of involvement",
    "3": "Referral",
    "4": "Assessment / Section 47 enquiry",
    "5": "Planning and implementing the plan",
    "6": "Review",
    "7": "Management and supervision",
    "8": "Recording and minutes",
}
UNGRADED_AREAS = frozenset({"1"})
GRADED_AREAS: tuple[str, ...] = tuple(a for a in AREAS if a not in UNGRADED_AREAS)


@dataclass(frozen=True)
class Scale:
    """An ordered set of grades; a higher number is a weaker judgement."""

    id: str
    title: str
    labels: dict[int, str]
    overall_only: frozenset[int] = field(default_factory=frozenset)
    good_or_better: int = 2
    acceptable: str = ""
    """How a report says 'every grade but the weakest', as inspectors say it."""

    @property
    def grades(self) -> list[int]:
        return sorted(self.labels)

    def label(self, grade: int) -> str:
        return self.labels[grade]

    def worst(self, grades: list[int]) -> int:
        return max(grades)

    def area_grades(self) -> list[int]:
        return [g for g in self.grades if g not in self.overall_only]

    def describe(self) -> str:
        return ", ".join(f"{g} {self.labels[g]}" for g in self.grades)


SCALES: dict[str, Scale] = {
    "ofsted-2009": Scale(
        id="ofsted-2009",
        title="Ofsted 2009",
        labels={1: "outstanding", 2: "good", 3: "adequate", 4: "inadequate"},
        overall_only=frozenset({1}),
        acceptable="adequate or good",
    ),
    "ofsted-ilacs": Scale(
        id="ofsted-ilacs",
        title="Ofsted ILACS",
        labels={
            1: "outstanding",
            2: "good",
            3: "requires improvement to be good",
            4: "inadequate",
        },
        overall_only=frozenset({1}),
        acceptable="good or requiring improvement",
    ),
}


def scale_named(scale_id: str) -> Scale:
    try:
        return SCALES[scale_id]
    except KeyError:
        raise ValueError(
            f"unknown grading scale {scale_id!r}; allowed: {', '.join(sorted(SCALES))}"
        ) from None


def area_title(area: str, titles: dict[str, str] | None = None) -> str:
    if area == OVERALL:
        return "Overall"
    return (titles or AREAS).get(area, f"Area {area}")
