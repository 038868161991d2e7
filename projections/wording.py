"""Sentences a report makes from its figures: distributions, dates, and what stands out
(ties said as ties) when the author has not written the conclusions."""

from __future__ import annotations

from datetime import date
from typing import Any

from policies.scales import Scale

Doc = dict[str, Any]

NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve"]


def words(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def long_date(day: date) -> str:
    """'15 March 2010', as people write a date."""
    return f"{day.day} {day:%B %Y}"


def date_said(value: date | str | None) -> str:
    """A day the document holds as '2010-01-31', written as people write it; else as it is."""
    if isinstance(value, date):
        return long_date(value)
    try:
        return long_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


def listed(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items
                                                                           else "")


def distribution_words(counts: dict[str, int], scale: Scale, cases: int) -> str:
    """'Adequate or good in eight of the ten cases: good in three, ...' from the counts."""
    graded = sum(counts.values())
    if graded == 0:
        return "No case was graded in this area."
    parts = [f"{scale.label(int(g))} in {words(n)}" for g, n in counts.items() if n]
    of = f"of the {words(cases)} cases" if graded == cases else \
        f"of the {words(graded)} cases graded (of {words(cases)})"
    lead_grades = scale.headline_grades()
    ok = sum(counts.get(str(g), 0) for g in lead_grades)
    phrase = scale.headline_words()
    detail = listed(parts)
    if not lead_grades:
        return f"{detail.capitalize()} {of}."
    return f"{phrase.capitalize()} in {words(ok)} {of}: {detail}."


def _weakest_share(area: Doc, worst: int) -> float:
    return float(area["counts"][str(worst)]) / (area["graded_cases"] or 1)


def _good(area: Doc, scale: Scale) -> int:
    return sum(n for g, n in area["counts"].items() if int(g) <= scale.good_or_better)


def _names(areas: list[Doc]) -> str:
    return listed([f"area {a['number']} ({a['title']})" for a in areas])


def extremes(doc: Doc, scale: Scale) -> tuple[list[Doc], list[Doc]]:
    """The weakest areas (most cases at the weakest grade, by share) and the strongest (most
    good or better), every area that ties included."""
    graded = [a for a in doc["areas"] if a["graded_cases"]]
    if not graded:
        return [], []
    worst = max(scale.grades)
    low = max(_weakest_share(a, worst) for a in graded)
    weakest = [a for a in graded if low and _weakest_share(a, worst) == low]
    high = max(_good(a, scale) / a["graded_cases"] for a in graded)
    strongest = [a for a in graded if high and _good(a, scale) / a["graded_cases"] == high]
    return weakest, strongest


def conclusions(doc: Doc, scale: Scale) -> list[str]:
    """Plain statements the figures support; the narrative is the author's to write."""
    if not doc["cases"] or not any(a["graded_cases"] for a in doc["areas"]):
        return ["No grades have been recorded yet."]
    worst = max(scale.grades)
    weakest, strongest = extremes(doc, scale)
    out = []
    if weakest:
        n = weakest[0]["counts"][str(worst)]
        of = weakest[0]["graded_cases"]
        tie = "The weakest areas, tied," if len(weakest) > 1 else "The weakest area"
        each = " each" if len(weakest) > 1 else ""
        out.append(f"{tie} {'were' if len(weakest) > 1 else 'was'} {_names(weakest)}: "
                   f"{scale.label(worst)} in {words(n)} of {words(of)} cases graded{each}.")
    else:
        out.append(f"No area was judged {scale.label(worst)} in any case.")
    strongest = [a for a in strongest if a not in weakest]
    if strongest:
        n, of = _good(strongest[0], scale), strongest[0]["graded_cases"]
        tie = "The strongest areas, tied," if len(strongest) > 1 else "The strongest area"
        each = " each" if len(strongest) > 1 else ""
        out.append(f"{tie} {'were' if len(strongest) > 1 else 'was'} {_names(strongest)}: "
                   f"{scale.label(scale.good_or_better)} or better in {words(n)} of "
                   f"{words(of)} cases graded{each}.")
    overall = doc["overall"]["counts"]
    out.append(f"Overall, {words(overall[str(worst)])} of the {words(doc['cases'])} cases "
               f"were judged {scale.label(worst)}.")
    hidden = doc["analysis"]["hidden_inadequate"]
    if hidden["cases"]:
        out.append(f"In {words(hidden['cases'])} case{'s' if hidden['cases'] > 1 else ''} the "
                   f"overall judgement was better than {scale.label(worst)} although at least "
                   f"one area was judged {scale.label(worst)}.")
    return out


def key_findings(doc: Doc, scale: Scale) -> list[str]:
    """Without the author's key findings: the themes with most cases of concern, else the
    weakest areas."""
    themes = sorted((t for t in doc["themes"] if t["cases_with_concerns"]),
                    key=lambda t: -t["cases_with_concerns"])
    if themes:
        top = themes[0]["cases_with_concerns"]
        return [f"{t['title']}: concerns in {words(t['cases_with_concerns'])} cases."
                for t in themes if t["cases_with_concerns"] == top]
    weakest, _ = extremes(doc, scale)
    return [f"Area {a['number']} ({a['title']}): {a['words']}" for a in weakest]
