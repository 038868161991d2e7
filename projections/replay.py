"""The views as they stood: folded afresh, in memory, from the log up to a position and only
from what had happened in the world by a day.

`report --as-of` and a published version's reproduction read these instead of the stored
views. The folds are the stored views' own, so a replay to a day gives what views folded
from only that day's facts give.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

import orjson

from ledger.application import AuditLedger
from ledger.case_audit import CaseAudit
from ledger.overview_report import OverviewReport
from ledger.programme import Programme
from ledger.sealing import SealingMapper

from .queries import Views
from .store import Changes, ViewStore, canonical
from .views import Folding

Doc = dict[str, Any]
BATCH = 500

AUDIT_FACTS = ("CaseAudit", "Concern", "Feedback", "Recommendation", "Action", "Delivery",
               "OverviewReport", "Programme")
"""The aggregates whose events happen in the audit's world, each on its day. The rest (the
directory of people, partnerships) is who the ledger knows now, whenever they were added."""
FRAMES = (Programme.Created, OverviewReport.Created, CaseAudit.TextErased)
"""Facts that frame the record rather than happen in the audit's world (the programme itself,
the report's start), or that must reach every reading (an erasure): never left out by date."""


def happened_by(event: Any, day: date | None) -> bool:
    """Whether the fact had happened in the world by the end of `day`."""
    if day is None or isinstance(event, FRAMES):
        return True
    if type(event).__qualname__.split(".")[0] not in AUDIT_FACTS:
        return True
    return str(event.occurred_on) <= day.isoformat()


class MemoryViewStore(ViewStore):
    """Documents held in memory for one reading; nothing is written anywhere."""

    def __init__(self, docs: Mapping[tuple[str, str], Doc]) -> None:
        super().__init__()
        self.docs = dict(docs)

    def positions(self) -> dict[str, int]:
        return {}

    def get(self, view: str, key: str) -> Doc | None:
        return self.docs.get((view, key))

    def scan(self, view: str, prefix: str = "") -> list[tuple[str, Doc]]:
        return sorted((k, d) for (v, k), d in self.docs.items()
                      if v == view and k.startswith(prefix))

    def commit(self, changes: Changes, expected: Mapping[str, int], new: int,
               absent: Collection[tuple[str, str]] = ()) -> None:
        raise NotImplementedError("a replay is read, never written")

    def drop(self) -> None:
        self.docs.clear()

    def dump(self) -> list[tuple[str, str, bytes]]:
        return [(v, k, self.encode(v, k, d)) for (v, k), d in sorted(self.docs.items())]

    def close(self) -> None:
        self.docs.clear()


def views_as_of(app: AuditLedger, day: date | None = None,
                position: int | None = None) -> Views:
    """The views folded from the log up to `position` (all of it without one), leaving out
    what happened in the world after `day`."""
    folding = Folding(lambda view, key: None)
    mapper = app.mapper
    start = 0
    while True:
        notifications = app.recorder.select_notifications(
            start=start, limit=BATCH, stop=position, inclusive_of_start=False)
        if not notifications:
            break
        events = (mapper.to_domain_events(notifications) if isinstance(mapper, SealingMapper)
                  else [mapper.to_domain_event(n) for n in notifications])
        for n, event in zip(notifications, events, strict=True):
            if happened_by(event, day):
                folding.fold(event, n.id)
        start = notifications[-1].id
        if position is not None and start >= position:
            break
    # Each document as the stored views would give it back (keys sorted by their JSON), so
    # that nothing read from a replay depends on the order its fold happened to build.
    docs = {k: orjson.loads(canonical(d)) for k, d in folding.cache.items()
            if d is not None}
    return Views(MemoryViewStore(docs), scheme=lambda: app.ids)


def log_head(app: AuditLedger) -> int:
    return int(app.recorder.max_notification_id() or 0)
