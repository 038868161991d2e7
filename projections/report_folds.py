"""How the overview report's own facts fold into the `authoring` view: one document per
programme holding the author's words and the versions published."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.overview_report import OverviewReport

if TYPE_CHECKING:
    from .views import Folding


def _started(f: Folding, e: OverviewReport.Created, position: int) -> None:
    f.put("authoring", e.programme, {"programme": e.programme, "author": {}, "areas": {},
                                     "themes": [], "tags": [], "conclusions": "",
                                     "key_findings": [], "versions": []})
    f.put("ids", f.oid, {"view": "authoring", "key": e.programme, "programme": e.programme})


def _written(f: Folding, e: Any, position: int) -> None:
    index = f.get("ids", f.oid)
    if index is None:
        return
    doc = f.get("authoring", index["key"])
    if doc is None:
        return
    if isinstance(e, OverviewReport.AuthorNamed):
        doc["author"] = {"name": e.name, "role": e.role, "on": e.occurred_on}
    elif isinstance(e, OverviewReport.AreaSummaryWritten):
        doc["areas"][e.area] = {"text": e.text, "by": e.by, "on": e.occurred_on}
    elif isinstance(e, OverviewReport.ThemeWritten):
        doc["themes"] = [t for t in doc["themes"] if t["theme"] != e.theme] + [
            {"theme": e.theme, "title": e.title, "text": e.text}]
        doc["tags"] = [t for t in doc["tags"] if t["theme"] != e.theme] + [
            {"theme": e.theme, "case": c["case"], "agency": c.get("agency", ""),
             "area": c["area"], "kind": c["kind"]} for c in e.comments]
    elif isinstance(e, OverviewReport.ConclusionsWritten):
        doc["conclusions"] = e.text
    elif isinstance(e, OverviewReport.KeyFindingsWritten):
        doc["key_findings"] = list(e.findings)
    elif isinstance(e, OverviewReport.Published):
        doc["versions"].append({"version": e.version, "position": e.position,
                                "as_of": e.as_of, "marking": e.marking,
                                "suppress": e.suppress, "publishable": e.publishable,
                                "sha256": e.sha256, "figures": dict(e.figures), "by": e.by,
                                "on": e.occurred_on})
    f.put("authoring", index["key"], doc)


REPORT_HANDLERS: dict[type, Callable[[Folding, Any, int], None]] = {
    OverviewReport.Created: _started,
    OverviewReport.AuthorNamed: _written,
    OverviewReport.AreaSummaryWritten: _written,
    OverviewReport.ThemeWritten: _written,
    OverviewReport.ConclusionsWritten: _written,
    OverviewReport.KeyFindingsWritten: _written,
    OverviewReport.Published: _written,
}
