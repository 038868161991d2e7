"""The overview report's figures and a re-audit's comparison with its baseline, computed from
the views (`projections.queries`) in the shapes INTERFACE.md gives."""

from __future__ import annotations

from datetime import date

from policies.scales import OVERALL, area_title, scale_named

from .queries import Doc, NotInViews, Views, plan_status


def distribution(counts: dict[str, int], scale_id: str) -> dict[str, int]:
    scale = scale_named(scale_id)
    return {str(g): int(counts.get(str(g), 0)) for g in scale.grades}


def report_data(views: Views, pid: str, today: date) -> Doc:
    """The overview report's figures, in INTERFACE.md's JSON shape."""
    programme = views.programme(pid)
    summary = views.summary(pid)
    cases = views.cases(pid)
    scale_id = programme["scale"]
    areas_out = []
    for area, title in programme["areas"].items():
        if area == "1":
            continue
        counts = distribution(summary["areas"].get(area, {}), scale_id)
        strengths, concerns = _comments(cases, area)
        areas_out.append({"number": int(area), "title": title,
                          "graded_cases": sum(counts.values()), "counts": counts,
                          "strengths": strengths, "concerns": concerns})
    overall = distribution(summary["areas"].get(OVERALL, {}), scale_id)
    return {
        "programme": pid,
        "cases": summary["cases"],
        "areas": areas_out,
        "overall": {"graded_cases": sum(overall.values()), "counts": overall},
        **plan_status(views, pid, today),
    }

def _comments(cases: list[Doc], area: str) -> tuple[list[str], list[str]]:
    strengths: list[str] = []
    concerns: list[str] = []
    for case in cases:
        for agency in sorted(case["returns"]):
            r = case["returns"][agency]
            if area in r["strengths"] and r["strengths"][area] not in strengths:
                strengths.append(r["strengths"][area])
            if area in r["concerns"] and r["concerns"][area] not in concerns:
                concerns.append(r["concerns"][area])
    return strengths, concerns


def comparison_data(views: Views, pid: str, baseline: str) -> Doc:
    """How each area's distribution moved between a baseline audit and its re-audit: areas
    matched by title (by number, with a warning, where the titles differ), in counts."""
    now = views.programme(pid)
    base = views.programme(baseline)
    if now["scale"] != base["scale"]:
        raise NotInViews(f"{baseline} was graded on {base['scale']} and {pid} on {now['scale']}; "
                         "distributions on different scales cannot be compared")
    scale = scale_named(now["scale"])
    worst = str(max(scale.grades))
    good = [str(g) for g in scale.grades if g <= scale.good_or_better]
    before_summary, after_summary = views.summary(baseline), views.summary(pid)
    by_title = {t.strip().lower(): a for a, t in base["areas"].items() if a != "1"}
    areas, warnings = [], []
    for area in [a for a in now["areas"] if a != "1"] + [OVERALL]:
        title = area_title(area, now["areas"])
        then = area if area == OVERALL else by_title.get(title.strip().lower(), "")
        if not then and area in base["areas"]:
            then = area
            warnings.append(f"Area {area} is '{title}' here but '{base['areas'][area]}' in "
                            f"{baseline}; compared by number.")
        elif not then:
            warnings.append(f"Area {area} ('{title}') has no match in {baseline}.")
        elif then != area:
            warnings.append(f"Area {area} ('{title}') was area {then} in {baseline}.")
        before = distribution(before_summary["areas"].get(then, {}) if then else {},
                              now["scale"])
        after = distribution(after_summary["areas"].get(area, {}), now["scale"])
        row = {"area": area, "baseline_area": then, "title": title,
               "baseline": _shares(before, good, worst), "reaudit": _shares(after, good, worst)}
        row["change_good_or_better"] = _delta(row["reaudit"]["good_or_better"],
                                              row["baseline"]["good_or_better"])
        row["change_inadequate"] = _delta(row["reaudit"]["weakest"], row["baseline"]["weakest"])
        areas.append(row)
    return {"programme": pid, "baseline": baseline, "areas": areas, "warnings": warnings,
            "good_label": f"{scale.label(scale.good_or_better)} or better",
            "weakest_label": scale.label(int(worst))}


def _shares(counts: dict[str, int], good: list[str], worst: str) -> Doc:
    graded = sum(counts.values())
    return {
        "graded_cases": graded,
        "counts": counts,
        "good_or_better_cases": sum(counts[g] for g in good),
        "weakest_cases": counts[worst],
        "good_or_better": round(sum(counts[g] for g in good) / graded, 3) if graded else None,
        "weakest": round(counts[worst] / graded, 3) if graded else None,
    }


def _delta(after: float | None, before: float | None) -> float | None:
    if after is None or before is None:
        return None
    return round(after - before, 3)
