"""The action tracker brought back: each changed row recorded as an update by the action's owner,
every row checked first and all of it saved in one transaction, or nothing."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate

from policies.identifiers import identifier_problems, identifiers_in, may_allow_identifiers
from policies.permissions import permission_problem

from ..action_tracker import STATUSES, TrackerRow, status_of
from ..actions import Action
from ..base import Act, NotPermitted, Rejected
from ..free_text import text_problems
from ..overrides import identifiers_allowed
from ..people import Person
from .shared import LedgerCommands, Outcome

ALLOW_IN_TRACKER = ("what identifies a child or family is kept out of progress notes; if such "
                    "a note must stay, a quality lead may allow it, giving a reason: import the "
                    "tracker again with --by QUALITY-LEAD --allow-identifiers REASON")


class ActionTrackerCommands(LedgerCommands):
    """`action import`: the owners' edits of a tracker written by `action list --format xlsx`."""

    def import_tracker(self, programme: str, rows: list[TrackerRow], by: str, on: date,
                       allow_identifiers: str = "") -> Outcome:
        """`allow_identifiers`: a quality lead's (`by`) reason for letting a note that holds
        what looks like an identifier through (recorded beside it)."""
        return self.retrying(lambda: self._import_tracker(programme, rows, by, on,
                                                          allow_identifiers))

    def _import_tracker(self, programme: str, rows: list[TrackerRow], by: str,  # noqa: C901
                        on: date, allow_identifiers: str) -> Outcome:
        importer = self.acting(by, self.partnership_of(programme))
        overseer = "quality-lead" in importer.roles
        if allow_identifiers and not may_allow_identifiers(importer.roles):
            raise NotPermitted(f"--by {by}: only a quality lead may allow text that holds what "
                               "identifies a child or family")
        said = identifier_problems(allow_identifiers) if allow_identifiers else []
        if said:
            raise Rejected(*[f"--allow-identifiers: the reason {p}" for p in said])
        problems: list[str] = []
        changed: list[Action] = []
        allowed: list[Aggregate] = []
        held = False
        people: dict[str, Person | None] = {}
        seen: dict[str, int] = {}
        for row in rows:
            if row.action in seen:
                problems.append(f"{row.at}: action {row.action} is already on row "
                                f"{seen[row.action]}")
                continue
            seen[row.action] = row.row
            action = self.find(Action, self.ids.action_id(programme, row.action))
            if action is None:
                problems.append(f"{row.at}: there is no action {row.action} in {programme}")
                continue
            now = (status_of(action.rag, action.completed), action.tracker_note)
            if (row.status, row.note) == now:
                continue  # as in the ledger: nothing to record (so a file imported twice adds nothing)
            if row.owner != action.owner:
                problems.append(f"{row.at}: the owner is {action.owner}, not {row.owner}; an "
                                "action changes hands by replanning (audit-ledger action replan)")
                continue
            if by != action.owner and not overseer:
                problems.append(f"{row.at}: changed, but action {row.action} is owned by "
                                f"{action.owner}; only they or a quality lead may update it")
                continue
            if (row.written_status, row.written_note) != now:
                problems.append(f"{row.at}: updated in the ledger since this tracker was "
                                f"written (now {now[0] or 'no status'}); write a fresh tracker "
                                "(audit-ledger action list PROGRAMME --format xlsx) and make the "
                                "change there")
                continue
            if row.status not in STATUSES:
                problems.append(f"{row.at}: status {row.status!r} is not allowed; choose one "
                                f"of {', '.join(STATUSES)}")
                continue
            if not row.note:
                problems.append(f"{row.at}: write a progress note saying what was done"
                                + (" (for complete: what shows it is done)"
                                   if row.status == "complete" else ""))
                continue
            if action.completed:
                problems.append(f"{row.at}: action {row.action} is complete; a quality lead "
                                "reopens it by replanning (audit-ledger action replan)")
                continue
            if action.owner not in people:
                people[action.owner] = self.find(Person, self.ids.person_id(
                    action.owner, self.partnership_of(programme)))
            owner = people[action.owner]
            act_name = "complete action" if row.status == "complete" else "record action progress"
            problem = (f"{action.owner} is not in the directory" if owner is None
                       else permission_problem(act_name, owner.roles))
            if problem:
                problems.append(f"{row.at}: {action.owner}: {problem}")
                continue
            act = Act(action.owner, on.isoformat())
            found = identifiers_in(row.note)
            if found and not allow_identifiers:
                problems += text_problems(f"{row.at}: progress note", row.note)
                held = True
                continue
            if found:
                allowed.append(identifiers_allowed(
                    programme, "", f"action {row.action} progress note",
                    sorted({f.kind for f in found}), action.owner, allow_identifiers,
                    Act(by, on.isoformat())))
            if row.status == "complete":
                action.record(Action.Completed, act, evidence=row.note)
            else:
                action.record(Action.ProgressRecorded, act, rag=row.status, note=row.note)
            changed.append(action)
        if problems:
            raise Rejected(*problems, *([ALLOW_IN_TRACKER] if held else []))
        if not changed:
            return Outcome(False, f"nothing to record: every row is as the ledger has it for "
                                  f"{programme}")
        self.save(*changed, *allowed)
        listed = ", ".join(a.action for a in changed)
        return Outcome(True, f"recorded {len(changed)} update{'s' if len(changed) != 1 else ''} "
                             f"from the tracker, each by its owner: {listed}")
