"""The two messages the bot posts and keeps up to date: a practitioner's feedback, a concern's alert.

Each is built from documents of the views, with a plain `text` for notifications and screen
readers beside its blocks; each is rendered again, as it then stands, when it is updated in place.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from policies.scales import OVERALL
from projections.queries import natural_key

from .blocks import (
    CONCERN_ACKNOWLEDGE,
    CONCERN_RECORD_ACTION,
    FEEDBACK_ACKNOWLEDGE,
    FEEDBACK_ANSWER,
    FEEDBACK_RESPOND,
    FEEDBACK_SEEN,
    Blocks,
    Names,
    actions,
    area_words,
    button,
    context,
    escape,
    grade_words,
    header,
    plural,
    section,
    sections,
    value,
    when,
    when_plain,
)
from .pages import split_text
from .words import day

Doc = dict[str, Any]

AT_RISK = ("*A child may be at risk now.* Contact the children's services front door (MASH) "
           "or emergency services (999) *now*. Do not wait for this audit process or for a reply.")
AT_RISK_PLAIN = ("A child may be at risk now: contact the children's services front door (MASH) "
                 "or emergency services (999) now.")


# ---- the feedback direct message ---------------------------------------------------------


def answered_count(doc: Doc) -> tuple[int, int]:
    """How many of the feedback's issues are answered, of how many."""
    issues = list(doc.get("issues") or [])
    responses = doc.get("responses") or {}
    return sum(1 for i in issues if str(i["number"]) in responses), len(issues)


def drafts_of(doc: Doc, person: str) -> dict[str, Doc]:
    """A person's unsent answers, by issue number."""
    return dict(((doc.get("drafts") or {}).get(person)) or {})


def feedback_message(doc: Doc, programme: Doc | None, names: Names, *, for_manager: bool,
                     zone: tzinfo | None = None) -> tuple[str, Blocks]:
    """A practitioner's feedback on one return: their agency's grades, good practice first, then
    the issues raised and any answers. The practitioner acknowledges it and answers each issue
    on its own; their manager's copy records only that the manager has seen it. Every word of
    it, however long: the blocks are split into messages by the sender (`pages`); moments are
    told in the reader's `zone`."""
    case, agency = doc["case"], doc["agency"]
    title = programme.get("title") if programme else ""
    scale = programme.get("scale", "") if programme else ""
    practitioner = names(doc["practitioner"])
    ref = value(p=doc["programme"], c=case, a=agency)
    issues = list(doc.get("issues") or [])
    responses = doc.get("responses") or {}
    awaiting = [i for i in issues if str(i["number"]) not in responses]
    drafts = {} if for_manager else drafts_of(doc, doc["practitioner"])

    auditor = escape(names(doc["auditor"]))
    if for_manager:
        head = f"Audit feedback for {practitioner}: case {case}"
        intro = (f"A copy for you as {escape(practitioner)}'s manager. The *{escape(agency)}* "
                 f"return for case *{escape(case)}* has been audited by {auditor}."
                 + ("" if doc.get("seen_by") else
                    f" Press *Seen* to record that you have read this copy. It does not "
                    f"acknowledge the feedback for {escape(practitioner)}: only they can."))
    else:
        head = f"Your audit feedback: case {case}"
        todo = ([] if doc.get("acknowledged_by") else ["press *Acknowledge*"]) + \
            (["answer each issue with its *Answer* button (one at a time, whenever suits "
              "you; answering them all acknowledges it too)"] if awaiting else [])
        intro = (f"Your work on case *{escape(case)}* (*{escape(agency)}*) has been audited by "
                 f"{auditor}. " + (f"Please read it, {', then '.join(todo)}." if todo else
                                   "Thank you: nothing more is needed from you."))
    blocks: Blocks = [header(head), section(intro)]
    if title:
        blocks.append(context(f"{escape(title)} (`{escape(doc['programme'])}`), issued "
                              f"on {day(doc.get('issued_on') or '')}"))

    grades = doc.get("grades") or {}
    if grades:
        lines = [f"• {escape(area_words(a, programme))}: *{grade_words(int(g), scale)}*"
                 for a, g in sorted(grades.items(), key=lambda kv: natural_key(kv[0]))
                 if a != OVERALL]
        if OVERALL in grades:
            lines.append(f"• *Overall: {grade_words(int(grades[OVERALL]), scale)}*")
        blocks.append(section("*Grades for your agency's part*\n" + "\n".join(lines)))

    good = list(doc.get("good_practice") or [])
    if good:
        blocks.extend(sections("*Good practice* :white_check_mark:\n" + "\n".join(
            f"• _{escape(area_words(g['area'], programme))}_: {escape(g['text'])}" for g in good)))
    else:
        blocks.append(section("*Good practice*\nNo good practice was noted separately in this "
                              "return."))

    done, total = answered_count(doc)
    if issues:
        blocks.append(section(f"*Issues raised* ({len(issues)}) · *{done} of {total} answered*"))
        for issue in issues:
            n = str(issue["number"])
            text = (f"*{n}. {escape(area_words(issue['area'], programme))}*\n"
                    f"{escape(issue['text'])}")
            if n in responses:
                answer = responses[n]
                text += (f"\n>_Answer from {escape(names(answer.get('by', '')))}:_ "
                         f"{escape(answer['response'])}")
            elif n in drafts:
                text += "\n_Your draft answer is saved, not sent yet._"
            parts = sections(text)
            if not for_manager:  # the issue's own button, after the whole of its text
                label = ("Change answer" if n in responses else
                         "Finish answer" if n in drafts else "Answer")
                parts[-1]["accessory"] = button(label, FEEDBACK_ANSWER, value(
                    p=doc["programme"], c=case, a=agency, i=int(n)))
            blocks.extend(parts)
    else:
        blocks.append(section("*Issues raised*\nNone: there is nothing to answer."))

    status = []
    if doc.get("acknowledged_by"):
        status.append(f":white_check_mark: Acknowledged by {escape(names(doc['acknowledged_by']))}"
                      f" on {when(doc.get('acknowledged_at', ''), zone)}")
    elif for_manager:
        status.append(f"Not yet acknowledged by {escape(practitioner)}")
    else:
        status.append("Not yet acknowledged")
    if issues:
        status.append(f"{done} of {plural(total, 'issue')} answered")
    if doc.get("seen_by"):
        status.append(f"Seen by {escape(names(doc['seen_by']))} (manager) on "
                      f"{when(doc.get('seen_at', ''), zone)}")
    blocks.append(context(" · ".join(status)))

    buttons: Blocks = []
    if for_manager:
        if not doc.get("seen_by"):
            buttons.append(button("Seen", FEEDBACK_SEEN, ref, "primary"))
    else:
        if not doc.get("acknowledged_by"):
            buttons.append(button("Acknowledge", FEEDBACK_ACKNOWLEDGE, ref, "primary"))
        if len(awaiting) > 1:
            buttons.append(button("Answer several", FEEDBACK_RESPOND, ref))
    if buttons:
        blocks.append(actions(f"feedback|{doc['programme']}|{case}|{agency}", *buttons))

    return feedback_text(doc, names, for_manager=for_manager, zone=zone), blocks


def feedback_text(doc: Doc, names: Names, *, for_manager: bool, zone: tzinfo | None = None
                  ) -> str:
    """The notification's words. Slack reads them as mrkdwn too, so names and references are
    escaped: no <!channel>, <@U...> or link can ride in on a person's name."""
    who = f"{escape(names(doc['practitioner']))}'s" if for_manager else "Your"
    text = f"{who} audit feedback on case {escape(doc['case'])} ({escape(doc['agency'])})."
    done, total = answered_count(doc)
    if total:
        text += f" {done} of {total} answered."
    if doc.get("acknowledged_by"):
        text += (f" Acknowledged by {escape(names(doc['acknowledged_by']))} on "
                 f"{when_plain(doc.get('acknowledged_at', ''), zone)}.")
    if for_manager and doc.get("seen_by"):
        text += f" Seen by you on {when_plain(doc.get('seen_at', ''), zone)}."
    return text


# ---- the concern alert ----------------------------------------------------------------------


CHANNEL_SHOWS_TEXT = "text"
"""A programme's `channel_detail` that lets its channel's copy carry the actions' own words;
anything else (the default) says only that an action was recorded, by whom and when."""


def concern_message(doc: Doc, programme: Doc | None, names: Names, *,
                    zone: tzinfo | None = None, channel: bool = False) -> tuple[str, Blocks]:
    """The alert a manager receives. A child at risk is said first, plainly. The programme
    channel's copy (`channel`) carries what a manager typed privately (actions taken, the
    outcome) only when the programme's setting allows it."""
    private = channel and (programme or {}).get("channel_detail") != CHANNEL_SHOWS_TEXT
    blocks: Blocks = []
    if doc.get("child_at_risk"):
        blocks.append(section(":rotating_light: " + AT_RISK))
    blocks.append(header(f"Concern on case {doc['case']} ({doc['agency']})"))
    blocks.extend(sections(escape(doc.get("summary") or "")))
    title = programme.get("title") if programme else ""
    blocks.append(context(
        f"Raised by {escape(names(doc.get('raised_by', '')))} on {day(doc.get('raised_on', ''))}"
        f" · reference `{escape(doc['ref'])}` · {escape(title or doc['programme'])}"))
    for act in doc.get("actions") or []:
        said = (f"*Action recorded by {escape(names(act.get('by', '')))}* on "
                f"{day(act.get('on', ''))}")
        blocks.extend(sections(said + "." if private else
                               f"{said}: {escape(act.get('action', ''))}"))
    if doc.get("closed"):
        status = "Closed" + ("." if private else f": {escape(doc.get('outcome') or '')}")
    elif doc.get("acknowledged_by"):
        status = (f":white_check_mark: Acknowledged by {escape(names(doc['acknowledged_by']))} on "
                  f"{when(doc.get('acknowledged_at', ''), zone)}")
        if not doc.get("actions"):
            status += " · please record the action you take"
    else:
        status = "Waiting for a manager to acknowledge it. Please acknowledge now, then record "\
                 "the action you take."
    if private and (doc.get("actions") or doc.get("closed")):
        status += (" · What was done is shown only to the agency's managers and quality leads, "
                   "not in this channel.")
    blocks.extend({"type": "context", "elements": [{"type": "mrkdwn", "text": piece}]}
                  for piece in split_text(status))
    ref = value(p=doc["programme"], r=doc["ref"])
    buttons: Blocks = []
    if not doc.get("acknowledged_by") and not doc.get("closed"):
        buttons.append(button("Acknowledge", CONCERN_ACKNOWLEDGE, ref, "primary"))
    if not doc.get("closed"):
        buttons.append(button("Record action", CONCERN_RECORD_ACTION, ref))
    if buttons:
        blocks.append(actions(f"concern|{doc['programme']}|{doc['ref']}", *buttons))
    return concern_text(doc, names, zone), blocks


def concern_text(doc: Doc, names: Names, zone: tzinfo | None = None) -> str:
    """The notification's words, escaped as `feedback_text`'s are."""
    text = (AT_RISK_PLAIN + " " if doc.get("child_at_risk") else "") + \
        f"Concern on case {escape(doc['case'])} ({escape(doc['agency'])}), reference " \
        f"{escape(doc['ref'])}."
    if doc.get("acknowledged_by"):
        text += (f" Acknowledged by {escape(names(doc['acknowledged_by']))} on "
                 f"{when_plain(doc.get('acknowledged_at', ''), zone)}.")
    return text
