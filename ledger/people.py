"""The people directory: who someone is, their agency, roles, manager and Slack user."""

from __future__ import annotations

from .base import LedgerAggregate


class Person(LedgerAggregate):
    TOPIC = "audit-ledger:Person"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:PersonRegistered"
        person: str
        name: str
        agency: str
        roles: list[str]
        manager: str
        slack_user: str

    class RoleGranted(LedgerAggregate.Event):
        TOPIC = "audit-ledger:RoleGranted"
        role: str

        def apply(self, person: Person) -> None:
            if self.role not in person.roles:
                person.roles.append(self.role)

    class RoleRevoked(LedgerAggregate.Event):
        TOPIC = "audit-ledger:RoleRevoked"
        role: str

        def apply(self, person: Person) -> None:
            if self.role in person.roles:
                person.roles.remove(self.role)

    class ManagerAssigned(LedgerAggregate.Event):
        TOPIC = "audit-ledger:ManagerAssigned"
        manager: str

        def apply(self, person: Person) -> None:
            person.manager = self.manager

    class SlackUserLinked(LedgerAggregate.Event):
        TOPIC = "audit-ledger:SlackUserLinked"
        slack_user: str

        def apply(self, person: Person) -> None:
            person.slack_user = self.slack_user

    def __init__(
        self,
        *,
        person: str,
        name: str,
        agency: str,
        roles: list[str],
        manager: str,
        slack_user: str,
        by: str,
        occurred_on: str,
        key: str,
    ) -> None:
        self.keys: set[str] = set()
        self.person = person
        self.name = name
        self.agency = agency
        self.roles = list(roles)
        self.manager = manager
        self.slack_user = slack_user
