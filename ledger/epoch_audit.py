"""`verify`'s check of the key epochs against the rotations the log records.

A rotation (`ledger.rotation`) leaves three marks: a row in `key_epochs`, a
`StoreKeysRotated` event in the log, and every live partnership key row wrapped in the new
epoch (each live case key wrapped again, in the bound format, with it). The events are under
the chain; the key tables are not. So whoever has the database can add an epoch row, delete
one, or put back key rows copied before a rotation (undoing it, so that an erased key in an
old copy opens again with the previous epoch's key), and only the log says what really
happened. Each of these is named:

- an epoch in `key_epochs` no recorded rotation started (a rotation stopped before its
  event: the next `rotate-key` records it; or a row added by hand);
- a recorded rotation with no row in `key_epochs`, or whose row names someone else;
- a partnership key row of an epoch no recorded rotation started, or of no epoch at all;
- partnership key rows of an epoch older than the newest rotation (every one of them: the
  rotation's rows are missing), and case key rows in a format every rotation rewrites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .key_epochs import epoch_of
from .key_wrapping import is_bound

Rows = dict[str, tuple[bytes | None, str]]  # partnership -> (wrapped key or None, erased_at)
CaseRows = dict[tuple[str, str], tuple[bytes | None, str]]


@dataclass(frozen=True)
class EpochRow:
    """One row of `key_epochs`, as stored."""

    number: int
    started_at: str
    started_by: str


@dataclass
class Rotations:
    """The rotations the log records: epoch -> who started it (empty when the events could
    not be read), and how many rotation events could not be told apart by their id."""

    recorded: dict[int, str] = field(default_factory=dict)
    unknown: int = 0


def _started(by: str, at: str) -> str:
    day = at[:10]
    return f" (started{f' on {day}' if day else ''}{f' by {by}' if by else ''})"


def _list(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def check_epochs(table: list[EpochRow], log: Rotations, partnerships: Rows,
                 cases: CaseRows) -> tuple[list[str], list[str]]:
    """Problems (each naming its epoch or row) and what could not be checked."""
    problems: list[str] = []
    unchecked: list[str] = []
    rows = {e.number: e for e in table}
    for number, row in sorted(rows.items()):
        if number not in log.recorded and not log.unknown:
            problems.append(
                f"key epoch {number}{_started(row.started_by, row.started_at)} is in the "
                "key_epochs table but the log records no rotation to it: the rotation "
                "stopped after committing its keys and before recording it (the next "
                "audit-ledger rotate-key records it), or the row was added outside the ledger")
        elif log.recorded.get(number) and row.started_by != log.recorded[number]:
            problems.append(
                f"key epoch {number}'s row in key_epochs says it was started by "
                f"{row.started_by}, but the log records the rotation by "
                f"{log.recorded[number]}: the row was changed outside the ledger")
    for number in sorted(set(log.recorded) - set(rows)):
        problems.append(
            f"the rotation to key epoch {number} is recorded in the log (by "
            f"{log.recorded[number] or 'someone the log names'}) but the key_epochs table has "
            "no row for it: the row was deleted outside the ledger, or the key tables were "
            "restored from a copy taken before the rotation")
    if log.unknown:
        unchecked.append(
            f"{log.unknown} rotation event{'' if log.unknown == 1 else 's'} could not be "
            "matched to an epoch without AUDIT_LEDGER_KEY: set it to check the key_epochs "
            "table against them")
    explained = set(log.recorded) | (set(rows) if log.unknown else set())
    newest = max(explained, default=0)  # the newest rotation the log vouches for
    stale: dict[str, int] = {}
    for partnership, (wrapped, _at) in sorted(partnerships.items()):
        if wrapped is None:
            continue
        epoch = epoch_of(wrapped)
        if epoch < 0:
            problems.append(
                f"partnership {partnership}'s key row names no key epoch the ledger writes: it "
                "was changed outside the ledger")
        elif epoch > 0 and epoch not in explained | set(rows):
            problems.append(
                f"partnership {partnership}'s key row is wrapped in key epoch {epoch}, which no "
                "recorded rotation started: it was put there outside the ledger (copied from "
                "another store?)")
        elif epoch < newest:
            stale[partnership] = epoch
    live = [p for p, (w, _at) in partnerships.items() if w is not None]
    if stale and len(stale) == len(live):
        problems.append(
            f"the rotation to key epoch {newest} is recorded, but no partnership key row is of "
            f"that epoch ({_list([f'{p}: epoch {e}' for p, e in stale.items()])}): the key "
            "tables were restored from a copy taken before the rotation, or rewritten outside "
            "the ledger, so keys erased before it may open again with an older epoch's key")
    else:
        for partnership, epoch in stale.items():
            problems.append(
                f"partnership {partnership}'s key row is of key epoch {epoch}, but the store "
                f"was rotated to epoch {newest}, which wrapped every live key again: the row "
                "was put back outside the ledger from a copy taken before the rotation (or "
                "made by a process not yet given the new key, which rotate-key wraps again "
                "seconds after it commits)")
    if newest:
        older = [f"case {c[1]} in {c[0]}" for c, (w, _at) in sorted(cases.items())
                 if w is not None and not is_bound(w)]
        if older:
            problems.append(
                f"{len(older)} case key row{'' if len(older) == 1 else 's'} ({_list(older)}) "
                f"{'is' if len(older) == 1 else 'are'} in the format written before key "
                f"epochs, though the store was rotated to epoch {newest}, which wrote every "
                "live key again: put back outside the ledger from a copy taken before it")
    return problems, unchecked
