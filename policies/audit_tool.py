"""The multi-agency audit tool's questions: what an auditor asks of the case file in each area."""

from __future__ import annotations

from .scales import AREAS, OVERALL

QUESTIONS: dict[str, tuple[str, ...]] = {
    "1": ("Which agencies know the child and family, since when?",
          "Is the child's plan current, and under which category?"),
    "2": ("Is there a chronology of the agency's involvement, and is it up to date?",
          "Were earlier concerns and their outcomes taken into account?"),
    "3": ("Was the referral made promptly, and did it say clearly what the worry was?",
          "Was the referral acknowledged and its outcome fed back?"),
    "4": ("Was the child seen, and seen alone, and were their wishes and feelings recorded?",
          "Did the assessment or section 47 enquiry draw on every agency's information?"),
    "5": ("Is the plan specific about who does what by when?",
          "Did the agency do what the plan asked of it, and did it make a difference?"),
    "6": ("Were reviews and core groups held on time, with this agency present or reporting?",
          "Did reviews test whether the child is safer, and change the plan when not?"),
    "7": ("Is management oversight of the case recorded, with decisions and reasons?",
          "Was the practitioner supervised on this case, and did it shape the work?"),
    "8": ("Are records up to date, accurate and signed, with minutes shared on time?",
          "Could someone new to the case understand it from the record?"),
    OVERALL: ("Taking every area together, how well did this agency help keep the child safe?",),
}
"""The questions of the standard areas (the 2009 Lontown audit tool's eight areas)."""


def questions_for(area: str, title: str) -> tuple[str, ...]:
    """An area's questions when it is the standard area of that number; none for a programme's
    own areas (their titles say what to look at)."""
    if area != OVERALL and AREAS.get(area) != title:
        return ()
    return QUESTIONS.get(area, ())
