"""The report's figures gathered as the document the file formats lay out.

Built from `report_data` (what `--format json` prints) and the same view reads and wording the
HTML report makes, so the Word and Excel reports compute nothing of their own. It gives way to
the report document of issue 13's authoring work once that is on main.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from policies.scales import scale_named

from .queries import Views, report_data
from .report import _conclusions, action_state, distribution_words

Doc = dict[str, Any]

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"


def file_document(views: Views, pid: str, today: date, marking: str = DEFAULT_MARKING) -> Doc:
    data = report_data(views, pid, today)
    programme = views.programme(pid)
    scale = scale_named(programme["scale"])
    texts = {r["number"]: r["text"] for r in views.recommendations(pid)}
    return {
        **data,
        "title": programme["title"] or pid, "board": programme["board"],
        "opened": programme["opened"], "as_at": today.isoformat(), "marking": marking,
        "terms_of_reference": programme["terms_of_reference"] or "",
        "method": programme["method"] or "", "consolidation": programme["consolidation"],
        "scale": {"id": scale.id, "title": scale.title,
                  "grades": [{"grade": g, "label": scale.label(g),
                              "note": "overall judgement only" if g in scale.overall_only
                              else ""} for g in scale.grades]},
        "areas": [{**a, "words": distribution_words(a["counts"], scale, data["cases"])}
                  for a in data["areas"]],
        "overall": {**data["overall"],
                    "words": distribution_words(data["overall"]["counts"], scale,
                                                data["cases"])},
        "conclusions": [line.removeprefix("- ") for line in _conclusions(data, scale)],
        "recommendations": [{**r, "text": texts.get(r["number"], "")}
                            for r in data["recommendations"]],
        "actions": [{"id": a["id"], "recommendation": a["recommendation"],
                     "description": a["description"], "measure": a["measure"],
                     "owner": a["owner"], "due": a["due"], "rag": a["rag"],
                     "status": action_state(a, today), "completed_on": a["completed_on"],
                     "overdue_days": s["overdue_days"], "progress": a["progress"]}
                    for a, s in _with_status(views.actions(pid), data)],
    }


def _with_status(actions: list[Doc], data: Doc) -> list[tuple[Doc, Doc]]:
    overdue = {a["id"]: a["overdue_days"] for a in data["outstanding_actions"]}
    return [(a, {"overdue_days": overdue.get(a["id"], 0)}) for a in actions]
