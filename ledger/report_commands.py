"""Commands of the overview report: the author's words, and publishing a version."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .commands import Agency, Command, OptionalText, ProgrammeRef, Ref, Text

GradedArea = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[2-9]$")]
ThemeRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                            pattern=r"^[a-z0-9][a-z0-9\-]*$")]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Marking = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class TaggedComment(BaseModel):
    """An auditor's comment a theme stands on: the case, area and kind, and the agency whose
    comment it is (without one, every agency's comment of that kind there)."""

    model_config = ConfigDict(extra="forbid")
    case: Ref
    area: GradedArea
    kind: Literal["strength", "concern"]
    agency: Agency | None = None


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: ThemeRef
    title: Short
    text: OptionalText = ""
    comments: list[TaggedComment] = []


class Author(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Short
    role: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class WriteReport(Command):
    """Any part of the author's words; parts left out stay as they were."""

    programme: ProgrammeRef
    author: Author | None = None
    areas: dict[GradedArea, Text] = {}
    themes: list[Theme] = []
    key_findings: list[Text] | None = None
    conclusions: OptionalText | None = None


class PublishReport(Command):
    programme: ProgrammeRef
    as_of: date | None = None
    marking: Marking = "OFFICIAL-SENSITIVE"
    suppress: int = Field(default=5, ge=0)
    publishable: bool = False
    position: int = Field(ge=0)
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    figures: dict[str, Any] = {}
