"""Block Kit's pieces as the bot uses them: sections, buttons, limits, dates and grades in words.

Pure: text in, blocks out. Personal text (comments, summaries, answers) is escaped for Slack's
mrkdwn; long text is split across sections (`sections`) and long answers across messages or
pages (`pages`), never cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from policies.scales import OVERALL, area_title, scale_named

from . import words
from .pages import MESSAGE_BLOCKS, SECTION_CHARS, VIEW_BLOCKS, sections

Doc = dict[str, Any]
Block = dict[str, Any]
Blocks = list[Block]
Names = Callable[[str], str]

__all__ = ["MESSAGE_BLOCKS", "SECTION_CHARS", "VIEW_BLOCKS", "sections"]

# action ids of buttons, and callback ids of the modals they open
FEEDBACK_ACKNOWLEDGE = "feedback.acknowledge"
FEEDBACK_RESPOND = "feedback.respond"
FEEDBACK_SEEN = "feedback.seen"
FEEDBACK_ANSWER = "feedback.answer"
FEEDBACK_SAVE_DRAFT = "feedback.save_draft"
LINK_ASK = "link.ask"
LINK_APPROVE = "link.approve"
LINK_REFUSE = "link.refuse"
CONCERN_ACKNOWLEDGE = "concern.acknowledge"
CONCERN_RECORD_ACTION = "concern.record_action"
ACTION_UPDATE = "action.update"
ACTION_COMPLETE = "action.complete"


def answer_button_for(blocks: Blocks, issue: int) -> bool:
    """Whether these blocks hold the Answer button of a feedback's `issue`."""
    for block in blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == FEEDBACK_ANSWER:
            try:
                if json.loads(accessory.get("value") or "{}").get("i") == issue:
                    return True
            except (json.JSONDecodeError, AttributeError):
                continue
    return False


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


def button(text: str, action_id: str, val: str, style: str | None = None,
           confirm: Block | None = None) -> Block:
    b: Block = {"type": "button", "text": plain(text, 75), "action_id": action_id, "value": val}
    if style:
        b["style"] = style
    if confirm:
        b["confirm"] = confirm
    return b


def confirm(title: str, text: str, yes: str, no: str = "Not yet") -> Block:
    """Slack's "are you sure?" dialog before a button acts: for acts that cannot be undone."""
    return {"title": plain(title, 100), "text": plain(text, 300), "confirm": plain(yes, 30),
            "deny": plain(no, 30)}


def actions(block_id: str, *buttons: Block) -> Block:
    return {"type": "actions", "block_id": clip(block_id, 255), "elements": list(buttons)}


def when(iso: str, zone: tzinfo | None = None) -> str:
    """A moment as the reader reads it: "Tuesday 24 June 2009 at 2:10 pm", in their own time
    zone (England's when it is not known)."""
    return words.moment(iso, zone)


def when_plain(iso: str, zone: tzinfo | None = None) -> str:
    return words.moment(iso, zone)


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
    """ "Area 4 Assessment"; an area without a title is "Area 9", never "Area 9 Area 9"."""
    titles = programme.get("areas") if programme else None
    if area == OVERALL:
        return "Overall"
    title = area_title(area, titles)
    return title if title.lower() == f"area {area}".lower() else f"Area {area} {title}"


def say(text: str) -> tuple[str, Blocks]:
    """One plain message (a refusal, an outcome) as text and blocks, however long (a refusal
    may list every problem found)."""
    return text, sections(escape(text))
