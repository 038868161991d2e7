"""The validator's findings said in plain words: where the value is, what is wrong with it and
what is allowed, never the validator's own text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from policies.permissions import ROLES


def json_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def pydantic_problems(error: ValidationError, prefix: str = "") -> list[str]:
    """The validator's findings in plain words, each naming where it is (never its own text)."""
    lines = []
    for e in error.errors(include_url=False):
        where = json_path(e["loc"])
        if prefix:
            where = f"{prefix}.{where}" if where != "(top level)" else prefix
        lines.append(f"{where}: {plain_words(e)}")
    return lines


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 42 else text[:40] + "...'"


def plain_words(e: Any) -> str:  # noqa: C901 - one answer per kind of finding
    """What is wrong with one value and what is allowed, as a person would say it."""
    kind, ctx, value = e["type"], e.get("ctx", {}), e.get("input")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against the pack format)"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return f"{_shown(value)} is not allowed here ({_pattern_words(e)})"
    if kind == "literal_error":
        return f"{_shown(value)} is not allowed; allowed: " + ", ".join(ROLES)
    if kind == "string_too_short":
        return "must not be blank"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return "must not be empty: list at least one"
    if kind.startswith("date_"):
        return f"{_shown(value)} is not a date; write it as YYYY-MM-DD"
    if kind.startswith("int_"):
        return f"{_shown(value)} is not a whole number"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{_shown(value)} is too small: the least allowed is {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{_shown(value)} is too large: the most allowed is {ctx.get('le', ctx.get('lt'))}"
    if kind.startswith("bool_"):
        return f"{_shown(value)} is not allowed; write true or false"
    if kind == "string_type":
        return f"{_shown(value)} is not allowed; write text in double quotes"
    if kind == "list_type":
        return "must be a list, written [...]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be an object, written {...}"
    return f"{_shown(value)} is not allowed here"


def _pattern_words(e: Any) -> str:
    pattern = str(e.get("ctx", {}).get("pattern", ""))
    if pattern.startswith("^[a-z0-9]"):
        return "use lower-case letters, digits and hyphens"
    if pattern.startswith("^[A-Za-z0-9]"):
        return "use letters, digits, dots, hyphens and underscores"
    if "overall" in pattern:
        return "an area is 1 to 8 or 'overall'"
    if pattern.startswith("^[UW]"):
        return "a Slack user id such as U0123ABCD"
    if pattern.startswith("^[TE]"):
        return "a Slack workspace (team) id such as T0123ABCD"
    if pattern.startswith("^[1-9]"):
        return "an area is a number from 1 to 9"
    return "see the pack format for what is allowed"
