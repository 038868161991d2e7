"""The overview report's own facts: the author's words, and each version published.

The figures of a report are folded from the audit's events; what the author writes about them
(a summary per area, themes across the areas with the comments that bear them out, the key
findings, the conclusions, who wrote it) and each published version are facts of their own,
recorded with who and when like any other.
"""

from __future__ import annotations

from typing import Any

from .base import Act, LedgerAggregate

TAG_KINDS = ("strength", "concern")


class OverviewReport(LedgerAggregate):
    TOPIC = "audit-ledger:OverviewReport"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:OverviewReportStarted"
        programme: str

    class AuthorNamed(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ReportAuthorNamed"
        name: str
        role: str

        def apply(self, report: OverviewReport) -> None:
            report.author = {"name": self.name, "role": self.role, "on": self.occurred_on}

    class AreaSummaryWritten(LedgerAggregate.Event):
        TOPIC = "audit-ledger:AreaSummaryWritten"
        area: str
        text: str

        def apply(self, report: OverviewReport) -> None:
            report.areas[self.area] = self.text

    class ThemeWritten(LedgerAggregate.Event):
        """A theme across the areas, and the auditors' comments that bear it out (each a case,
        area, kind and, optionally, agency: without one, every agency's comment there)."""

        TOPIC = "audit-ledger:ThemeWritten"
        theme: str
        title: str
        text: str
        comments: list[dict[str, str]]

        def apply(self, report: OverviewReport) -> None:
            report.themes[self.theme] = {"title": self.title, "text": self.text,
                                         "comments": [dict(c) for c in self.comments]}

    class ConclusionsWritten(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ConclusionsWritten"
        text: str

        def apply(self, report: OverviewReport) -> None:
            report.conclusions = self.text

    class KeyFindingsWritten(LedgerAggregate.Event):
        TOPIC = "audit-ledger:KeyFindingsWritten"
        findings: list[str]

        def apply(self, report: OverviewReport) -> None:
            report.key_findings = list(self.findings)

    class Published(LedgerAggregate.Event):
        """A version frozen: the log's position it was read at, the day it counts to and how it
        was asked for, so the same document can be made again whatever is recorded later, and
        the SHA-256 of that document, so anyone can tell it is the same."""

        TOPIC = "audit-ledger:ReportPublished"
        version: int
        position: int
        as_of: str
        marking: str
        suppress: int
        publishable: bool
        sha256: str
        figures: dict[str, Any]
        """The counts it showed (per area, returns, moderations...), for saying what changed."""

        def apply(self, report: OverviewReport) -> None:
            report.versions.append({"version": self.version, "position": self.position,
                                    "as_of": self.as_of, "marking": self.marking,
                                    "suppress": self.suppress,
                                    "publishable": self.publishable, "sha256": self.sha256,
                                    "by": self.by, "on": self.occurred_on})

    def __init__(self, *, programme: str, by: str, occurred_on: str, key: str) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.author: dict[str, Any] = {}
        self.areas: dict[str, str] = {}
        self.themes: dict[str, dict[str, Any]] = {}
        self.conclusions = ""
        self.key_findings: list[str] = []
        self.versions: list[dict[str, Any]] = []

    def write(self, act: Act, *, author: tuple[str, str] | None = None,
              areas: dict[str, str] | None = None, themes: list[dict[str, Any]] | None = None,
              key_findings: list[str] | None = None, conclusions: str | None = None) -> int:
        """Record each part that says something new (parts left out stay as they were);
        returns how many parts were written."""
        before = len(self.pending_events)
        if author and (self.author.get("name"), self.author.get("role")) != author:
            self.record(OverviewReport.AuthorNamed, act, name=author[0], role=author[1])
        for area, text in sorted((areas or {}).items()):
            if self.areas.get(area) != text:
                self.record(OverviewReport.AreaSummaryWritten, act, area=area, text=text)
        for theme in themes or []:
            said = {k: theme[k] for k in ("title", "text", "comments")}
            if self.themes.get(theme["id"]) != said:
                self.record(OverviewReport.ThemeWritten, act, theme=theme["id"], **said)
        if key_findings is not None and self.key_findings != key_findings:
            self.record(OverviewReport.KeyFindingsWritten, act, findings=list(key_findings))
        if conclusions is not None and self.conclusions != conclusions:
            self.record(OverviewReport.ConclusionsWritten, act, text=conclusions)
        return len(self.pending_events) - before
