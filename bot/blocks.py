"""Block Kit builders: the messages, answers and Home tab people see. Pure: documents in, blocks out.

Personal text (comments, summaries, answers) is escaped for Slack's mrkdwn and clipped to
Slack's limits; every message also has a plain `text` for notifications and screen readers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from policies.scales import OVERALL, area_title, scale_named
from projections.queries import natural_key

Doc = dict[str, Any]
Block = dict[str, Any]
Blocks = list[Block]
Names = Callable[[str], str]

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_CHARS = 3000

# action ids of buttons, and callback ids of the modals they open
FEEDBACK_ACKNOWLEDGE = "feedback.acknowledge"
FEEDBACK_RESPOND = "feedback.respond"
CONCERN_ACKNOWLEDGE = "concern.acknowledge"
CONCERN_RECORD_ACTION = "concern.record_action"
ACTION_UPDATE = "action.update"

AT_RISK = ("*A child may be at risk now.* Contact the children's services front door (MASH) "
           "or emergency services (999) *now*. Do not wait for this audit process or for a reply.")
AT_RISK_PLAIN = ("A child may be at risk now: contact the children's services front door (MASH) "
                 "or emergency services (999) now.")


# ---- small pieces -----------------------------------------------------------------------


def remembered(names: Names) -> Names:
    """`names` asked once for each person within one message: each asking reads the directory,
    and a list names the same owners, practitioners and auditors again and again."""
    known: dict[str, str] = {}

    def name(person: str) -> str:
        if person not in known:
            known[person] = names(person)
        return known[person]
    return name


def escape(text: str) -> str:
    """Text from people, made safe for mrkdwn (no accidental links, mentions or markup)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def section(md: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(md, SECTION_CHARS)}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(md: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(md, SECTION_CHARS)}]}


def divider() -> Block:
    return {"type": "divider"}


def value(**refs: Any) -> str:
    """A button's value: the references it acts on, as compact JSON."""
    return json.dumps(refs, separators=(",", ":"), sort_keys=True)


def button(text: str, action_id: str, val: str, style: str | None = None) -> Block:
    b: Block = {"type": "button", "text": plain(text, 75), "action_id": action_id, "value": val}
    if style:
        b["style"] = style
    return b


def actions(block_id: str, *buttons: Block) -> Block:
    return {"type": "actions", "block_id": clip(block_id, 255), "elements": list(buttons)}


def when(iso: str) -> str:
    """A moment shown in each reader's own time zone by Slack, with a UTC fallback."""
    if not iso:
        return "an unknown time"
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def when_plain(iso: str) -> str:
    if not iso:
        return "an unknown time"
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def fit(blocks: Blocks, limit: int, more: str) -> Blocks:
    """Keep within Slack's block limit, saying what was left out."""
    if len(blocks) <= limit:
        return blocks
    return blocks[: limit - 1] + [context(more)]


def grade_words(grade: int, scale_id: str) -> str:
    try:
        return f"{grade} {scale_named(scale_id).label(grade)}"
    except (KeyError, ValueError):
        return str(grade)


def area_words(area: str, programme: Doc | None) -> str:
    titles = programme.get("areas") if programme else None
    if area == OVERALL:
        return "Overall"
    return f"Area {area} {area_title(area, titles)}"


# ---- plain answers ------------------------------------------------------------------------


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


def say(text: str) -> tuple[str, Blocks]:
    """One plain message (a refusal, an outcome) as text and a block."""
    return text, [section(escape(text))]


def programme_list(programmes: list[Doc], usage: str) -> tuple[str, Blocks]:
    if not programmes:
        return say("There are no audit programmes in the ledger yet. A quality lead can import "
                    "one (`audit-ledger import PACK.json`).")
    lines = "\n".join(f"• `{p['programme']}`: {escape(p.get('title') or '')}" for p in programmes)
    text = "Which programme? " + ", ".join(p["programme"] for p in programmes)
    return text, [section(f"Which programme? Say it like this: `{usage}`\n{lines}")]


# ---- the feedback direct message ---------------------------------------------------------


def feedback_message(doc: Doc, programme: Doc | None, names: Names, *, for_manager: bool
                     ) -> tuple[str, Blocks]:
    """A practitioner's feedback on one return: their agency's grades, good practice first, then
    the issues raised and any answers; Acknowledge and (for the practitioner) Respond."""
    case, agency = doc["case"], doc["agency"]
    title = programme.get("title") if programme else ""
    scale = programme.get("scale", "") if programme else ""
    practitioner = names(doc["practitioner"])
    ref = value(p=doc["programme"], c=case, a=agency)
    issues = list(doc.get("issues") or [])
    responses = doc.get("responses") or {}
    awaiting = [i for i in issues if str(i["number"]) not in responses]

    auditor = escape(names(doc["auditor"]))
    if for_manager:
        head = f"Audit feedback for {practitioner}: case {case}"
        intro = (f"A copy for you as {escape(practitioner)}'s manager. The *{escape(agency)}* "
                 f"return for case *{escape(case)}* has been audited by {auditor}."
                 + ("" if doc.get("acknowledged_by") else
                    " Press *Acknowledge* once you have read it."))
    else:
        head = f"Your audit feedback: case {case}"
        todo = ([] if doc.get("acknowledged_by") else ["press *Acknowledge*"]) + \
            (["answer each issue raised with *Respond*"] if awaiting else [])
        intro = (f"Your work on case *{escape(case)}* (*{escape(agency)}*) has been audited by "
                 f"{auditor}. " + (f"Please read it, {', then '.join(todo)}." if todo else
                                   "Thank you: nothing more is needed from you."))
    blocks: Blocks = [header(head), section(intro)]
    if title:
        blocks.append(context(f"{escape(title)} (`{escape(doc['programme'])}`), issued "
                              f"{escape(doc.get('issued_on') or '')}"))

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
        blocks.append(section("*Good practice* :white_check_mark:\n" + "\n".join(
            f"• _{escape(area_words(g['area'], programme))}_: {escape(g['text'])}" for g in good)))
    else:
        blocks.append(section("*Good practice*\nNo good practice was noted separately in this "
                              "return."))

    if issues:
        blocks.append(section(f"*Issues raised* ({len(issues)})"))
        for issue in issues[:20]:
            n = str(issue["number"])
            text = (f"*{n}. {escape(area_words(issue['area'], programme))}*\n"
                    f"{escape(issue['text'])}")
            if n in responses:
                answer = responses[n]
                text += (f"\n>_Answer from {escape(names(answer.get('by', '')))}:_ "
                         f"{escape(answer['response'])}")
            blocks.append(section(text))
    else:
        blocks.append(section("*Issues raised*\nNone: there is nothing to answer."))

    status = []
    if doc.get("acknowledged_by"):
        status.append(f":white_check_mark: Acknowledged by {escape(names(doc['acknowledged_by']))}"
                      f" at {when(doc.get('acknowledged_at', ''))}")
    else:
        status.append("Not yet acknowledged")
    if issues:
        status.append(f"{len(issues) - len(awaiting)} of {plural(len(issues), 'issue')} answered")
    blocks.append(context(" · ".join(status)))

    buttons: Blocks = []
    if not doc.get("acknowledged_by"):
        buttons.append(button("Acknowledge", FEEDBACK_ACKNOWLEDGE, ref, "primary"))
    if not for_manager and awaiting:
        buttons.append(button("Respond", FEEDBACK_RESPOND, ref))
    if buttons:
        blocks.append(actions(f"feedback|{doc['programme']}|{case}|{agency}", *buttons))

    text = feedback_text(doc, names, for_manager=for_manager)
    return text, fit(blocks, MESSAGE_BLOCKS, "Some issues are not shown; see `/audit my`.")


def feedback_text(doc: Doc, names: Names, *, for_manager: bool) -> str:
    who = f"{names(doc['practitioner'])}'s" if for_manager else "Your"
    text = f"{who} audit feedback on case {doc['case']} ({doc['agency']})."
    if doc.get("acknowledged_by"):
        text += (f" Acknowledged by {names(doc['acknowledged_by'])} at "
                 f"{when_plain(doc.get('acknowledged_at', ''))}.")
    return text


# ---- the concern alert ----------------------------------------------------------------------


def concern_message(doc: Doc, programme: Doc | None, names: Names) -> tuple[str, Blocks]:
    """The alert a manager receives. A child at risk is said first, plainly."""
    blocks: Blocks = []
    if doc.get("child_at_risk"):
        blocks.append(section(":rotating_light: " + AT_RISK))
    blocks.append(header(f"Concern on case {doc['case']} ({doc['agency']})"))
    blocks.append(section(escape(doc.get("summary") or "")))
    title = programme.get("title") if programme else ""
    blocks.append(context(
        f"Raised by {escape(names(doc.get('raised_by', '')))} on {escape(doc.get('raised_on', ''))}"
        f" · reference `{escape(doc['ref'])}` · {escape(title or doc['programme'])}"))
    for act in (doc.get("actions") or [])[-5:]:
        blocks.append(section(f"*Action by {escape(names(act.get('by', '')))}* "
                              f"({escape(act.get('on', ''))}): {escape(act.get('action', ''))}"))
    if doc.get("closed"):
        status = f"Closed: {escape(doc.get('outcome') or '')}"
    elif doc.get("acknowledged_by"):
        status = (f":white_check_mark: Acknowledged by {escape(names(doc['acknowledged_by']))} at "
                  f"{when(doc.get('acknowledged_at', ''))}")
        if not doc.get("actions"):
            status += " · please record the action you take"
    else:
        status = "Waiting for a manager to acknowledge it. Please acknowledge now, then record "\
                 "the action you take."
    blocks.append(context(status))
    ref = value(p=doc["programme"], r=doc["ref"])
    buttons: Blocks = []
    if not doc.get("acknowledged_by") and not doc.get("closed"):
        buttons.append(button("Acknowledge", CONCERN_ACKNOWLEDGE, ref, "primary"))
    if not doc.get("closed"):
        buttons.append(button("Record action", CONCERN_RECORD_ACTION, ref))
    if buttons:
        blocks.append(actions(f"concern|{doc['programme']}|{doc['ref']}", *buttons))
    return concern_text(doc, names), blocks


def concern_text(doc: Doc, names: Names) -> str:
    text = (AT_RISK_PLAIN + " " if doc.get("child_at_risk") else "") + \
        f"Concern on case {doc['case']} ({doc['agency']}), reference {doc['ref']}."
    if doc.get("acknowledged_by"):
        text += (f" Acknowledged by {names(doc['acknowledged_by'])} at "
                 f"{when_plain(doc.get('acknowledged_at', ''))}.")
    return text


# ---- progress, actions, case, history ---------------------------------------------------------


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


# ---- what is waiting for me: /audit my and the Home tab -----------------------------------------


def feedback_item(f: Doc, names: Names, mine: bool) -> Blocks:
    issues = f.get("issues") or []
    waiting = [i for i in issues if str(i["number"]) not in (f.get("responses") or {})]
    state = []
    if not f.get("acknowledged_by"):
        state.append("not yet acknowledged")
    if waiting:
        state.append(f"{len(waiting)} of {plural(len(issues), 'issue')} "
                     f"{'awaits' if len(waiting) == 1 else 'await'} an answer")
    who = "" if mine else f"{escape(names(f['practitioner']))}: "
    block = section(f"{who}case *{escape(f['case'])}* ({escape(f['agency'])}) in "
                    f"`{escape(f['programme'])}`, issued {escape(f.get('issued_on') or '')}: "
                    + ", ".join(state))
    if not mine:
        return [block]
    ref = value(p=f["programme"], c=f["case"], a=f["agency"])
    buttons = []
    if not f.get("acknowledged_by"):
        buttons.append(button("Acknowledge", FEEDBACK_ACKNOWLEDGE, ref, "primary"))
    if waiting:
        buttons.append(button("Respond", FEEDBACK_RESPOND, ref))
    return [block, actions(f"my-feedback|{f['programme']}|{f['case']}|{f['agency']}", *buttons)]


def concern_item(k: Doc, names: Names) -> Blocks:
    risk = ":rotating_light: *A child may be at risk now: contact MASH or 999 now.* " \
        if k.get("child_at_risk") else ""
    state = ("acknowledged, no action recorded yet" if k.get("acknowledged_by")
             else "*not yet acknowledged*")
    block = section(f"{risk}Case *{escape(k['case'])}* ({escape(k['agency'])}), "
                    f"`{escape(k['ref'])}`, raised {escape(k.get('raised_on', ''))}: {state}\n"
                    f"{escape(clip(k.get('summary') or '', 600))}")
    ref = value(p=k["programme"], r=k["ref"])
    buttons = []
    if not k.get("acknowledged_by"):
        buttons.append(button("Acknowledge", CONCERN_ACKNOWLEDGE, ref, "primary"))
    buttons.append(button("Record action", CONCERN_RECORD_ACTION, ref))
    return [block, actions(f"my-concern|{k['programme']}|{k['ref']}", *buttons)]


def waiting_blocks(w: Any, names: Names) -> Blocks:
    """The sections of `/audit my` and the Home tab; `w` is an answers.Waiting."""
    names = remembered(names)
    blocks: Blocks = []
    if w.concerns:
        blocks.append(section(f"*Concerns waiting for you as a manager* ({len(w.concerns)})"))
        for k in w.concerns:
            blocks += concern_item(k, names)
    if w.feedback:
        blocks.append(section(f"*Your feedback to acknowledge or answer* ({len(w.feedback)})"))
        for f in w.feedback:
            blocks += feedback_item(f, names, mine=True)
    if w.actions:
        blocks.append(section(f"*Your actions* ({len(w.actions)})"))
        blocks += [action_block(a, names, True) for a in w.actions]
    if w.team_feedback or w.team_actions:
        blocks.append(divider())
        blocks.append(section("*Your team*"))
        if w.team_feedback:
            blocks.append(section(f"_Feedback not yet acknowledged or answered_ "
                                  f"({len(w.team_feedback)})"))
            for f in w.team_feedback:
                blocks += feedback_item(f, names, mine=False)
        if w.team_actions:
            blocks.append(section(f"_Overdue actions_ ({len(w.team_actions)})"))
            blocks += [action_block(a, names, False) for a in w.team_actions]
    return blocks


def my_answer(person: Doc, w: Any, names: Names) -> tuple[str, Blocks]:
    blocks = waiting_blocks(w, names)
    if not blocks:
        return say(f"Nothing is waiting for you, {person.get('name') or person['person']}.")
    text = (f"Waiting for you: {len(w.concerns)} concerns, {len(w.feedback)} feedback, "
            f"{len(w.actions)} actions" + (f"; your team has {len(w.team_feedback)} feedback "
                                          f"and {len(w.team_actions)} overdue actions"
                                          if w.team_feedback or w.team_actions else "") + ".")
    return text, fit(blocks, MESSAGE_BLOCKS, "More is waiting than fits here; see your Home tab.")


def home_view(person: Doc | None, w: Any, names: Names, unknown: str = "") -> dict[str, Any]:
    if person is None:
        blocks: Blocks = [header("Safeguarding audit"), section(escape(unknown))]
    else:
        roles = ", ".join(person.get("roles") or []) or "no role yet"
        blocks = [header(f"What is waiting for you, {person.get('name') or person['person']}"),
                  context(f"{escape(person.get('agency') or '')} · {escape(roles)} · "
                          "type `/audit help` in any message box for more")]
        body = waiting_blocks(w, names)
        blocks += body or [section("Nothing is waiting for you. :tada:")]
    return {"type": "home", "blocks": fit(blocks, VIEW_BLOCKS,
                                          "More is waiting than fits here; try `/audit my`.")}
