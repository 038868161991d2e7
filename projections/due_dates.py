"""The due index: what the worker's sweep must look at, filed under the day it falls due.

Each open item (a concern waiting to be acknowledged, feedback waiting for its reminders, an
action waiting for its due-soon or overdue reminder, a programme's weekly digest of overdue
actions) is filed under the first day the sweep could have something to do for it, worked out
by `policies.escalation` from its document and the deliveries already made. The sweep reads
the days up to today and checks only what they list, with the same rules as ever; an item is
filed again when an event changes it (an escalation, an acknowledgement, a delivery, a
replan) and leaves the index once nothing more can fall due for it.

    due        partition/ISO day -> {"items": [item, ...]}: what falls due that day (or fell
               due then and still waits: an item stays listed until an event settles it)
    due_days   partition -> {"days": [day, ...]}: the days that have a `due` document
    due_item   an item -> {"on": day, ...}: its day and the facts it was worked out from
               (first alert, the feedback's delivery and reminders sent, the reminders sent
               for an action, a programme's open actions' due dates)

An item is `kind/programme/rest`: `concern/P/REF`, `feedback/P/CASE/AGENCY`, `action/P/ID`,
`digest/P`. Days are kept apart by the partition of the programme (`projections.partitions`),
so no two partitions of the views share a document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ledger.actions import Action
from ledger.concerns import Concern
from ledger.deliveries import Delivery
from ledger.feedback import Feedback
from policies.escalation import (
    ACTION_DUE_SOON_DAYS,
    FEEDBACK_REMINDER_WORKING_DAYS,
    add_working_days,
    ladder_from,
    step_started,
)
from policies.subjects import CONCERN_ALERT, FEEDBACK, action_purpose

from .indexes import added, partition_of, removed
from .partitions import PARTS

if TYPE_CHECKING:
    from .store import ViewStore
    from .views import Doc, Folding

DUE, DAYS, ITEM = "due", "due_days", "due_item"
REMINDER = re.compile(r"feedback-reminder-(\d+)")


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


@lru_cache(maxsize=1 << 14)
def _working_days_after(start: date, n: int) -> date:
    """`add_working_days`, once for each day and count: the feedback of a programme is
    delivered on a few days, and each delivery and acknowledgement files its item again."""
    return add_working_days(start, n)


# ---- the day each kind of item falls due --------------------------------------------------


def concern_due(doc: Doc, programme: Doc | None, facts: Doc) -> date | None:
    """The day after its step's deadline (when `DueChecks.escalations` climbs it), while it is
    neither acknowledged nor closed nor at the ladder's top."""
    if doc.get("closed") or doc.get("acknowledged_by"):
        return None
    try:
        ladder = ladder_from((programme or {}).get("escalation") or None)
    except ValueError:
        ladder = ladder_from(None)
    step = int(doc["step"])
    if step >= ladder[-1].number:
        return None
    last = (doc.get("escalations") or [None])[-1]
    escalated_on = _day(last.get("on") or last["at"]) if last else None
    alerted = _day(facts["alerted"]) if facts.get("alerted") else None
    since = step_started(step, _day(doc["raised_on"]), alerted, escalated_on)
    days = ladder[step - 1].working_days
    assert days is not None
    return _working_days_after(since, days) + timedelta(days=1)


def feedback_due(doc: Doc, facts: Doc) -> date | None:
    """The day its next reminder's working days have passed since the practitioner received
    it, while it is not acknowledged (nothing before it was delivered)."""
    if doc.get("acknowledged_by") or not facts.get("delivered"):
        return None
    after = max(facts.get("reminders") or [0]) + 1
    return _working_days_after(_day(facts["delivered"]), FEEDBACK_REMINDER_WORKING_DAYS * after)


def action_due(doc: Doc, facts: Doc) -> date | None:
    """Its due-soon day, then the day after it is due, until its owner has had the overdue
    reminder for this due date, or it is completed."""
    if doc.get("completed"):
        return None
    due, owner = doc["due"], doc["owner"]
    sent = {(p, r) for p, r in facts.get("sent") or []}
    if (action_purpose("overdue", due), owner) in sent:
        return None
    if (action_purpose("due soon", due), owner) in sent:
        return _day(due) + timedelta(days=1)
    return _day(due) - timedelta(days=ACTION_DUE_SOON_DAYS)


def digest_due(facts: Doc) -> date | None:
    """The first day one of the programme's open actions is overdue: from then on, each week's
    digest is checked (who had it this week is read from the deliveries)."""
    open_ = facts.get("open") or {}
    return _day(min(open_.values())) + timedelta(days=1) if open_ else None


# ---- keeping the index ---------------------------------------------------------------------


def _part(programme: str) -> str:
    """The partition of a programme (as the views' partitions are named)."""
    return str(partition_of(programme))


def _file(f: Folding, item: str, before: Doc | None, facts: Doc, on: date | None, *,
          keep: bool = True) -> None:
    """The item filed under its day (moved from the day it was under), or out of the index;
    its facts kept for what may still change it (forgotten with `keep` false and no day).
    `before`: its document as it stands (`_facts`)."""
    was = (before.get("on") or "") if before is not None else ""
    now = on.isoformat() if on is not None else ""
    if was != now:
        part = _part(item.split("/", 2)[1])
        if was:
            _listed(f, part, was, item, False)
        if now:
            _listed(f, part, now, item, True)
    kept = {k: v for k, v in facts.items() if k != "on" and v} if keep or now else {}
    if now or kept:
        new = {**kept, "on": now} if now else kept
        if new != before:
            f.put(ITEM, item, new)
    elif before is not None:
        f.delete(ITEM, item)


def _listed(f: Folding, part: str, day: str, item: str, present: bool) -> None:
    key = f"{part}/{day}"
    doc = f.get(DUE, key) or {}
    items = doc.get("items") or []
    if present == (item in items):
        return
    items = added(items, item) if present else removed(items, item)
    if items:
        f.put(DUE, key, {"items": items})
    else:
        f.delete(DUE, key)
    if (not doc) != (not items):  # a day's document made or gone: the calendar follows
        days = (f.get(DAYS, part) or {}).get("days") or []
        if items:
            days = days if day in days else added(days, day)
        else:
            days = removed(days, day)
        if days:
            f.put(DAYS, part, {"days": days})
        else:
            f.delete(DAYS, part)


def _facts(f: Folding, item: str) -> tuple[Doc | None, Doc]:
    """An item's document as it stands, and a copy of its facts to change."""
    before = f.get(ITEM, item)
    return before, (dict(before) if before else {})


def _indexed(f: Folding, e: Any) -> tuple[str, str, str] | None:
    """(view, key, programme) of the document an event changed, from the `ids` view."""
    index = f.get("ids", f.oid)
    if index is None:
        return None
    return index["view"], index["key"], index["programme"]


def keep_concern(f: Folding, e: Any, position: int) -> None:
    found = _indexed(f, e)
    if found is None or found[0] != "concern":
        return
    _, key, pid = found
    doc = f.get("concern", key)
    if doc is not None:
        item = f"concern/{key}"
        before, facts = _facts(f, item)
        _file(f, item, before, facts, concern_due(doc, f.get("programme", pid), facts), keep=False)


def keep_feedback(f: Folding, e: Any, position: int) -> None:
    found = _indexed(f, e)
    if found is None or found[0] != "feedback":
        return
    doc = f.get("feedback", found[1])
    if doc is not None:
        item = f"feedback/{found[1]}"
        before, facts = _facts(f, item)
        _file(f, item, before, facts, feedback_due(doc, facts), keep=not doc.get("acknowledged_by"))


def keep_action(f: Folding, e: Any, position: int) -> None:
    found = _indexed(f, e)
    if found is None or found[0] != "action":
        return
    _, key, pid = found
    doc = f.get("action", key)
    if doc is None:
        return
    item = f"action/{key}"
    before, facts = _facts(f, item)
    _file(f, item, before, facts, action_due(doc, facts))
    digest = f"digest/{pid}"
    before, facts = _facts(f, digest)
    open_ = dict(facts.get("open") or {})
    if doc.get("completed"):
        open_.pop(str(doc["id"]), None)
    else:
        open_[str(doc["id"])] = doc["due"]
    facts["open"] = open_
    _file(f, digest, before, facts, digest_due(facts))


def keep_delivered(f: Folding, e: Delivery.Created, position: int) -> None:
    """A delivery may be the fact an item's day hangs on: a concern's first alert, the
    feedback's own message or a reminder of it, an action's reminder."""
    kind, _, rest = e.subject.partition("/")
    if kind == "concern" and e.purpose == CONCERN_ALERT:
        item = f"concern/{e.programme}/{rest}"
        doc = f.get("concern", f"{e.programme}/{rest}")
        before, facts = _facts(f, item)
        if doc is None or (facts.get("alerted") and facts["alerted"] <= e.occurred_on):
            return
        facts["alerted"] = e.occurred_on
        _file(f, item, before, facts, concern_due(doc, f.get("programme", e.programme), facts),
              keep=False)
    elif kind == "feedback":
        doc = f.get("feedback", f"{e.programme}/{rest}")
        if doc is None or e.recipient != doc["practitioner"]:
            return
        item = f"feedback/{e.programme}/{rest}"
        reminder = None if e.purpose == FEEDBACK else REMINDER.fullmatch(e.purpose)
        if e.purpose != FEEDBACK and reminder is None:
            return
        before, facts = _facts(f, item)
        if reminder is None:
            facts["delivered"] = e.occurred_on
        else:
            facts["reminders"] = sorted({*(facts.get("reminders") or []),
                                         int(reminder.group(1))})
        _file(f, item, before, facts, feedback_due(doc, facts), keep=not doc.get("acknowledged_by"))
    elif kind == "action" and e.purpose.startswith("action-"):
        doc = f.get("action", f"{e.programme}/{rest}")
        if doc is None:
            return
        item = f"action/{e.programme}/{rest}"
        before, facts = _facts(f, item)
        facts["sent"] = sorted({*(tuple(s) for s in facts.get("sent") or []),
                                (e.purpose, e.recipient)})
        _file(f, item, before, facts, action_due(doc, facts))


KEEPERS: dict[type, Callable[[Folding, Any, int], None]] = {
    **{t: keep_concern for t in (Concern.Created, Concern.Acknowledged, Concern.Escalated,
                                 Concern.Closed)},
    **{t: keep_feedback for t in (Feedback.Created, Feedback.Acknowledged)},
    **{t: keep_action for t in (Action.Created, Action.Completed, Action.Replanned)},
    Delivery.Created: keep_delivered,
}
"""After the view's own fold: the due index kept, for the events that can move an item."""


def due_prefetch(f: Folding, e: Any, oid: str) -> list[tuple[str, str]]:
    """The documents the due index reads for an event (its item's, its day's, the calendar),
    once the event's own documents are in the batch's cache (`oid`: its aggregate's id)."""
    if type(e) not in KEEPERS:
        return []
    if isinstance(e, Delivery.Created):
        kind, _, rest = e.subject.partition("/")
        if kind not in ("concern", "feedback", "action"):
            return []
        keys = [(kind, f"{e.programme}/{rest}"), (ITEM, f"{kind}/{e.programme}/{rest}")]
    elif isinstance(e, Concern.Created):
        keys = [(ITEM, f"concern/{e.programme}/{e.ref}")]
    elif isinstance(e, Feedback.Created):
        keys = [(ITEM, f"feedback/{e.programme}/{e.case}/{e.agency}")]
    elif isinstance(e, Action.Created):
        keys = [(ITEM, f"action/{e.programme}/{e.action}"), (ITEM, f"digest/{e.programme}")]
    else:
        index = f.cache.get(("ids", oid))
        if index is None:
            return []
        keys = [(ITEM, f"{index['view']}/{index['key']}")]
        if index["view"] == "action":
            keys.append((ITEM, f"digest/{index['programme']}"))
    found = [f.cache.get(k) for k in keys if k[0] == ITEM]
    programme = keys[-1][1].split("/", 2)[1]
    part = _part(programme)
    keys += [(DUE, f"{part}/{d['on']}") for d in found if d and d.get("on")]
    return [*keys, (DAYS, part)]


# ---- reading it --------------------------------------------------------------------------


def due_by(store: ViewStore, today: date) -> dict[str, dict[str, Doc]]:
    """Everything filed under a day up to today, by programme: each item with its facts (three
    reads whatever the log's size: the partitions' calendars, their days, the items)."""
    calendars = store.get_many([(DAYS, str(p)) for p in range(PARTS)])
    days = [(DUE, f"{k}/{d}") for (_, k), doc in sorted(calendars.items())
            for d in doc.get("days") or [] if d <= today.isoformat()]
    if not days:
        return {}
    listed = store.get_many(days)
    items = sorted({i for doc in listed.values() for i in doc.get("items") or []})
    facts = store.get_many([(ITEM, i) for i in items])
    out: dict[str, dict[str, Doc]] = {}
    for item in items:
        _, pid, _ = item.split("/", 2) if item.count("/") >= 2 else (*item.split("/", 1), "")
        out.setdefault(pid, {})[item] = facts.get((ITEM, item)) or {}
    return out
