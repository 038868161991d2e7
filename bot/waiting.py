"""What is waiting for a person, as blocks: `/audit my` and the Home tab.

One real person may serve several partnerships (a police manager covering two local
authorities), registered in each as a person of its own. Then what waits for them is shown
partnership by partnership, each under its name (`Share`), and nothing of a partnership that
has not registered them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .blocks import (
    CONCERN_ACKNOWLEDGE,
    CONCERN_RECORD_ACTION,
    FEEDBACK_ACKNOWLEDGE,
    FEEDBACK_RESPOND,
    VIEW_BLOCKS,
    Blocks,
    Names,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    plural,
    remembered,
    say,
    section,
    sections,
    value,
)
from .pages import MESSAGE_CHARS, pages
from .replies import action_block
from .words import day

HOME_PAGE = "home.page"
"""The action id of the Home tab's Previous and Next buttons (their value: the page)."""

Doc = dict[str, Any]


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
                    f"`{escape(f['programme'])}`, sent on {day(f.get('issued_on') or '')}: "
                    + ", ".join(state))
    if not mine:
        return [block]
    ref = value(p=f["programme"], c=f["case"], a=f["agency"])
    buttons = []
    if not f.get("acknowledged_by"):
        buttons.append(button("Acknowledge", FEEDBACK_ACKNOWLEDGE, ref, "primary"))
    if waiting:  # the form for every issue still waiting, each answered or left for later
        buttons.append(button("Answer" if len(waiting) == 1 else "Answer issues",
                              FEEDBACK_RESPOND, ref))
    return [block, actions(f"my-feedback|{f['programme']}|{f['case']}|{f['agency']}", *buttons)]


def concern_item(k: Doc, names: Names) -> Blocks:
    risk = ":rotating_light: *A child may be at risk now: contact MASH or 999 now.* " \
        if k.get("child_at_risk") else ""
    state = ("acknowledged, no action recorded yet" if k.get("acknowledged_by")
             else "*not yet acknowledged*")
    said = sections(f"{risk}Case *{escape(k['case'])}* ({escape(k['agency'])}), "
                    f"`{escape(k['ref'])}`, raised on {day(k.get('raised_on', ''))}: {state}\n"
                    f"{escape(k.get('summary') or '')}")
    ref = value(p=k["programme"], r=k["ref"])
    buttons = []
    if not k.get("acknowledged_by"):
        buttons.append(button("Acknowledge", CONCERN_ACKNOWLEDGE, ref, "primary"))
    buttons.append(button("Record action", CONCERN_RECORD_ACTION, ref))
    return [*said, actions(f"my-concern|{k['programme']}|{k['ref']}", *buttons)]


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
        for a in w.actions:
            blocks += action_block(a, names, True)
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
            for a in w.team_actions:
                blocks += action_block(a, names, False)
    return blocks


def my_answer(person: Doc, w: Any, names: Names) -> tuple[str, Blocks]:
    blocks = waiting_blocks(w, names)
    if not blocks:
        return say(f"Nothing is waiting for you, {person.get('name') or person['person']}.")
    text = (f"Waiting for you: {len(w.concerns)} concerns, {len(w.feedback)} feedback, "
            f"{len(w.actions)} actions" + (f"; your team has {len(w.team_feedback)} feedback "
                                          f"and {len(w.team_actions)} overdue actions"
                                          if w.team_feedback or w.team_actions else "") + ".")
    return text, blocks


@dataclass(frozen=True)
class Share:
    """What waits for someone in one partnership: the partnership's name, the person they are
    there, what waits (an answers.Waiting) and how that partnership names its people."""

    partnership: str
    person: Doc
    waiting: Any
    names: Names


def my_answer_across(shares: list[Share]) -> tuple[str, Blocks]:
    """`/audit my` for someone in one partnership or several: each partnership's items under
    its name when there are several."""
    if len(shares) == 1:
        only = shares[0]
        return my_answer(only.person, only.waiting, only.names)
    blocks: Blocks = []
    counts = []
    for share in shares:
        w = share.waiting
        blocks.append(section(f":office: *{escape(share.partnership)}*"))
        blocks += waiting_blocks(w, share.names) or [context("Nothing is waiting for you here.")]
        counts.append(f"{share.partnership}: {plural(len(w.concerns), 'concern')}, "
                      f"{len(w.feedback)} feedback, {plural(len(w.actions), 'action')}")
    first = shares[0].person
    if all(share.waiting.empty() for share in shares):
        return say(f"Nothing is waiting for you, {first.get('name') or first['person']}, "
                   f"in any of your {len(shares)} partnerships.")
    return "Waiting for you: " + "; ".join(counts) + ".", blocks


def home_view_across(shares: list[Share], unknown: str = "", page: int = 1) -> dict[str, Any]:
    """The Home tab for someone in one partnership or several (none: how to get linked), one
    page of it."""
    if len(shares) <= 1:
        only = shares[0] if shares else None
        return home_view(only.person if only else None, only.waiting if only else None,
                         only.names if only else str, unknown, page)
    first = shares[0].person
    top = [header(f"What is waiting for you, {first.get('name') or first['person']}"),
           context("type `/audit help` in any message box for more")]
    body: Blocks = []
    for share in shares:
        roles = ", ".join(share.person.get("roles") or []) or "no role yet"
        body += [divider(), header(share.partnership),
                 context(f"{escape(share.person.get('agency') or '')} · {escape(roles)}")]
        body += waiting_blocks(share.waiting, share.names) or \
            [section("Nothing is waiting for you here. :tada:")]
    return paged(top, body, page)


def home_view(person: Doc | None, w: Any, names: Names, unknown: str = "", page: int = 1
              ) -> dict[str, Any]:
    """The Home tab, one page of it: what is waiting in pages that Slack will show whole, with
    Previous and Next buttons between them."""
    if person is None:
        return {"type": "home", "blocks": [header("Safeguarding audit"),
                                           *sections(escape(unknown))]}
    roles = ", ".join(person.get("roles") or []) or "no role yet"
    top = [header(f"What is waiting for you, {person.get('name') or person['person']}"),
           context(f"{escape(person.get('agency') or '')} · {escape(roles)} · "
                   "type `/audit help` in any message box for more")]
    body = waiting_blocks(w, names) or [section("Nothing is waiting for you. :tada:")]
    return paged(top, body, page)


def paged(top: Blocks, body: Blocks, page: int) -> dict[str, Any]:
    """A Home tab of `top` and one page of `body`, with Previous and Next between pages."""
    split = pages(body, VIEW_BLOCKS, MESSAGE_CHARS, reserve_blocks=len(top) + 2,
                  reserve_chars=400)
    page = min(max(page, 1), len(split))
    blocks = top + split[page - 1]
    if len(split) > 1:
        nav = []
        if page > 1:
            nav.append(button("Previous page", HOME_PAGE, str(page - 1)))
        if page < len(split):
            nav.append(button("Next page", HOME_PAGE, str(page + 1), "primary"))
        blocks += [context(f"Page {page} of {len(split)}"), actions(f"home-page|{page}", *nav)]
    return {"type": "home", "blocks": blocks}
