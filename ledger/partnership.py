"""A partnership: the safeguarding partnership that owns its programmes, people and agencies.

One store may serve many. Each owns its directory and its programmes; nothing of one is
shown or sent to the people of another. The default partnership (`default`) is never
registered: everything stored before partnerships were named, and every pack that names
none, belongs to it.
"""

from __future__ import annotations

from .base import LedgerAggregate


class Partnership(LedgerAggregate):
    TOPIC = "audit-ledger:Partnership"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:PartnershipRegistered"
        partnership: str
        name: str
        slack_team: str

    class SlackTeamLinked(LedgerAggregate.Event):
        """The partnership's Slack workspace named (or named anew): requests from that
        workspace, and only those, are answered with the partnership's people and items."""

        TOPIC = "audit-ledger:PartnershipSlackTeamLinked"
        slack_team: str

        def apply(self, partnership: Partnership) -> None:
            partnership.slack_team = self.slack_team

    class TextErased(LedgerAggregate.Event):
        """Every sealed text of the partnership's cases erased by order (its data key
        destroyed), authorised by one of its quality leads. The reason is a record of the
        order, kept in the clear: it holds no personal details."""

        TOPIC = "audit-ledger:PartnershipTextErased"
        reason: str

        def apply(self, partnership: Partnership) -> None:
            partnership.erased = {"by": self.by, "on": self.occurred_on, "reason": self.reason}

    def __init__(self, *, partnership: str, name: str, slack_team: str, by: str,
                 occurred_on: str, key: str) -> None:
        self.keys: set[str] = set()
        self.erased: dict[str, str] | None = None
        self.partnership = partnership
        self.name = name
        self.slack_team = slack_team
