"""Each case key row opened as its own case's key (`ledger.key_wrapping`): rows swapped or
copied between cases by hand are named together, for `verify` (`ledger.key_audit`)."""

from __future__ import annotations

from eventsourcing.persistence import Cipher

from . import ids
from .key_epochs import epoch_of, unwrap_partnership_key
from .key_log import Case, KeyCheck, KeyLog, case_name, count_cases
from .key_wrapping import KeyDoesNotOpen, bound_to, is_bound, unwrap_case_key


def opened_partnership_keys(partnerships: dict[str, tuple[bytes | None, str]],
                            cipher: Cipher | None, wrapping_key: bytes | None
                            ) -> tuple[dict[str, bytes | None], set[str]]:
    """Each partnership's raw key (None once destroyed), one that does not open left out;
    and the partnerships whose key needs the key epoch's wrapping key, not given."""
    out: dict[str, bytes | None] = {}
    rotated = set()
    for partnership, (wrapped, _at) in partnerships.items():
        if wrapped is None:
            out[partnership] = None
            continue
        try:
            if epoch_of(wrapped) == 0:
                out[partnership] = cipher.decrypt(wrapped) if cipher is not None else wrapped
            elif wrapping_key is not None:
                out[partnership] = unwrap_partnership_key(wrapping_key, wrapped, partnership)
            else:
                rotated.add(partnership)
        except ValueError:
            continue
    return out, rotated


def check_binding(rows: dict[Case, tuple[bytes | None, str]], log: KeyLog,
                  opened: tuple[dict[str, bytes | None], set[str]], out: KeyCheck) -> None:
    """Each bound row opened as its own case's key; those that do not, named together when
    one holds another's key (rows swapped or copied by hand)."""
    keys, rotated = opened
    failing: dict[Case, tuple[bytes, bytes]] = {}  # case -> (wrapped, wrapping key)
    missing: dict[str, list[Case]] = {}
    unopened = 0
    for case, (wrapped, _at) in sorted(rows.items()):
        if wrapped is None:
            continue
        if not is_bound(wrapped):
            out.unbound += 1
            continue
        partnership = log.partnership_of.get(case[0], ids.DEFAULT_PARTNERSHIP)
        if partnership in rotated:
            unopened += 1
            continue
        if partnership not in keys:
            missing.setdefault(partnership, []).append(case)
            continue
        wrapping = keys[partnership]
        if wrapping is None:
            continue  # erased with its partnership
        try:
            unwrap_case_key(wrapping, wrapped, bound_to(partnership, *case))
        except KeyDoesNotOpen:
            failing[case] = (wrapped, wrapping)
    for partnership, cases in missing.items():
        out.problems.append(
            f"partnership {partnership}'s key is missing or does not open, so the keys of "
            f"{len(cases)} of its cases ({', '.join(case_name(c) for c in cases[:3])}"
            f"{', ...' if len(cases) > 3 else ''}) cannot be opened: its row was deleted or "
            "changed outside the ledger")
    if unopened:
        out.unchecked.append(
            f"{count_cases(unopened)} not checked against their key rows: their partnership's key "
            "is wrapped with a key epoch's wrapping key (rotate-key): set "
            "AUDIT_LEDGER_WRAPPING_KEY to check them")
    holds: dict[Case, Case] = {}
    for case, (wrapped, wrapping) in failing.items():
        for other in failing:
            partnership = log.partnership_of.get(other[0], ids.DEFAULT_PARTNERSHIP)
            try:
                unwrap_case_key(wrapping, wrapped, bound_to(partnership, *other))
            except KeyDoesNotOpen:
                continue
            holds[case] = other
            break
    said: set[Case] = set()
    for case in failing:
        if case in said:
            continue
        held = holds.get(case)
        if held is not None and holds.get(held) == case:
            said |= {case, held}
            out.problems.append(
                f"the key rows of {case_name(case)} and {case_name(held)} were swapped: each holds the "
                "other's key, so neither case's text can be read (swap them back, or restore "
                "the key table from a backup)")
        elif held is not None:
            said.add(case)
            out.problems.append(
                f"the key row of {case_name(case)} holds the key of {case_name(held)}: it was copied "
                "there outside the ledger, and the case's own text can no longer be read")
        else:
            said.add(case)
            out.problems.append(
                f"the key row of {case_name(case)} does not open as that case's key: it was changed "
                "outside the ledger (or copied from another store), and the case's text can no "
                "longer be read")
