"""What a lead reads across the cases: each agency's grades, and cases whose overall
judgement hides an inadequate area."""

from __future__ import annotations

from typing import Any

from policies.scales import OVERALL, Scale

Doc = dict[str, Any]


def agency_breakdown(cases: list[Doc], programme: Doc, scale: Scale) -> list[Doc]:
    """Per agency: how many returns it made, and its own grades (before integration) per
    grade of the scale, over every area it graded and over its overall grades."""
    out: dict[str, Doc] = {}
    for case in cases:
        for agency, r in case["returns"].items():
            row = out.setdefault(agency, {
                "agency": agency, "returns": 0,
                "areas": {str(g): 0 for g in scale.grades},
                "overall": {str(g): 0 for g in scale.grades}})
            row["returns"] += 1
            for area, grade in r["grades"].items():
                bucket = row["overall"] if area == OVERALL else row["areas"]
                if str(grade) in bucket:
                    bucket[str(grade)] += 1
    return [out[a] for a in sorted(out)]


def hidden_inadequate(cases: list[Doc], programme: Doc, scale: Scale, publishable: bool) -> Doc:
    """Cases judged better than the weakest grade overall with an area at the weakest grade."""
    worst = max(scale.grades)
    found = []
    for case in cases:
        judged = case["judgements"]
        overall = (judged.get(OVERALL) or {}).get("grade")
        weak = sorted((a for a, j in judged.items() if a != OVERALL and j["grade"] == worst),
                      key=lambda a: int(a) if a.isdigit() else 99)
        if overall is not None and overall < worst and weak:
            found.append({"case": "" if publishable else case["case"], "overall": overall,
                          "areas": [int(a) for a in weak if a.isdigit()]})
    return {"cases": len(found), "list": found}
