"""Who may import what. The importer (`--by`) is a person of the partnership's directory who
holds the import role, acts from their own operating-system account when bound to one, and
records through a file only what they could do by hand: a pack cannot grant a role its
importer could not grant. The one exception is the first pack into a partnership whose
directory is empty: it brings that directory, quality lead included, so someone can import
the packs after it (a pack naming nobody leaves the directory empty); once anybody is in the
directory, that way is closed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from policies.permissions import (
    ACT_WORDS,
    account_problem,
    acts_not_permitted,
    permission_problem,
    refusal_words,
    who_may,
)

from .ids import DEFAULT_PARTNERSHIP, IdScheme
from .people import DirectoryOpened, Person
from .sealing import SealingMapper

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.domain import Aggregate

    from .application import AuditLedger
    from .base import Act
    from .pack import PersonIn

IMPORT = "import pack"
QUALITY_LEAD = "quality-lead"

ACTS_OF = {
    "programme": "open programme",
    "programme updated": "open programme",
    "people": "register person",
    "people updated": "register person",
    "cases": "select case",
    "recommendations": "add recommendation",
    "actions": "plan action",
    "report parts": "write report",
}
"""What an import adds (as its summary counts it) and the act each is. Returns, feedback and
concerns are recorded as the auditors and raisers the file names, under the import role."""

DIRECTORY_TOPICS = (Person.Created.TOPIC, Person.RoleGranted.TOPIC, Person.RoleRevoked.TOPIC)
BATCH = 1000


def import_problems(app: AuditLedger, partnership: str, by: str | None, importer: Person | None,
                    added: Mapping[str, int], pack_people: Iterable[PersonIn],
                    new_partnership: bool, refused: bool = False,
                    actors: Callable[[], Mapping[str, Person | None]] | None = None
                    ) -> list[str]:
    """Why `by` may not make this import (nothing when they may). `by` is None when nobody
    was named; `importer` is their stored directory entry, if any; `added` what the import
    would add; `refused` when the file is refused for what it says already (then a first
    pack's want of a quality lead waits until the rest of it is right); `actors` the people
    the file records as acting (returns' auditors, concerns' raisers) and their entries, read
    only when asked (most imports never need them: replaying each was a few percent of one)."""
    acts = [ACTS_OF[what] for what, n in added.items() if n and what in ACTS_OF]
    if importer is not None and by is not None:
        return _person_problems(app, partnership, by, importer, acts)
    directory = {} if new_partnership else directory_roles(app, partnership)
    where = _directory_of(partnership)
    if directory and by is None and not acts:
        # Only returns, feedback and concerns: each is recorded as the auditor or raiser the
        # file names (their roles are checked with the file), so the file is their own act,
        # as `import-returns PROGRAMME RETURNS.csv` has always been; a bound person's acts
        # still come only from their own account.
        return [f"{name}: {bound}" for name, person in sorted((actors() if actors else {}).items())
                if person is not None
                and (bound := account_problem(name, person.os_user, app.console_user))]
    if directory:
        helpers = _ask(directory)
        if by is None:
            return [f"--by: {where} already has people in it, so say who is importing with "
                    f"--by PERSON: its {who_may(IMPORT)} can import{helpers}"]
        return [f"--by {by}: nobody of that id is in {where}; its {who_may(IMPORT)} can "
                f"import{helpers}"]
    people = list(pack_people)
    leads = sorted(p.id for p in people if QUALITY_LEAD in p.roles)
    if people and not leads and not refused:  # else nobody could import again nor add one
        return [f"people: {where} is empty, so this first pack must name its quality lead (a "
                "person with the role quality-lead), who imports the files after it"]
    if by is not None and by not in leads:
        return [f"--by {by}: {where} is empty, so its first pack is imported without --by, or "
                f"by a quality lead the pack names ({', '.join(leads)})"]
    return []


def opening_directory(partnership: str, importer: Person | None,
                      added: Mapping[str, int], act: Act,
                      scheme: IdScheme) -> list[Aggregate.Event]:
    """The record that this import opens the partnership's directory, when it does: an
    import that passed `import_problems` adding people with no importer in the directory is
    its first pack. Saved with the pack, under one id a partnership, so that of two first
    packs saved at once only one lands; the other is checked again (and refused, the
    directory no longer empty)."""
    if importer is not None or not added.get("people"):
        return []
    return [DirectoryOpened.creation(DirectoryOpened.Created, scheme.directory_id(partnership),
                                     partnership=partnership, **act.fields())]


def _person_problems(app: AuditLedger, partnership: str, by: str, importer: Person,
                     acts: list[str]) -> list[str]:
    bound = account_problem(by, importer.os_user, app.console_user)
    if bound:
        return [f"--by {by}: {bound}"]
    if permission_problem(IMPORT, importer.roles):
        leads = _leads(directory_roles(app, partnership))
        return [f"--by {by}: {refusal_words(IMPORT, importer.roles)}"
                + (f" Ask a quality lead: {leads}." if leads else "")]
    beyond = acts_not_permitted(acts, importer.roles)
    if not beyond:
        return []
    parts = [f"{ACT_WORDS.get(act, act)} ({who_may(act)} only)" for act in beyond]
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    held = ", ".join(r.replace("-", " ") for r in importer.roles) or "none"
    return [f"--by {by}: this file would {listed}, which your roles ({held}) do not "
            f"allow{_ask(directory_roles(app, partnership))}"]


def _directory_of(partnership: str) -> str:
    return ("the directory" if partnership == DEFAULT_PARTNERSHIP
            else f"partnership {partnership}'s directory")


def _leads(directory: Mapping[str, list[str]]) -> str:
    """The directory's quality leads, who can help (the first five)."""
    leads = sorted(p for p, roles in directory.items() if QUALITY_LEAD in roles)
    return f"{', '.join(leads[:5])}{' ...' if len(leads) > 5 else ''}"


def _ask(directory: Mapping[str, list[str]]) -> str:
    leads = _leads(directory)
    return f" (ask {leads})" if leads else ""


def directory_roles(app: AuditLedger, partnership: str) -> dict[str, list[str]]:
    """Each person of a partnership's directory and their roles, read from the log itself
    (only the directory's own events): what decides whether a directory is empty must not
    depend on views that may lag or be rebuilt."""
    found: dict[UUID, tuple[str, list[str]]] = {}
    start = 0
    mapper = app.mapper
    while True:
        notifications = app.recorder.select_notifications(
            start=start, limit=BATCH, topics=DIRECTORY_TOPICS, inclusive_of_start=False)
        events = (mapper.to_domain_events(notifications) if isinstance(mapper, SealingMapper)
                  else [mapper.to_domain_event(n) for n in notifications])
        for event in events:
            if isinstance(event, Person.Created):
                if event.partnership == partnership:
                    found[event.originator_id] = (event.person, list(event.roles))
            elif event.originator_id in found:
                roles = found[event.originator_id][1]
                if isinstance(event, Person.RoleGranted) and event.role not in roles:
                    roles.append(event.role)
                elif isinstance(event, Person.RoleRevoked) and event.role in roles:
                    roles.remove(event.role)
        if len(notifications) < BATCH:
            return dict(found.values())
        start = notifications[-1].id
