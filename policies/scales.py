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
    """How a report says the grades it leads with (`headline` or better), as inspectors say it."""
    headline: int = 0
    """The weakest grade the report's lead sentence counts (0: every grade but the weakest)."""

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

    def headline_grades(self) -> list[int]:
        """The grades a report's lead sentence counts together ('adequate or good in eight')."""
        cut = self.headline or max(self.grades) - 1
        return [g for g in self.grades if g <= cut]

    def headline_words(self) -> str:
        grades = self.headline_grades()
        return self.acceptable or (f"{self.label(max(grades))} or better" if grades else "")

    def allowed_grades(self, area: str) -> list[int]:
        """The grades this scale allows for an area, or for the overall judgement."""
        return self.grades if area == OVERALL else self.area_grades()

    def rule_words(self) -> str:
        """Which grades the scale allows where, in a sentence a report can carry."""
        if not self.overall_only:
            return "Every grade may be given to each area and to the overall judgement."
        only = " and ".join(f"{g} ({self.label(g)})" for g in sorted(self.overall_only))
        return (f"{only.capitalize()} is given to the overall judgement only, and only when "
                f"every area is {self.label(self.good_or_better)} or better.")


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
        # Ofsted's inspection of local authority children's services judges each area on the
        # four points, outstanding included, and reports "good or better" as the line.
        headline=2,
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
