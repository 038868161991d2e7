"""The overview report as one document: every figure and sentence any format shows.

Markdown, HTML, PDF, Word and Excel are layouts of this document (and `--format json` is the
document itself), so no two formats can disagree and a published version, frozen as this
document, renders the same in every format whatever is recorded later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from policies.scales import OVERALL, Scale, scale_named

from .analysis import agency_breakdown, hidden_inadequate
from .comments import case_comments, grouped
from .process import process_figures
from .queries import Views, action_status, plan_status
from .report_figures import comparison_data, distribution
from .wording import conclusions, distribution_words, key_findings, long_date, words

Doc = dict[str, Any]

DEMOGRAPHICS = (("category", "Category of abuse"), ("age_band", "Age band"),
                ("gender", "Gender"), ("ethnicity", "Ethnicity"))
"""The sample's spread that could pick out a child: suppressed when small."""
COVERAGE_FIELDS = (*DEMOGRAPHICS, ("agencies", "Agencies involved"))
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"


@dataclass(frozen=True)
class Options:
    """How a report is asked for: as at which day, what it hides, what it is compared with."""

    today: date
    suppress: int = 5
    publishable: bool = False
    baseline: str = ""
    marking: str = DEFAULT_MARKING
    as_of: bool = False
    """True when the figures are only what had happened by `today` (`--as-of`)."""


def report_document(views: Views, pid: str, options: Options) -> Doc:
    """The overview report of a programme, as the document every format renders."""
    programme = views.programme(pid)
    scale = scale_named(programme["scale"])
    cases = views.cases(pid)
    summary = views.summary(pid)
    authored = views.store.get("authoring", pid) or {}
    tags = {(t["case"], t.get("agency", ""), t["area"], t["kind"]): t["theme"]
            for t in authored.get("tags") or []}
    areas = []
    for area, title in programme["areas"].items():
        if area == "1":
            continue
        counts = distribution(summary["areas"].get(area, {}), programme["scale"])
        comments = case_comments(cases, area)
        strengths = grouped([c for c in comments if c.kind == "strength"], tags)
        concerns = grouped([c for c in comments if c.kind == "concern"], tags)
        written = (authored.get("areas") or {}).get(area) or {}
        areas.append({
            "number": int(area), "title": title, "graded_cases": sum(counts.values()),
            "counts": counts,
            "words": distribution_words(counts, scale, summary["cases"]),
            "summary": written.get("text", ""),
            "strengths": [] if options.publishable else [g["text"] for g in strengths],
            "concerns": [] if options.publishable else [g["text"] for g in concerns],
            "strength_groups": _groups(strengths, options),
            "concern_groups": _groups(concerns, options),
            "themes": _area_themes(area, authored, tags),
        })
    overall = distribution(summary["areas"].get(OVERALL, {}), programme["scale"])
    doc: Doc = {
        "programme": pid,
        "cases": summary["cases"],
        "title": programme["title"] or pid,
        "board": programme["board"],
        "opened": programme["opened"],
        "as_at": options.today.isoformat(),
        "as_at_words": long_date(options.today),
        "as_of": options.as_of,
        "marking": options.marking,
        "publishable": options.publishable,
        "suppress_below": options.suppress,
        "terms_of_reference": programme["terms_of_reference"] or "",
        "sample_criteria": _criteria(programme),
        "method": programme["method"] or "",
        "scale": _scale(scale),
        "consolidation": programme["consolidation"],
        "coverage": coverage(views.coverage(pid), options.suppress),
        "areas": areas,
        "overall": {"graded_cases": sum(overall.values()), "counts": overall,
                    "words": distribution_words(overall, scale, summary["cases"])},
        "themes": _themes(authored, cases, tags, options),
        "comments_in_appendix": any(a["summary"] for a in areas),
        "analysis": {"agencies": agency_breakdown(cases, programme, scale),
                     "hidden_inadequate": hidden_inadequate(cases, programme, scale,
                                                            options.publishable)},
        "process": process_figures(views, pid, cases, options.publishable),
        "author": _author(authored.get("author") or {}),
        "published": None,
        "last_published": None,
    }
    doc["key_findings"] = list(authored.get("key_findings") or []) or key_findings(doc, scale)
    doc["conclusions"] = _paragraphs(authored.get("conclusions", "")) or conclusions(doc, scale)
    doc["conclusions_authored"] = bool(authored.get("conclusions"))
    plan = plan_status(views, pid, options.today)
    texts = {r["number"]: r["text"] for r in views.recommendations(pid)}
    doc["recommendations"] = [{**r, "text": texts.get(r["number"], "")}
                              for r in plan["recommendations"]]
    doc["actions"] = [_action(a, options.today) for a in views.actions(pid)]
    doc["outstanding_actions"] = plan["outstanding_actions"]
    doc["overdue_actions"] = [a["id"] for a in plan["outstanding_actions"] if a["overdue_days"]]
    doc["comparison"] = (comparison_data(views, pid, options.baseline) if options.baseline
                         else None)
    versions = [v for v in authored.get("versions") or [] if v["on"] <= doc["as_at"]]
    if versions:
        last = versions[-1]
        doc["last_published"] = {
            **{k: last[k] for k in ("version", "on", "by", "marking", "sha256")},
            "on_words": long_date(date.fromisoformat(last["on"])),
            "changes": changes_since(last.get("figures") or {}, figures_of(doc), scale)}
    return doc


def figures_of(doc: Doc) -> Doc:
    """The counts a version showed, kept with it so that later reports can say what moved."""
    process = doc["process"]
    return {"areas": {str(a["number"]): a["counts"] for a in doc["areas"]},
            "titles": {str(a["number"]): a["title"] for a in doc["areas"]},
            "overall": doc["overall"]["counts"],
            "returns": process["returns"]["received"],
            "moderations": len(process["moderations"]),
            "revisions": len(process["revisions"]),
            "concerns": process["concerns"]["raised"]}


def changes_since(then: Doc, now: Doc, scale: Scale) -> list[str]:
    """What moved since a version was published, in words: judgements per area, late returns,
    moderations and revisions, concerns."""
    if not then:
        return []
    out = []
    for area, counts in now["areas"].items():
        before = (then.get("areas") or {}).get(area)
        if before is not None and before != counts:
            out.append(f"area {area} ({now['titles'][area]}) {_moved(before, counts, scale)}")
    if then.get("overall") not in (None, now["overall"]):
        out.append(f"overall {_moved(then['overall'], now['overall'], scale)}")
    for field, what in (("returns", "return(s) received"), ("moderations",
                        "judgement(s) moderated"), ("revisions", "grade(s) revised"),
                        ("concerns", "concern(s) raised")):
        more = now[field] - int(then.get(field, 0))
        if more > 0:
            out.append(f"{more} more {what}")
    return out


def _moved(before: dict[str, int], after: dict[str, int], scale: Scale) -> str:
    return ", ".join(f"{scale.label(int(g))} {before.get(g, 0)} -> {n}"
                     for g, n in after.items() if before.get(g, 0) != n)


def _groups(groups: list[Doc], options: Options) -> list[Doc]:
    if not options.publishable:
        return groups
    return [{"text": "", "cases": g["cases"], "agencies": g["agencies"], "case_refs": [],
             "theme": g["theme"]} for g in groups]


def _criteria(programme: Doc) -> list[str]:
    """Sample criteria not already spelt out in the terms of reference."""
    criteria = [str(c) for c in (programme.get("sample") or {}).get("criteria") or []]
    tor = programme["terms_of_reference"] or ""
    return [] if all(c in tor for c in criteria) else criteria


def _scale(scale: Scale) -> Doc:
    return {"id": scale.id, "title": scale.title, "rule": scale.rule_words(),
            "headline": scale.headline_words(),
            "grades": [{"grade": g, "label": scale.label(g),
                        "areas": g in scale.allowed_grades("2"),
                        "note": "overall judgement only" if g in scale.overall_only else ""}
                       for g in scale.grades]}


def coverage(cov: Doc, threshold: int) -> Doc:
    """The sample's spread, each demographic count below `threshold` shown as 'fewer than N',
    and one more count of the same characteristic hidden whenever only one is, so that no
    hidden count can be worked out from the number of cases (0: nothing hidden)."""
    fields = []
    for field, label in COVERAGE_FIELDS:
        counts = sorted((cov.get(field) or {}).items())
        hide: set[str] = set()
        if threshold and field != "agencies":
            hide = {k for k, n in counts if n < threshold}
            if len(hide) == 1 and len(counts) > 1:
                shown = sorted((n, k) for k, n in counts if k not in hide)
                hide.add(shown[0][1])
        fields.append({"field": field, "label": label, "rows": [
            {"value": k, "count": None if k in hide else n,
             "shown": f"fewer than {threshold}" if k in hide and n < threshold
             else ("suppressed" if k in hide else str(n))} for k, n in counts]})
    return {"cases": cov.get("cases", 0), "threshold": threshold, "fields": fields}


def _themes(authored: Doc, cases: list[Doc], tags: dict[tuple[str, str, str, str], str],
            options: Options) -> list[Doc]:
    """The author's themes, each with the cases and areas its tagged comments came from."""
    out = []
    for theme in authored.get("themes") or []:
        mine = [(k, t) for k, t in tags.items() if t == theme["theme"]]
        strengths = sorted({k[0] for k, _ in mine if k[3] == "strength"})
        concerns = sorted({k[0] for k, _ in mine if k[3] == "concern"})
        out.append({"theme": theme["theme"], "title": theme["title"], "text": theme["text"],
                    "areas": sorted({int(k[2]) for k, _ in mine if k[2].isdigit()}),
                    "cases_with_strengths": len(strengths),
                    "cases_with_concerns": len(concerns),
                    "cases": len(set(strengths) | set(concerns)),
                    "case_refs": [] if options.publishable
                    else sorted(set(strengths) | set(concerns))})
    return out


def _author(author: Doc) -> Doc:
    on = author.get("on") or ""
    return {"name": author.get("name", ""), "role": author.get("role", ""), "on": on,
            "on_words": f"{date.fromisoformat(on):%B %Y}" if on else ""}


def _area_themes(area: str, authored: Doc,
                 tags: dict[tuple[str, str, str, str], str]) -> list[Doc]:
    """The author's themes an area's comments bear out, with how many cases say so."""
    out = []
    for theme in authored.get("themes") or []:
        mine = [k for k, t in tags.items() if t == theme["theme"] and k[2] == area]
        if mine:
            out.append({"theme": theme["theme"], "title": theme["title"],
                        "cases_with_strengths": len({k[0] for k in mine if k[3] == "strength"}),
                        "cases_with_concerns": len({k[0] for k in mine if k[3] == "concern"})})
    return out


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _action(action: Doc, today: date) -> Doc:
    s = action_status(action, today)
    state = ("complete" if action["completed"] else
             f"overdue by {s['overdue_days']} days" if s["overdue_days"] else "open")
    return {"id": action["id"], "recommendation": action["recommendation"],
            "description": action["description"], "measure": action["measure"],
            "owner": action["owner"], "due": action["due"], "ratified": action["ratified"],
            "rag": action["rag"], "status": state, "completed_on": action["completed_on"],
            "overdue_days": s["overdue_days"],
            "progress": [{"on": p["on"], "rag": p["rag"], "note": p["note"]}
                         for p in action["progress"]]}


__all__ = ["Options", "report_document", "words", "DEFAULT_MARKING"]
