"""A case's history told as a story: for each step, the day it happened in the world, what
happened and who did it, what they wrote, and the judgement after it; never the ledger's own
event names, storage times or JSON. The bot and the console both tell it, each in its own
markup (`told` gives the plain pieces)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from policies.scales import OVERALL, area_title, scale_named

Doc = dict[str, Any]

STORY = {
    "CaseSelected": "The case was selected for audit",
    "ReturnRecorded": "{agency}'s return was recorded",
    "AreaGraded": "{agency} graded {area} {grade}",
    "GradeRevised": "{agency}'s grade for {area} was revised from {previous} to {grade}",
    "JudgementModerated": "{area} was moderated to {grade}",
    "FeedbackIssued": "Feedback was sent to {practitioner} ({agency})",
    "FeedbackAcknowledged": "{whose} feedback was acknowledged",
    "FeedbackSeenByManager": "{whose} feedback was seen by the practitioner's manager",
    "IssueResponded": "Issue {issue} of {whose} feedback was answered",
    "ConcernRaised": "A concern was raised about {agency}'s work",
    "ConcernAcknowledged": "The concern was acknowledged",
    "ConcernActionRecorded": "Action on the concern was recorded",
    "ConcernEscalated": "The concern was escalated to step {step}",
    "ConcernClosed": "The concern was closed",
    "CaseTextErased": "The case's written text was erased",
}
"""What each kind of step is, said as people say it (never the ledger's own names)."""

IMPORTED = "import"
ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?\b")


def day_words(value: date | str) -> str:
    """ "Wednesday 24 June 2009"."""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return "an unknown day"
    if isinstance(d, datetime):
        d = d.date()
    return format_date(d, "EEEE d MMMM y", locale="en_GB")


def dates_said(text: str) -> str:
    """Text the ledger wrote ("deadline 2026-04-07") with its dates said as people say them."""
    return ISO_DAY.sub(lambda m: day_words(m.group(1)), text)


def story_words(event: str) -> str:
    """A step's kind in words; one the story does not know yet, from its name's words."""
    if event in STORY:
        return STORY[event]
    spaced = re.sub(r"(?<!^)(?=[A-Z])", " ", event).lower()
    return spaced[:1].upper() + spaced[1:]


def grade_words(grade: Any, scale: str) -> str:
    try:
        return f"{grade} {scale_named(scale).label(int(grade))}"
    except (KeyError, ValueError, TypeError):
        return str(grade)


def area_words(area: str, programme: Doc | None) -> str:
    """ "Area 4 Assessment"; "Area 9" for an area without a title, never "Area 9 Area 9"."""
    if area == OVERALL:
        return "Overall"
    title = area_title(area, (programme or {}).get("areas") or None)
    return title if title.lower() == f"area {area}".lower() else f"Area {area} {title}"


@dataclass(frozen=True)
class Told:
    day: str
    what: str
    who: str
    said: str
    after: str
    """The judgement after the step ("4 inadequate"), or the judgements it changed."""
    many: bool
    """Whether `after` holds several areas' judgements."""


def told(s: Doc, programme: Doc | None, names: Callable[[str], str],
         area: str | None) -> Told:
    """One step of `projections.history.case_history`, in plain words."""
    scale = str((programme or {}).get("scale", ""))
    fields = {"agency": s.get("agency", ""), "area": area_words(str(s.get("area", "")), programme),
              "grade": grade_words(s.get("grade", ""), scale),
              "previous": grade_words(s.get("previous", ""), scale),
              "practitioner": names(str(s.get("practitioner", ""))), "issue": s.get("issue", ""),
              "step": s.get("step", ""),
              "whose": f"{s['agency']}'s" if s.get("agency") else "the"}  # feedback's steps
    what = story_words(s["event"]).format(**fields)
    what = "T" + what[1:] if what.startswith("the ") else what  # not an agency's id
    if s.get("event") == "ConcernRaised" and s.get("child_at_risk"):
        what += " (a child may be at risk)"
    who = ("(as loaded from the audit pack)" if s.get("by") == IMPORTED
           else f"by {names(str(s.get('by', '')))}")
    said = next((s[k] for k in ("reason", "summary", "action", "outcome", "response")
                 if isinstance(s.get(k), str) and s.get(k)), "")
    after = s.get("judgement") if area else s.get("judgements")
    if isinstance(after, dict) and "grade" in after:
        now, many = grade_words(after["grade"], scale), False
    elif isinstance(after, dict) and after:
        now = "; ".join(f"{area_words(str(a), programme)} {grade_words(g, scale)}"
                        for a, g in after.items())
        many = True
    else:
        now, many = "", False
    return Told(day_words(s.get("occurred_on") or s.get("recorded_at", "")), what, who,
                dates_said(said), now, many)


def told_plainly(s: Doc, programme: Doc | None, names: Callable[[str], str],
                 area: str | None) -> str:
    """One step as a line of plain text, for the console."""
    t = told(s, programme, names, area)
    line = f"{t.day}: {t.what} {t.who}" + (f": {t.said}" if t.said else ".")
    if t.after:
        line += f" Judgement{'s' if t.many else ''} now: {t.after}."
    return line


def moment_words(value: datetime | str) -> str:
    """ "Tuesday 1 December 2026 at 11:49 am", in England's time (the console's reader)."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return "an unknown time"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return format_datetime(moment, "EEEE d MMMM y 'at' h:mm a",
                           tzinfo=ZoneInfo("Europe/London"), locale="en_GB")
