"""Questions people ask, answered from the views (never by replaying the log)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from ledger.ids import DEFAULT_PARTNERSHIP, IdScheme, in_partnership
from policies.scales import OVERALL
from policies.smart import days_overdue

from .indexes import index_keys, merged
from .sealed_text import open_texts
from .store import ViewStore

if TYPE_CHECKING:
    from ledger.case_keys import CaseKeys

Doc = dict[str, Any]
DEMOGRAPHICS = ("age_band", "gender", "ethnicity")
"""The child's details: sealed with the case's key, so the sample's spread over them is
counted when read (from the opened case documents), never folded into a view."""


class NotInViews(LookupError):
    pass


def natural_key(text: str) -> list[Any]:
    """'A1.10' after 'A1.2': numbers inside references compare as numbers."""
    import re

    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


class Views:
    """The views as people read them: each document's personal text opened with its case's
    key (`keys`: the ledger's case keys; None for documents already open, as a replay's;
    `scheme`: the store's id scheme, asked when an id is needed)."""

    def __init__(self, store: ViewStore, keys: CaseKeys | None = None, *,
                 scheme: Callable[[], IdScheme]) -> None:
        self.store = store
        self.keys = keys
        self.scheme = scheme

    def opened(self, docs: list[Doc]) -> list[Doc]:
        """The documents with their personal text opened (in place), for reading."""
        open_texts(docs, self.keys)
        return docs

    def _one(self, doc: Doc | None) -> Doc | None:
        open_texts([doc], self.keys)
        return doc

    # ---- programme and cases -------------------------------------------------

    def programme(self, pid: str, partnerships: Any = None) -> Doc:
        """A programme's document; among the partnerships named only, when they are (another
        partnership's programme is not there, and is not named among those known)."""
        doc = self.store.get("programme", pid)
        if doc is not None and partnerships is not None and partnership_of(doc) not in partnerships:
            doc = None
        if doc is None:
            known = [d["programme"] for d in self.programmes(partnerships)]
            hint = f"; known: {', '.join(known)}" if known else "; import a pack first"
            raise NotInViews(f"no programme {pid!r}{hint}")
        return doc

    def programmes(self, partnerships: Any = None) -> list[Doc]:
        """Every programme, or those of the partnerships named (a collection of ids)."""
        docs = [d for _, d in self.store.scan("programme")]
        if partnerships is None:
            return docs
        return [d for d in docs if partnership_of(d) in partnerships]

    # ---- partnerships ------------------------------------------------------------------

    def partnerships(self) -> list[Doc]:
        """The partnerships registered or in use, by id (the default one only once something
        is in it or it is named)."""
        return sorted((d for _, d in self.store.scan("partnership")),
                      key=lambda d: str(d["partnership"]))

    def partnership(self, partnership: str) -> Doc | None:
        return self.store.get("partnership", partnership)

    def partnerships_named(self, partnerships: Any) -> list[Doc]:
        """These partnerships' documents (those the views hold), by id, in one indexed read."""
        found = self.store.get_many([("partnership", str(p)) for p in sorted(partnerships)])
        return [found[k] for k in sorted(found)]

    def cases(self, pid: str) -> list[Doc]:
        docs = self.opened([d for _, d in self.store.scan("case", f"{pid}/")])
        return sorted(docs, key=lambda d: natural_key(d["case"]))

    def case(self, pid: str, ref: str) -> Doc:
        self.programme(pid)
        doc = self._one(self.store.get("case", f"{pid}/{ref}"))
        if doc is None:
            raise NotInViews(f"no case {ref!r} in programme {pid!r}")
        return doc

    def judgements(self, pid: str, ref: str, read: Doc | None = None) -> Doc:
        """A case's consolidated judgements as INTERFACE.md shows them: only their text is
        opened (the returns' strengths and concerns, most of a case's sealed text, are not
        shown here). `read`: the case's document as just read from the store (its sealed text
        unopened), when the caller found the programme and the case itself."""
        if read is not None:
            return self._judged(read)
        self.programme(pid)
        doc = self.store.get("case", f"{pid}/{ref}")
        if doc is None:
            raise NotInViews(f"no case {ref!r} in programme {pid!r}")
        return self._judged(doc)

    def _judged(self, doc: Doc) -> Doc:
        open_texts([{"programme": doc["programme"], "case": doc["case"],
                     "judgements": doc["judgements"]}], self.keys)  # opened in place
        return case_judgements(doc)

    def summary(self, pid: str) -> Doc:
        return self.store.get("summary", pid) or {"cases": 0, "areas": {}}

    def coverage(self, pid: str) -> Doc:
        """The sample's spread: cases by category and agency as folded, and by the child's
        details (sealed) as the case documents read now ("[erased]" once erased)."""
        doc = self.store.get("coverage", pid) or {}
        if not doc:
            return doc
        spread: dict[str, dict[str, int]] = {field: {} for field in DEMOGRAPHICS}
        for case in self.cases(pid):
            for field in DEMOGRAPHICS:
                value = str(case.get(field) or "not recorded")
                spread[field][value] = spread[field].get(value, 0) + 1
        return {**doc, **spread}

    # ---- people ------------------------------------------------------------------

    def person(self, person: str, partnership: str = DEFAULT_PARTNERSHIP) -> Doc | None:
        """One partnership's person (a directory id means someone only within one)."""
        return self.store.get("person", in_partnership(partnership, person))

    def people_by_slack(self, slack_user: str) -> list[Doc]:
        """Everyone linked to a Slack user: one person in each partnership that registered
        them, by partnership."""
        link = self.store.get("slack", slack_user) or {}
        keys = list(link.get("people") or [])
        found = self.store.get_many([("person", k) for k in keys]) if keys else {}
        return sorted(found.values(), key=lambda d: (partnership_of(d), str(d["person"])))

    def person_by_slack(self, slack_user: str, partnership: str | None = None) -> Doc | None:
        """The person a Slack user is in a partnership (in the first of theirs, when none is
        named)."""
        for doc in self.people_by_slack(slack_user):
            if partnership is None or partnership_of(doc) == partnership:
                return doc
        return None

    def people(self, partnership: str) -> list[Doc]:
        """One partnership's directory, by directory id. Another than the default one is read
        by its keys' prefix where keys are stored as they are (without a store key)."""
        if partnership != DEFAULT_PARTNERSHIP and not self.store.hashes("person"):
            docs = [d for _, d in self.store.scan("person", f"{partnership}/")]
            return sorted(docs, key=lambda d: str(d["person"]))
        return [d for d in self.everyone() if partnership_of(d) == partnership]

    def everyone(self) -> list[Doc]:
        """Every partnership's directory, by partnership and directory id (for the store's
        administrators only; with a key set the documents are stored under keyed hashes)."""
        return sorted((d for _, d in self.store.scan("person")),
                      key=lambda d: (partnership_of(d), str(d["person"])))

    # ---- recommendations and actions -------------------------------------------

    def recommendations(self, pid: str) -> list[Doc]:
        return [d for _, d in self.store.scan("recommendation", f"{pid}/")]

    def actions(self, pid: str) -> list[Doc]:
        docs = [d for _, d in self.store.scan("action", f"{pid}/")]
        return sorted(docs, key=lambda d: natural_key(d["id"]))

    def action(self, pid: str, action: str) -> Doc | None:
        return self.store.get("action", f"{pid}/{action}")

    # ---- feedback and concerns --------------------------------------------------

    def feedback(self, pid: str) -> list[Doc]:
        return self.opened([d for _, d in self.store.scan("feedback", f"{pid}/")])

    def feedback_item(self, pid: str, case: str, agency: str) -> Doc | None:
        return self._one(self.store.get("feedback", f"{pid}/{case}/{agency}"))

    def identifiers_allowed(self, pid: str) -> list[Doc]:
        """The texts a quality lead let through holding what looks like an identifier, oldest
        first."""
        return [d for _, d in sorted(self.store.scan("identifiers_allowed", f"{pid}/"))]

    def concerns(self, pid: str) -> list[Doc]:
        docs = self.opened([d for _, d in self.store.scan("concern", f"{pid}/")])
        return sorted(docs, key=lambda d: (d["raised_at"], d["ref"]))

    def concern(self, pid: str, ref: str) -> Doc | None:
        return self._one(self.store.get("concern", f"{pid}/{ref}"))

    # ---- what waits for whom (the indexes) ----------------------------------------------

    def waiting(self, person: Doc) -> Doc:
        """What waits for one person and, if they manage anyone, for their team, read from
        the indexes in three queries whatever the log's size: the keys of open feedback and
        actions (theirs and each team member's), and of their agency's open concerns (for
        managers), with the documents they name. The concerns' text is opened; the feedback's
        and actions' is not (what waits shows none of it: read a feedback item for that)."""
        me = person_key(person)
        roles = set(person.get("roles") or [])
        agency = in_partnership(partnership_of(person), str(person.get("agency") or ""))
        first = self.store.get_many([*index_keys("waiting", me), ("team", me),
                                     *index_keys("open_concerns", agency)])
        team = list((first.get(("team", me)) or {}).get("members") or [])
        indexes = self.store.get_many([k for m in team for k in index_keys("waiting", m)]
                                      ) if team else {}
        theirs = {m: merged(indexes, "waiting", m) for m in team}
        mine = merged(first, "waiting", me)
        concern_keys = (merged(first, "open_concerns", agency).get("concerns") or []
                        if "manager" in roles else [])
        wanted = [("feedback", k) for k in mine.get("feedback") or []]
        wanted += [("action", k) for k in mine.get("actions") or []]
        wanted += [("concern", k) for k in concern_keys]
        for doc in theirs.values():
            wanted += [("feedback", k) for k in doc.get("feedback") or []]
            wanted += [("action", k) for k in doc.get("actions") or []]
        docs = self.store.get_many(wanted) if wanted else {}
        # Only the concerns' text is shown (their summary); feedback stays sealed, so a
        # manager's answer reads no key and opens nothing for the team's feedback.
        self.opened([d for (view, _), d in docs.items() if view == "concern"])

        def listed(view: str, keys: list[str]) -> list[Doc]:
            return [docs[(view, k)] for k in keys if (view, k) in docs]

        return {
            "team": team,
            "feedback": listed("feedback", mine.get("feedback") or []),
            "actions": listed("action", mine.get("actions") or []),
            "concerns": listed("concern", concern_keys),
            "team_feedback": [d for m in theirs.values()
                              for d in listed("feedback", m.get("feedback") or [])],
            "team_actions": [d for m in theirs.values()
                             for d in listed("action", m.get("actions") or [])],
        }

    # ---- what the worker sent ---------------------------------------------------------

    def deliveries(self, pid: str, subject: str = "") -> list[Doc]:
        """Every message delivered about a subject (all of a programme's without one)."""
        prefix = f"{pid}/{subject}/" if subject else f"{pid}/"
        return [d for _, d in self.store.scan("delivery", prefix)]

    def delivery(self, pid: str, subject: str, purpose: str, recipient: str) -> Doc | None:
        return self.store.get("delivery", f"{pid}/{subject}/"
                                          f"{self.scheme().delivery_id(pid, subject, purpose, recipient)}")


def partnership_of(doc: Doc) -> str:
    """The partnership a person's or programme's document belongs to."""
    return str(doc.get("partnership") or DEFAULT_PARTNERSHIP)


def person_key(person: Doc) -> str:
    """A person's key among every partnership's people (as the views key them)."""
    return in_partnership(partnership_of(person), str(person["person"]))


def case_judgements(doc: Doc) -> Doc:
    areas = {a: j for a, j in doc["judgements"].items() if a != OVERALL}
    return {
        "programme": doc["programme"],
        "case": doc["case"],
        "areas": {a: areas[a] for a in sorted(areas, key=natural_key)},
        "overall": doc["judgements"].get(OVERALL),
    }


def action_status(action: Doc, today: date) -> Doc:
    overdue = days_overdue(date.fromisoformat(action["due"]), today, action["completed"])
    return {**action, "overdue_days": overdue}


def recommendation_status(actions: list[Doc], today: date) -> str:
    if not actions:
        return "no actions planned"
    statuses = [action_status(a, today) for a in actions]
    if all(a["completed"] for a in statuses):
        return "complete"
    if any(a["overdue_days"] > 0 for a in statuses):
        return "overdue"
    if any(a["completed"] or a["progress"] for a in statuses):
        return "in progress"
    if all(a["ratified"] for a in statuses):
        return "ratified"
    return "planned"


def plan_status(views: Views, pid: str, today: date,
                recommendations: list[Doc] | None = None) -> Doc:
    """Each recommendation's status and the outstanding actions: the report's action-plan
    figures, read from the plan's documents alone (no case is read), for `/audit progress`
    (which has read the `recommendations` already, for their text)."""
    actions = views.actions(pid)
    recs = []
    for rec in views.recommendations(pid) if recommendations is None else recommendations:
        mine = [a for a in actions if a["recommendation"] == rec["number"]]
        statuses = [action_status(a, today) for a in mine]
        recs.append({"number": rec["number"], "status": recommendation_status(mine, today),
                     "actions": len(mine),
                     "actions_open": sum(1 for a in mine if not a["completed"]),
                     "actions_overdue": sum(1 for a in statuses if a["overdue_days"] > 0)})
    outstanding = [action_status(a, today) for a in actions if not a["completed"]]
    outstanding.sort(key=lambda a: (a["due"], natural_key(a["id"])))
    return {
        "recommendations": recs,
        "outstanding_actions": [{"id": a["id"], "owner": a["owner"], "due": a["due"],
                                 "overdue_days": a["overdue_days"]} for a in outstanding],
    }
