"""`/audit` subcommands: the words a person types, answered from fresh views, within their role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.base import LedgerError
from policies.permissions import permission_problem, refusal_words
from policies.scales import OVERALL
from projections.history import case_history
from projections.queries import (
    NotInViews,
    Views,
    action_status,
    natural_key,
    partnership_of,
    plan_status,
)

from . import blocks as b
from . import replies, waiting
from .services import BotServices

Doc = dict[str, Any]
Answer = tuple[str, b.Blocks]


@dataclass
class Waiting:
    """What is waiting for one person, across every programme."""

    feedback: list[Doc] = field(default_factory=list)
    concerns: list[Doc] = field(default_factory=list)
    actions: list[Doc] = field(default_factory=list)
    team_feedback: list[Doc] = field(default_factory=list)
    team_actions: list[Doc] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.feedback or self.concerns or self.actions or self.team_feedback
                    or self.team_actions)


def waiting_for(views: Views, person: Doc, today: date) -> Waiting:
    """Read from the views' indexes: its cost is one person's open items, not the log's."""
    found = views.waiting(person)

    def by_case(f: Doc) -> tuple[str, list[Any], str]:
        return f["programme"], natural_key(f["case"]), f["agency"]

    def by_id(a: Doc) -> tuple[str, list[Any]]:
        return a["programme"], natural_key(a["id"])

    w = Waiting(feedback=sorted(found["feedback"], key=by_case),
                team_feedback=sorted(found["team_feedback"], key=by_case))
    for a in sorted(found["actions"], key=by_id):
        if not a["completed"]:
            w.actions.append(action_status(a, today))
    for a in sorted(found["team_actions"], key=by_id):
        status = action_status(a, today)
        if not a["completed"] and status["overdue_days"] > 0:
            w.team_actions.append(status)
    concerns = sorted(found["concerns"], key=lambda k: (k["programme"], k["raised_at"], k["ref"]))
    w.concerns = sorted(concerns, key=lambda k: (not k.get("child_at_risk"),
                                                 k.get("raised_at", "")))
    return w


# ---- the subcommands -------------------------------------------------------------------------


def _check(act: str, person: Doc) -> Answer | None:
    """None when the person's roles allow the act, else a refusal saying who can."""
    roles = person.get("roles") or []
    if permission_problem(act, roles) is None:
        return None
    return b.say(f"{refusal_words(act, roles)} If that is wrong, ask your quality lead.")


def _programme(views: Views, person: Doc, word: str | None, usage: str) -> Doc | Answer:
    """The programme a person names (or their only one), among their partnership's only."""
    mine = [partnership_of(person)]
    if word:
        return views.programme(word, mine)
    programmes = sorted(views.programmes(mine), key=lambda p: p["programme"])
    if len(programmes) == 1:
        return programmes[0]
    return replies.programme_list(programmes, usage)


def shares(services: BotServices, people: list[Doc]) -> list[waiting.Share]:
    """What waits for someone, partnership by partnership (one person in each)."""
    out = []
    for person in people:
        partnership = partnership_of(person)
        doc = services.views.partnership(partnership) or {}
        out.append(waiting.Share(str(doc.get("name") or partnership), person,
                                 waiting_for(services.views, person, services.today()),
                                 services.directory.within(partnership).name))
    return out


def as_whom(views: Views, people: list[Doc], word: str | None) -> Doc:
    """Who someone serving several partnerships asks as: the person they are in the
    partnership that owns the programme named, else the first of theirs."""
    if word and len(people) > 1:
        try:
            owner = partnership_of(views.programme(word))
        except NotInViews:
            owner = ""
        for person in people:
            if partnership_of(person) == owner:
                return person
    return people[0]


def answer(services: BotServices, slack_user: str, text: str, team: str | None) -> Answer:
    """The answer to `/audit TEXT` from this Slack user in workspace `team`: as the people
    they are in the partnerships linked to it (None: in every partnership, for a caller
    that is no workspace's)."""
    words = text.split()
    sub = words[0].lower() if words else "help"
    if sub in ("help", "?", "hello", "hi"):
        return replies.help_answer()
    views = services.fresh()
    people = services.directory.people(slack_user, team=team)
    if not people:
        return services.directory.unknown_answer(slack_user, team=team)
    person = as_whom(views, people, words[1] if len(words) > 1 else None)
    try:
        if sub in ("my", "me", "mine", "home"):
            return waiting.my_answer_across(shares(services, people))
        if sub == "progress":
            return _progress(services, person, words[1:])
        if sub == "actions":
            return _actions(services, person, words[1:])
        if sub == "case":
            return _case(services, person, words[1:])
        if sub == "history":
            return _history(services, person, words[1:])
        if sub == "concern":
            from .raising import concern_answer  # the form's module imports the forms'

            return _check("raise concern", person) or concern_answer(services, person, words[1:])
    except (NotInViews, LedgerError) as e:
        return b.say(str(e.args[0]) if isinstance(e, NotInViews) else "; ".join(e.problems))
    return replies.help_answer(f"I don't know “{b.escape(words[0][:40])}”. Here is what I can do.")


def _progress(services: BotServices, person: Doc, args: list[str]) -> Answer:
    denied = _check("view progress", person)
    if denied:
        return denied
    found = _programme(services.views, person, args[0] if args else None,
                       "/audit progress PROGRAMME")
    if isinstance(found, tuple):
        return found
    pid = found["programme"]
    recommendations = services.views.recommendations(pid)
    data = plan_status(services.views, pid, services.today(), recommendations)
    recs = {r["number"]: r["text"] for r in recommendations}
    names = services.directory.within(partnership_of(found)).name  # the programme's owner's
    return replies.progress_answer(data, found, recs, names)


def _actions(services: BotServices, person: Doc, args: list[str]) -> Answer:
    denied = _check("view progress", person)
    if denied:
        return denied
    overdue = any(a.lower() == "overdue" for a in args)
    rest = [a for a in args if a.lower() != "overdue"]
    found = _programme(services.views, person, rest[0] if rest else None,
                       "/audit actions PROGRAMME [overdue]")
    if isinstance(found, tuple):
        return found
    pid = found["programme"]
    rows = [action_status(a, services.today()) for a in services.views.actions(pid)]
    if overdue:
        rows = [a for a in rows if a["overdue_days"] > 0]
    lead = "quality-lead" in (person.get("roles") or [])

    def may_update(a: Doc) -> bool:
        return bool(a["owner"] == person["person"] or lead)

    return replies.actions_answer(found, rows, overdue, services.directory.of(pid).name,
                                  may_update)


@dataclass(frozen=True)
class CaseNamed:
    """A case as a person named it: its programme, its reference as stored, what followed."""

    programme: Doc
    case: str
    rest: list[str]
    doc: Doc | None = None
    """The case's document when it was read to find it (its text still sealed)."""


def programme_and_case(views: Views, person: Doc, args: list[str], usage: str
                       ) -> CaseNamed | Answer:
    """The programme (optional when there is only one), the case (its reference in any case:
    "c01" is C01) and the words after them; or an answer saying what is missing."""
    theirs = partnership_of(person)
    programme = _named(views, "programme", "", args[0], theirs) if args else None
    if programme is not None:
        rest = args[1:]
    else:  # not named as stored: every programme of theirs read, to match or list them
        programmes = sorted(views.programmes([theirs]),  # theirs, nobody else's
                            key=lambda p: p["programme"])
        by_id = {p["programme"].lower(): p for p in programmes}
        if args and args[0].lower() in by_id:
            programme, rest = by_id[args[0].lower()], args[1:]
        elif len(programmes) == 1:
            programme, rest = programmes[0], args
        else:
            return replies.programme_list(programmes, usage)
    if not rest:
        return b.say(f"Say which case, like this: {usage} (for example "
                     f"{usage.split(' [')[0].replace('PROGRAMME', programme['programme'])}"
                     .replace("CASE", "C01") + ").")
    pid = programme["programme"]
    case = _named(views, "case", f"{pid}/", rest[0], theirs)
    if case is not None:
        return CaseNamed(programme, case["case"], rest[1:], case)
    # Only the references are needed: the case documents' sealed text stays sealed.
    refs = {d["case"].lower(): d["case"] for _, d in views.store.scan("case", f"{pid}/")}
    ref = refs.get(rest[0].lower())
    if ref is None:
        known = ", ".join(sorted(refs.values(), key=natural_key)[:20]) or "none yet"
        return b.say(f"There is no case “{b.escape(rest[0][:20])}” in "
                     f"{programme.get('title') or programme['programme']}. Its cases: {known}.")
    return CaseNamed(programme, ref, rest[1:])


def _named(views: Views, view: str, prefix: str, typed: str, partnership: str) -> Doc | None:
    """The document a person named as it is stored (or in upper or lower case: "c01" is
    C01), in their partnership only; one indexed read, where matching every programme or case
    read them all (and opened every case's text) at each ask."""
    for key in dict.fromkeys((typed, typed.upper(), typed.lower())):
        doc = views.store.get(view, prefix + key)
        if doc is not None:
            return doc if view == "case" or partnership_of(doc) == partnership else None
    return None


def _case(services: BotServices, person: Doc, args: list[str]) -> Answer:
    denied = _check("view case", person)
    if denied:
        return denied
    found = programme_and_case(services.views, person, args, "/audit case [PROGRAMME] CASE")
    if not isinstance(found, CaseNamed):
        return found
    # The programme and the case were read to find them (the programme in the asker's
    # partnership): not read again.
    data = services.views.judgements(found.programme["programme"], found.case, found.doc)
    return replies.case_answer(data, found.programme)


def _history(services: BotServices, person: Doc, args: list[str]) -> Answer:
    denied = _check("view history", person)
    if denied:
        return denied
    found = programme_and_case(services.views, person, args, "/audit history [PROGRAMME] CASE [AREA]")
    if not isinstance(found, CaseNamed):
        return found
    area = found.rest[0].lower() if found.rest else None
    if area is not None and area != OVERALL and not (area.isdigit() and 1 <= int(area) <= 8):
        return b.say(f"“{b.escape(found.rest[0][:20])}” is not an area: use 2 to 8 or overall.")
    pid = found.programme["programme"]
    data = case_history(services.app, pid, found.case, area)
    return replies.history_answer(data, found.programme, services.directory.of(pid).name)
