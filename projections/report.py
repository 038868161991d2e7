"""The overview report, in the example report's order: terms, method, areas, conclusions,
recommendations and the action plan."""

from __future__ import annotations

from datetime import date
from typing import Any

from policies.scales import Scale, scale_named

from .queries import Views, action_status, comparison_data, report_data

Doc = dict[str, Any]

COVERAGE_FIELDS = (("category", "Category of abuse"), ("age_band", "Age band"),
                   ("gender", "Gender"), ("ethnicity", "Ethnicity"),
                   ("agencies", "Agencies involved"))
"""The sample's spread, in the order the terms of reference ask for it."""

NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve"]


def words(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def distribution_words(counts: dict[str, int], scale: Scale, cases: int) -> str:
    """'Adequate or better in eight of the ten cases: good in three, ...' from the counts."""
    graded = sum(counts.values())
    if graded == 0:
        return "No case was graded in this area."
    parts = [f"{scale.label(int(g))} in {words(n)}" for g, n in counts.items() if n]
    of = f"of the {words(cases)} cases" if graded == cases else \
        f"of the {words(graded)} cases graded (of {words(cases)})"
    acceptable = [g for g in scale.grades if g < max(scale.grades)]
    ok = sum(counts[str(g)] for g in acceptable)
    phrase = (scale.acceptable or f"{scale.label(max(acceptable))} or better") if acceptable else ""
    lead = f"{phrase.capitalize()} in {words(ok)} {of}" if acceptable else ""
    detail = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"{lead}: {detail}." if lead else f"{detail.capitalize()} {of}."


def markdown_report(views: Views, pid: str, today: date) -> str:
    data = report_data(views, pid, today)
    programme = views.programme(pid)
    scale = scale_named(programme["scale"])
    coverage = views.coverage(pid)
    lines: list[str] = []
    title = programme["title"] or pid
    lines += [f"# {title}", ""]
    if programme["board"]:
        lines += [f"Report to {programme['board']}. Programme `{pid}`, opened "
                  f"{programme['opened']}. Figures as at {today.isoformat()}.", ""]
    lines += ["## 1. Terms of reference", ""]
    lines += [programme["terms_of_reference"] or "Not recorded for this programme.", ""]
    sample = programme.get("sample") or {}
    tor = programme["terms_of_reference"] or ""
    if sample.get("criteria") and not all(str(c) in tor for c in sample["criteria"]):
        lines += ["The sample was to represent a spread of:", ""]
        lines += [f"- {c}" for c in sample["criteria"]] + [""]
    lines += ["## 2. Methodology", ""]
    if programme["method"]:
        lines += [programme["method"], ""]
    lines += [f"{words(data['cases']).capitalize()} cases were audited. Each agency's auditor "
              f"graded each area on the {scale.title} scale: "
              f"{scale.describe()}.", ""]
    rule = programme["consolidation"]
    lines += [f"The agencies' grades for each area of each case were integrated into one "
              f"judgement per area by the '{rule}' rule"
              + (" (the weakest agency grade stands)" if rule == "worst" else "")
              + ", unless a moderator recorded a moderated judgement with a reason.", ""]
    if coverage.get("cases"):
        lines += ["Sample coverage:", ""]
        for field, label in COVERAGE_FIELDS:
            counts = coverage.get(field) or {}
            spread = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            lines.append(f"- {label}: {spread or 'not recorded'}")
        lines.append("")
    lines += ["## 3. Overview of each area of analysis", "",
              "(Area 1, case details, takes no judgement.)", ""]
    for area in data["areas"]:
        lines += [f"### Area {area['number']}: {area['title']}", ""]
        lines += [distribution_words(area["counts"], scale, data["cases"]), ""]
        lines += [_counts_table(area["counts"], scale), ""]
        if area["strengths"]:
            lines += ["Positive features:", ""] + [f"- {s}" for s in area["strengths"]] + [""]
        if area["concerns"]:
            lines += ["Areas of concern:", ""] + [f"- {c}" for c in area["concerns"]] + [""]
    lines += ["### Overall judgement", ""]
    lines += [distribution_words(data["overall"]["counts"], scale, data["cases"]), ""]
    lines += [_counts_table(data["overall"]["counts"], scale), ""]
    lines += ["## 4. Conclusions", ""] + _conclusions(data, scale) + [""]
    lines += ["## 5. Recommendations", ""]
    recs = {r["number"]: r for r in views.recommendations(pid)}
    if not data["recommendations"]:
        lines += ["No recommendations have been recorded yet.", ""]
    for r in data["recommendations"]:
        lines += [f"{r['number']}. {recs[r['number']]['text']}",
                  f"   *Status: {r['status']}; {r['actions']} action(s), {r['actions_open']} "
                  f"open, {r['actions_overdue']} overdue.*", ""]
    lines += ["## 6. Action plan", ""]
    actions = views.actions(pid)
    if actions:
        lines += ["| Action | Recommendation | Owner | Due | RAG | Status |",
                  "|---|---|---|---|---|---|"]
        for a in actions:
            status = action_state(a, today)
            lines.append(f"| {a['id']}: {_cell(a['description'])} | {a['recommendation']} | "
                         f"{a['owner']} | {a['due']} | {a['rag'] or '-'} | {status} |")
        lines.append("")
    else:
        lines += ["No actions have been planned yet.", ""]
    overdue = [a for a in data["outstanding_actions"] if a["overdue_days"] > 0]
    if overdue:
        lines += [f"Overdue actions: {', '.join(a['id'] for a in overdue)}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def action_state(action: Doc, today: date) -> str:
    """An action's state in a word or three: complete, open, or overdue by N days."""
    overdue = action_status(action, today)["overdue_days"]
    if action["completed"]:
        return "complete"
    return f"overdue by {overdue} days" if overdue else "open"


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def _counts_table(counts: dict[str, int], scale: Scale) -> str:
    head = "| " + " | ".join(f"{g} {scale.label(int(g))}" for g in counts) + " |"
    rule = "|" + "---|" * len(counts)
    body = "| " + " | ".join(str(n) for n in counts.values()) + " |"
    return "\n".join([head, rule, body])


def _conclusions(data: Doc, scale: Scale) -> list[str]:
    """Plain statements the figures support; the narrative is the consultant's to write."""
    if not data["areas"] or not data["cases"]:
        return ["No grades have been recorded yet."]
    worst = max(scale.grades)

    def share(area: Doc) -> float:
        graded = area["graded_cases"] or 1
        return area["counts"][str(worst)] / graded

    def good(area: Doc) -> int:
        return sum(n for g, n in area["counts"].items() if int(g) <= scale.good_or_better)

    graded = [a for a in data["areas"] if a["graded_cases"]]
    if not graded:
        return ["No grades have been recorded yet."]
    weakest = sorted(graded, key=lambda a: (-share(a), a["number"]))[0]
    strongest = sorted(graded, key=lambda a: (-good(a) / a["graded_cases"], a["number"]))[0]
    out = []
    if weakest["counts"][str(worst)]:
        out.append(f"- The weakest area was area {weakest['number']} ({weakest['title']}): "
                   f"{scale.label(worst)} in {words(weakest['counts'][str(worst)])} of "
                   f"{words(weakest['graded_cases'])} cases graded.")
    else:
        out.append(f"- No area was judged {scale.label(worst)} in any case.")
    if strongest is not weakest and good(strongest):
        out.append(f"- The strongest area was area {strongest['number']} "
                   f"({strongest['title']}): {scale.label(scale.good_or_better)} or better in "
                   f"{words(good(strongest))} of {words(strongest['graded_cases'])} cases graded.")
    overall = data["overall"]["counts"]
    out.append(f"- Overall, {words(overall[str(worst)])} of the {words(data['cases'])} cases "
               f"were judged {scale.label(worst)}.")
    return out


def demo_overview(views: Views, pid: str, today: date) -> str:
    """A short, readable overview for the terminal."""
    data = report_data(views, pid, today)
    programme = views.programme(pid)
    scale = scale_named(programme["scale"])
    lines = [f"{programme['title']} ({pid})", f"{programme['board']}", "",
             f"{data['cases']} cases audited; grades integrated by the "
             f"'{programme['consolidation']}' rule.", ""]
    for area in data["areas"]:
        lines.append(f"Area {area['number']} {area['title']}: "
                     + distribution_words(area["counts"], scale, data["cases"]))
    lines.append("Overall: " + distribution_words(data["overall"]["counts"], scale,
                                                  data["cases"]))
    lines.append("")
    lines.append(f"{len(data['recommendations'])} recommendations; "
                 f"{len(data['outstanding_actions'])} actions outstanding, "
                 f"{sum(1 for a in data['outstanding_actions'] if a['overdue_days'])} overdue.")
    open_concerns = [c for c in views.concerns(pid) if not c["closed"]]
    at_risk = sum(1 for c in open_concerns if c["child_at_risk"])
    lines.append(f"{len(open_concerns)} concerns open ({at_risk} with a child possibly at risk).")
    return "\n".join(lines) + "\n"


def comparison_markdown(views: Views, pid: str, baseline: str) -> str:
    """The re-audit set beside its baseline, area by area, in percentages a board can read."""
    data = comparison_data(views, pid, baseline)
    scale = scale_named(views.programme(pid)["scale"])
    worst = scale.label(max(scale.grades))
    lines = [f"## Re-audit compared with the baseline ({baseline})", "",
             f"| Area | Baseline good or better | Re-audit good or better | Change | "
             f"Baseline {worst} | Re-audit {worst} | Change |",
             "|---|---|---|---|---|---|---|"]
    for row in data["areas"]:
        b, r = row["baseline"], row["reaudit"]
        lines.append(f"| {row['title']} | {_pct(b['good_or_better'], b['graded_cases'])} | "
                     f"{_pct(r['good_or_better'], r['graded_cases'])} | "
                     f"{_points(row['change_good_or_better'])} | "
                     f"{_pct(b['weakest'], b['graded_cases'])} | "
                     f"{_pct(r['weakest'], r['graded_cases'])} | "
                     f"{_points(row['change_inadequate'])} |")
    return "\n".join(lines) + "\n"


def _pct(share: float | None, graded: int) -> str:
    return "not graded" if share is None else f"{round(share * 100)}% of {graded}"


def _points(delta: float | None) -> str:
    if delta is None:
        return "-"
    points = round(delta * 100)
    return "no change" if points == 0 else f"{points:+d} points"
