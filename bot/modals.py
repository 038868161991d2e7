"""Modals (forms) and the checking of what people submit in them, block by block.

Errors go back to Slack as `response_action: errors`, keyed by the block that is wrong, so the
person sees them under the box they typed in. Nothing is recorded while any box is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from policies.smart import RAG

from . import words
from .blocks import (
    ACTION_COMPLETE,
    ACTION_UPDATE,
    CONCERN_RECORD_ACTION,
    clip,
    context,
    escape,
    plain,
    section,
    sections,
)

Doc = dict[str, Any]
View = dict[str, Any]
Errors = dict[str, str]

MAX_ANSWER = 3000
ANSWER = "answer"


def _modal(callback_id: str, title: str, submit: str, blocks: list[Doc], meta: Doc) -> View:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(meta, separators=(",", ":")),
        "blocks": blocks[:100],
    }


def _text_input(block_id: str, label: str, *, optional: bool = False, initial: str = "",
                hint: str = "", placeholder: str = "", multiline: bool = True) -> Doc:
    element: Doc = {"type": "plain_text_input", "action_id": ANSWER, "multiline": multiline,
                    "max_length": MAX_ANSWER if multiline else 150}
    if initial:
        element["initial_value"] = clip(initial, MAX_ANSWER)
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    block: Doc = {"type": "input", "block_id": block_id, "label": plain(label, 2000),
                  "element": element, "optional": optional}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def metadata(view: Doc) -> Doc:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _text(values: Doc, block_id: str) -> str | None:
    """What was typed in a text box; None when the box is not in the submission."""
    block = values.get(block_id)
    if not isinstance(block, dict):
        return None
    field = block.get(ANSWER) or next(iter(block.values()), None)
    if not isinstance(field, dict):
        return None
    return str(field.get("value") or "")


def _selected(values: Doc, block_id: str) -> str:
    block = values.get(block_id)
    if not isinstance(block, dict):
        return ""
    field = next(iter(block.values()), None)
    option = field.get("selected_option") if isinstance(field, dict) else None
    return str(option.get("value") or "") if isinstance(option, dict) else ""


def _too_long(text: str) -> str | None:
    if len(text) > MAX_ANSWER:
        return (f"This is {len(text):,} characters long; please keep it to {MAX_ANSWER:,} or "
                "fewer.")
    return None


def done_view(title: str, text: str) -> View:
    """What a form turns into once it is recorded (response_action: update)."""
    return {"type": "modal", "title": plain(title, 24), "close": plain("Close", 24),
            "blocks": [section(escape(text))]}


# ---- responding to feedback ---------------------------------------------------------------


def issue_block(n: Any) -> str:
    return f"issue-{n}"


# ---- recording the action taken on a concern ---------------------------------------------


CONCERN_ACTION_BLOCK = "action"


def where_action_shown(doc: Doc, programme: Doc | None) -> str:
    """Where what a manager types about a concern will be shown, said before they type it."""
    channel = str((programme or {}).get("channel") or "")
    shown = (f"Your words are kept in the audit record and shown to {escape(doc['agency'])}'s "
             "managers and the quality leads, in their copies of this alert and in the case's "
             "history.")
    if not channel:
        return shown
    if (programme or {}).get("channel_detail") == "text":
        return shown + " They are also posted in the programme's channel, as this programme is " \
                       "set to show actions there."
    return shown + " The programme's channel is told only that an action was recorded, by " \
                   "you, and when: not what you write."


def concern_action_modal(doc: Doc, meta: Doc, programme: Doc | None = None) -> View:
    risk = ("*A child may be at risk now:* if you have not already, contact the children's "
            "services front door (MASH) or emergency services (999) now.\n"
            if doc.get("child_at_risk") else "")
    blocks = [
        *sections(f"{risk}Concern `{escape(doc['ref'])}` on case *{escape(doc['case'])}* "
                  f"({escape(doc['agency'])}):\n{escape(doc.get('summary') or '')}"),
        context(where_action_shown(doc, programme)),
        _text_input(CONCERN_ACTION_BLOCK, "What action have you taken or arranged?",
                    placeholder="Who did what, and when"),
    ]
    return _modal(CONCERN_RECORD_ACTION, "Record action", "Record", blocks, meta)


def read_concern_action(values: Doc) -> tuple[str, Errors]:
    text = (_text(values, CONCERN_ACTION_BLOCK) or "").strip()
    if not text:
        return "", {CONCERN_ACTION_BLOCK: "Please say what action you have taken or arranged."}
    problem = _too_long(text)
    return (text, {}) if problem is None else ("", {CONCERN_ACTION_BLOCK: problem})


# ---- updating an action of the action plan -------------------------------------------------


RAG_BLOCK = "rag"
NOTE_BLOCK = "note"
EVIDENCE_BLOCK = "evidence"
RAG_WORDS = {"red": "Red: off track", "amber": "Amber: at risk", "green": "Green: on track"}


@dataclass(frozen=True)
class ActionUpdate:
    rag: str
    note: str
    evidence: str


def _option(rag: str) -> Doc:
    return {"text": plain(RAG_WORDS[rag], 75), "value": rag}


def action_update_modal(action: Doc, meta: Doc) -> View:
    """Progress on an action: a status and a note, both needed (so neither is marked optional).
    Completing it is its own button, behind a confirm step, as it cannot be undone."""
    select: Doc = {"type": "static_select", "action_id": "choice",
                   "placeholder": plain("How is it going?", 150),
                   "options": [_option(r) for r in RAG]}
    if action.get("rag") in RAG:
        select["initial_option"] = _option(action["rag"])
    blocks = [
        *sections(f"*`{escape(action['id'])}`* {escape(action['description'])}\n"
                  f"_Measure:_ {escape(action['measure'])} · _due on_ "
                  f"{words.day(action['due'])}"),
        {"type": "input", "block_id": RAG_BLOCK, "label": plain("Status (RAG)"),
         "element": select, "optional": False},
        _text_input(NOTE_BLOCK, "Progress note",
                    placeholder="What has been done since the last update"),
        context("When the action is done, use *Mark complete* instead, with the evidence."),
    ]
    return _modal(ACTION_UPDATE, f"Update {action['id']}", "Save", blocks, meta)


def read_action_update(values: Doc) -> tuple[ActionUpdate | None, Errors]:
    rag = _selected(values, RAG_BLOCK).strip().lower()
    note = (_text(values, NOTE_BLOCK) or "").strip()
    errors: Errors = {}
    if rag not in RAG:
        errors[RAG_BLOCK] = "Choose red, amber or green." if rag else "Choose a status."
    problem = _too_long(note)
    if problem:
        errors[NOTE_BLOCK] = problem
    elif not note:
        errors[NOTE_BLOCK] = "Say what progress has been made."
    if errors:
        return None, errors
    return ActionUpdate(rag, note, ""), {}


def action_complete_modal(action: Doc, meta: Doc) -> View:
    """The evidence that an action is done: recording it completes the action for good."""
    blocks = [
        *sections(f"*`{escape(action['id'])}`* {escape(action['description'])}\n"
                  f"_Measure:_ {escape(action['measure'])} · _due on_ "
                  f"{words.day(action['due'])}"),
        _text_input(EVIDENCE_BLOCK, "Evidence that it is done",
                    hint="For example minutes, a report or an audit result, and where it is "
                         "kept."),
        context(":warning: *Mark complete* records the action as done, for good: it cannot be "
                "undone. Press *Cancel* if it is not done yet."),
    ]
    return _modal(ACTION_COMPLETE, f"Complete {action['id']}", "Mark complete", blocks, meta)


def read_evidence(values: Doc) -> tuple[str, Errors]:
    text = (_text(values, EVIDENCE_BLOCK) or "").strip()
    if not text:
        return "", {EVIDENCE_BLOCK: "Say what shows that the action is done."}
    problem = _too_long(text)
    return (text, {}) if problem is None else ("", {EVIDENCE_BLOCK: problem})
