"""Personal text in events: which fields hold it, how a sealed value looks, and walking them.

Event classes declare their personal fields: `PERSONAL = ("summary",)`. A field holding a
text is walked whole; a dict or list of texts text by text (dict keys, such as areas, are not
texts); `"issues[].text"` is the `text` of each item of a list. A sealed text is stored as
`{"sealed": "<base64>"}` (ledger.sealing); once its case's text is erased it reads ERASED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ERASED = "[erased]"
UNREADABLE = "[unreadable]"
SEALED = "sealed"


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def _each_text(value: Any, change: Callable[[Any], Any]) -> Any:
    """The value with `change` applied to each text in it (a sealed value counts as a text).
    Texts directly in a dict or list (most of them: a return's comments by area) are changed
    without a call more each; the same result as walking each."""
    kind = type(value)
    if kind is str:
        return change(value)
    if kind is dict and not is_sealed(value):
        return {k: change(v) if type(v) is str else _each_text(v, change)
                for k, v in value.items()}
    if kind is list:
        return [change(v) if type(v) is str else _each_text(v, change) for v in value]
    if isinstance(value, str) or is_sealed(value):
        return change(value)
    if isinstance(value, dict):
        return {k: _each_text(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_text(v, change) for v in value]
    return value


def personal(cls: type) -> tuple[str, ...]:
    paths: tuple[str, ...] = getattr(cls, "PERSONAL", ())
    return paths


Path = tuple[str, str]  # a personal path split: (field, the field of each item or "")
_SPLIT: dict[type, tuple[Path, ...]] = {}


def personal_paths(cls: type) -> tuple[Path, ...]:
    """The class's personal paths, split once (`"issues[].text"` is `("issues", "text")`)."""
    found = _SPLIT.get(cls)
    if found is None:
        found = tuple((name, item) for name, _, item in
                      (path.partition("[].") for path in personal(cls)))
        _SPLIT[cls] = found
    return found


def on_path(state: dict[str, Any], path: Path, change: Callable[[Any], Any]) -> None:
    """Apply `change` to each text under one personal path of an event's state (in place)."""
    name, item_field = path
    if name not in state:
        return
    value = state[name]
    if not item_field:
        state[name] = _each_text(value, change)
    elif isinstance(value, list):
        state[name] = [{**item, item_field: _each_text(item[item_field], change)}
                       if isinstance(item, dict) and item_field in item else item
                       for item in value]


def _holds_text(value: Any) -> bool:
    """True when the value holds a text that is not empty (a sealed value counts as one)."""
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, dict):
        return is_sealed(value) or any(_holds_text(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_text(v) for v in value)
    return False


def has_texts(state: dict[str, Any], paths: tuple[Path, ...]) -> bool:
    """True when any personal field holds a text that is not empty (one walk, no copies)."""
    for name, item in paths:
        value = state.get(name)
        if not item:
            if _holds_text(value):
                return True
        elif isinstance(value, list):
            for each in value:
                if isinstance(each, dict) and item in each and _holds_text(each[item]):
                    return True
    return False


def personal_texts(event: Any) -> list[str]:
    """Every text in an event's personal fields, as read (opened, or "[erased]")."""
    out: list[str] = []

    def take(value: Any) -> Any:
        if isinstance(value, str) and value and value not in (ERASED, UNREADABLE):
            out.append(value)
        return value

    for path in personal_paths(type(event)):
        on_path(dict(vars(event)), path, take)
    return out
