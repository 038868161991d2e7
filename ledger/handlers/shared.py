"""What every command handler shares: its answer, its act, the aggregates it names, its actor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from eventsourcing.domain import Aggregate

from policies import permissions
from policies.identifiers import identifier_problems, identifiers_in, may_allow_identifiers

from .. import commands as c
from .. import ids
from ..actions import Action
from ..base import Act, NotFound, NotPermitted, Rejected
from ..case_audit import CaseAudit
from ..concerns import Concern
from ..feedback import Feedback
from ..overrides import identifiers_allowed
from ..partnership import Partnership
from ..people import Person
from ..persistence import LedgerApplication
from ..programme import Programme

ASK_A_QUALITY_LEAD = "if it must stay, ask a quality lead: they may allow it, giving a reason"


@dataclass(frozen=True)
class Outcome:
    """What a command did, in words for the person who asked."""

    changed: bool
    message: str
    warnings: tuple[str, ...] = ()  # what was done but not all the way (said after it)


def act_of(cmd: c.Command) -> Act:
    return Act(by=cmd.by, occurred_on=cmd.occurred_on.isoformat(), key=cmd.key)


class LedgerCommands(LedgerApplication):
    """The application as its command handlers use it: aggregates found by the references
    people use (or NotFound, in words), and the actor's role checked."""

    def person(self, person: str, partnership: str) -> Person:
        found = self.find(Person, self.ids.person_id(person, partnership))
        if found is None:
            raise NotFound(f"no person {person!r} in the directory{_of(partnership)}")
        return found

    def programme(self, programme: str) -> Programme:
        found = self.find(Programme, self.ids.programme_id(programme))
        if found is None:
            raise NotFound(f"no programme {programme!r}")
        self._owners()[programme] = found.partnership
        return found

    def partnership_of(self, programme: str) -> str:
        """The partnership that owns a programme: its people act on it, and only theirs.
        Remembered once read (a programme never changes hands)."""
        owner = self._owners().get(programme)
        return owner if owner is not None else self.programme(programme).partnership

    def _owners(self) -> dict[str, str]:
        if "_programme_owners" not in self.__dict__:
            self._programme_owners: dict[str, str] = {}
        return self._programme_owners

    def partnership(self, partnership: str) -> Partnership | None:
        """A registered partnership; None for the default one, which is never registered
        unless a pack or `partnership add` names it."""
        found = self.find(Partnership, self.ids.partnership_id(partnership))
        if found is None and partnership != ids.DEFAULT_PARTNERSHIP:
            raise NotFound(f"no partnership {partnership!r}; add it first "
                           "(audit-ledger partnership add)")
        return found

    def case(self, programme: str, case: str) -> CaseAudit:
        found = self.find(CaseAudit, self.ids.case_id(programme, case))
        if found is None:
            raise NotFound(f"no case {case!r} in programme {programme!r}")
        return found

    def feedback(self, programme: str, case: str, agency: str) -> Feedback:
        found = self.find(Feedback, self.ids.feedback_id(programme, case, agency))
        if found is None:
            raise NotFound(f"no feedback for {agency} on case {case!r} in {programme!r}")
        return found

    def concern(self, programme: str, ref: str) -> Concern:
        found = self.find(Concern, self.ids.concern_id(programme, ref))
        if found is None:
            raise NotFound(f"no concern {ref!r} in programme {programme!r}")
        return found

    def action(self, programme: str, action: str) -> Action:
        found = self.find(Action, self.ids.action_id(programme, action))
        if found is None:
            raise NotFound(f"no action {action!r} in programme {programme!r}")
        return found

    console_user: str | None = None
    """The operating-system account the console runs as, set by the console's wiring; None at
    a door that proves who acts otherwise (Slack's signed requests)."""

    def acting(self, person: str, partnership: str) -> Person:
        """The person named as acting: in the directory, and, when bound to an operating-system
        account, acted for from that account at the console."""
        who = self.person(person, partnership)
        problem = permissions.account_problem(person, who.os_user, self.console_user)
        if problem:
            raise NotPermitted(problem)
        return who

    def require(self, act: str, person: str, partnership: str) -> Person:
        """The person acting, in the partnership acted in, holding a role that may act."""
        who = self.acting(person, partnership)
        problem = permissions.permission_problem(act, who.roles)
        if problem:
            raise NotPermitted(f"{person}: {problem}")
        return who

    def keep_identifiers_out(self, cmd: c.Command, texts: Mapping[str, str], *, programme: str,
                             case: str = "", names: Iterable[str] = ()) -> list[Aggregate]:
        """Refuse free text holding what identifies a child or family, naming each field; a
        quality lead's override lets it through, and its record (who, why) is returned to be
        saved with the act."""
        names = list(names)
        found = {field: identifiers_in(text, names) for field, text in texts.items() if text}
        found = {field: fs for field, fs in found.items() if fs}
        if not found:
            return []
        if not cmd.allow_identifiers:
            said = [f"{field}: {p}" for field in found
                    for p in identifier_problems(texts[field], names)]
            said[-1] += f"; {ASK_A_QUALITY_LEAD}"
            raise Rejected(*said)
        allower = cmd.allowed_by or cmd.by
        if not may_allow_identifiers(self.acting(allower, self.partnership_of(programme)).roles):
            raise NotPermitted(f"{allower}: only a quality lead may allow text that holds what "
                               "identifies a child or family")
        said = identifier_problems(cmd.allow_identifiers)
        if said:
            raise Rejected(*[f"the reason for allowing it {p}" for p in said])
        act = Act(allower, cmd.occurred_on.isoformat())
        return [identifiers_allowed(programme, case, field, sorted({f.kind for f in fs}),
                                    cmd.by, cmd.allow_identifiers, act)
                for field, fs in found.items()]

    def names_on_case(self, case: CaseAudit, *more: str) -> list[str]:
        """The names the directory holds for the case's own people: its auditors and
        practitioners, and whoever else the act names."""
        people = {r.auditor for r in case.returns.values()}
        people |= {r.practitioner for r in case.returns.values()} | set(more)
        within = self.partnership_of(case.programme)
        found = (self.find(Person, self.ids.person_id(pid, within)) for pid in sorted(people) if pid)
        return [p.name for p in found if p is not None and p.name]


def _of(partnership: str) -> str:
    return "" if partnership == ids.DEFAULT_PARTNERSHIP else f" of partnership {partnership}"
