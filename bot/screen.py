"""Block Kit as terminal text, for `bot try`: mrkdwn made plain, each button numbered to press."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from typing import Any, TextIO

from projections.inert import for_terminal

Doc = dict[str, Any]

DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")
EMOJI = {":white_check_mark:": "✓", ":rotating_light:": "(!)", ":tada:": ""}


def to_text(md: str) -> str:
    """Slack mrkdwn as plain terminal text."""
    text = DATE.sub(r"\1", md)
    text = LINK.sub(r"\2 (\1)", text)
    text = ITALIC.sub(r"\1", text)
    for code, char in EMOJI.items():
        text = text.replace(code, char)
    return html.unescape(text.replace("*", "").replace("`", "")).strip()


@dataclass
class Button:
    """A button shown on the screen: the element, its block, and where it was shown (a message,
    an ephemeral answer or a view), which is where pressing it acts."""

    element: Doc
    block_id: str
    place: Doc


class Screen:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.buttons: dict[int, Button] = {}
        self.numbers = itertools.count(1)

    def say(self, text: str = "") -> None:
        self.out.write(for_terminal(text) + "\n")  # people's text: shown, never obeyed
        self.out.flush()

    def message(self, title: str, blocks: list[Doc], text: str, place: Doc) -> None:
        self.say(f"\n--- {title} " + "-" * max(3, 60 - len(title)))
        if not blocks:
            self.say(to_text(text))
        for block in blocks:
            self.block(block, place)
        self.say("-" * 66)

    def block(self, block: Doc, place: Doc) -> None:
        kind = block.get("type")
        if kind == "header":
            self.say(block["text"]["text"].upper())
        elif kind == "section":
            self.say(to_text(block.get("text", {}).get("text", "")))
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                self.say("   " + self.register(accessory, block.get("block_id", ""), place))
        elif kind == "context":
            self.say("   " + " ".join(to_text(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "divider":
            self.say("   " + "·" * 30)
        elif kind == "actions":
            shown = [self.register(e, block.get("block_id", ""), place)
                     for e in block.get("elements", []) if e.get("type") == "button"]
            self.say("   " + "   ".join(shown))

    def register(self, element: Doc, block_id: str, place: Doc) -> str:
        number = next(self.numbers)
        self.buttons[number] = Button(element, block_id, place)
        return f"[{number} {element['text']['text']}]"


def still_there(blocks: list[Doc], button: Button) -> bool:
    """Whether a message, as it now reads, still has the button that was shown."""
    for block in blocks:
        elements = block.get("elements", []) + ([block["accessory"]] if "accessory" in block
                                                else [])
        for e in elements:
            if (e.get("action_id") == button.element.get("action_id")
                    and e.get("value") == button.element.get("value")):
                return True
    return False
