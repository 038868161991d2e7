"""Answering feedback one issue at a time: the form for one issue (or several), drafts kept.

Every box is optional: whatever is answered is recorded on its own, and the rest can wait for
another day. Nothing typed is lost to an interruption: the form asks Slack to say when it is
closed without being sent (`notify_on_close`), and what was typed is kept as a draft that the
next form for that issue starts from. A draft is its writer's alone; only a sent answer is part
of the audit record.
"""

from __future__ import annotations

from typing import Any

from ledger.personal import ERASED

from . import modals as m
from .blocks import FEEDBACK_RESPOND, area_words, context, escape, plain, plural, sections

Doc = dict[str, Any]
Errors = dict[str, str]

NOT_ONE = ("Please write an answer to this issue, even a short one (for example that you "
           "accept it and what you will change).")
NONE_OF_SEVERAL = ("Write at least one answer before sending; the other issues can wait: "
                   "close the form and what you typed is kept as a draft.")


def issue_numbers(meta: Doc, doc: Doc) -> list[int]:
    """The issues a form holds (its metadata's `i`), those of the feedback only."""
    known = [int(i["number"]) for i in doc.get("issues") or []]
    asked = meta.get("i")
    wanted = [int(n) for n in asked if str(n).isdigit()] if isinstance(asked, list) else known
    return [n for n in wanted if n in known]


def _issue(doc: Doc, n: int) -> Doc:
    return next(i for i in doc.get("issues") or [] if int(i["number"]) == n)


def answer_modal(doc: Doc, programme: Doc | None, meta: Doc, numbers: list[int], person: str
                 ) -> Doc:
    """A form with a box for each issue in `numbers`, each starting from the person's draft,
    else their answer already sent."""
    responses = doc.get("responses") or {}
    drafts = ((doc.get("drafts") or {}).get(person)) or {}
    total = len(doc.get("issues") or [])
    done = sum(1 for i in doc.get("issues") or [] if str(i["number"]) in responses)
    several = len(numbers) > 1
    blocks: list[Doc] = [context(
        f"Case *{escape(doc['case'])}* ({escape(doc['agency'])}) · {done} of "
        f"{plural(total, 'issue')} answered. "
        + ("Answer any of them now and the rest later: each answer is recorded on its own. "
           if several else "")
        + "If you are interrupted, close the form: what you typed is kept as a draft for next "
          "time. Your answers become part of the audit record; drafts do not.")]
    for n in numbers:
        issue = _issue(doc, n)
        key = str(n)
        previous = (responses.get(key) or {}).get("response", "")
        draft = (drafts.get(key) or {}).get("text", "")
        draft = "" if draft == ERASED else draft  # a case's text erased: nothing to go on from
        blocks.extend(sections(f"*{n}. {escape(area_words(issue['area'], programme))}*\n"
                               f"{escape(issue['text'])}"))
        if len(previous) > m.MAX_ANSWER and not draft:
            # Too long for a box to hold: shown whole, never pre-filled clipped (and so never
            # saved back clipped); left empty, the box keeps it as it is.
            blocks.extend(sections(f"_Your answer so far:_\n{escape(previous)}"))
            blocks.append(m._text_input(
                m.issue_block(n), f"A new answer to issue {n}", optional=True,
                hint="Leave this empty to keep your answer above as it is, or write a new one "
                     "to replace it."))
            continue
        if draft:
            hint = "Restored from your draft, not sent yet."
        elif previous:
            hint = "Your answer already sent: change it to replace it."
        else:
            hint = ""
        blocks.append(m._text_input(m.issue_block(n), f"Your answer to issue {n}",
                                    optional=several or bool(previous),
                                    initial=draft or previous, hint=hint))
    title = "Answer issues" if several else f"Answer issue {numbers[0]}"
    view = m._modal(FEEDBACK_RESPOND, title, "Send" if several else "Send answer", blocks,
                    {**meta, "i": numbers})
    view["notify_on_close"] = True
    view["close"] = plain("Close", 24)
    return view


def typed(values: Doc, numbers: list[int]) -> dict[int, str]:
    """What is in each box of the form, stripped (a box not in the submission is left out)."""
    found: dict[int, str] = {}
    for n in numbers:
        raw = m._text(values, m.issue_block(n))
        if raw is not None:
            found[n] = raw.strip()
    return found


def read_answers(doc: Doc, values: Doc, numbers: list[int]) -> tuple[dict[int, str], Errors]:
    """The answers to record (new or changed), or an error for each box that is wrong. Boxes
    left empty wait for another day; a form for one issue needs its answer."""
    responses = doc.get("responses") or {}
    boxes = typed(values, numbers)
    answers: dict[int, str] = {}
    errors: Errors = {}
    for n, text in boxes.items():
        previous = (responses.get(str(n)) or {}).get("response", "")
        if not text:
            continue
        problem = m._too_long(text)
        if problem:
            errors[m.issue_block(n)] = problem
        elif text != previous:
            answers[n] = text
    if not errors and not any(boxes.values()) and numbers:
        already = all(str(n) in responses for n in numbers)
        if not already:
            errors[m.issue_block(numbers[0])] = NOT_ONE if len(numbers) == 1 else NONE_OF_SEVERAL
    return answers, errors


def drafts_to_keep(doc: Doc, values: Doc, numbers: list[int], person: str) -> dict[int, str]:
    """What a closed form held that differs from the person's sent answer or draft ('' clears
    a draft emptied in the form)."""
    responses = doc.get("responses") or {}
    drafts = ((doc.get("drafts") or {}).get(person)) or {}
    keep: dict[int, str] = {}
    for n, text in typed(values, numbers).items():
        sent = (responses.get(str(n)) or {}).get("response", "")
        kept = (drafts.get(str(n)) or {}).get("text", "")
        if len(text) > m.MAX_ANSWER:
            text = text[: m.MAX_ANSWER]
        if text != kept and not (text == sent and not kept):
            keep[n] = text
    return keep


def after_words(doc: Doc, recorded: int) -> str:
    """What a sent form turns into: how many are answered now, and what is left."""
    responses = doc.get("responses") or {}
    issues = doc.get("issues") or []
    done = sum(1 for i in issues if str(i["number"]) in responses)
    said = (f"Thank you. {plural(recorded, 'answer')} recorded; {done} of "
            f"{plural(len(issues), 'issue')} answered.")
    if done == len(issues):
        return said + (" Every issue is answered, so your feedback is acknowledged too."
                       if doc.get("acknowledged_by") else " Every issue is answered.")
    return said + " Answer the others whenever suits you, with their Answer buttons."
