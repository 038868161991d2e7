"""The worker's own messages: escalated concern alerts, reminders and the weekly digest.

Pure: documents in, text and blocks out (built from the bot's own pieces and messages).
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from policies.escalation import DEFAULT_LADDER

from . import blocks as b
from . import words
from .messages import concern_message
from .replies import action_block

Doc = dict[str, Any]


def _step_words(step: int) -> str:
    for s in DEFAULT_LADDER:
        if s.number == step:
            return s.who
    return f"step {step}"


def concern_alert(doc: Doc, programme: Doc | None, names: b.Names, *, step: int = 1,
                  reason: str = "", can_act: bool = True, stand_in: bool = False,
                  zone: tzinfo | None = None) -> tuple[str, b.Blocks]:
    """A concern alert for one reader: the bot's concern message (a child at risk said first),
    with why it reached them at a later step, and without buttons they may not use."""
    text, blocks = concern_message(doc, programme, names, zone=zone)
    blocks = list(blocks)
    first = 1 if doc.get("child_at_risk") else 0
    notes: b.Blocks = []
    if step > 1:
        notes.append(b.section(
            f":arrow_up: *Escalated to you: step {step} of {len(DEFAULT_LADDER)}* "
            f"({b.escape(_step_words(step))}). "
            + (f"{b.escape(words.said(reason[:1].upper() + reason[1:]))}." if reason else "")))
        text = text.replace("Concern on case", f"Escalated to you (step {step}): concern on case",
                            1)
    if stand_in:
        notes.append(b.context(
            "You are told because nobody this alert is meant for can be reached in Slack. "
            "Please make sure they know."))
    if not can_act and not doc.get("closed"):
        blocks = [blk for blk in blocks if blk.get("type") != "actions"]
        notes.append(b.context(
            f"Only {b.escape(doc.get('agency', ''))}'s managers can acknowledge this concern and "
            "record the action taken; please make sure they do."))
    blocks[first:first] = notes
    return text, blocks


def feedback_reminder(doc: Doc, programme: Doc | None, names: b.Names, *, sent_on: str,
                      zone: tzinfo | None = None) -> tuple[str, b.Blocks]:
    """A reminder to a practitioner whose feedback is not yet acknowledged."""
    case, agency = doc["case"], doc["agency"]
    issues = list(doc.get("issues") or [])
    responses = doc.get("responses") or {}
    awaiting = [i for i in issues if str(i["number"]) not in responses]
    ref = b.value(p=doc["programme"], c=case, a=agency)
    blocks: b.Blocks = [b.header(f"Reminder: your audit feedback on case {case}")]
    if doc.get("acknowledged_by"):
        blocks.append(b.section(
            f":white_check_mark: Acknowledged by {b.escape(names(doc['acknowledged_by']))} on "
            f"{b.when(doc.get('acknowledged_at', ''), zone)}. Thank you."
            + (f" {b.plural(len(awaiting), 'issue')} still "
               f"{'awaits' if len(awaiting) == 1 else 'await'} your answer." if awaiting else "")))
    else:
        todo = "press *Acknowledge*" + (
            ", or answer the issues still waiting, one at a time if you like, with *Answer "
            "issues* (answering them all acknowledges it too)" if awaiting else "")
        answered = (f" {len(issues) - len(awaiting)} of {b.plural(len(issues), 'issue')} "
                    "answered so far." if issues else "")
        seen = (f" {b.escape(names(doc['seen_by']))} has seen the copy sent to them as your "
                "manager; only you can acknowledge it." if doc.get("seen_by") else "")
        blocks.append(b.section(
            f"Your audit feedback on case *{b.escape(case)}* (*{b.escape(agency)}*), sent to you "
            f"on {words.day(sent_on)}, has not been acknowledged yet.{answered}{seen} Please "
            f"read it (the message sent then, or `/audit my`) and {todo}."))
    title = programme.get("title") if programme else ""
    if title:
        blocks.append(b.context(f"{b.escape(title)} (`{b.escape(doc['programme'])}`)"))
    buttons: b.Blocks = []
    if not doc.get("acknowledged_by"):
        buttons.append(b.button("Acknowledge", b.FEEDBACK_ACKNOWLEDGE, ref, "primary"))
    if awaiting:
        buttons.append(b.button("Answer" if len(awaiting) == 1 else "Answer issues",
                                b.FEEDBACK_RESPOND, ref))
    if buttons:
        blocks.append(b.actions(f"feedback-reminder|{doc['programme']}|{case}|{agency}",
                                *buttons))
    if doc.get("acknowledged_by"):
        text = (f"Your audit feedback on case {case} ({agency}): acknowledged by "
                f"{b.escape(names(doc['acknowledged_by']))} on "
                f"{b.when_plain(doc.get('acknowledged_at', ''), zone)}.")
    else:
        text = (f"Reminder: your audit feedback on case {case} ({agency}) is waiting for you to "
                "acknowledge it.")
    return text, blocks


def action_reminder(action: Doc, programme: Doc | None, names: b.Names, *, state: str,
                    today: date) -> tuple[str, b.Blocks]:
    """An action's owner told that it is due soon or overdue (`action` with overdue_days)."""
    due = words.day(action["due"])
    if state == "overdue":
        head = f"Overdue: action {action['id']}"
        said = (f"Your action `{b.escape(action['id'])}` was due on {due} and is "
                f"*{words.due(action['due'], today)}*.")
        text = f"Your action {action['id']} is {words.due(action['due'], today)} (due on {due})."
    else:
        head = f"Due soon: action {action['id']}"
        said = (f"Your action `{b.escape(action['id'])}` is due on {due} "
                f"({words.due(action['due'], today)}).")
        text = f"Your action {action['id']} is due on {due}."
    blocks: b.Blocks = [
        b.header(head),
        b.section(said + " Please record its progress, or the evidence that it is done, with "
                         "*Update*."),
        *action_block(action, names, True),
    ]
    title = programme.get("title") if programme else ""
    blocks.append(b.context(f"{b.escape(title or action['programme'])} · recommendation "
                            f"{action['recommendation']}"))
    return text, blocks


def overdue_digest(programme: Doc, rows: list[Doc], names: b.Names, *, week: date
                   ) -> tuple[str, b.Blocks]:
    """The weekly digest of a programme's overdue actions, for its quality leads."""
    pid = programme["programme"]
    blocks: b.Blocks = [
        b.header(f"Overdue actions: {programme.get('title') or pid}"),
        b.section(f"Week beginning {words.day(week)}: {b.plural(len(rows), 'action')} "
                  f"overdue in `{b.escape(pid)}`."),
    ]
    for a in rows:
        blocks += action_block(a, names, True)
    text = f"Weekly digest: {b.plural(len(rows), 'overdue action')} in {pid}."
    return text, blocks
