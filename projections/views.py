"""The views: which there are, and the batch of documents each fold of the log works on.

How each event changes its documents is in `projections.folds`; the index documents that
answer "what is waiting for me?" are kept by `projections.indexes`. Documents are keyed by
pseudonymous references only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.actions import Action, Recommendation
from ledger.ids import DEFAULT_PARTNERSHIP
from ledger.people import Person
from ledger.programme import Programme

from .due_dates import KEEPERS, due_prefetch
from .folds import HANDLERS
from .followup_folds import recommendation_key
from .indexes import (
    INDEXED_BY_EVENT,
    INDEXES,
    PERSON_EVENTS,
    alert_directory_prefetch,
    index_key,
    keep_alert_directory,
)
from .partitions import PARTITIONS, keeps_in

Doc = dict[str, Any]
VIEWS = ("partnership", "programme", "case", "summary", "coverage", "recommendation", "action",
         "feedback", "concern", "person", "slack", "delivery", "waiting", "team", "open_concerns",
         "authoring", "alert_agency", "alert_partnership", "due", "due_days", "due_item", "ids")
"""Every view folded from the log: name and what it holds.

partnership: each partnership registered or in use (name, Slack team);
programme: its partnership, terms, scale, rule, areas; case: details, returns, moderation,
judgements;
summary: per-programme grade distribution per area; coverage: the sample's spread (by category
and agency; by the child's details, which are sealed, when read);
recommendation, action: the action plan; feedback: per practitioner's return;
concern: open and closed concerns; person: the directory, each person under their key among
every partnership's (`ledger.ids.in_partnership`); slack: by Slack user, the keys of the
people (one per partnership) linked to it;
delivery: each message the worker sent (subject, purpose, recipient, Slack channel and ts);
waiting: by person's key and partition of the programmes (`projections.indexes.index_key`),
their open feedback and open actions (keys); team: by manager's key, the keys of the people
they manage; authoring: by programme, the overview report's author's words and the versions
published; open_concerns: by agency's key (an agency is one partnership's) and partition, its
concerns still needing a manager's acknowledgement or action (keys) (these three answer "what
is waiting for me?" in a few reads, however large the log);
alert_agency, alert_partnership: by agency's key, the directory entries of its managers; by
partnership, those of its quality leads, moderators and board (`projections.indexes`: whom a
concern's alert reaches, at any step, in one read);
due, due_days, due_item: what the worker's sweep checks, by the day it falls due
(`projections.due_dates`);
ids: which document each aggregate's later events belong to (none for deliveries: nothing
reads them but a delivery's rare update, which finds its document from the delivery's first
event in the log)."""

TRACKING_NAME = "views v10"
"""The views' tracking positions are named from this, one a partition (`position_name`). It
changes whenever the documents folded change shape, so that views folded by an earlier version
are rebuilt, not carried on from (RETIRED)."""
RETIRED = ("views", "views v2", "views v3", "views v4", "views v5", "views v6",
           *(f"views v{v} part {p}" for v in (7, 8, 9) for p in sorted(PARTITIONS)))


def position_name(part: int) -> str:
    """The tracking position of one partition of the views (`projections.partitions`)."""
    return f"{TRACKING_NAME} part {part}"


NAMING = (Person.Created, Person.SlackUserLinked, Recommendation.Created, Action.Created)
"""The events that name a document beyond their own (`_named_by`)."""


def _named_by(e: Any) -> list[tuple[str, str]]:
    """Documents an event names outright, beyond its own: the Slack user a person is linked
    to, the recommendation an action serves."""
    if not isinstance(e, NAMING):  # most events: one check of a tuple, not three
        return []
    if isinstance(e, Person.Created | Person.SlackUserLinked) and e.slack_user:
        return [("slack", e.slack_user)]
    if isinstance(e, Recommendation.Created):
        return [("recommendation", recommendation_key(e.programme, e.number))]
    if isinstance(e, Action.Created):
        return [("recommendation", recommendation_key(e.programme, e.recommendation))]
    return []


class Folding:
    """One batch of folding: documents read once, changed in memory, written together."""

    def __init__(self, load: Callable[[str, str], Doc | None],
                 first_event: Callable[[str], Any] | None = None) -> None:
        self.load = load
        self.first_event = first_event
        """Reads an aggregate's first event from the log, by its id (None: not known here)."""
        self.cache: dict[tuple[str, str], Doc | None] = {}
        self.changed: set[tuple[str, str]] = set()
        self.oid = ""
        """The id of the aggregate whose event is being folded, as text: made once an event."""
        self.deliveries: dict[str, str] = {}
        self.opened: dict[str, str] = {}
        """The partnerships of the programmes opened in the batch prefetched."""
        self.only: frozenset[int] | None = None
        """The partitions folded (None: all): documents of the others are not written."""
        self.part = 0
        """The partition of the event being folded (when only some are)."""
        """Delivery documents' keys by delivery id, as folded here (deliveries have no `ids`
        entries: only their rare updates look for them, through `first_event`)."""

    def get(self, view: str, key: str) -> Doc | None:
        try:  # about five reads an event, nearly all of them found in the batch's cache
            return self.cache[(view, key)]
        except KeyError:
            found = self.cache[(view, key)] = self.load(view, key)
            return found

    def prefetch(self, events: list[Any], oids: list[str],
                 load_many: Callable[[list[tuple[str, str]]], dict[tuple[str, str], Doc]]
                 ) -> None:
        """Read in two queries the documents a batch of events will fold into (instead of
        one query per document): each event's `ids` entry, then what those entries point to
        and their programme's documents. Documents not found are remembered as absent.
        `oids` are the events' aggregate ids as text. An aggregate's first event has no
        `ids` entry yet, so none is asked for."""
        self._fill([("ids", oid) for e, oid in zip(events, oids, strict=True)
                    if e.originator_version != 1], load_many)
        self.opened = {e.programme: e.partnership for e in events
                       if isinstance(e, Programme.Created)}
        follow: list[tuple[str, str]] = []
        for e, oid in zip(events, oids, strict=True):
            index = self.cache.get(("ids", oid))
            if index is not None:
                follow.append((index["view"], index["key"]))
                if index["programme"]:
                    follow.append(("programme", index["programme"]))
                if index["view"] == "case":
                    follow.append(("summary", index["programme"]))
            elif isinstance(getattr(e, "programme", None), str):
                follow.append(("programme", e.programme))  # whose partnership indexes it
            if isinstance(getattr(e, "partnership", None), str):
                follow.append(("partnership", e.partnership))
            follow.extend(_named_by(e))
        self._fill(follow, load_many)
        self._fill([k for e, oid in zip(events, oids, strict=True)
                    for k in self._indexes_of(e, oid)], load_many)
        self._fill([k for e, oid in zip(events, oids, strict=True)
                    for k in (*alert_directory_prefetch(self, e, oid), *due_prefetch(self, e, oid))],
                   load_many)

    def _indexes_of(self, e: Any, oid: str) -> list[tuple[str, str]]:
        """The index documents (waiting, team, open_concerns) an event may change: under the
        person or agency it names, and under the one its document named before it."""
        index = self.cache.get(("ids", oid))
        named = INDEXED_BY_EVENT.get(type(e))
        if named is None and (index is None or index["view"] not in INDEXES):
            return []  # most events (a delivery, a case's): no index of theirs to read
        out = []
        doc = self.cache.get((index["view"], index["key"])) if index is not None else None
        programme = str(getattr(e, "programme", None) or (index or {}).get("programme") or "")
        if named is not None:
            view, attribute = named
            out.append((INDEXES[view][1], index_key(
                INDEXES[view][1], self._partnership_of(e, index, doc), str(getattr(e, attribute)),
                programme)))
        if index is not None and doc is not None and index["view"] in INDEXES:
            field, view = INDEXES[index["view"]]
            out.append((view, index_key(view, self._partnership_of(e, index, doc),
                                        str(doc.get(field) or ""), programme)))
        if isinstance(e, Person.SlackUserLinked) and doc is not None:
            out.append(("slack", str(doc.get("slack_user") or "")))  # the one it leaves
        return [k for k in out if k[1]]

    def _partnership_of(self, e: Any, index: Doc | None, doc: Doc | None) -> str:
        """The partnership whose index an event's document is listed in: the person's, or the
        programme's owner (from the cache, as prefetched)."""
        if isinstance(getattr(e, "partnership", None), str):
            return str(e.partnership)
        if doc is not None and doc.get("partnership"):
            return str(doc["partnership"])
        programme = getattr(e, "programme", None) or (index or {}).get("programme")
        found = self.cache.get(("programme", programme)) if programme else None
        if found is None and programme in self.opened:  # opened in this batch
            return self.opened[programme]
        return str((found or {}).get("partnership") or DEFAULT_PARTNERSHIP)

    def _fill(self, keys: list[tuple[str, str]],
              load_many: Callable[[list[tuple[str, str]]], dict[tuple[str, str], Doc]]) -> None:
        cache = self.cache
        missing = [k for k in dict.fromkeys(keys) if k not in cache]  # once each, in order
        if missing:
            found = load_many(missing)
            for k in missing:
                self.cache[k] = found.get(k)

    def put(self, view: str, key: str, doc: Doc) -> None:
        if self.only is not None and keeps_in(view, doc, self.part) not in self.only:
            return
        k = (view, key)
        self.cache[k] = doc
        self.changed.add(k)

    def delete(self, view: str, key: str) -> None:
        if self.only is not None and keeps_in(view, None, self.part) not in self.only:
            return
        self.cache[(view, key)] = None
        self.changed.add((view, key))

    def changes(self) -> dict[tuple[str, str], Doc | None]:
        return {k: self.cache[k] for k in sorted(self.changed)}

    # ---- the fold --------------------------------------------------------------

    def fold(self, event: Any, position: int, oid: str | None = None) -> None:
        """Fold one event (`oid`: its aggregate id as text, when the caller has made it)."""
        steps = STEPS.get(type(event))
        if steps is None:
            steps = STEPS[type(event)] = steps_of(type(event))
        if steps:
            self.oid = str(event.originator_id) if oid is None else oid
            for step in steps:
                step(self, event, position)


Step = Callable[[Folding, Any, int], None]
STEPS: dict[type, tuple[Step, ...]] = {}
"""What folding an event of each class does, in order (`steps_of`), worked out once a class."""


def steps_of(kind: type) -> tuple[Step, ...]:
    """The view's own fold of an event (`HANDLERS`), then the alert directory kept for a
    person's events, then the due index for the events that can move an item (`KEEPERS`)."""
    handler, keeper = HANDLERS.get(kind), KEEPERS.get(kind)
    return (*((handler,) if handler is not None else ()),
            *((keep_alert_directory,) if issubclass(kind, PERSON_EVENTS) else ()),
            *((keeper,) if keeper is not None else ()))

