"""The folds of what follows a case's audit: feedback to practitioners and their answers,
concerns and their escalation, the action plan, and the messages the worker delivered."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.actions import Action, Recommendation
from ledger.concerns import Concern
from ledger.deliveries import Delivery
from ledger.feedback import Feedback
from ledger.ids import DEFAULT_PARTNERSHIP

from .indexes import concern_open, feedback_open, index_key, listed

if TYPE_CHECKING:
    from .views import Doc, Folding


def recorded(event: Any) -> str:
    """When the event was stored, as the views write it."""
    return event.timestamp.isoformat()


def owner_of(f: Folding, programme: str) -> str:
    """The partnership that owns a programme (as its document says)."""
    doc = f.get("programme", programme) if programme else None
    return str((doc or {}).get("partnership") or DEFAULT_PARTNERSHIP)


def doc_of(f: Folding, e: Any, view: str) -> tuple[str, Doc] | None:
    """The document a later event of an aggregate changes, found through the `ids` view.

    Changed in place: each batch's documents are its own (read from the store, or made
    by an earlier event of the batch, and written back whole), so no copy is needed.
    """
    index = f.get("ids", f.oid)
    if index is None:
        return None
    return str(index["key"]), f.get(view, index["key"]) or {}


def _indexed(f: Folding, view: str, name: str, programme: str, field: str, item: str,
             present: bool) -> None:
    """Keep `item` in (or out of) `name`'s index document `view` for `programme` (in its
    partnership, in the programme's partition)."""
    listed(f, view, index_key(view, owner_of(f, programme), name, programme), field, item,
           present)


def _feedback_issued(f: Folding, e: Feedback.Created, position: int) -> None:
    key = f"{e.programme}/{e.case}/{e.agency}"
    f.put("feedback", key, {
        "programme": e.programme, "case": e.case, "agency": e.agency,
        "practitioner": e.practitioner, "manager": e.manager, "auditor": e.auditor,
        "grades": dict(e.grades), "good_practice": list(e.good_practice),
        "issues": list(e.issues), "issued_on": e.occurred_on, "issued_at": recorded(e),
        "acknowledged_by": "", "acknowledged_at": "", "responses": {}})
    f.put("ids", f.oid, {"view": "feedback", "key": key, "programme": e.programme})
    _indexed(f, "waiting", e.practitioner, e.programme, "feedback", key, True)


def _feedback_changed(f: Folding, e: Any, position: int) -> None:
    found = doc_of(f, e, "feedback")
    if found is None:
        return
    key, doc = found
    manager_seeing = isinstance(e, Feedback.Acknowledged) and e.by == doc["manager"] and \
        e.by != doc["practitioner"]  # before "seen" existed, a manager's press was recorded so
    if isinstance(e, Feedback.SeenByManager) or manager_seeing:
        doc["seen_by"] = e.by  # (kept only once someone has seen it: older views unchanged)
        doc["seen_at"] = recorded(e)
    elif isinstance(e, Feedback.Acknowledged):
        doc["acknowledged_by"] = e.by
        doc["acknowledged_at"] = recorded(e)
    elif isinstance(e, Feedback.IssueResponded):
        doc["responses"][str(e.issue)] = {"response": e.response, "by": e.by,
                                          "on": e.occurred_on, "at": recorded(e)}
        _draft_kept(doc, e.by, e.issue, "", "")
    elif isinstance(e, Feedback.AnswerDrafted):
        _draft_kept(doc, e.by, e.issue, e.text, recorded(e))
    f.put("feedback", key, doc)
    _indexed(f, "waiting", doc["practitioner"], doc["programme"], "feedback", key,
             feedback_open(doc))


def _draft_kept(doc: Doc, person: str, issue: int, text: str, at: str) -> None:
    """A person's unsent answer to an issue (none once it is sent or cleared); the key is
    there only while someone has a draft, so older views read as they did."""
    drafts = doc.get("drafts") or {}
    mine = dict(drafts.get(person) or {})
    if text:
        mine[str(issue)] = {"text": text, "at": at}
    else:
        mine.pop(str(issue), None)
    drafts = {**drafts, person: mine} if mine else {k: v for k, v in drafts.items()
                                                     if k != person}
    if drafts:
        doc["drafts"] = drafts
    else:
        doc.pop("drafts", None)


def _concern_raised(f: Folding, e: Concern.Created, position: int) -> None:
    key = f"{e.programme}/{e.ref}"
    f.put("concern", key, {
        "programme": e.programme, "ref": e.ref, "case": e.case, "agency": e.agency,
        "summary": e.summary, "child_at_risk": e.child_at_risk, "raised_by": e.by,
        "raised_on": e.occurred_on, "raised_at": recorded(e), "acknowledged_by": "",
        "acknowledged_at": "", "actions": [], "step": 1, "escalations": [], "closed": False,
        "outcome": ""})
    f.put("ids", f.oid, {"view": "concern", "key": key, "programme": e.programme})
    _indexed(f, "open_concerns", e.agency, e.programme, "concerns", key, True)


def _concern_changed(f: Folding, e: Any, position: int) -> None:
    found = doc_of(f, e, "concern")
    if found is None:
        return
    key, doc = found
    if isinstance(e, Concern.Acknowledged):
        doc["acknowledged_by"] = e.by
        doc["acknowledged_at"] = recorded(e)
        doc["acknowledged_on"] = e.occurred_on
    elif isinstance(e, Concern.ActionRecorded):
        doc["actions"].append({"action": e.action, "by": e.by, "on": e.occurred_on})
    elif isinstance(e, Concern.Escalated):
        doc["step"] = e.step
        doc["escalations"].append({"step": e.step, "to": list(e.to), "reason": e.reason,
                                   "on": e.occurred_on, "at": recorded(e)})
    elif isinstance(e, Concern.Closed):
        doc["closed"] = True
        doc["outcome"] = e.outcome
    f.put("concern", key, doc)
    _indexed(f, "open_concerns", doc["agency"], doc["programme"], "concerns", key,
             concern_open(doc))


def recommendation_key(programme: str, number: int) -> str:
    return f"{programme}/{number:04d}"


def _recommendation_made(f: Folding, e: Recommendation.Created, position: int) -> None:
    key = recommendation_key(e.programme, e.number)
    existing = f.get("recommendation", key)
    f.put("recommendation", key, {"programme": e.programme, "number": e.number, "text": e.text,
                                  "actions": list(existing["actions"]) if existing else []})


def _action_planned(f: Folding, e: Action.Created, position: int) -> None:
    key = f"{e.programme}/{e.action}"
    f.put("action", key, {
        "programme": e.programme, "id": e.action, "recommendation": e.recommendation,
        "description": e.description, "measure": e.measure, "owner": e.owner, "due": e.due,
        "planned_on": e.occurred_on, "ratified": False, "rag": "", "completed": False,
        "completed_on": "", "evidence": "", "progress": [], "replans": []})
    f.put("ids", f.oid, {"view": "action", "key": key, "programme": e.programme})
    _indexed(f, "waiting", e.owner, e.programme, "actions", key, True)
    rkey = recommendation_key(e.programme, e.recommendation)
    rec = f.get("recommendation", rkey)
    if rec is None:
        rec = {"programme": e.programme, "number": e.recommendation, "text": "", "actions": []}
    f.put("recommendation", rkey, {**rec, "actions": sorted({*rec["actions"], e.action})})


def _action_changed(f: Folding, e: Any, position: int) -> None:
    found = doc_of(f, e, "action")
    if found is None:
        return
    key, doc = found
    owner = doc["owner"]
    if isinstance(e, Action.Ratified):
        doc["ratified"] = True
    elif isinstance(e, Action.ProgressRecorded):
        doc["rag"] = e.rag
        doc["progress"].append({"rag": e.rag, "note": e.note, "by": e.by, "on": e.occurred_on})
    elif isinstance(e, Action.Completed):
        doc["completed"] = True
        doc["rag"] = "green"
        doc["completed_on"] = e.occurred_on
        doc["evidence"] = e.evidence
    elif isinstance(e, Action.Replanned):
        doc["replans"].append({"from_due": doc["due"], "reason": e.reason, "by": e.by,
                               "on": e.occurred_on, "evidence_before": doc["evidence"]})
        if doc["completed"]:
            doc.update(rag="", evidence="")  # reopened: evidence kept in the replan entry
        doc.update(description=e.description, measure=e.measure, owner=e.owner, due=e.due,
                   completed=False, completed_on="")
    f.put("action", key, doc)
    if owner != doc["owner"]:
        _indexed(f, "waiting", owner, doc["programme"], "actions", key, False)
    _indexed(f, "waiting", doc["owner"], doc["programme"], "actions", key, not doc["completed"])


def _delivered(f: Folding, e: Delivery.Created, position: int) -> None:
    # Keyed by the delivery's id (uuid5 of programme, subject, purpose and recipient, as in the
    # event store), so no directory id is readable in the view's keys.
    key = f.deliveries[f.oid] = _delivery_key(e, f.oid)
    f.put("delivery", key, {
        "programme": e.programme, "subject": e.subject, "purpose": e.purpose,
        "recipient": e.recipient, "slack_user": e.slack_user, "channel": e.channel, "ts": e.ts,
        "delivered_on": e.occurred_on, "delivered_at": recorded(e), "notes": []})


def _delivery_key(created: Delivery.Created, oid: str) -> str:
    return f"{created.programme}/{created.subject}/{oid}"


def _delivery_updated(f: Folding, e: Delivery.Updated, position: int) -> None:
    key = f.deliveries.get(f.oid)
    if key is None:  # delivered before this batch: its first event says where it is kept
        first = f.first_event(f.oid) if f.first_event is not None else None
        if not isinstance(first, Delivery.Created):
            return
        key = f.deliveries[f.oid] = _delivery_key(first, f.oid)
    doc = f.get("delivery", key) or {}
    doc.setdefault("notes", []).append(e.note)
    f.put("delivery", key, doc)


FOLLOWUP_HANDLERS: dict[type, Callable[[Folding, Any, int], None]] = {
    Feedback.Created: _feedback_issued,
    Feedback.Acknowledged: _feedback_changed,
    Feedback.IssueResponded: _feedback_changed,
    Feedback.SeenByManager: _feedback_changed,
    Feedback.AnswerDrafted: _feedback_changed,
    Concern.Created: _concern_raised,
    Concern.Acknowledged: _concern_changed,
    Concern.ActionRecorded: _concern_changed,
    Concern.Escalated: _concern_changed,
    Concern.Closed: _concern_changed,
    Recommendation.Created: _recommendation_made,
    Action.Created: _action_planned,
    Action.Ratified: _action_changed,
    Action.ProgressRecorded: _action_changed,
    Action.Completed: _action_changed,
    Action.Replanned: _action_changed,
    Delivery.Created: _delivered,
    Delivery.Updated: _delivery_updated,
}
