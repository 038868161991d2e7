"""A programme: one audit, with its terms of reference, scale, rule and areas."""

from __future__ import annotations

from typing import Any

from .base import LedgerAggregate
from .ids import DEFAULT_PARTNERSHIP

CHANNEL_DETAILS = ("recorded", "text")
CHANNEL_DETAIL_DEFAULT = "recorded"


class Programme(LedgerAggregate):
    TOPIC = "audit-ledger:Programme"

    class Created(LedgerAggregate.Created):
        """Version 2 adds `escalation`: the programme's own working days for each step of the
        concern ladder (empty: the default 2, 5 and 2). Version 3 adds `partnership`, the
        partnership that owns the programme (stored earlier events: the default one)."""

        TOPIC = "audit-ledger:ProgrammeOpened"
        class_version = 3
        partnership: str
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
        escalation: list[int]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["escalation"] = []

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["partnership"] = DEFAULT_PARTNERSHIP

    class ChannelDetailSet(LedgerAggregate.Event):
        """What the programme's Slack channel is told of a concern's actions and outcome:
        "recorded" (that one was recorded, by whom and when: the default) or "text" (their
        words too). Its own event, so programmes opened before it read back as "recorded"."""

        TOPIC = "audit-ledger:ProgrammeChannelDetailSet"
        detail: str

        def apply(self, programme: Programme) -> None:
            programme.channel_detail = self.detail

    class ReturnsDueSet(LedgerAggregate.Event):
        """The day the agencies' returns were due, against which the report counts late
        returns. Its own event, so programmes opened before it read back as having none."""

        TOPIC = "audit-ledger:ProgrammeReturnsDueSet"
        due: str

        def apply(self, programme: Programme) -> None:
            programme.returns_due = self.due

    class Closed(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ProgrammeClosed"
        reason: str

        def apply(self, programme: Programme) -> None:
            programme.status = "closed"

    def __init__(
        self,
        *,
        partnership: str,
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
        escalation: list[int],
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.partnership = partnership
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
        self.escalation = list(escalation)
        self.status = "open"
        self.returns_due = ""
        self.channel_detail = CHANNEL_DETAIL_DEFAULT
