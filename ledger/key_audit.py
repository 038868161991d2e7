"""`verify`'s check of the case key table against the log, read in one snapshot.

The hash chain covers the events, not the keys beside them; but every key row answers to the
log: a case's key is made with its first text, and destroyed only by an erasure the log
records (`CaseTextErased`, or its partnership's key destroyed). So each row is checked:

- a row for a case the log does not hold (an orphan: added by hand, or left by an import
  killed before release 0.3 wrote keys in the events' transaction);
- a key destroyed, or a row deleted, with no erasure recorded;
- a key still there after its erasure was recorded (an erasure interrupted: `erase` again
  finishes it; or a key put back by hand);
- a key that does not open as its own case's (`ledger.key_wrapping`): rows swapped or copied
  between cases are named together (`ledger.key_binding`);
- key epochs against the rotations the log records (`ledger.epoch_audit`).

What the log says is read beside the key tables by `ledger.key_log`.

Which rows can be opened, and whether the events can be read, depends on the key: a store
written without AUDIT_LEDGER_KEY is checked whole without one; an encrypted store without its
key is checked from the events' topics and ids only, and `unchecked` says what that leaves.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Cipher, Transcoder

from . import ids
from .epoch_audit import check_epochs
from .ids import IdScheme
from .key_binding import check_binding, opened_partnership_keys
from .key_log import (
    CASE_TABLE,
    Case,
    EventOpener,
    KeyCheck,
    KeyLog,
    SnapshotReader,
    case_name,
    count_cases,
    read_log,
    rotations_by_id,
    snapshot,
)
from .partnership_keys import TABLE as PARTNERSHIP_TABLE
from .store_key import holds_plain_json

__all__ = ["KeyCheck", "check_case_keys"]


def _partnerships_against_log(partnerships: dict[str, tuple[bytes | None, str]], log: KeyLog,
                              out: KeyCheck) -> set[str]:
    """Each partnership's key row against the log's partnership erasures; the partnerships
    whose key is destroyed (their cases' keys went with it)."""
    destroyed = set()
    held = set(log.partnership_of.values())
    for partnership, (wrapped, erased_at) in sorted(partnerships.items()):
        recorded = log.scheme.partnership_id(partnership) in log.erased_partnerships
        if log.readable and partnership not in held and not recorded:
            out.problems.append(
                f"the key table has a key for partnership {partnership}, which no programme "
                "in the log belongs to: it was added outside the ledger (or left by an import "
                "stopped part-way by release 0.2 or earlier)")
            continue
        if wrapped is None:
            destroyed.add(partnership)
            if not recorded:
                when = f" (the row says on {erased_at[:10]})" if erased_at else ""
                out.problems.append(
                    f"partnership {partnership}'s key was destroyed{when} but the log records "
                    "no erasure of its text: the key was removed outside the ledger, and its "
                    "cases' text can no longer be read")
        elif recorded:
            out.problems.append(
                f"partnership {partnership}: its erasure is recorded but its key is still in "
                "the key table, so its cases' text can still be read: the erasure was "
                "interrupted (run audit-ledger partnership erase again to finish it) or the key "
                "was put back outside the ledger")
    return destroyed


def _against_log(rows: dict[Case, tuple[bytes | None, str]], log: KeyLog,
                 partnerships: dict[str, tuple[bytes | None, str]], out: KeyCheck) -> None:
    """Each row against the log's cases and erasures, and each case of the log with sealed
    text or an erasure against its row."""
    erased_partnerships = _partnerships_against_log(partnerships, log, out)
    gone_with_partnership = 0
    for case, (wrapped, erased_at) in sorted(rows.items()):
        case_id = log.scheme.case_id(*case)
        if case_id not in log.cases:
            out.problems.append(
                f"the key table has a row for {case_name(case)}, which the log does not hold: it "
                "was added outside the ledger (or left by an import stopped part-way by "
                "release 0.2 or earlier)")
            continue
        erasure = log.erased.get(case_id)
        if wrapped is not None and erasure is not None:
            out.problems.append(
                f"{case_name(case)}: its erasure is recorded{erasure} but its key is still in the "
                "key table, so its text can still be read: the erasure was interrupted (run "
                "audit-ledger erase again to finish it) or the key was put back outside the "
                "ledger")
        elif wrapped is None and erasure is None:
            partnership = log.partnership_of.get(case[0], ids.DEFAULT_PARTNERSHIP)
            if log.readable and partnership in erased_partnerships:
                continue  # erased with its partnership (`partnership erase`)
            if not log.readable and erased_partnerships:
                gone_with_partnership += 1
                continue
            when = f" (the row says on {erased_at[:10]})" if erased_at else ""
            out.problems.append(
                f"{case_name(case)}: its key was destroyed{when} but the log records no erasure "
                "of its text: an erase stopped before recording it (run audit-ledger erase "
                "again, with --by and --reason, to record it) or the key was removed outside "
                "the ledger; the case's text can no longer be read")
    if gone_with_partnership:
        out.unchecked.append(
            f"{count_cases(gone_with_partnership)} had their key destroyed with no erasure "
            "recorded; partnership keys were destroyed too (partnership erase), and which "
            "programmes belong to which partnership can only be read with AUDIT_LEDGER_KEY: "
            "set it to tell whether those keys went with their partnership")
    for case_id, named in log.cases.items():
        if named is None or named in rows:
            continue
        erasure = log.erased.get(case_id)
        if erasure is not None:
            out.problems.append(
                f"{case_name(named)}: its erasure is recorded{erasure} but its row in the key table "
                "(which stops new text being recorded for it) was deleted outside the ledger")
        elif named in log.sealed:
            out.problems.append(
                f"{case_name(named)}: its key row was deleted but the log records no erasure of its "
                "text: it was removed outside the ledger, and the case's text can no longer be "
                "read")
    if not log.readable:
        missing = [i for i in log.erased if i not in {log.scheme.case_id(*c) for c in rows}]
        if missing:
            out.problems.append(
                f"{count_cases(len(missing))} erased by a recorded erasure no longer in the key "
                "table (whose row stops new text being recorded for a case): rows were deleted "
                "outside the ledger (set AUDIT_LEDGER_KEY to have them named)")


KEYED_IDS = ("this store names its records with its key, so without that key its key rows "
             "could not be matched to the log's cases one by one; they were counted against "
             "the cases and erasures the log's topics show instead, which finds a row added "
             "or deleted and a key destroyed or put back without its erasure, but not which "
             "case's, nor rows swapped between cases (set AUDIT_LEDGER_KEY and run verify "
             "again)")


def _counted_against_log(rows: dict[Case, tuple[bytes | None, str]], log: KeyLog,
                         out: KeyCheck) -> None:
    """Without the key, in a store whose ids are keyed: the rows counted against the log.

    A store whose ids are keyed makes each case's key as it opens the case (`ledger.sealing`)
    and keeps the row for good, so it has one row per case the log opened; each recorded
    erasure leaves its case's row with its key destroyed, which only an erasure does (or
    `partnership erase`, for all its cases)."""
    cases, erased = len(log.cases), len(log.erased)
    destroyed = sum(1 for wrapped, _at in rows.values() if wrapped is None)
    named = "(set AUDIT_LEDGER_KEY to have them named)"
    if len(rows) > cases:
        out.problems.append(
            f"the key table has {_rows(len(rows))} but the log opened only "
            f"{count_cases(cases)}: at least {len(rows) - cases} of them belong to no case of "
            f"the log, added outside the ledger {named}")
    elif len(rows) < cases:
        out.problems.append(
            f"the log opened {count_cases(cases)} but the key table has only "
            f"{_rows(len(rows))}: {cases - len(rows)} "
            f"{'was' if cases - len(rows) == 1 else 'were'} deleted outside the ledger, and "
            f"the text of the cases they keyed can no longer be read {named}")
    if destroyed < erased:
        out.problems.append(
            f"the log records {_erasures(erased)} but the key table has only {destroyed} "
            "destroyed: an erasure was interrupted (run audit-ledger erase again to finish it), "
            f"or a key was put back or an erased case's row deleted outside the ledger {named}")
    elif destroyed > erased and not log.erased_partnerships:
        out.problems.append(
            f"the key table has {destroyed} case key{'' if destroyed == 1 else 's'} destroyed "
            "but the log records only "
            f"{_erasures(erased)}: a key was removed outside the ledger (or by an erase stopped "
            "before recording it: run audit-ledger erase again), and its case's text can no "
            f"longer be read {named}")


def _rows(count: int) -> str:
    return f"{count} case key row{'' if count == 1 else 's'}"


def _erasures(count: int) -> str:
    return f"{count} erasure{'' if count == 1 else 's'} of case text"


NOT_READ = ("without AUDIT_LEDGER_KEY this store's events cannot be read, so its key rows "
            "were checked only against the cases and erasures the log's topics show: a key row "
            "deleted outright or moved to another case is found only with the key (set "
            "AUDIT_LEDGER_KEY and run verify again)")
OTHER_KEY = ("AUDIT_LEDGER_KEY does not open this store's events, so its key rows were checked "
             "only against the cases and erasures the log's topics show")


def check_case_keys(recorder: Any, transcoder: Transcoder, cipher: Cipher | None,
                    wrapping_key: bytes | None, scheme: IdScheme) -> KeyCheck:
    """The case key table checked against the log, in one snapshot of the store (`cipher`:
    the store's key, when the process holds one; `wrapping_key`: the key epoch's, after a
    rotation; `scheme`: the store's ids, keyed with that key when it has one)."""
    out = KeyCheck()
    with snapshot(recorder) as (c, postgres):
        reader = SnapshotReader(c, postgres, recorder)
        first = reader.first_state()
        plain = first is None or holds_plain_json(first)
        opener: EventOpener | None = EventOpener(transcoder, None if plain else cipher)
        if not plain and cipher is None:
            opener = None
            out.unchecked.append(NOT_READ)
        elif not plain and cipher is not None and first is not None:
            try:
                cipher.decrypt(first)
            except ValueError:
                opener = None
                out.unchecked.append(OTHER_KEY)
        rows = reader.key_rows(CASE_TABLE)
        partnerships = reader.key_rows(PARTNERSHIP_TABLE)
        log = read_log(reader, opener, scheme)
        epochs = reader.epochs()
    blind = scheme.keyed and (opener is None or not scheme.can_name)
    if blind:
        # Without the key no id in the log can be matched to a row's case: no row is checked
        # against its case; the key epochs still are, against the log's rotation events.
        out.unchecked = [u for u in out.unchecked if u != NOT_READ] + [KEYED_IDS]
        _counted_against_log(rows, log, out)
    else:
        out.rows = len(rows)
        _against_log(rows, log, partnerships, out)
    rotations_by_id(log, epochs)
    problems, unchecked = check_epochs(epochs, log.rotations, partnerships, rows)
    out.problems += problems
    out.unchecked += unchecked
    if blind:
        return out
    if opener is not None:
        opened = opened_partnership_keys(partnerships, opener.cipher, wrapping_key)
        check_binding(rows, log, opened, out)
    if out.unbound:
        out.unchecked.append(
            f"{out.unbound} case key row{'' if out.unbound == 1 else 's'} "
            f"{'was' if out.unbound == 1 else 'were'} written before keys were bound to their "
            "case (release 0.2 or earlier): a swap among them shows only as unreadable text")
    return out
