"""People's text made inert for where it is written: a terminal (or a file read in one) and
Markdown. Comments, summaries and names arrive from packs, returns and Slack; a reader's
terminal or Markdown viewer must show them, never obey them.

Slack's mrkdwn has its own escaping, in `bot.blocks.escape`.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline (escape sequences, bell, carriage return, backspace), DEL,
# C1 controls (0x9b is a one-byte CSI on some terminals) and the bidirectional overrides that
# make text read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Markdown that does something: raw HTML and entities, links and images, code, table cells,
# and the backslash that escapes the rest.
_MARKDOWN_INLINE = {"\\": "\\\\", "&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[",
                    "]": "\\]", "`": "\\`", "|": "\\|"}
_INLINE = re.compile("[" + re.escape("".join(_MARKDOWN_INLINE)) + "]")
# What turns a line into a heading, quote, list, rule or setext underline at its start.
_LINE_START = re.compile(r"^([ \t]*)(?:([#+*=_-])|(\d+)([.)])(?=\s|$))", re.MULTILINE)


def for_terminal(text: str) -> str:
    """Text with every control character shown as `\\uXXXX` instead of acted on: no escape
    sequence, carriage return or direction override reaches the terminal. (Inside a JSON
    string, `\\uXXXX` reads back as the same character.)"""
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def markdown_text(text: str) -> str:
    """People's text as Markdown that renders as the very text: no HTML (`<script>`, tracking
    `<img>`), no links or images (`javascript:`), no headings, lists or table cells of its own."""
    text = _INLINE.sub(lambda m: _MARKDOWN_INLINE[m.group()], for_terminal(text))
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(m: re.Match[str]) -> str:
    indent, marker, number, dot = m.groups()
    return f"{indent}\\{marker}" if marker else f"{indent}{number}\\{dot}"


def markdown_document(doc: Any) -> Any:
    """A copy of a report document with each of its texts made inert for Markdown (keys, numbers
    and flags unchanged), so the layout can place them as they are."""
    if isinstance(doc, str):
        return markdown_text(doc)
    if isinstance(doc, dict):
        return {k: markdown_document(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [markdown_document(v) for v in doc]
    return doc


def cells_as_text(book: Any) -> Any:
    """An openpyxl workbook with every text that would start a formula (a comment or name
    beginning with '=', such as =HYPERLINK(...)) kept as text: the ledger writes no formula,
    so a spreadsheet never runs what a person typed. Returns the same workbook."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.data_type = "s"
    return book
