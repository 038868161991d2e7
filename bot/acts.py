"""Carrying out a person's act through the ledger, with refusals in plain words."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from ledger import commands as c
from ledger.base import LedgerError, NotPermitted
from policies.permissions import permission_problem, refusal_words

from .services import BotServices

log = logging.getLogger(__name__)
C = TypeVar("C", bound=c.Command)

KEY_LIMIT = 200
FIELD_WORDS = {"response": "your answer", "action": "the action", "note": "the note",
               "evidence": "the evidence", "rag": "the status", "by": "who you are",
               "programme": "the programme", "case": "the case", "agency": "the agency"}


ACTS = {"acknowledge_feedback": "acknowledge feedback", "respond_to_issue": "respond to issue",
        "acknowledge_concern": "acknowledge concern",
        "record_concern_action": "record concern action", "close_concern": "close concern",
        "record_action_progress": "record action progress", "complete_action": "complete action"}
"""The act each of the ledger's methods the bot calls carries out (for refusals in words)."""
PERSON_ID = re.compile(r"\b[a-z][a-z0-9]*(?:[.\-_][a-z0-9]+)+\b")


@dataclass(frozen=True)
class Done:
    """How an act went: `ok` False means refused (nothing written); `changed` False means it was
    already so (a retry, a second click)."""

    ok: bool
    changed: bool
    message: str


def slack_key(*parts: str) -> str:
    """The idempotency key of an act that came from Slack (stored on the event)."""
    return ":".join(("slack", *parts))[:KEY_LIMIT]


def plain_problem(problem: str, by: str) -> str:
    text = problem[len(by) + 2:] if by and problem.startswith(f"{by}: ") else problem
    return text[:1].upper() + text[1:]


def _validation_words(e: ValidationError) -> str:
    lines = []
    for err in e.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        what = FIELD_WORDS.get(field, field or "this")
        if err["type"] == "string_too_long":
            limit = (err.get("ctx") or {}).get("max_length", "")
            lines.append(f"{what.capitalize()} is too long (at most {limit} characters).")
        elif err["type"] in ("string_too_short", "missing"):
            lines.append(f"{what.capitalize()} is missing.")
        else:
            lines.append(f"{what.capitalize()} is not right: {err['msg']}.")
    return " ".join(lines)


def carry_out(services: BotServices, cls: type[C], method: str, **fields: Any) -> Done:
    """Validate the command, run it, bring the views up to date; never raises for a refusal."""
    by = str(fields.get("by", ""))
    fields.setdefault("occurred_on", services.today())
    try:
        cmd = cls.model_validate(fields)
    except ValidationError as e:
        log.info("%s refused at the edge (%d problems)", cls.__name__, e.error_count())
        return Done(False, False, _validation_words(e))
    try:
        outcome = getattr(services.app, method)(cmd)
    except NotPermitted as e:
        log.info("%s refused by the ledger (%s)", cls.__name__, type(e).__name__)
        return Done(False, False, refused(services, ACTS.get(method, ""), by, e.problems,
                                          str(fields.get("programme", ""))))
    except LedgerError as e:
        log.info("%s refused by the ledger (%s)", cls.__name__, type(e).__name__)
        return Done(False, False, " ".join(plain_problem(p, by) for p in e.problems))
    services.follower.catch_up()
    log.info("%s %s", cls.__name__, "recorded" if outcome.changed else "already recorded")
    return Done(True, outcome.changed, outcome.message)


def refused(services: BotServices, act: str, by: str, problems: list[str],
            programme: str = "") -> str:
    """A refusal said plainly: who can do it (the roles, in words) and whom to ask; when the
    person holds the role but the thing is someone else's, whose it is, by name (all within
    the partnership that owns the programme acted on)."""
    directory = services.directory.of(programme)
    person = directory.person(by) or {}
    roles = list(person.get("roles") or [])
    leads = [p.get("name") or p["person"] for p in directory.quality_leads()][:3]
    ask = (f" If that is wrong, ask your quality lead ({' or '.join(leads)})." if leads else
           " If that is wrong, ask your quality lead.")
    if act and permission_problem(act, roles) is not None:
        return refusal_words(act, roles) + ask
    said = " ".join(plain_problem(p, by) for p in problems)

    def named(m: re.Match[str]) -> str:
        found = directory.person(m.group())
        return str(found.get("name") or m.group()) if found else m.group()
    said = PERSON_ID.sub(named, said).replace("quality-lead", "quality lead")
    return said if said.endswith(".") else said + "."
