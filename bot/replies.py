"""`/audit`'s answers as blocks: help, which programme, progress, the action plan, a case, its history."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from policies.scales import OVERALL
from projections.story import told

from . import words
from .blocks import (
    ACTION_COMPLETE,
    ACTION_UPDATE,
    Block,
    Blocks,
    Names,
    actions,
    area_words,
    button,
    confirm,
    context,
    escape,
    grade_words,
    header,
    plural,
    remembered,
    say,
    section,
    sections,
    value,
)
from .pages import MESSAGE_BLOCKS, MESSAGE_CHARS, pages

Doc = dict[str, Any]


HELP_LINES = [
    ("/audit my", "what is waiting for you: feedback to acknowledge or answer, concerns for you "
                  "as a manager, your actions"),
    ("/audit progress [PROGRAMME]", "recommendations and their status, outstanding and overdue "
                                    "actions"),
    ("/audit actions [PROGRAMME] [overdue]", "the action plan, or only what is overdue"),
    ("/audit case [PROGRAMME] CASE", "the judgement for each area of a case and how it was "
                                     "reached"),
    ("/audit history [PROGRAMME] CASE [AREA]", "every step that shaped a case's judgements "
                                               "(auditors, moderators and quality leads)"),
    ("/audit concern [PROGRAMME] CASE", "raise a concern on a case: its managers are alerted "
                                        "at once"),
    ("/audit help", "this list"),
]


def help_answer(intro: str = "") -> tuple[str, Blocks]:
    lines = "\n".join(f"• `{cmd}`: {what}" for cmd, what in HELP_LINES)
    blocks: Blocks = []
    if intro:
        blocks.append(section(intro))
    blocks += [section("*What I can do*\n" + lines),
               context("Your Home tab (open the app in Slack) shows what is waiting for you.")]
    text = (intro + "\n" if intro else "") + "\n".join(f"{c}: {w}" for c, w in HELP_LINES)
    return text, blocks


def programme_list(programmes: list[Doc], usage: str) -> tuple[str, Blocks]:
    if not programmes:
        return say("There are no audit programmes in the ledger yet: your quality lead can "
                   "load one.")
    lines = "\n".join(f"• `{p['programme']}`: {escape(p.get('title') or '')}" for p in programmes)
    text = "Which programme? " + ", ".join(p["programme"] for p in programmes)
    return text, [section(f"Which programme? Say it like this: `{usage}`\n{lines}")]


MORE = "answer.more"
"""The action id of the More button under a page of a long answer."""
QUERY_KEPT = 1500
"""Characters of the question kept in a More button's value (Slack allows 2,000)."""


def page_of(text: str, blocks: Blocks, query: str, number: int = 1) -> tuple[str, Blocks]:
    """Page `number` of the answer to `/audit QUERY`, with a More button when another page
    follows. Each button on it carries the question (`q`), so that after a press the list it
    was on can be answered afresh and replaced in place."""
    blocks = [asked(blk, query) for blk in blocks]
    split = pages(blocks, MESSAGE_BLOCKS, MESSAGE_CHARS, reserve_blocks=2, reserve_chars=300)
    number = min(max(number, 1), len(split))
    page = list(split[number - 1])
    if number > 1:
        page.insert(0, context(f"Page {number} of {len(split)}"))
    if number < len(split):
        page.append(actions(f"more|{number + 1}", button(
            f"More ({number + 1} of {len(split)})", MORE,
            value(q=query[:QUERY_KEPT], n=number + 1))))
        text = f"{text} (page {number} of {len(split)})"
    return text, page


def asked(block: Block, query: str) -> Block:
    """A block whose buttons (with references for values) also carry the question asked."""
    def carry(e: Block) -> Block:
        if e.get("type") != "button" or e.get("action_id") == MORE:
            return e
        try:
            ref = json.loads(e.get("value") or "")
        except json.JSONDecodeError:
            return e
        if not isinstance(ref, dict):
            return e
        return {**e, "value": value(**ref, q=query[:QUERY_KEPT])}
    out = dict(block)
    if "elements" in out and out.get("type") == "actions":
        out["elements"] = [carry(e) for e in out["elements"]]
    if isinstance(out.get("accessory"), dict):
        out["accessory"] = carry(out["accessory"])
    return out


def progress_answer(data: Doc, programme: Doc, recs: dict[int, str], names: Names
                    ) -> tuple[str, Blocks]:
    names = remembered(names)
    blocks: Blocks = [header(f"Progress: {programme.get('title') or programme['programme']}")]
    if not data["recommendations"]:
        blocks.append(section("No recommendations have been recorded yet."))
    for r in data["recommendations"]:
        blocks.extend(sections(
            f"*{r['number']}.* {escape(recs.get(r['number'], ''))}\n"
            f"_{r['status']}_: {plural(r['actions'], 'action')}, {r['actions_open']} open, "
            f"{r['actions_overdue']} overdue"))
    outstanding = data["outstanding_actions"]
    overdue = [a for a in outstanding if a["overdue_days"] > 0]
    if outstanding:
        lines = [f"• `{escape(a['id'])}` {escape(names(a['owner']))}, due on "
                 f"{words.short_day(a['due'])}"
                 + (f": *{words.overdue(a['overdue_days'], a['due'])}*" if a["overdue_days"]
                    else "")
                 for a in outstanding]
        blocks.extend(sections(f"*Outstanding actions* ({len(outstanding)}, {len(overdue)} "
                               "overdue)\n" + "\n".join(lines)))
    else:
        blocks.append(section("No outstanding actions."))
    text = (f"Progress on {programme['programme']}: "
            f"{plural(len(data['recommendations']), 'recommendation')}, "
            f"{plural(len(outstanding), 'action')} outstanding, {len(overdue)} overdue.")
    return text, blocks


def action_line(a: Doc, names: Names) -> str:
    if a["completed"]:
        state = "complete"
    elif a["overdue_days"]:
        state = f"*{words.overdue(a['overdue_days'], a['due'])}*"
    else:
        state = "open"
    rag = f" · RAG {a['rag']}" if a.get("rag") else ""
    return (f"`{escape(a['id'])}` {escape(a['description'])}\n"
            f"Owner {escape(names(a['owner']))} · due on {words.short_day(a['due'])} · "
            f"{state}{rag}")


def action_update_button(a: Doc) -> Block:
    return button("Update", ACTION_UPDATE, value(p=a["programme"], x=a["id"]))


def action_complete_button(a: Doc) -> Block:
    """Mark complete, behind Slack's confirm dialog: completing an action cannot be undone."""
    return button("Mark complete", ACTION_COMPLETE, value(p=a["programme"], x=a["id"]),
                  confirm=confirm(f"Mark {a['id']} complete?",
                                  "You will be asked for the evidence that it is done. Once "
                                  "recorded, completion cannot be undone.",
                                  "Give evidence"))


def action_block(a: Doc, names: Names, may_update: bool) -> Blocks:
    """An action in as many sections as its words need, with Update and Mark complete under
    it for those who may use them."""
    blocks = sections(action_line(a, names))
    if may_update and not a["completed"]:
        blocks.append(actions(f"action|{a['programme']}|{a['id']}", action_update_button(a),
                              action_complete_button(a)))
    return blocks


def actions_answer(programme: Doc, rows: list[Doc], overdue_only: bool, names: Names,
                   may_update: Callable[[Doc], bool]) -> tuple[str, Blocks]:
    names = remembered(names)
    what = "Overdue actions" if overdue_only else "Action plan"
    blocks: Blocks = [header(f"{what}: {programme['programme']}")]
    if not rows:
        blocks.append(section("No overdue actions." if overdue_only else "No actions yet."))
    for a in rows:
        blocks += action_block(a, names, may_update(a))
    text = f"{what} for {programme['programme']}: {plural(len(rows), 'action')}."
    return text, blocks


def judgement_line(area: str, j: Doc | None, programme: Doc) -> str:
    label = area_words(area, programme)
    if j is None:
        return f"• {escape(label)}: not graded"
    who = ", ".join(f"{escape(c['agency'])} {c['grade']}" for c in j["contributions"])
    if j.get("moderation"):
        m = j["moderation"]
        why = f"moderated on {words.day(m.get('on', ''))}: {escape(m.get('reason', ''))}"
    else:
        rule = str(RULE_WORDS.get(j["rule"], j["rule"]))
        why = f"{escape(rule)} of {who}" if who else escape(rule)
    return f"• {escape(label)}: *{grade_words(j['grade'], programme['scale'])}* ({why})"


RULE_WORDS = {"worst": "the weakest grade"}


def case_answer(data: Doc, programme: Doc) -> tuple[str, Blocks]:
    """Every area's judgement, each in its own section (split further when its reasons are
    long), so nothing of a fourteen-agency case is lost."""
    blocks: Blocks = [header(f"Case {data['case']} in {data['programme']}")]
    for area, j in data["areas"].items():
        blocks.extend(sections(judgement_line(area, j, programme)))
    blocks.extend(sections(judgement_line(OVERALL, data["overall"], programme)))
    blocks.append(context("Each area's judgement integrates the agencies' grades by the "
                          "programme's rule unless a moderator recorded a judgement with a "
                          "reason."))
    return (f"Case {data['case']}: judgements for {plural(len(data['areas']), 'area')}.",
            blocks)


# ---- history as a story ------------------------------------------------------------------------


def history_step(s: Doc, programme: Doc, names: Names, area: str | None) -> str:
    """One step of the story (projections.story), in Slack's markup."""
    t = told(s, programme, names, area)
    line = f"*{t.day}*: {escape(t.what)} {escape(t.who)}"
    line += f": {escape(t.said)}" if t.said else "."
    if t.after:
        line += f"\n_Judgement{'s' if t.many else ''} now:_ {escape(t.after)}"
    return line


def history_answer(data: Doc, programme: Doc, names: Names) -> tuple[str, Blocks]:
    """The case's story, step by step: what happened, who did it, on which day it happened, and
    the judgement after it. Every step, however many (the sender splits it into messages)."""
    names = remembered(names)
    area = data.get("area")
    title = f"History of case {data['case']}" + (f", {area_words(area, programme)}" if area else "")
    blocks: Blocks = [header(title)]
    steps = data["steps"]
    for s in steps:
        blocks.extend(sections(history_step(s, programme, names, area)))
    if not steps:
        blocks.append(section("Nothing has happened on this case yet."))
    return f"History of case {data['case']}: {plural(len(steps), 'step')}.", blocks
