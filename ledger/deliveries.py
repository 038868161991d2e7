"""What the ledger sent to whom: each alert, reminder and digest, with where it landed in Slack.

Recorded as events so history shows that a manager was told, when, and so the
message can be updated in place (channel and ts) when someone acts on it.
"""

from __future__ import annotations

from .base import LedgerAggregate


class Delivery(LedgerAggregate):
    TOPIC = "audit-ledger:Delivery"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:MessageDelivered"
        programme: str
        subject: str
        purpose: str
        recipient: str
        slack_user: str
        channel: str
        ts: str

    class Updated(LedgerAggregate.Event):
        TOPIC = "audit-ledger:MessageUpdated"
        note: str

        def apply(self, delivery: Delivery) -> None:
            delivery.notes.append(self.note)

    def __init__(
        self,
        *,
        programme: str,
        subject: str,
        purpose: str,
        recipient: str,
        slack_user: str,
        channel: str,
        ts: str,
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.subject = subject
        self.purpose = purpose
        self.recipient = recipient
        self.slack_user = slack_user
        self.channel = channel
        self.ts = ts
        self.notes: list[str] = []
