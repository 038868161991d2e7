"""The people directory: who someone is, in which partnership, their agency, roles, manager,
Slack user and operating-system account. A person id names someone within one partnership
only."""

from __future__ import annotations

from typing import Any

from .base import LedgerAggregate
from .ids import DEFAULT_PARTNERSHIP


class Person(LedgerAggregate):
    TOPIC = "audit-ledger:Person"

    class Created(LedgerAggregate.Created):
        """Version 2 adds `partnership`, whose directory the person is in (stored earlier
        events: the default one)."""

        TOPIC = "audit-ledger:PersonRegistered"
        class_version = 2
        partnership: str
        person: str
        name: str
        agency: str
        roles: list[str]
        manager: str
        slack_user: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["partnership"] = DEFAULT_PARTNERSHIP

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

    class OsUserLinked(LedgerAggregate.Event):
        """The operating-system account the console must be run as to act as this person."""

        TOPIC = "audit-ledger:OsUserLinked"
        os_user: str

        def apply(self, person: Person) -> None:
            person.os_user = self.os_user

    class OsUserUnlinked(LedgerAggregate.Event):
        """The binding undone: the console takes this person at their word again."""

        TOPIC = "audit-ledger:OsUserUnlinked"
        os_user: str  # the account they were bound to

        def apply(self, person: Person) -> None:
            person.os_user = ""

    def __init__(
        self,
        *,
        partnership: str,
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
        self.partnership = partnership
        self.person = person
        self.name = name
        self.agency = agency
        self.roles = list(roles)
        self.manager = manager
        self.slack_user = slack_user
        self.os_user = ""


class DirectoryOpened(LedgerAggregate):
    """A partnership's directory opened by its first pack, which brings its quality lead
    without anyone's leave (`ledger.import_rights`). One per partnership (`IdScheme.directory_id`):
    of two first packs saved at once, the second meets the first's record, and is checked
    again against the directory the first made, so only one quality lead bootstraps."""

    TOPIC = "audit-ledger:Directory"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:DirectoryOpened"
        partnership: str

    def __init__(self, *, partnership: str, by: str, occurred_on: str, key: str) -> None:
        self.keys: set[str] = set()
        self.partnership = partnership
