"""A pack's `report` section: the author's words recorded as the ledger records them when
written from the command line, checked against the pack and the store first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .base import Act
from .case_audit import CaseAudit
from .overview_report import OverviewReport
from .pack import Pack
from .report_commands import Theme


def theme_words(theme: Theme) -> dict[str, Any]:
    return {"id": theme.id, "title": theme.title, "text": theme.text,
            "comments": [c.model_dump(exclude_none=True) for c in theme.comments]}


def report_from_pack(app: Any, pack: Pack, by: str,
                     cases: Mapping[str, Any]) -> tuple[OverviewReport | None, list[str]]:
    """The overview report with the pack's words recorded (None when it adds nothing), and
    the problems that stop it (a theme naming a case, area or agency the audit has not)."""
    words = pack.report
    if words is None:
        return None, []
    pid = pack.programme.id
    problems = []
    for i, theme in enumerate(words.themes):
        for j, c in enumerate(theme.comments):
            where = f"report.themes[{i}].comments[{j}]"
            case = cases.get(c.case) or app.find(CaseAudit, app.ids.case_id(pid, c.case))
            if case is None:
                problems.append(f"{where}.case: no case {c.case!r} in {pid}")
            elif c.agency and c.agency not in case.agencies:
                problems.append(f"{where}.agency: {c.agency!r} is not involved in case "
                                f"{c.case} (involved: {', '.join(case.agencies)})")
            if c.area not in pack.areas:
                problems.append(f"{where}.area: no area {c.area} in {pid}")
    if problems:
        return None, problems
    act = Act(by, (words.written or date.today()).isoformat())
    report = app.find(OverviewReport, app.ids.overview_report_id(pid))
    if report is None:
        report = OverviewReport._create(OverviewReport.Created,
                                        id=app.ids.overview_report_id(pid), programme=pid,
                                        **act.fields())
    report.write(act, author=(words.author.name, words.author.role) if words.author else None,
                 areas=dict(words.areas), themes=[theme_words(t) for t in words.themes],
                 key_findings=words.key_findings, conclusions=words.conclusions)
    return (report if report.pending_events else None), []
