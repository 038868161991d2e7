"""A pack's JSON read warily: what the JSON standard leaves open, refused in words.

Python's reader takes NaN and Infinity (not JSON at all), turns 1e999 into infinity, stops
with a traceback on a 5,000-digit number or at about a thousand levels of nesting. Nothing in
an audit pack needs any of that, so each is refused plainly before the pack is looked at.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .pack import PackProblems

MAX_DEPTH = 32  # a pack is a few levels deep; far below where the reader would overflow
MAX_NUMBER_CHARS = 30  # grades, numbers of recommendations, counts: nothing longer


class _Refused(ValueError):
    pass


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number {len(text):,} characters long; numbers in a pack have at "
                       f"most {MAX_NUMBER_CHARS}")
    return text


def _integer(text: str) -> int:
    return int(_number(text))


def _decimal(text: str) -> float:
    value = float(_number(text))
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is too large to hold")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows; write a number, or leave the field out")


def read_pack_json(text: str, where: str) -> Any:
    """The JSON value of a pack's text, or PackProblems saying what it may not hold."""
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_decimal,
                          parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise PackProblems([f"{where}: line {e.lineno}, column {e.colno}: not valid JSON "
                            f"({e.msg})"]) from None
    except _Refused as e:
        raise PackProblems([f"{where}: {e}"]) from None
    except RecursionError:
        raise PackProblems([_too_deep(where)]) from None
    if _deeper_than(data, MAX_DEPTH):
        raise PackProblems([_too_deep(where)])
    return data


def _too_deep(where: str) -> str:
    return f"{where}: lists and objects nested more than {MAX_DEPTH} deep; a pack is a few " \
        "levels deep"


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False
