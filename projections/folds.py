"""The folds: how each event changes the documents of the views, one function per kind of fact.

Here the partnerships, programmes, cases and the directory, and every fold by its event's class
(HANDLERS); what follows a case's audit (feedback, concerns, the action plan, deliveries) is
folded by `projections.followup_folds`, the overview report's facts by `report_folds`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.case_audit import CaseAudit
from ledger.ids import DEFAULT_PARTNERSHIP, in_partnership
from ledger.partnership import Partnership
from ledger.people import Person
from ledger.programme import Programme

from .casefold import apply_case_event, judge, new_case_doc
from .followup_folds import FOLLOWUP_HANDLERS, doc_of
from .indexes import listed
from .override_folds import OVERRIDE_HANDLERS
from .report_folds import REPORT_HANDLERS

if TYPE_CHECKING:
    from .views import Folding


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
    judgements = doc["judgements"]
    touched = apply_case_event(doc, e)  # (changes no judgement: only `judge` does)
    before = {a: judgements[a]["grade"] for a in touched if a in judgements}
    judge(doc, touched, programme["scale"], programme["consolidation"])
    doc["last_position"] = position
    f.put("case", index["key"], doc)
    after = {a: judgements[a]["grade"] for a in touched if a in judgements}
    if before != after:  # (only the touched areas' judgements can have changed)
        summary = f.get("summary", index["programme"]) or {"cases": 0, "areas": {}}
        for area in touched:
            counts = summary["areas"].setdefault(area, {})
            was, now = before.get(area), after.get(area)
            if was == now:
                continue
            if was is not None:
                _bump(counts, str(was), -1)
            if now is not None:
                _bump(counts, str(now), 1)
        f.put("summary", index["programme"], summary)


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
    found = doc_of(f, e, "person")
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
    **FOLLOWUP_HANDLERS,  # feedback, concerns, the action plan, deliveries
    **REPORT_HANDLERS,  # the overview report's own facts: the author's words, versions
    **OVERRIDE_HANDLERS,  # a quality lead's overrides of the identifiers check
}
