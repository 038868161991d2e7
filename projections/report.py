"""The overview report in Markdown, in the example report's order: terms, method, areas,
themes, conclusions, process, analysis, recommendations and the action plan.

Laid out from the report document (`projections.report_document`), the one source every
format renders."""

from __future__ import annotations

from datetime import date
from typing import Any

from policies.scales import scale_named

from .inert import markdown_document, markdown_text
from .process import correction_lines, process_sentences
from .queries import Views
from .report_figures import report_data
from .wording import date_said, distribution_words, listed, words

Doc = dict[str, Any]


def markdown_report(doc: Doc) -> str:
    """The report document as Markdown; the same document gives the same text. People's text
    is written inert (`projections.inert`): it shows, it never links, embeds or lays out."""
    raw, doc = doc, markdown_document(doc)
    lines: list[str] = []
    lines += [f"**{doc['marking']}**", ""] if doc["marking"] else []
    lines += [f"# {doc['title']}", ""]
    lines += [_published_line(doc), ""] if doc.get("published") else []
    said = f"Figures as {'they stood on' if doc['as_of'] else 'at'} {doc['as_at_words']}."
    lines += [(f"Report to {doc['board']}. " if doc["board"] else "")
              + f"Programme `{doc['programme']}`, opened {date_said(doc['opened'])}. {said}", ""]
    lines += _since(doc)
    lines += ["## 1. Terms of reference", ""]
    lines += [prose(raw["terms_of_reference"]) or "Not recorded for this programme.", ""]
    if doc["sample_criteria"]:
        lines += ["The sample was to represent a spread of:", ""]
        lines += [f"- {c}" for c in doc["sample_criteria"]] + [""]
    lines += ["## 2. Methodology", ""]
    if doc["method"]:
        lines += [prose(raw["method"]), ""]
    scale = doc["scale"]
    grades = "; ".join(f"{g['grade']} {g['label']}" + (f" ({g['note']})" if g["note"] else "")
                       for g in scale["grades"])
    lines += [f"{words(doc['cases']).capitalize()} cases were audited. Each agency's auditor "
              f"graded each area on the {scale['title']} scale: {grades}. {scale['rule']}", ""]
    rule = doc["consolidation"]
    lines += [f"The agencies' grades for each area of each case were integrated into one "
              f"judgement per area by the '{rule}' rule"
              + (" (the weakest agency grade stands)" if rule == "worst" else "")
              + ", unless a moderator recorded a moderated judgement with a reason.", ""]
    cov = doc["coverage"]
    if cov["cases"]:
        lines += ["Sample coverage" + (f" (counts below {cov['threshold']} are not shown, so "
                                       "that no child can be picked out):" if cov["threshold"]
                                       else ":"), ""]
        for f in cov["fields"]:
            spread = ", ".join(f"{r['value']} {r['shown']}" for r in f["rows"])
            lines.append(f"- {f['label']}: {spread or 'not recorded'}")
        lines.append("")
    lines += ["## 3. Overview of each area of analysis", "",
              "(Area 1, case details, takes no judgement.)", ""]
    for area in doc["areas"]:
        lines += [f"### Area {area['number']}: {area['title']}", ""]
        if area["summary"]:
            lines += [area["summary"], ""]
        lines += [area["words"], ""]
        lines += [_counts_table(area["counts"], scale), ""]
        if area["themes"]:
            lines += ["Themes in this area: " + "; ".join(theme_count(t)
                                                          for t in area["themes"]) + ".", ""]
        if not doc["comments_in_appendix"]:
            lines += _comment_list("Positive features", area["strength_groups"], doc)
            lines += _comment_list("Areas of concern", area["concern_groups"], doc)
    lines += ["### Overall judgement", ""]
    lines += [doc["overall"]["words"], ""]
    lines += [_counts_table(doc["overall"]["counts"], scale), ""]
    if doc["themes"]:
        lines += ["## Themes across the areas", ""]
        for t in doc["themes"]:
            lines += [f"### {t['title']}", ""]
            if t["text"]:
                lines += [t["text"], ""]
            areas = [str(a) for a in t["areas"]]
            lines += [f"*{'Areas' if len(areas) > 1 else 'Area'} {listed(areas) or '-'}: "
                      f"{theme_count(t).removeprefix(t['title']).strip(' ()') or 'no comments tagged'}.*",
                      ""]
    lines += ["## 4. Conclusions", ""]
    if doc["key_findings"]:
        lines += ["Key findings:", ""] + [f"- {k}" for k in doc["key_findings"]] + [""]
    for para in doc["conclusions"]:
        lines += [para if doc["conclusions_authored"] else f"- {para}"]
        lines += [""] if doc["conclusions_authored"] else []
    lines += [""] if not doc["conclusions_authored"] else []
    lines += ["## How the audit was carried out", ""]
    lines += [f"- {s}" for s in process_sentences(doc["process"])] + [""]
    corrections = correction_lines(doc["process"])
    if corrections:
        lines += ["Judgements corrected, with the reasons given:", ""]
        lines += [f"- {c}" for c in corrections] + [""]
    lines += _analysis(doc)
    lines += ["## 5. Recommendations", ""]
    if not doc["recommendations"]:
        lines += ["No recommendations have been recorded yet.", ""]
    for r in doc["recommendations"]:
        lines += [f"{r['number']}. {r['text']}",
                  f"   *Status: {r['status']}; {r['actions']} action(s), {r['actions_open']} "
                  f"open, {r['actions_overdue']} overdue.*", ""]
    lines += ["## 6. Action plan", ""]
    if doc["actions"]:
        lines += ["| Action | Recommendation | Owner | Due | RAG | Status |",
                  "|---|---|---|---|---|---|"]
        for a in doc["actions"]:
            lines.append(f"| {a['id']}: {_cell(a['description'])} | {a['recommendation']} | "
                         f"{a['owner']} | {date_said(a['due'])} | {a['rag'] or '-'} | {a['status']} |")
        lines.append("")
    else:
        lines += ["No actions have been planned yet.", ""]
    if doc["overdue_actions"]:
        lines += [f"Overdue actions: {', '.join(doc['overdue_actions'])}.", ""]
    if doc.get("comparison"):
        lines += [comparison_markdown(doc["comparison"], doc["scale"]), ""]
    if doc["author"].get("name"):
        a = doc["author"]
        lines += [a["name"]] + ([a["role"]] if a.get("role") else []) + \
                 ([a["on_words"]] if a.get("on_words") else []) + [""]
    if doc["comments_in_appendix"] and not doc["publishable"]:
        lines += ["## Appendix: the auditors' comments, area by area", ""]
        for area in doc["areas"]:
            if area["strength_groups"] or area["concern_groups"]:
                lines += [f"### Area {area['number']}: {area['title']}", ""]
                lines += _comment_list("Positive features", area["strength_groups"], doc)
                lines += _comment_list("Areas of concern", area["concern_groups"], doc)
    lines += [f"**{doc['marking']}**", ""] if doc["marking"] else []
    return "\n".join(lines).rstrip() + "\n"


def theme_count(theme: Doc) -> str:
    said = []
    if theme["cases_with_concerns"]:
        said.append(f"concerns in {words(theme['cases_with_concerns'])} case"
                    + ("s" if theme["cases_with_concerns"] != 1 else ""))
    if theme["cases_with_strengths"]:
        said.append(f"strengths in {words(theme['cases_with_strengths'])} case"
                    + ("s" if theme["cases_with_strengths"] != 1 else ""))
    return f"{theme['title']} ({', '.join(said)})"


def prose(text: str) -> str:
    """Programme or author's text in Markdown: its own '- ' lists kept as lists, everything
    else in it inert."""
    return "\n".join(f"- {markdown_text(line.strip()[2:])}" if line.strip().startswith("- ")
                     else markdown_text(line) for line in text.splitlines())


def _published_line(doc: Doc) -> str:
    p = doc["published"]
    return (f"*Published version {p['version']}, {p['on_words']}, by {p['by']}; "
            f"SHA-256 {p['sha256']}.*")


def _since(doc: Doc) -> list[str]:
    last = doc.get("last_published")
    if not last:
        return []
    out = [f"Version {last['version']} of this report was published on {last['on_words']}."]
    changes = last.get("changes") or []
    out += [" Since then: " + "; ".join(changes) + "."] if changes else \
        [" Nothing that changes its figures has been recorded since."]
    return ["".join(out), ""]


def _comment_list(heading: str, groups: list[Doc], doc: Doc) -> list[str]:
    if not groups:
        return []
    if doc["publishable"]:
        n = sum(g["cases"] for g in groups)
        return [f"{heading}: {len(groups)} comment(s) over {n} case mention(s) "
                "(left out of the publishable report).", ""]
    out = [f"{heading}:", ""]
    for g in groups:
        extra = f" ({g['cases']} cases)" if g["cases"] > 1 else ""
        out.append(f"- {g['text']}{extra}")
    return out + [""]


def _analysis(doc: Doc) -> list[str]:
    scale = doc["scale"]
    labels = {str(g["grade"]): g["label"] for g in scale["grades"]}
    out = ["## Analysis by agency", ""]
    agencies = doc["analysis"]["agencies"]
    if agencies:
        out += ["| Agency | Returns | " + " | ".join(f"{g} {labels[g]}" for g in labels)
                + " | Overall " + " / ".join(labels) + " |",
                "|---|---|" + "---|" * len(labels) + "---|"]
        for a in agencies:
            out.append(f"| {a['agency']} | {a['returns']} | "
                       + " | ".join(str(a["areas"][g]) for g in labels) + " | "
                       + " / ".join(str(a["overall"][g]) for g in labels) + " |")
        out.append("")
    else:
        out += ["No agency has made a return yet.", ""]
    hidden = doc["analysis"]["hidden_inadequate"]
    worst = labels[max(labels, key=int)]
    if hidden["cases"]:
        out += [f"{words(hidden['cases']).capitalize()} case(s) judged better than {worst} "
                f"overall had at least one area judged {worst}:", ""]
        for h in hidden["list"]:
            who = f"Case {h['case']}" if h["case"] else "A case"
            out.append(f"- {who}: overall {labels[str(h['overall'])]}; {worst} in area(s) "
                       f"{', '.join(str(a) for a in h['areas'])}.")
        out.append("")
    else:
        out += [f"No case's overall judgement hides an area judged {worst}.", ""]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def _counts_table(counts: dict[str, int], scale: Doc) -> str:
    labels = {str(g["grade"]): g["label"] for g in scale["grades"]}
    head = "| " + " | ".join(f"{g} {labels[g]}" for g in counts) + " |"
    rule = "|" + "---|" * len(counts)
    body = "| " + " | ".join(str(n) for n in counts.values()) + " |"
    return "\n".join([head, rule, body])


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


def comparison_markdown(data: Doc, scale: Doc) -> str:
    """The re-audit beside its baseline, area by area, in counts of cases."""
    good, weakest = data["good_label"], data["weakest_label"]
    lines = [f"## Re-audit compared with the baseline ({data['baseline']})", "",
             f"| Area | {good.capitalize()} | {weakest.capitalize()} |", "|---|---|---|"]
    for row in data["areas"]:
        lines.append(f"| {row['title']} | {moved(row, 'good_or_better_cases')} | "
                     f"{moved(row, 'weakest_cases')} |")
    if data["warnings"]:
        lines += [""] + [f"Note: {w}" for w in data["warnings"]]
    return "\n".join(lines) + "\n"


def moved(row: Doc, field: str) -> str:
    """'4 of 10 -> 2 of 8': cases then and now, never a percentage of a handful."""
    b, r = row["baseline"], row["reaudit"]
    then = f"{b[field]} of {b['graded_cases']}" if b["graded_cases"] else "not graded"
    now = f"{r[field]} of {r['graded_cases']}" if r["graded_cases"] else "not graded"
    return f"{then} -> {now}"
