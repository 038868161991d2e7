"""The overview report as a Word document the partnership can edit (python-docx).

It lays out the report document (what `--format json` prints) in the HTML report's order, with
Word's own heading styles and tables so the author can restyle, renumber and add to it; the
protective marking heads and foots every page beside the page number.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from docx import Document
from docx.document import Document as WordDocument
from docx.shared import Mm, RGBColor

from policies.scales import scale_named

from .html import _chart_description, _chart_rows, chart_png
from .office import RAG_FILLS, changed_judgements, fixed_zip, labels_of, report_day
from .process import process_sentences
from .report import moved, theme_count
from .word_parts import (
    add_contents,
    add_page_furniture,
    shade_cell,
    write_bullets,
    write_table,
    write_text,
)
from .wording import date_said

Doc = dict[str, Any]


def docx_report(doc: Doc) -> bytes:
    """The report document as .docx bytes; the same document gives the same bytes."""
    word = Document()
    add_page_furniture(word, doc)
    props = word.core_properties
    props.title = f"{doc.get('title') or doc['programme']}: overview report"
    props.subject = doc.get("marking") or ""
    props.author = (doc.get("author") or {}).get("name") or "audit-ledger"
    props.comments = f"Figures as at {doc.get('as_at', '')}"
    props.revision = 1
    props.created = props.modified = report_day(doc)
    _cover(word, doc)
    for section in SECTIONS:
        section(word, doc)
    add_contents(word)
    out = io.BytesIO()
    word.save(out)
    return fixed_zip(out.getvalue())


# ---- page furniture -----------------------------------------------------------------------


# ---- the report, section by section ----------------------------------------------------


def _cover(word: WordDocument, doc: Doc) -> None:
    if doc.get("board"):
        word.add_paragraph(f"Report to {doc['board']}")
    word.add_heading(doc.get("title") or doc["programme"], level=0)
    word.add_paragraph("Overview report")
    when = doc.get("as_at_words") or doc.get("as_at", "")
    stood = "as they stood on" if doc.get("as_of") else "as at"
    word.add_paragraph(f"Programme {doc['programme']}"
                       + (f", opened {doc['opened']}" if doc.get("opened") else "")
                       + f". Figures {stood} {when}.")
    published = doc.get("published")
    if published:
        word.add_paragraph(f"Published version {published['version']}, "
                           f"{published.get('on_words') or published.get('on', '')}, by "
                           f"{published['by']}; SHA-256 {published['sha256']}.")
    last = doc.get("last_published")
    if last:
        since = ("Since then: " + "; ".join(last["changes"]) + "." if last.get("changes")
                 else "Nothing that changes its figures has been recorded since.")
        word.add_paragraph(f"Version {last['version']} of this report was published on "
                           f"{last.get('on_words') or last.get('on', '')}. {since}")


def _terms(word: WordDocument, doc: Doc) -> None:
    word.add_heading("1. Terms of reference", level=1)
    write_text(word, doc.get("terms_of_reference") or "Not recorded for this programme.")
    if doc.get("sample_criteria"):
        word.add_paragraph("The sample was to represent a spread of:")
        write_bullets(word, doc["sample_criteria"])


def _method(word: WordDocument, doc: Doc) -> None:
    word.add_heading("2. Methodology", level=1)
    write_text(word, doc.get("method") or "")
    scale = doc["scale"]
    word.add_paragraph(f"{doc['cases']} cases were audited. Each agency's auditor graded each "
                       f"area on the {scale['title']} scale, as follows:")
    write_bullets(word, [f"{g['grade']} = {g['label']}" + (f" ({g['note']})" if g.get("note") else "")
                    for g in scale["grades"]])
    if scale.get("rule"):
        word.add_paragraph(scale["rule"])
    rule = doc.get("consolidation", "")
    word.add_paragraph(f"The agencies' grades for each area of each case were integrated into "
                       f"one judgement per area by the ‘{rule}’ rule"
                       + (" (the weakest agency grade stands)" if rule == "worst" else "")
                       + ", unless a moderator recorded a moderated judgement with a reason.")
    coverage = doc.get("coverage") or {}
    if coverage.get("cases"):
        caption = f"Sample coverage ({doc['cases']} cases)"
        if coverage.get("threshold"):
            caption += (f"; counts below {coverage['threshold']} are not shown, so that no "
                        "child can be picked out")
        rows = [[f["label"], ", ".join(f"{r['value']} {r['shown']}" for r in f["rows"])
                 or "not recorded"] for f in coverage["fields"]]
        write_table(word, caption, ["Characteristic", "Cases"], rows, widths=(40,))


def _areas(word: WordDocument, doc: Doc) -> None:
    word.add_heading("3. Overview of each of the areas of analysis", level=1)
    labels = labels_of(doc)
    rows = _chart_rows(doc)
    if any(r["graded"] for r in rows):
        scale = scale_named(doc["scale"]["id"])
        picture = word.add_picture(io.BytesIO(chart_png(rows, scale)), width=Mm(165))
        # The chart's words for those who cannot see it: Word's alternative text.
        picture._inline.docPr.set("title", "Grade distribution per area of analysis")
        picture._inline.docPr.set("descr", _chart_description(rows, scale))
        word.add_paragraph("Integrated judgements per area of analysis and overall: number "
                           "of cases at each grade.", style="Caption")
    else:
        word.add_paragraph("No judgements have been recorded yet, so there is nothing to chart.")
    write_table(word, "Cases at each grade, per area",
           ["Area", *(f"{g} {label}" for g, label in labels.items()), "Graded"],
           [[r["label"], *r["counts"].values(), r["graded"]] for r in rows], widths=(52,))
    for area in doc["areas"]:
        word.add_heading(f"Area of analysis {area['number']}: {area['title']}", level=2)
        write_text(word, area.get("summary") or "")
        if area.get("words"):
            word.add_paragraph(area["words"])
        if area.get("themes"):
            word.add_paragraph("Themes in this area: "
                               + "; ".join(theme_count(t) for t in area["themes"]) + ".")
        if not doc.get("comments_in_appendix"):
            _comments(word, doc, "Positive features", area, "strength", level=3)
            _comments(word, doc, "Areas of concern", area, "concern", level=3)
    word.add_heading("Overall judgement", level=2)
    if doc["overall"].get("words"):
        word.add_paragraph(doc["overall"]["words"])


def _comments(word: WordDocument, doc: Doc, heading: str, area: Doc, kind: str,
              level: int) -> None:
    groups = area.get(f"{kind}_groups")
    if groups is None:  # a document without groups: the comments as they are
        groups = [{"text": t, "cases": 1} for t in area.get(f"{kind}s") or []]
    if not groups:
        return
    word.add_heading(heading, level=level)
    if doc.get("publishable"):
        word.add_paragraph(f"{len(groups)} comment(s), left out of the publishable report.")
        return
    write_bullets(word, [g["text"] + (f" ({g['cases']} cases)" if g["cases"] > 1 else "")
                    for g in groups])


def _themes(word: WordDocument, doc: Doc) -> None:
    if not doc.get("themes"):
        return
    word.add_heading("Themes across the areas", level=1)
    for t in doc["themes"]:
        word.add_heading(t["title"], level=2)
        write_text(word, t.get("text") or "")
        areas = ", ".join(str(a) for a in t["areas"]) or "–"
        counted = theme_count(t).removeprefix(t["title"]).strip(" ()") or "no comments tagged"
        word.add_paragraph(f"{'Areas' if len(t['areas']) > 1 else 'Area'} {areas}: {counted}.")


def _conclusions(word: WordDocument, doc: Doc) -> None:
    word.add_heading("4. Conclusions", level=1)
    if doc.get("key_findings"):
        word.add_heading("Key findings", level=2)
        write_bullets(word, doc["key_findings"])
    if doc.get("conclusions_authored"):
        for para in doc["conclusions"]:
            word.add_paragraph(para)
    else:
        write_bullets(word, [str(c).removeprefix("- ") for c in doc.get("conclusions") or []])


def _process(word: WordDocument, doc: Doc) -> None:
    if not doc.get("process"):
        return
    word.add_heading("How the audit was carried out", level=1)
    write_bullets(word, process_sentences(doc["process"]))
    changes = changed_judgements(doc["process"])
    if changes:
        write_table(word, "Judgements revised and moderated, with their reasons",
               ["Case", "Area", "Change", "By", "Reason", "On"], changes,
               widths=(14, 12, 26, 24, 74, 24))


def _analysis(word: WordDocument, doc: Doc) -> None:
    analysis = doc.get("analysis")
    if not analysis:
        return
    word.add_heading("Analysis by agency", level=1)
    labels = labels_of(doc)
    if analysis["agencies"]:
        write_table(word, "Each agency's own grades (before integration): areas, then overall",
               ["Agency", "Returns", *(f"{g} {label}" for g, label in labels.items()),
                *(f"Overall {label}" for label in labels.values())],
               [[a["agency"], a["returns"], *(a["areas"][g] for g in labels),
                 *(a["overall"][g] for g in labels)] for a in analysis["agencies"]],
               widths=(30, 16))
    else:
        word.add_paragraph("No agency has made a return yet.")
    worst = list(labels.values())[-1]
    hidden = analysis["hidden_inadequate"]
    if not hidden["cases"]:
        word.add_paragraph(f"No case's overall judgement hides an area judged {worst}.")
        return
    word.add_paragraph(f"{hidden['cases']} case(s) judged better than {worst} overall had at "
                       f"least one area judged {worst}:")
    write_bullets(word, [f"{'Case ' + h['case'] if h['case'] else 'A case'}: overall "
                    f"{labels[str(h['overall'])]}; {worst} in area(s) "
                    f"{', '.join(str(a) for a in h['areas'])}." for h in hidden["list"]])


def _comparison(word: WordDocument, doc: Doc) -> None:
    comparison = doc.get("comparison")
    if not comparison:
        return
    word.add_heading(f"Re-audit compared with the baseline ({comparison['baseline']})", level=1)
    write_table(word, "Cases then and now, area by area",
           ["Area", comparison["good_label"].capitalize(),
            comparison["weakest_label"].capitalize()],
           [[row["title"], moved(row, "good_or_better_cases"), moved(row, "weakest_cases")]
            for row in comparison["areas"]], widths=(74,))
    for warning in comparison.get("warnings") or []:
        word.add_paragraph(f"Note: {warning}")


def _recommendations(word: WordDocument, doc: Doc) -> None:
    word.add_heading("5. Recommendations", level=1)
    if not doc["recommendations"]:
        word.add_paragraph("No recommendations have been recorded yet.")
    for r in doc["recommendations"]:
        para = word.add_paragraph()
        para.add_run(f"{r['number']}. ").bold = True
        para.add_run(r.get("text") or "")
        status = word.add_paragraph(f"Status: {r['status']}; {r['actions']} action(s), "
                                    f"{r['actions_open']} open, {r['actions_overdue']} overdue.")
        status.paragraph_format.left_indent = Mm(8)
        status.runs[0].italic = True


def _action_plan(word: WordDocument, doc: Doc) -> None:
    word.add_heading("6. Action plan", level=1)
    actions = doc.get("actions") or []
    if not actions:
        word.add_paragraph("No actions have been planned yet.")
        return
    when = doc.get("as_at_words") or doc.get("as_at", "")
    table = write_table(word, f"SMART action plan as at {when}",
                   ["Action", "What will be done, and how we will know", "Rec.", "Owner",
                    "Due", "RAG", "Status"],
                   [[a["id"], a["description"] + (f"\nMeasure: {a['measure']}"
                                                  if a.get("measure") else ""),
                     a["recommendation"], a["owner"], date_said(a["due"]), a.get("rag") or "–",
                     a["status"]] for a in actions], widths=(16, 60, 12, 24, 23, 14, 25))
    for row, action in zip(table.rows[1:], actions, strict=True):
        if action.get("rag") in RAG_FILLS:
            shade_cell(row.cells[5], RAG_FILLS[action["rag"]])
    overdue = doc.get("overdue_actions") or [
        a["id"] for a in doc.get("outstanding_actions") or [] if a["overdue_days"] > 0]
    if overdue:
        para = word.add_paragraph()
        run = para.add_run(f"Overdue actions: {', '.join(overdue)}.")
        run.bold = True
        run.font.color.rgb = RGBColor(0xB3, 0x26, 0x1E)


def _appendix(word: WordDocument, doc: Doc) -> None:
    """Once the author has written, the auditors' comments follow the report, area by area."""
    if not doc.get("comments_in_appendix") or doc.get("publishable"):
        return
    word.add_heading("Appendix: the auditors' comments, area by area", level=1)
    for area in doc["areas"]:
        if area.get("strength_groups") or area.get("concern_groups"):
            word.add_heading(f"Area {area['number']}: {area['title']}", level=2)
            _comments(word, doc, "Positive features", area, "strength", level=3)
            _comments(word, doc, "Areas of concern", area, "concern", level=3)


def _author(word: WordDocument, doc: Doc) -> None:
    author = doc.get("author") or {}
    if author.get("name"):
        word.add_paragraph("\n".join(x for x in (author["name"], author.get("role"),
                                                 author.get("on_words")) if x))


SECTIONS: list[Callable[[WordDocument, Doc], None]] = [
    _terms, _method, _areas, _themes, _conclusions, _process, _analysis, _recommendations,
    _action_plan, _comparison, _author, _appendix]


# ---- building blocks ------------------------------------------------------------------


"""Millimetres between the margins of an A4 page with 18 mm margins."""


