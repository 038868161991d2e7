"""Auditors' comments gathered for a report: near-duplicates said once with how many cases
made them, grouped under the author's themes where the author tagged them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

Doc = dict[str, Any]

NEAR = 0.8
"""How alike two comments' words must be (difflib's ratio over their normalised words) to be
said once: close enough that they differ by a word or two, not merely share a subject."""

ERASED_TEXT = "[erased]"


@dataclass(frozen=True)
class Comment:
    """One auditor's comment on one area of one case."""

    case: str
    agency: str
    area: str
    kind: str  # "strength" or "concern"
    text: str


@dataclass
class Group:
    text: str
    cases: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    theme: str = ""
    words: list[str] = field(default_factory=list)

    def doc(self) -> Doc:
        return {"text": self.text, "cases": len(self.cases), "agencies": sorted(self.agencies),
                "case_refs": list(self.cases), "theme": self.theme}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def alike(a: list[str], b: list[str]) -> bool:
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= NEAR and matcher.ratio() >= NEAR


def case_comments(cases: list[Doc], area: str) -> list[Comment]:
    """Every comment the returns made on an area: case by case, agencies alphabetically."""
    out = []
    for case in cases:
        for agency in sorted(case["returns"]):
            r = case["returns"][agency]
            for kind, texts in (("strength", r["strengths"]), ("concern", r["concerns"])):
                if area in texts:
                    out.append(Comment(case["case"], agency, area, kind, texts[area]))
    return out


def grouped(comments: list[Comment], themes: dict[tuple[str, str, str, str], str]) -> list[Doc]:
    """Comments of one kind, near-duplicates merged (the first wording kept, every case
    counted once), most cases first, then in the order first made. `themes` maps (case,
    agency, area, kind) to the author's theme tag; a group takes its first tagged member's."""
    groups: list[Group] = []
    for c in comments:
        words = _words(c.text)
        theme = themes.get((c.case, c.agency, c.area, c.kind)) or themes.get(
            (c.case, "", c.area, c.kind), "")
        home = next((g for g in groups if c.text != ERASED_TEXT and g.text != ERASED_TEXT
                     and (not theme or not g.theme or theme == g.theme)
                     and alike(g.words, words)), None)
        if home is None:
            home = Group(c.text, words=words)
            groups.append(home)
        if c.case not in home.cases:
            home.cases.append(c.case)
        if c.agency not in home.agencies:
            home.agencies.append(c.agency)
        home.theme = home.theme or theme
    order = sorted(range(len(groups)), key=lambda i: (-len(groups[i].cases), i))
    return [groups[i].doc() for i in order]
