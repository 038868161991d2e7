"""Block Kit's pieces as the bot uses them: sections, buttons, limits, dates and grades in words.

Pure: text in, blocks out. Personal text (comments, summaries, answers) is escaped for Slack's
mrkdwn and clipped to Slack's limits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from policies.scales import OVERALL, area_title, scale_named

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
FEEDBACK_SEEN = "feedback.seen"
FEEDBACK_ANSWER = "feedback.answer"
FEEDBACK_SAVE_DRAFT = "feedback.save_draft"
LINK_ASK = "link.ask"
LINK_APPROVE = "link.approve"
LINK_REFUSE = "link.refuse"
CONCERN_ACKNOWLEDGE = "concern.acknowledge"
CONCERN_RECORD_ACTION = "concern.record_action"
ACTION_UPDATE = "action.update"


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


def say(text: str) -> tuple[str, Blocks]:
    """One plain message (a refusal, an outcome) as text and a block."""
    return text, [section(escape(text))]
