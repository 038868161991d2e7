"""The parts of an import beside its main pass (`ledger.importer`): what it counts, the new
cases it makes as their events, the partnership it registers, texts a quality lead lets
through, and returns compared with the ledger's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from policies.identifiers import identifier_problems, may_allow_identifiers

from . import ids
from .application import AuditLedger
from .base import Act
from .free_text import TextFound
from .import_reading import Lookup
from .overrides import IdentifierOverride, identifiers_allowed
from .pack import Pack, PersonIn, ReturnIn
from .partnership import Partnership
from .people import Person
from .personal import ERASED

IMPORTER = "import"


@dataclass
class ImportSummary:
    """What an import added, counted for the person who ran it."""

    programme: str
    added: dict[str, int] = field(default_factory=dict)
    events: int = 0

    def count(self, what: str, n: int = 1) -> None:
        self.added[what] = self.added.get(what, 0) + n

    @property
    def changed(self) -> bool:
        return self.events > 0

    def describe(self) -> str:
        if not self.changed:
            return (f"nothing to import: everything in this file is already in the ledger "
                    f"for {self.programme}")
        parts = ", ".join(f"{n} {what}" for what, n in self.added.items() if n)
        return f"imported into {self.programme}: {parts} ({self.events} events)"


@dataclass
class NewCase:
    """A case the store does not hold yet, made as its events alone (`LedgerAggregate.creation`
    and `following`): all an import asks of it again is its agencies and the returns the pack
    gave it so far."""

    id: UUID
    agencies: list[str]
    events: list[Aggregate.Event]
    returns: dict[str, ReturnIn] = field(default_factory=dict)


Pending = Aggregate | Aggregate.Event | NewCase


def events_of(pending: list[Pending]) -> list[Aggregate | Aggregate.Event]:
    """What one save takes: each new case's events in place of the case."""
    out: list[Aggregate | Aggregate.Event] = []
    for obj in pending:
        if isinstance(obj, NewCase):
            out += obj.events
        else:
            out.append(obj)
    return out


def events_in(pending: list[Pending]) -> int:
    """How many events one save of these stores."""
    return sum(1 if isinstance(obj, Aggregate.Event) else
               len(obj.events if isinstance(obj, NewCase) else obj.pending_events)
               for obj in pending)


def pack_partnership(lookup: Lookup, pack: Pack, act: Act, problems: list[str]
                     ) -> Partnership | None:
    """The pack's partnership, new to the store (to be saved), or None: named by no partnership
    section (the default one), or already registered as the pack says (else a problem)."""
    named = pack.partnership
    if named is None:
        return None
    stored = lookup.find(Partnership, lookup.ids.partnership_id(named.id))
    if stored is None:
        if not named.name and named.id == ids.DEFAULT_PARTNERSHIP:
            return None  # the default partnership needs no registering
        if not named.name:
            problems.append(f"partnership.name: partnership {named.id} is not in the ledger yet; "
                            "give its name to register it")
            return None
        return Partnership._create(Partnership.Created, id=lookup.ids.partnership_id(named.id),
                                   partnership=named.id, name=named.name,
                                   slack_team=named.slack_team or "", **act.fields())
    if named.name and named.name != stored.name:
        problems.append(f"partnership.name: the ledger has {stored.name!r} for {named.id}; this "
                        f"pack says {named.name!r}")
    if named.slack_team and named.slack_team != stored.slack_team:
        problems.append(f"partnership.slack_team: the ledger has "
                        f"{stored.slack_team or 'no Slack team'} for {named.id}; this pack says "
                        f"{named.slack_team}")
    return None


ALLOW_IN_A_FILE = ("what identifies a child or family is kept out of free text; if such text "
                   "must stay, a quality lead may allow it, giving a reason: import the file "
                   "again with --by QUALITY-LEAD --allow-identifiers REASON")


def allowing(app: AuditLedger, pack: Pack, texts: list[TextFound], by: str, reason: str,
              named: dict[str, PersonIn], summary: ImportSummary,
              pending: list[Pending]) -> list[str]:
    """Texts holding identifiers: refused, or let through by a quality lead with a reason,
    each override recorded once (with the file's text's own id)."""
    if not reason:
        return [p for t in texts for p in t.problems] + [ALLOW_IN_A_FILE]
    known = named.get(by)
    roles = list(known.roles) if known else list(getattr(
        app.find(Person, app.ids.person_id(by, pack.partnership_id)), "roles", []))
    if not may_allow_identifiers(roles):
        return [f"--by {by}: only a quality lead may allow text that holds what identifies a "
                "child or family"]
    said = identifier_problems(reason)
    if said:
        return [f"--allow-identifiers: the reason {p}" for p in said]
    pid = pack.programme.id
    act = Act(by, date.today().isoformat())
    for t in texts:
        oid = app.ids.override_id(pid, t.natural)
        if app.find(IdentifierOverride, oid) is None:
            pending.append(identifiers_allowed(pid, t.case, t.field, t.kinds, t.act_of, reason,
                                               act, oid))
            summary.count("texts allowed by a quality lead")
    return []


def same_return(existing: Any, r: ReturnIn) -> bool:
    return (existing.grades == dict(r.grades) and _same_texts(existing.strengths, r.strengths)
            and _same_texts(existing.concerns, r.concerns) and existing.auditor == r.auditor
            and existing.practitioner == r.practitioner)


def _same_texts(stored: dict[str, str], given: dict[str, str]) -> bool:
    """The same comments, where a comment since erased matches whatever the file says."""
    return stored.keys() == given.keys() and all(text in (ERASED, given[area])
                                                 for area, text in stored.items())


def return_date(pack: Pack, case: str, agency: str) -> date | None:
    for r in pack.returns:
        if r.case == case and r.agency == agency:
            return r.completed
    return None
