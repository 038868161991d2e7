"""A programme: one audit, with its terms of reference, scale, rule and areas."""

from __future__ import annotations

from typing import Any

from .base import LedgerAggregate


class Programme(LedgerAggregate):
    TOPIC = "audit-ledger:Programme"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:ProgrammeOpened"
        programme: str
        title: str
        board: str
        opened: str
        scale: str
        consolidation: str
        areas: dict[str, str]
        terms_of_reference: str
        method: str
        sample: dict[str, Any]
        channel: str
        baseline: str

    class Closed(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ProgrammeClosed"
        reason: str

        def apply(self, programme: Programme) -> None:
            programme.status = "closed"

    def __init__(
        self,
        *,
        programme: str,
        title: str,
        board: str,
        opened: str,
        scale: str,
        consolidation: str,
        areas: dict[str, str],
        terms_of_reference: str,
        method: str,
        sample: dict[str, Any],
        channel: str,
        baseline: str,
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.title = title
        self.board = board
        self.opened = opened
        self.scale = scale
        self.consolidation = consolidation
        self.areas = areas
        self.terms_of_reference = terms_of_reference
        self.method = method
        self.sample = sample
        self.channel = channel
        self.baseline = baseline
        self.status = "open"
