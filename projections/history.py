"""Replay: every event that shaped a case, in order, with the judgement after each step."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ledger.application import AuditLedger
from ledger.base import NotFound
from ledger.case_audit import CaseAudit
from ledger.feedback import Feedback
from ledger.programme import Programme

from .casefold import apply_case_event, judge, new_case_doc
from .queries import case_judgements
from .replay import happened_by

Doc = dict[str, Any]

DETAIL_FIELDS = ("agency", "auditor", "practitioner", "completed", "area", "grade", "previous",
                 "grades", "reason", "category", "agencies", "issue", "response", "ref",
                 "summary", "child_at_risk", "action", "step", "outcome")


def event_name(event: Any) -> str:
    return event_name_of(type(event))


def event_name_of(cls: Any) -> str:
    return str(cls.TOPIC).split(":", 1)[1]


def case_history(app: AuditLedger, programme: str, case: str, area: str | None = None,
                 as_of: datetime | None = None, concern_refs: list[str] | None = None,
                 day: date | None = None) -> Doc:
    """The case replayed; without --area its feedback and concerns are woven in by time.
    `as_of` stops at a moment of recording; `day` leaves out what happened in the world
    after that day (a return completed later, a revision made later), whenever recorded."""
    prog = app.find(Programme, app.ids.programme_id(programme))
    if prog is None:
        raise NotFound(f"no programme {programme!r}")
    own: list[Any] = list(app.repository.event_store.get(app.ids.case_id(programme, case)))
    if not own:
        raise NotFound(f"no case {case!r} in programme {programme!r}")
    events = own
    if area is None:
        store = app.repository.event_store
        related: list[Any] = []
        for agency in own[0].agencies:
            related += [e for e in store.get(app.ids.feedback_id(programme, case, agency))
                        if not isinstance(e, Feedback.AnswerDrafted)]  # a writer's own, unsent
        for ref in concern_refs or []:
            related += store.get(app.ids.concern_id(programme, ref))
        events = sorted(own + related, key=lambda e: e.timestamp)
    steps: list[Doc] = []
    doc: Doc = {}
    managers: dict[Any, str] = {}  # each feedback's manager, when not its practitioner
    for event in events:
        if as_of is not None and event.timestamp > as_of:
            break
        if isinstance(event, Feedback.Created) and event.manager != event.practitioner:
            managers[event.originator_id] = event.manager
        if day is not None and not happened_by(event, day):
            continue
        touched: set[str] = set()
        if isinstance(event, CaseAudit.Created):
            doc = new_case_doc(event)
        elif event.originator_id == own[0].originator_id:
            touched = apply_case_event(doc, event)
            judge(doc, touched, prog.scale, prog.consolidation)
        if area is not None and area not in touched and not isinstance(event, CaseAudit.Created):
            continue
        step: Doc = {
            "position": len(steps) + 1,
            "recorded_at": event.timestamp.isoformat(),
            "occurred_on": event.occurred_on,
            "by": event.by,
            "event": event_name(event),
        }
        if isinstance(event, Feedback.Acknowledged) and \
                managers.get(event.originator_id) == event.by:
            step["event"] = event_name_of(Feedback.SeenByManager)  # as an older store held it
        for name in DETAIL_FIELDS:
            if hasattr(event, name):
                step[name] = getattr(event, name)
        if area is not None:
            step["judgement"] = doc["judgements"].get(area)
        else:
            step["judgements"] = {a: doc["judgements"][a]["grade"]
                                  for a in sorted(touched) if a in doc["judgements"]}
        steps.append(step)
    state = case_judgements(doc) if doc else None
    if state is not None and area is not None:
        state = {**state, "areas": {k: v for k, v in state["areas"].items() if k == area},
                 "overall": state["overall"] if area == "overall" else None}
    return {
        "programme": programme,
        "case": case,
        "area": area,
        "as_of": day.isoformat() if day else
        (as_of or datetime.now(tz=events[0].timestamp.tzinfo)).isoformat(),
        "as_of_means": "happened by" if day else "recorded by",
        "steps": steps,
        "state": state,
    }
