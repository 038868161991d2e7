"""The folds: how each event changes the documents of the views, one function per kind of fact."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.actions import Action, Recommendation
from ledger.case_audit import CaseAudit
from ledger.concerns import Concern
from ledger.deliveries import Delivery
from ledger.feedback import Feedback
from ledger.ids import DEFAULT_PARTNERSHIP, in_partnership
from ledger.partnership import Partnership
from ledger.people import Person
from ledger.programme import Programme

from .casefold import apply_case_event, judge, new_case_doc
from .indexes import concern_open, feedback_open, listed
from .override_folds import OVERRIDE_HANDLERS
from .report_folds import REPORT_HANDLERS

if TYPE_CHECKING:
    from .views import Doc, Folding


def _recorded(event: Any) -> str:
    return str(event.timestamp.isoformat())


def _partnership_registered(f: Folding, e: Partnership.Created, position: int) -> None:
    f.put("partnership", e.partnership, {"partnership": e.partnership, "name": e.name,
                                         "slack_team": e.slack_team})
    f.put("ids", f.oid, {"view": "partnership", "key": e.partnership, "programme": ""})


def _partnership_linked(f: Folding, e: Partnership.SlackTeamLinked, position: int) -> None:
    index = f.get("ids", f.oid) or {}
    doc = f.get("partnership", str(index.get("key") or ""))
    if doc is not None:
        f.put("partnership", doc["partnership"], {**doc, "slack_team": e.slack_team})


def _in_use(f: Folding, partnership: str) -> None:
    """The default partnership is listed once something is in it, registered or not."""
    if f.get("partnership", partnership) is None:
        f.put("partnership", partnership, {"partnership": partnership, "name": "",
                                           "slack_team": ""})


def owner_of(f: Folding, programme: str) -> str:
    """The partnership that owns a programme (as its document says)."""
    doc = f.get("programme", programme) if programme else None
    return str((doc or {}).get("partnership") or DEFAULT_PARTNERSHIP)


def _programme_opened(f: Folding, e: Programme.Created, position: int) -> None:
    _in_use(f, e.partnership)
    f.put("programme", e.programme, {
        "partnership": e.partnership, "programme": e.programme, "title": e.title,
        "board": e.board, "opened": e.opened,
        "scale": e.scale, "consolidation": e.consolidation, "areas": dict(e.areas),
        "terms_of_reference": e.terms_of_reference, "method": e.method,
        "sample": dict(e.sample), "channel": e.channel, "baseline": e.baseline,
        "escalation": list(e.escalation), "status": "open", "opened_by": e.by})
    f.put("ids", f.oid, {"view": "programme", "key": e.programme, "programme": e.programme})
    f.put("summary", e.programme, {"cases": 0, "areas": {}})
    f.put("coverage", e.programme, {"cases": 0, "category": {}, "agencies": {}})


def _programme_closed(f: Folding, e: Programme.Closed, position: int) -> None:
    pid = _programme_of(f, e)
    doc = f.get("programme", pid)
    if doc is not None:
        f.put("programme", pid, {**doc, "status": "closed"})


def _channel_detail_set(f: Folding, e: Programme.ChannelDetailSet, position: int) -> None:
    pid = _programme_of(f, e)
    doc = f.get("programme", pid)
    if doc is not None:
        f.put("programme", pid, {**doc, "channel_detail": e.detail})


def _returns_due_set(f: Folding, e: Programme.ReturnsDueSet, position: int) -> None:
    pid = _programme_of(f, e)
    doc = f.get("programme", pid)
    if doc is not None:
        f.put("programme", pid, {**doc, "returns_due": e.due})


def _programme_of(f: Folding, e: Any) -> str:
    # Programme events after creation carry no reference; find it by the aggregate id.
    index = f.get("ids", f.oid)
    return str(index["programme"]) if index else ""


def _bump(counts: dict[str, int], key: str, by: int) -> None:
    counts[key] = counts.get(key, 0) + by
    if counts[key] == 0:
        del counts[key]


def _case_selected(f: Folding, e: CaseAudit.Created, position: int) -> None:
    key = f"{e.programme}/{e.ref}"
    f.put("case", key, new_case_doc(e))
    f.put("ids", f.oid, {"view": "case", "key": key, "programme": e.programme})
    summary = f.get("summary", e.programme) or {"cases": 0, "areas": {}}
    f.put("summary", e.programme, {**summary, "cases": summary["cases"] + 1})
    cov = f.get("coverage", e.programme) or {"cases": 0, "category": {}, "agencies": {}}
    cov = {k: (dict(v) if isinstance(v, dict) else v) for k, v in cov.items()}
    cov["cases"] += 1
    # The child's details are sealed with the case's key: counted when read (Views.coverage).
    _bump(cov["category"], e.category or "not recorded", 1)
    for agency in e.agencies:
        _bump(cov["agencies"], agency, 1)
    f.put("coverage", e.programme, cov)


def _case_changed(f: Folding, e: Any, position: int) -> None:
    index = f.get("ids", f.oid)
    if index is None:
        return
    doc = f.get("case", index["key"])
    programme = f.get("programme", index["programme"])
    if doc is None or programme is None:
        return
    before = {a: j["grade"] for a, j in doc["judgements"].items()}
    touched = apply_case_event(doc, e)
    judge(doc, touched, programme["scale"], programme["consolidation"])
    after = {a: j["grade"] for a, j in doc["judgements"].items()}
    doc["last_position"] = position
    f.put("case", index["key"], doc)
    if before != after:
        summary = f.get("summary", index["programme"]) or {"cases": 0, "areas": {}}
        for area in touched:
            counts = summary["areas"].setdefault(area, {})
            if area in before:
                _bump(counts, str(before[area]), -1)
            if area in after:
                _bump(counts, str(after[area]), 1)
        f.put("summary", index["programme"], summary)


def _doc_of(f: Folding, e: Any, view: str) -> tuple[str, Doc] | None:
    """The document a later event of an aggregate changes, found through the `ids` view.

    Changed in place: each batch's documents are its own (read from the store, or made
    by an earlier event of the batch, and written back whole), so no copy is needed.
    """
    index = f.get("ids", f.oid)
    if index is None:
        return None
    return str(index["key"]), f.get(view, index["key"]) or {}



def _person_registered(f: Folding, e: Person.Created, position: int) -> None:
    _in_use(f, e.partnership)
    key = in_partnership(e.partnership, e.person)
    f.put("person", key, {"partnership": e.partnership, "person": e.person, "name": e.name,
                          "agency": e.agency, "roles": list(e.roles), "manager": e.manager,
                          "slack_user": e.slack_user})
    f.put("ids", f.oid, {"view": "person", "key": key, "programme": ""})
    listed(f, "slack", e.slack_user, "people", key, True)
    listed(f, "team", in_partnership(e.partnership, e.manager), "members", key, True)


def _person_changed(f: Folding, e: Any, position: int) -> None:
    found = _doc_of(f, e, "person")
    if found is None:
        return
    key, doc = found
    if isinstance(e, Person.RoleGranted) and e.role not in doc["roles"]:
        doc["roles"].append(e.role)
    elif isinstance(e, Person.RoleRevoked) and e.role in doc["roles"]:
        doc["roles"].remove(e.role)
    elif isinstance(e, Person.ManagerAssigned):
        partnership = str(doc.get("partnership") or DEFAULT_PARTNERSHIP)
        listed(f, "team", in_partnership(partnership, doc.get("manager") or ""), "members", key,
               False)
        listed(f, "team", in_partnership(partnership, e.manager), "members", key, True)
        doc["manager"] = e.manager
    elif isinstance(e, Person.SlackUserLinked):
        listed(f, "slack", doc.get("slack_user") or "", "people", key, False)
        doc["slack_user"] = e.slack_user
        listed(f, "slack", e.slack_user, "people", key, True)
    f.put("person", key, doc)


def _feedback_issued(f: Folding, e: Feedback.Created, position: int) -> None:
    key = f"{e.programme}/{e.case}/{e.agency}"
    f.put("feedback", key, {
        "programme": e.programme, "case": e.case, "agency": e.agency,
        "practitioner": e.practitioner, "manager": e.manager, "auditor": e.auditor,
        "grades": dict(e.grades), "good_practice": list(e.good_practice),
        "issues": list(e.issues), "issued_on": e.occurred_on, "issued_at": _recorded(e),
        "acknowledged_by": "", "acknowledged_at": "", "responses": {}})
    f.put("ids", f.oid, {"view": "feedback", "key": key, "programme": e.programme})
    listed(f, "waiting", in_partnership(owner_of(f, e.programme), e.practitioner), "feedback",
           key, True)


def _feedback_changed(f: Folding, e: Any, position: int) -> None:
    found = _doc_of(f, e, "feedback")
    if found is None:
        return
    key, doc = found
    manager_seeing = isinstance(e, Feedback.Acknowledged) and e.by == doc["manager"] and \
        e.by != doc["practitioner"]  # before "seen" existed, a manager's press was recorded so
    if isinstance(e, Feedback.SeenByManager) or manager_seeing:
        doc["seen_by"] = e.by  # (kept only once someone has seen it: older views unchanged)
        doc["seen_at"] = _recorded(e)
    elif isinstance(e, Feedback.Acknowledged):
        doc["acknowledged_by"] = e.by
        doc["acknowledged_at"] = _recorded(e)
    elif isinstance(e, Feedback.IssueResponded):
        doc["responses"][str(e.issue)] = {"response": e.response, "by": e.by,
                                          "on": e.occurred_on, "at": _recorded(e)}
        _draft_kept(doc, e.by, e.issue, "", "")
    elif isinstance(e, Feedback.AnswerDrafted):
        _draft_kept(doc, e.by, e.issue, e.text, _recorded(e))
    f.put("feedback", key, doc)
    listed(f, "waiting", in_partnership(owner_of(f, doc["programme"]), doc["practitioner"]),
           "feedback", key, feedback_open(doc))


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
        "raised_on": e.occurred_on, "raised_at": _recorded(e), "acknowledged_by": "",
        "acknowledged_at": "", "actions": [], "step": 1, "escalations": [], "closed": False,
        "outcome": ""})
    f.put("ids", f.oid, {"view": "concern", "key": key, "programme": e.programme})
    listed(f, "open_concerns", in_partnership(owner_of(f, e.programme), e.agency), "concerns",
           key, True)


def _concern_changed(f: Folding, e: Any, position: int) -> None:
    found = _doc_of(f, e, "concern")
    if found is None:
        return
    key, doc = found
    if isinstance(e, Concern.Acknowledged):
        doc["acknowledged_by"] = e.by
        doc["acknowledged_at"] = _recorded(e)
        doc["acknowledged_on"] = e.occurred_on
    elif isinstance(e, Concern.ActionRecorded):
        doc["actions"].append({"action": e.action, "by": e.by, "on": e.occurred_on})
    elif isinstance(e, Concern.Escalated):
        doc["step"] = e.step
        doc["escalations"].append({"step": e.step, "to": list(e.to), "reason": e.reason,
                                   "on": e.occurred_on, "at": _recorded(e)})
    elif isinstance(e, Concern.Closed):
        doc["closed"] = True
        doc["outcome"] = e.outcome
    f.put("concern", key, doc)
    listed(f, "open_concerns", in_partnership(owner_of(f, doc["programme"]), doc["agency"]),
           "concerns", key, concern_open(doc))


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
    listed(f, "waiting", in_partnership(owner_of(f, e.programme), e.owner), "actions", key, True)
    rkey = recommendation_key(e.programme, e.recommendation)
    rec = f.get("recommendation", rkey)
    if rec is None:
        rec = {"programme": e.programme, "number": e.recommendation, "text": "", "actions": []}
    f.put("recommendation", rkey, {**rec, "actions": sorted({*rec["actions"], e.action})})


def _action_changed(f: Folding, e: Any, position: int) -> None:
    found = _doc_of(f, e, "action")
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
    partnership = owner_of(f, doc["programme"])
    if owner != doc["owner"]:
        listed(f, "waiting", in_partnership(partnership, owner), "actions", key, False)
    listed(f, "waiting", in_partnership(partnership, doc["owner"]), "actions", key,
           not doc["completed"])


def _delivered(f: Folding, e: Delivery.Created, position: int) -> None:
    # Keyed by the delivery's id (uuid5 of programme, subject, purpose and recipient, as in the
    # event store), so no directory id is readable in the view's keys.
    key = f.deliveries[f.oid] = _delivery_key(e, f.oid)
    f.put("delivery", key, {
        "programme": e.programme, "subject": e.subject, "purpose": e.purpose,
        "recipient": e.recipient, "slack_user": e.slack_user, "channel": e.channel, "ts": e.ts,
        "delivered_on": e.occurred_on, "delivered_at": _recorded(e), "notes": []})


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


HANDLERS: dict[type, Callable[[Folding, Any, int], None]] = {
    Partnership.Created: _partnership_registered,
    Partnership.SlackTeamLinked: _partnership_linked,
    Programme.Created: _programme_opened,
    Programme.Closed: _programme_closed,
    Programme.ChannelDetailSet: _channel_detail_set,
    Programme.ReturnsDueSet: _returns_due_set,
    CaseAudit.Created: _case_selected,
    CaseAudit.ReturnRecorded: _case_changed,
    CaseAudit.AreaGraded: _case_changed,
    CaseAudit.GradeRevised: _case_changed,
    CaseAudit.JudgementModerated: _case_changed,
    CaseAudit.TextErased: _case_changed,
    Person.Created: _person_registered,
    Person.RoleGranted: _person_changed,
    Person.RoleRevoked: _person_changed,
    Person.ManagerAssigned: _person_changed,
    Person.SlackUserLinked: _person_changed,
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
    **REPORT_HANDLERS,  # the overview report's own facts: the author's words, versions
    **OVERRIDE_HANDLERS,  # a quality lead's overrides of the identifiers check
}
