"""How the audit's process went, in figures: concerns and how fast managers answered them,
escalations, feedback acknowledged and answered, judgements revised and moderated."""

from __future__ import annotations

from datetime import date, datetime
from statistics import median
from typing import Any

from .queries import Views

Doc = dict[str, Any]


def _hours(raised: Doc) -> float | None:
    """Hours from a concern being raised to its acknowledgement: by the world dates, and by
    the recorded times within a day when the concern was recorded on the day it was raised."""
    if not raised.get("acknowledged_by"):
        return None
    on = raised.get("acknowledged_on") or raised["acknowledged_at"][:10]
    days = (date.fromisoformat(on) - date.fromisoformat(raised["raised_on"])).days
    if days <= 0 and raised["raised_at"][:10] == raised["raised_on"]:
        took = (datetime.fromisoformat(raised["acknowledged_at"])
                - datetime.fromisoformat(raised["raised_at"]))
        return max(round(took.total_seconds() / 3600, 1), 0.0)
    return float(max(days, 0) * 24)


def duration_words(hours: float | None) -> str:
    if hours is None:
        return "-"
    if hours < 1:
        return "under an hour"
    if hours < 24:
        whole = round(hours)
        return f"{whole} hour{'s' if whole != 1 else ''}"
    days = round(hours / 24)
    return f"{days} day{'s' if days != 1 else ''}"


def process_figures(views: Views, pid: str, cases: list[Doc], publishable: bool) -> Doc:
    due = str(views.programme(pid).get("returns_due") or "")
    late = [{"case": "" if publishable else c["case"], "agency": r["agency"],
             "completed": r["completed"],
             "days_late": (date.fromisoformat(r["completed"]) - date.fromisoformat(due)).days}
            for c in cases for _, r in sorted(c["returns"].items())
            if due and r["completed"] > due]
    concerns = views.concerns(pid)
    waits = [h for h in (_hours(c) for c in concerns) if h is not None]
    steps: dict[str, int] = {}
    for c in concerns:
        for e in c["escalations"]:
            steps[str(e["step"])] = steps.get(str(e["step"]), 0) + 1
    feedback = views.feedback(pid)
    issues = sum(len(f["issues"]) for f in feedback)
    answered = sum(len(f["responses"]) for f in feedback)
    moderations = [{"case": "" if publishable else c["case"], "area": area, "grade": m["grade"],
                    "reason": "" if publishable else m["reason"], "on": m["on"]}
                   for c in cases for area, m in sorted(c["moderations"].items())]
    revisions = [{"case": "" if publishable else c["case"], "agency": r["agency"],
                  "area": r["area"], "previous": r["previous"], "grade": r["grade"],
                  "reason": "" if publishable else r["reason"], "on": r["on"]}
                 for c in cases for r in c.get("revisions") or []]
    return {
        "concerns": {
            "raised": len(concerns),
            "child_at_risk": sum(1 for c in concerns if c["child_at_risk"]),
            "acknowledged": len(waits),
            "unacknowledged": len(concerns) - len(waits),
            "closed": sum(1 for c in concerns if c["closed"]),
            "median_hours_to_acknowledge": round(median(waits), 1) if waits else None,
            "longest_hours_to_acknowledge": max(waits) if waits else None,
            "escalations_by_step": dict(sorted(steps.items())),
        },
        "feedback": {
            "issued": len(feedback),
            "acknowledged": sum(1 for f in feedback if f["acknowledged_by"]),
            "issues": issues,
            "issues_answered": answered,
            "fully_answered": sum(1 for f in feedback
                                  if f["issues"] and len(f["responses"]) >= len(f["issues"])),
        },
        "revisions": revisions,
        "moderations": moderations,
        "returns": {"received": sum(len(c["returns"]) for c in cases),
                    "expected": sum(len(c["agencies"]) for c in cases),
                    "due": due, "late": late},
    }


def process_sentences(process: Doc) -> list[str]:
    """The process figures as sentences, for the formats that print prose."""
    c, f = process["concerns"], process["feedback"]
    out = []
    r = process["returns"]
    line = f"{r['received']} of the {r['expected']} agency returns expected were received"
    if r["due"]:
        when = date.fromisoformat(r["due"])
        late = r["late"]
        line += (f"; {len(late)} came in after the deadline of {when.day} {when:%B %Y}, the "
                 f"latest {max(x['days_late'] for x in late)} days late" if late else
                 f", all by the deadline of {when.day} {when:%B %Y}")
    out.append(line + ".")
    if c["raised"]:
        line = (f"{c['raised']} concern{'s were' if c['raised'] != 1 else ' was'} referred to "
                f"managers during the audit, {c['child_at_risk']} with a child possibly at risk; "
                f"{c['acknowledged']} acknowledged")
        if c["acknowledged"]:
            line += (f" (median {duration_words(c['median_hours_to_acknowledge'])}, longest "
                     f"{duration_words(c['longest_hours_to_acknowledge'])})")
        out.append(line + f", {c['closed']} closed.")
        if c["escalations_by_step"]:
            steps = ", ".join(f"{n} to step {s}" for s, n in c["escalations_by_step"].items())
            out.append(f"Escalations of unanswered concerns: {steps}.")
        else:
            out.append("No concern needed escalating.")
    else:
        out.append("No concern was referred to managers during the audit.")
    out.append(f"Feedback was issued to {f['issued']} practitioner(s); {f['acknowledged']} "
               f"acknowledged it and {f['issues_answered']} of {f['issues']} issues raised "
               f"were answered.")
    out.append(f"{len(process['revisions'])} agency grade(s) were revised and "
               f"{len(process['moderations'])} judgement(s) moderated, each with a reason.")
    return out


def _day(iso: str) -> str:
    when = date.fromisoformat(iso)
    return f"{when.day} {when:%B %Y}"


def correction_lines(process: Doc) -> list[str]:
    """Each revision and moderation with its reason (case and reason left out when the
    report is publishable)."""
    out = []
    for r in process["revisions"]:
        where = f"case {r['case']}, " if r["case"] else ""
        out.append(f"Revised ({where}area {r['area']}, {r['agency']}, {_day(r['on'])}): "
                   f"{r['previous']} to {r['grade']}" + (f"; {r['reason']}" if r["reason"]
                                                          else "") + ".")
    for m in process["moderations"]:
        where = f"case {m['case']}, " if m["case"] else ""
        out.append(f"Moderated ({where}area {m['area']}, {_day(m['on'])}): to {m['grade']}"
                   + (f"; {m['reason']}" if m["reason"] else "") + ".")
    return out
