"""Audit packs: a whole audit in one JSON file, checked whole, then imported in one save."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from policies.consolidation import DEFAULT_RULE
from policies.scales import AREAS

from .commands import Agency, Area, PartnershipRef, ProgrammeRef, Ref, SlackTeam
from .ids import DEFAULT_PARTNERSHIP
from .plain_words import pydantic_problems
from .report_commands import Author, GradedArea, Theme

Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9\-]*$",
                                        max_length=64)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
NonEmptyLong = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=10_000)]

MAX_PACK_BYTES = 20 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartnershipIn(Strict):
    """The partnership the pack's programme and people belong to: registered on import if the
    store does not hold it yet (then `name` is needed), else only checked."""

    id: PartnershipRef
    name: Short = ""
    slack_team: SlackTeam | None = None


class ProgrammeIn(Strict):
    id: ProgrammeRef
    title: Short = ""
    board: Short = ""
    opened: date | None = None
    scale: str = "ofsted-2009"
    consolidation: str = DEFAULT_RULE
    areas: dict[Annotated[str, StringConstraints(pattern=r"^[1-9]$")], Short] | None = None
    terms_of_reference: Long = ""
    method: Long = ""
    sample: dict[str, Any] = {}
    channel: Short = ""
    channel_detail: Literal["recorded", "text"] = "recorded"
    baseline: Annotated[str, StringConstraints(pattern=r"^([a-z0-9][a-z0-9\-]*)?$")] = ""
    escalation: list[Annotated[int, Field(ge=1, le=60)]] | None = None
    returns_due: date | None = None


class PersonIn(Strict):
    id: Ref
    name: Short = ""
    agency: Agency
    roles: list[Literal["practitioner", "manager", "auditor", "moderator", "quality-lead",
                        "board"]] = []
    manager: Ref | None = None
    slack_user: Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,30}$")] | None = None


class CaseIn(Strict):
    ref: Ref
    category: Short = ""
    age_band: Short = ""
    gender: Short = ""
    ethnicity: Short = ""
    agencies: list[Agency] = Field(min_length=1)


class ReturnIn(Strict):
    case: Ref
    agency: Agency
    auditor: Ref
    practitioner: Ref
    completed: date
    grades: dict[Area, int]
    strengths: dict[Area, NonEmptyLong] = {}
    concerns: dict[Area, NonEmptyLong] = {}


class ConcernIn(Strict):
    case: Ref
    agency: Agency
    raised_by: Ref
    summary: NonEmptyLong
    child_at_risk: bool = False
    raised_on: date | None = None


class RecommendationIn(Strict):
    number: int = Field(ge=1)
    text: NonEmptyLong


class ActionIn(Strict):
    id: Ref
    recommendation: int = Field(ge=1)
    description: NonEmptyLong
    measure: NonEmptyLong
    owner: Ref
    due: date


class ReportIn(Strict):
    """The author's words for the overview report (see ledger.report_commands)."""

    author: Author | None = None
    written: date | None = None
    """The day the words were written (default: the day imported)."""
    areas: dict[GradedArea, NonEmptyLong] = {}
    themes: list[Theme] = []
    key_findings: list[NonEmptyLong] | None = None
    conclusions: NonEmptyLong | None = None


class Pack(Strict):
    partnership: PartnershipIn | None = None
    programme: ProgrammeIn
    people: list[PersonIn] = []
    cases: list[CaseIn] = []
    returns: list[ReturnIn] = []
    concerns: list[ConcernIn] = []
    recommendations: list[RecommendationIn] = []
    actions: list[ActionIn] = []
    report: ReportIn | None = None

    @property
    def partnership_id(self) -> str:
        """The partnership this pack's programme and people belong to."""
        return self.partnership.id if self.partnership else DEFAULT_PARTNERSHIP

    @property
    def areas(self) -> dict[str, str]:
        return dict(self.programme.areas) if self.programme.areas else dict(AREAS)


class PackProblems(ValueError):
    """Every problem in a pack, each naming where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_pack(data: Any) -> Pack:
    """The pack's shape checked, or PackProblems naming every problem at once."""
    pack, problems, _ = parse_pack_leniently(data)
    if problems:
        raise PackProblems(problems)
    return pack


@dataclass
class SetAside:
    """What a pack names but could not be read (its people, cases and recommendations), so that
    references to them raise no second problem beside the first."""

    people: set[str] = field(default_factory=set)
    cases: set[str] = field(default_factory=set)
    recommendations: set[int] = field(default_factory=set)
    kept: dict[str, list[int]] = field(default_factory=dict)
    """For each list, the place in the file of each item kept (items set aside shift the rest)."""

    def renumber(self, problem: str) -> str:
        """A problem found in the pack less what was set aside, named by its place in the file."""
        match = re.match(r"^([a-z_]+)\[(\d+)\]", problem)
        if not match or match.group(1) not in self.kept:
            return problem
        place = self.kept[match.group(1)][int(match.group(2))]
        return f"{match.group(1)}[{place}]{problem[match.end():]}"

    def note(self, section: str, item: Any) -> None:
        if not isinstance(item, dict):
            return
        key = {"people": "id", "cases": "ref", "recommendations": "number"}.get(section)
        value = item.get(key) if key else None
        if section == "people" and isinstance(value, str):
            self.people.add(value.strip())
        elif section == "cases" and isinstance(value, str):
            self.cases.add(value.strip())
        elif section == "recommendations" and isinstance(value, int):
            self.recommendations.add(value)


_SECTIONS: dict[str, type[Strict]] = {
    "people": PersonIn, "cases": CaseIn, "returns": ReturnIn, "concerns": ConcernIn,
    "recommendations": RecommendationIn, "actions": ActionIn}


def parse_pack_leniently(data: Any) -> tuple[Pack, list[str], SetAside]:
    """The pack's shape checked, every problem named; and the pack less the parts that could
    not be read, so that its references and rules can be checked in the same run."""
    try:
        return Pack.model_validate(data), [], SetAside()
    except ValidationError as e:
        problems = pydantic_problems(e)
        errors = e.errors()
    set_aside = SetAside()
    if not isinstance(data, dict) or not isinstance(data.get("programme"), dict):
        raise PackProblems(problems)
    programme = dict(data["programme"])
    bad_fields = {str(err["loc"][1]) for err in errors
                  if len(err["loc"]) > 1 and err["loc"][0] == "programme"}
    programme = {k: v for k, v in programme.items() if k not in bad_fields}
    if "id" in bad_fields or "id" not in programme:
        raise PackProblems(problems)
    kept: dict[str, Any] = {"programme": programme}
    for section, model in _SECTIONS.items():
        items = data.get(section)
        if not isinstance(items, list):
            continue
        kept[section] = []
        set_aside.kept[section] = []
        for i, item in enumerate(items):
            try:
                model.model_validate(item)
            except ValidationError as e:
                item = _stood_in(section, model, item, e, set_aside)
                if item is None:
                    continue
            kept[section].append(item)
            set_aside.kept[section].append(i)
    if isinstance(data.get("report"), dict):
        try:
            kept["report"] = ReportIn.model_validate(data["report"])
        except ValidationError:
            pass  # named among the problems already
    return Pack.model_validate(kept), sorted(problems, key=place_in_pack), set_aside


NOBODY = "nobody-named"
STAND_INS: dict[str, Any] = {
    "completed": "9999-12-31", "due": "9999-12-31",
    "auditor": NOBODY, "practitioner": NOBODY, "raised_by": NOBODY, "owner": NOBODY,
    "summary": "(named as unreadable)", "description": "(named as unreadable)",
    "measure": "(named as unreadable)", "text": "(named as unreadable)",
}
"""Values that stand in for an item's unreadable field (already named as a problem), so that
the rest of the item is still checked against the rules in the same run."""


def _stood_in(section: str, model: type[Strict], item: Any, error: ValidationError,
              set_aside: SetAside) -> Any:
    """The item with each unreadable field left out (when it may be) or stood in for; None
    (and the item noted as set aside) when that cannot make it readable."""
    if not isinstance(item, dict) or section == "people":  # whose roles others rely on
        set_aside.note(section, item)
        return None
    fixed = dict(item)
    for err in error.errors():
        loc = err["loc"]
        name = str(loc[0]) if loc else ""
        if name in ("grades", "strengths", "concerns") and len(loc) > 1 and \
                isinstance(fixed.get(name), dict):
            fixed[name] = {k: v for k, v in fixed[name].items() if k != loc[1]}
        elif name in STAND_INS:
            fixed[name] = STAND_INS[name]
        elif name not in model.model_fields or not model.model_fields[name].is_required():
            fixed.pop(name, None)  # an unknown field, or one that may be left out
    try:
        model.model_validate(fixed)
    except ValidationError:
        set_aside.note(section, item)
        return None
    set_aside.people.add(NOBODY)
    return fixed


def place_in_pack(problem: str) -> tuple[int, int]:
    section = problem.split("[", 1)[0].split(".", 1)[0].split(":", 1)[0]
    order = ["programme", *_SECTIONS]
    index = problem[len(section) + 1:].split("]", 1)[0] if problem[len(section):][:1] == "[" else ""
    return (order.index(section) if section in order else len(order),
            int(index) if index.isdigit() else -1)
