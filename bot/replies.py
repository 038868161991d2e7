"""`/audit`'s answers as blocks: help, which programme, progress, the action plan, a case, its history."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from policies.scales import OVERALL

from .blocks import (
    ACTION_UPDATE,
    MESSAGE_BLOCKS,
    Block,
    Blocks,
    Names,
    area_words,
    button,
    context,
    escape,
    fit,
    grade_words,
    header,
    plural,
    remembered,
    say,
    section,
    value,
)

Doc = dict[str, Any]


HELP_LINES = [
    ("/audit my", "what is waiting for you: feedback to acknowledge or answer, concerns for you "
                  "as a manager, your actions"),
    ("/audit progress [PROGRAMME]", "recommendations and their status, outstanding and overdue "
                                    "actions"),
    ("/audit actions [PROGRAMME] [overdue]", "the action plan, or only what is overdue"),
    ("/audit case PROGRAMME CASE", "the judgement for each area of a case and how it was reached"),
    ("/audit history PROGRAMME CASE [AREA]", "every step that shaped a case's judgements "
                                             "(auditors, moderators and quality leads)"),
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
        return say("There are no audit programmes in the ledger yet. A quality lead can import "
                    "one (`audit-ledger import PACK.json`).")
    lines = "\n".join(f"• `{p['programme']}`: {escape(p.get('title') or '')}" for p in programmes)
    text = "Which programme? " + ", ".join(p["programme"] for p in programmes)
    return text, [section(f"Which programme? Say it like this: `{usage}`\n{lines}")]


def progress_answer(data: Doc, programme: Doc, recs: dict[int, str], names: Names
                    ) -> tuple[str, Blocks]:
    names = remembered(names)
    blocks: Blocks = [header(f"Progress: {programme.get('title') or programme['programme']}")]
    if not data["recommendations"]:
        blocks.append(section("No recommendations have been recorded yet."))
    for r in data["recommendations"]:
        blocks.append(section(
            f"*{r['number']}.* {escape(recs.get(r['number'], ''))}\n"
            f"_{r['status']}_: {plural(r['actions'], 'action')}, {r['actions_open']} open, "
            f"{r['actions_overdue']} overdue"))
    outstanding = data["outstanding_actions"]
    overdue = [a for a in outstanding if a["overdue_days"] > 0]
    if outstanding:
        lines = [f"• `{escape(a['id'])}` {escape(names(a['owner']))}, due {a['due']}"
                 + (f": *overdue by {a['overdue_days']} days*" if a["overdue_days"] else "")
                 for a in outstanding]
        blocks.append(section(f"*Outstanding actions* ({len(outstanding)}, {len(overdue)} "
                              "overdue)\n" + "\n".join(lines)))
    else:
        blocks.append(section("No outstanding actions."))
    text = (f"Progress on {programme['programme']}: {len(data['recommendations'])} "
            f"recommendations, {len(outstanding)} actions outstanding, {len(overdue)} overdue.")
    return text, fit(blocks, MESSAGE_BLOCKS, "More recommendations than fit here; see the "
                                             "report (`audit-ledger report`).")


def action_line(a: Doc, names: Names) -> str:
    if a["completed"]:
        state = "complete"
    elif a["overdue_days"]:
        state = f"*overdue by {a['overdue_days']} days*"
    else:
        state = "open"
    rag = f" · RAG {a['rag']}" if a.get("rag") else ""
    return (f"`{escape(a['id'])}` {escape(a['description'])}\n"
            f"Owner {escape(names(a['owner']))} · due {a['due']} · {state}{rag}")


def action_update_button(a: Doc) -> Block:
    return button("Update", ACTION_UPDATE, value(p=a["programme"], x=a["id"]))


def action_block(a: Doc, names: Names, may_update: bool) -> Block:
    block = section(action_line(a, names))
    if may_update and not a["completed"]:
        block["accessory"] = action_update_button(a)
    return block


def actions_answer(programme: Doc, rows: list[Doc], overdue_only: bool, names: Names,
                   may_update: Callable[[Doc], bool]) -> tuple[str, Blocks]:
    names = remembered(names)
    what = "Overdue actions" if overdue_only else "Action plan"
    blocks: Blocks = [header(f"{what}: {programme['programme']}")]
    if not rows:
        blocks.append(section("No overdue actions." if overdue_only else "No actions yet."))
    blocks += [action_block(a, names, may_update(a)) for a in rows]
    text = f"{what} for {programme['programme']}: {len(rows)}."
    return text, fit(blocks, MESSAGE_BLOCKS, "More actions than fit here; see "
                                             "`audit-ledger action list`.")


def judgement_line(area: str, j: Doc | None, programme: Doc) -> str:
    label = area_words(area, programme)
    if j is None:
        return f"• {escape(label)}: not graded"
    who = ", ".join(f"{escape(c['agency'])} {c['grade']}" for c in j["contributions"])
    if j.get("moderation"):
        m = j["moderation"]
        why = f"moderated on {escape(m.get('on', ''))}: {escape(m.get('reason', ''))}"
    else:
        why = f"{escape(j['rule'])} of {who}" if who else escape(j["rule"])
    return f"• {escape(label)}: *{grade_words(j['grade'], programme['scale'])}* ({why})"


def case_answer(data: Doc, programme: Doc) -> tuple[str, Blocks]:
    lines = [judgement_line(a, j, programme) for a, j in data["areas"].items()]
    lines.append(judgement_line(OVERALL, data["overall"], programme))
    blocks = [header(f"Case {data['case']} in {data['programme']}"),
              section("\n".join(lines)),
              context("Each area's judgement integrates the agencies' grades by the programme's "
                      "rule unless a moderator recorded a judgement with a reason.")]
    return f"Case {data['case']}: judgements for {len(data['areas'])} areas.", blocks


def history_answer(data: Doc, programme: Doc, names: Names) -> tuple[str, Blocks]:
    names = remembered(names)
    area = data.get("area")
    title = f"History of case {data['case']}" + (f", {area_words(area, programme)}" if area else "")
    blocks: Blocks = [header(title)]
    steps = data["steps"]
    shown = steps[-40:]
    if len(steps) > len(shown):
        blocks.append(context(f"The first {len(steps) - len(shown)} steps are not shown; see "
                              f"`audit-ledger history`."))
    for s in shown:
        detail = ", ".join(f"{k} {escape(str(s[k]))}" for k in
                           ("agency", "area", "grade", "previous", "reason") if k in s)
        after = s.get("judgement") if area else s.get("judgements")
        if isinstance(after, dict) and "grade" in after:
            after = after["grade"]
        line = (f"*{s['position']}.* {s['recorded_at'][:16].replace('T', ' ')} "
                f"{escape(s['event'])} by {escape(names(s['by']))}"
                + (f" ({detail})" if detail else ""))
        if after:
            line += f"; judgement now {escape(json.dumps(after))}"
        blocks.append(section(line))
    if not steps:
        blocks.append(section("No events."))
    return f"History of case {data['case']}: {len(steps)} steps.", blocks
