"""Nothing cut: long text split across sections, long answers across messages or pages.

Slack refuses a section over 3,000 characters, a message over 50 blocks (a view over 100),
and a message whose blocks hold more than about 12,000 characters of text in all
(`msg_blocks_too_long`, even when every block is within its own limit). So text is split at
line breaks (or, for one very long line, between words) into as many sections as it needs, and
a list of blocks into as many pages as it needs, each under `MESSAGE_CHARS` of text: every
character people wrote reaches them, in order, in one message or the next.
"""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]
Blocks = list[Block]

SECTION_CHARS = 3000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_CHARS = 11000
"""Characters of block text a message is kept under (Slack refuses from about 12,000)."""
SLACK_REFUSES_CHARS = 12000
"""Where Slack refuses a message's blocks as too long (msg_blocks_too_long), as reported."""


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """`text` in pieces of at most `limit` characters, broken at line breaks where it can, else
    between words, else (one unbroken word) anywhere but inside an `&amp;`-style escape."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", max(0, cut - 6), cut)
            if amp > 0 and ";" not in rest[amp:cut]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ") if rest[cut:cut + 1] in ("\n", " ") else rest[cut:]
    pieces.append(rest)
    return [p for p in pieces if p] or [""]


def sections(md: str, block_id: str | None = None) -> Blocks:
    """As many mrkdwn sections as `md` needs (the first carries `block_id`)."""
    blocks: Blocks = []
    for i, piece in enumerate(split_text(md)):
        block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        if block_id and i == 0:
            block["block_id"] = block_id
        blocks.append(block)
    return blocks


def text_chars(x: Any) -> int:
    """Characters of text in a block or blocks, as Slack counts them towards its total: every
    string under a "text" key, at any depth. Walked with a stack, not a call and a generator
    a value: every answer's blocks are counted to be paged."""
    total = 0
    stack = [x]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, w in v.items():
                if isinstance(w, str):
                    if k == "text":
                        total += len(w)
                elif isinstance(w, dict | list):
                    stack.append(w)
        elif isinstance(v, list):
            stack.extend(v)
    return total


def pages(blocks: Blocks, max_blocks: int = MESSAGE_BLOCKS, max_chars: int = MESSAGE_CHARS,
          reserve_blocks: int = 0, reserve_chars: int = 0) -> list[Blocks]:
    """`blocks` in order, in as few pages as keep each within `max_blocks` blocks and
    `max_chars` characters of text, less what the caller reserves for its own additions (a
    "More" button, a page's heading). A section too long for one page is split first."""
    room_blocks = max(1, max_blocks - reserve_blocks)
    room_chars = max(500, max_chars - reserve_chars)
    out: list[Blocks] = []
    page: Blocks = []
    chars = 0
    for block in _within(blocks, room_chars):
        size = text_chars(block)
        if page and (len(page) + 1 > room_blocks or chars + size > room_chars):
            out.append(page)
            page, chars = [], 0
        page.append(block)
        chars += size
    if page or not out:
        out.append(page)
    return out


def _within(blocks: Blocks, room_chars: int) -> Blocks:
    """Blocks with every section split to Slack's section limit (and the page's room)."""
    limit = min(SECTION_CHARS, room_chars)
    out: Blocks = []
    for block in blocks:
        text = (block.get("text") or {}).get("text") if block.get("type") == "section" else None
        if isinstance(text, str) and len(text) > limit and "accessory" not in block:
            for i, piece in enumerate(split_text(text, limit)):
                part = {**block, "text": {**block["text"], "text": piece}}
                if i and "block_id" in part:
                    del part["block_id"]
                out.append(part)
        else:
            out.append(block)
    return out


def within_limits(blocks: Blocks, max_blocks: int = MESSAGE_BLOCKS,
                  max_chars: int = SLACK_REFUSES_CHARS) -> list[str]:
    """What Slack would refuse in one message's blocks (empty when it would take them)."""
    problems = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (at most {max_blocks})")
    total = text_chars(blocks)
    if total > max_chars:
        problems.append(f"{total} characters of block text (Slack refuses over {max_chars})")
    for i, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text") if isinstance(block.get("text"), dict) \
            else None
        if block.get("type") == "section" and isinstance(text, str) and len(text) > SECTION_CHARS:
            problems.append(f"block {i}: a section of {len(text)} characters")
        if block.get("type") == "header" and isinstance(text, str) and len(text) > 150:
            problems.append(f"block {i}: a header of {len(text)} characters")
        for e in block.get("elements") or []:
            if isinstance(e.get("text"), str) and len(e["text"]) > SECTION_CHARS:
                problems.append(f"block {i}: a context of {len(e['text'])} characters")
    return problems


def parts(text: str, blocks: Blocks, max_chars: int = MESSAGE_CHARS, first: int = 1,
          total: int | None = None) -> list[tuple[str, Blocks]]:
    """One message's text and blocks as as many messages as Slack will take, in order; each
    after the first says which part of the whole it is (numbered from `first`, of `total` when
    known, else of as many as this makes)."""
    split = pages(blocks, MESSAGE_BLOCKS, max_chars, reserve_blocks=1, reserve_chars=120)
    if len(split) == 1 and first == 1:
        return [(text, split[0])]
    of = total if total is not None else first - 1 + len(split)
    out = []
    for n, page in enumerate(split, first):
        if n == 1:
            out.append((text, page))
            continue
        note = f"Continued: part {n}" + (f" of {of}." if of >= n else ".")
        out.append((f"{note} {text}", [continuation(note)] + page))
    return out


def continuation(note: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": note}],
            "block_id": "continued"}


def without_continuation(blocks: Blocks) -> Blocks:
    return [blk for blk in blocks if blk.get("block_id") != "continued"]
