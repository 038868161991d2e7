"""The partnerships and their directories of people: who they are, their agency, roles,
manager and Slack user, each within one partnership."""

from __future__ import annotations

from .. import commands as c
from ..base import Rejected
from ..partnership import Partnership
from ..people import Person
from .shared import LedgerCommands, Outcome, act_of

ADMIN = "admin"
"""Who registers a partnership: whoever holds the store (no directory yet to name them in)."""


class DirectoryCommands(LedgerCommands):
    """Partnerships registered; people registered in one, their roles granted and revoked,
    managers assigned, Slack users and operating-system accounts linked."""

    def register_partnership(self, cmd: c.RegisterPartnership) -> Outcome:
        return self.retrying(lambda: self._register_partnership(cmd))

    def _register_partnership(self, cmd: c.RegisterPartnership) -> Outcome:
        found = self.find(Partnership, self.ids.partnership_id(cmd.partnership))
        if found is not None:
            if (found.name, found.slack_team) == (cmd.name, cmd.slack_team or ""):
                return Outcome(False, f"partnership {cmd.partnership} is already registered")
            raise Rejected(f"partnership {cmd.partnership} is already registered as "
                           f"{found.name!r}" + (f" (Slack team {found.slack_team})"
                                                if found.slack_team else ""))
        partnership = Partnership._create(
            Partnership.Created, id=self.ids.partnership_id(cmd.partnership),
            partnership=cmd.partnership, name=cmd.name, slack_team=cmd.slack_team or "",
            **act_of(cmd).fields())
        self.save(partnership)
        return Outcome(True, f"partnership {cmd.partnership} ({cmd.name}) registered")

    def link_partnership_slack(self, cmd: c.LinkPartnershipSlack) -> Outcome:
        return self.retrying(lambda: self._link_partnership_slack(cmd))

    def _link_partnership_slack(self, cmd: c.LinkPartnershipSlack) -> Outcome:
        found = self.partnership(cmd.partnership)
        if found is None:  # the default partnership, named for the first time
            found = Partnership._create(
                Partnership.Created, id=self.ids.partnership_id(cmd.partnership),
                partnership=cmd.partnership, name="", slack_team=cmd.slack_team,
                **act_of(cmd).fields())
        elif found.slack_team == cmd.slack_team:
            return Outcome(False, f"partnership {cmd.partnership} is already linked to Slack "
                                  f"workspace {cmd.slack_team}")
        else:
            found.record(Partnership.SlackTeamLinked, act_of(cmd), slack_team=cmd.slack_team)
        self.save(found)
        return Outcome(True, f"partnership {cmd.partnership} linked to Slack workspace "
                             f"{cmd.slack_team}")

    def register_person(self, cmd: c.RegisterPerson) -> Outcome:
        return self.retrying(lambda: self._register_person(cmd))

    def _register_person(self, cmd: c.RegisterPerson) -> Outcome:
        self.partnership(cmd.partnership)
        self.require("register person", cmd.by, cmd.partnership)
        if self.find(Person, self.ids.person_id(cmd.person, cmd.partnership)) is not None:
            return Outcome(False, f"{cmd.person} is already in the directory")
        problems = []
        if cmd.manager:
            problems += self._manager_problems(cmd.manager, cmd.partnership)
        if problems:
            raise Rejected(*problems)
        person = Person._create(Person.Created, id=self.ids.person_id(cmd.person, cmd.partnership),
                                partnership=cmd.partnership, person=cmd.person,
                                name=cmd.name, agency=cmd.agency, roles=list(cmd.roles),
                                manager=cmd.manager or "", slack_user=cmd.slack_user or "",
                                **act_of(cmd).fields())
        self.save(person)
        return Outcome(True, f"{cmd.person} added to the directory ({cmd.agency})")

    def _manager_problems(self, manager: str, partnership: str) -> list[str]:
        found = self.find(Person, self.ids.person_id(manager, partnership))
        if found is None:
            return [f"manager: {manager!r} is not in the directory"]
        if "manager" not in found.roles:
            return [f"manager: {manager!r} does not hold the manager role"]
        return []

    def grant_role(self, cmd: c.ChangeRole) -> Outcome:
        return self.retrying(lambda: self._change_role(cmd, grant=True))

    def revoke_role(self, cmd: c.ChangeRole) -> Outcome:
        return self.retrying(lambda: self._change_role(cmd, grant=False))

    def _change_role(self, cmd: c.ChangeRole, grant: bool) -> Outcome:
        self.require("register person", cmd.by, cmd.partnership)
        person = self.person(cmd.person, cmd.partnership)
        if grant == (cmd.role in person.roles):
            state = "already holds" if grant else "does not hold"
            return Outcome(False, f"{cmd.person} {state} the {cmd.role} role")
        event = Person.RoleGranted if grant else Person.RoleRevoked
        person.record(event, act_of(cmd), role=cmd.role)
        self.save(person)
        return Outcome(True, f"{cmd.person} {'now holds' if grant else 'no longer holds'} "
                             f"the {cmd.role} role")

    def assign_manager(self, cmd: c.AssignManager) -> Outcome:
        return self.retrying(lambda: self._assign_manager(cmd))

    def _assign_manager(self, cmd: c.AssignManager) -> Outcome:
        self.require("register person", cmd.by, cmd.partnership)
        person = self.person(cmd.person, cmd.partnership)
        problems = self._manager_problems(cmd.manager, cmd.partnership)
        if problems:
            raise Rejected(*problems)
        if person.manager == cmd.manager:
            return Outcome(False, f"{cmd.manager} already manages {cmd.person}")
        person.record(Person.ManagerAssigned, act_of(cmd), manager=cmd.manager)
        self.save(person)
        return Outcome(True, f"{cmd.person}'s manager is now {cmd.manager}")

    def link_slack_user(self, cmd: c.LinkSlackUser) -> Outcome:
        return self.retrying(lambda: self._link_slack(cmd))

    def _link_slack(self, cmd: c.LinkSlackUser) -> Outcome:
        self.require("register person", cmd.by, cmd.partnership)
        person = self.person(cmd.person, cmd.partnership)
        if person.slack_user == cmd.slack_user:
            return Outcome(False, f"{cmd.person} is already linked to {cmd.slack_user}")
        person.record(Person.SlackUserLinked, act_of(cmd), slack_user=cmd.slack_user)
        self.save(person)
        return Outcome(True, f"{cmd.person} is now linked to Slack user {cmd.slack_user}")

    def link_os_user(self, cmd: c.LinkOsUser) -> Outcome:
        return self.retrying(lambda: self._link_os_user(cmd))

    def _link_os_user(self, cmd: c.LinkOsUser) -> Outcome:
        self.require("register person", cmd.by, cmd.partnership)
        person = self.person(cmd.person, cmd.partnership)
        if person.os_user == cmd.os_user:
            return Outcome(False, f"{cmd.person} is already bound to the operating-system "
                                  f"account {cmd.os_user}")
        person.record(Person.OsUserLinked, act_of(cmd), os_user=cmd.os_user)
        self.save(person)
        return Outcome(True, f"{cmd.person} is now bound to the operating-system account "
                             f"{cmd.os_user}: at the console, --by {cmd.person} works only "
                             f"for commands run as {cmd.os_user}")

    def unlink_os_user(self, cmd: c.UnlinkOsUser) -> Outcome:
        return self.retrying(lambda: self._unlink_os_user(cmd))

    def _unlink_os_user(self, cmd: c.UnlinkOsUser) -> Outcome:
        self.require("register person", cmd.by, cmd.partnership)
        person = self.person(cmd.person, cmd.partnership)
        if not person.os_user:
            return Outcome(False, f"{cmd.person} is not bound to an operating-system account")
        bound = person.os_user
        person.record(Person.OsUserUnlinked, act_of(cmd), os_user=bound)
        self.save(person)
        return Outcome(True, f"{cmd.person} is no longer bound to the operating-system account "
                             f"{bound}: at the console, --by {cmd.person} is taken at its word "
                             "again, from any account")
