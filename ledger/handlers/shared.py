"""What every command handler shares: its answer, its act, the aggregates it names, its actor."""

from __future__ import annotations

from dataclasses import dataclass

from policies import permissions

from .. import commands as c
from .. import ids
from ..actions import Action
from ..base import Act, NotFound, NotPermitted
from ..case_audit import CaseAudit
from ..concerns import Concern
from ..feedback import Feedback
from ..people import Person
from ..persistence import LedgerApplication
from ..programme import Programme


@dataclass(frozen=True)
class Outcome:
    """What a command did, in words for the person who asked."""

    changed: bool
    message: str


def act_of(cmd: c.Command) -> Act:
    return Act(by=cmd.by, occurred_on=cmd.occurred_on.isoformat(), key=cmd.key)


class LedgerCommands(LedgerApplication):
    """The application as its command handlers use it: aggregates found by the references
    people use (or NotFound, in words), and the actor's role checked."""

    def person(self, person: str) -> Person:
        found = self.find(Person, ids.person_id(person))
        if found is None:
            raise NotFound(f"no person {person!r} in the directory")
        return found

    def programme(self, programme: str) -> Programme:
        found = self.find(Programme, ids.programme_id(programme))
        if found is None:
            raise NotFound(f"no programme {programme!r}")
        return found

    def case(self, programme: str, case: str) -> CaseAudit:
        found = self.find(CaseAudit, ids.case_id(programme, case))
        if found is None:
            raise NotFound(f"no case {case!r} in programme {programme!r}")
        return found

    def feedback(self, programme: str, case: str, agency: str) -> Feedback:
        found = self.find(Feedback, ids.feedback_id(programme, case, agency))
        if found is None:
            raise NotFound(f"no feedback for {agency} on case {case!r} in {programme!r}")
        return found

    def concern(self, programme: str, ref: str) -> Concern:
        found = self.find(Concern, ids.concern_id(programme, ref))
        if found is None:
            raise NotFound(f"no concern {ref!r} in programme {programme!r}")
        return found

    def action(self, programme: str, action: str) -> Action:
        found = self.find(Action, ids.action_id(programme, action))
        if found is None:
            raise NotFound(f"no action {action!r} in programme {programme!r}")
        return found

    def require(self, act: str, person: str) -> Person:
        who = self.person(person)
        problem = permissions.permission_problem(act, who.roles)
        if problem:
            raise NotPermitted(f"{person}: {problem}")
        return who
