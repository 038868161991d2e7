"""Erasures complete or visibly pending.

`erase` destroys a case's key, then records the erasure (`CaseTextErased`): from the first
step the case's text is unreadable everywhere (the views keep it sealed with that key). A
process stopped between the two (killed, the database gone) leaves the erasure pending,
never silent: the key destroyed but nothing in the log says who erased it or why. An older
release recorded first and destroyed second, so a store it wrote can hold the other half:
an erasure recorded whose key still opens the text. Both are found here, from the key table
and the log's erasure events (found by their topic, none decoded but those few), and
`projections status` and `verify` name each case; running `erase` again finishes it.

A partnership's erasure (`partnership erase`) destroys its cases' keys without an erasure
per case: those are not pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from .case_audit import CaseAudit
from .case_key import Case
from .sealing import SealingMapper

PAGE = 5_000


@dataclass(frozen=True)
class PendingErasure:
    programme: str
    case: str
    recorded: bool  # True: recorded, key not destroyed; False: key destroyed, not recorded
    when: str = ""  # when the key was destroyed (not recorded), or the erasure's position

    def words(self) -> str:
        """The pending erasure in words, with what finishes it."""
        again = f"run audit-ledger erase {self.programme} {self.case} again to finish it"
        if self.recorded:
            return (f"erasure of case {self.case} in {self.programme} is pending: it is "
                    f"recorded (position {self.when}) but the case's key is not destroyed, so "
                    f"its text can still be read; {again}")
        since = f" on {self.when[:10]}" if self.when else ""
        return (f"erasure of case {self.case} in {self.programme} is pending: its key was "
                f"destroyed{since} (its text reads [erased]) but the erasure is not recorded "
                f"in the log (who, why); {again} with --by and --reason")

    def as_dict(self) -> dict[str, Any]:
        return {"programme": self.programme, "case": self.case,
                "state": "recorded, key not destroyed" if self.recorded
                else "key destroyed, not recorded", "when": self.when, "words": self.words()}


def _recorded(app: Any) -> dict[UUID, int]:
    """Each erased case's aggregate id, with the position of its erasure (topics only)."""
    found: dict[UUID, int] = {}
    start = 0
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, inclusive_of_start=False,
                                                 topics=[CaseAudit.TextErased.TOPIC])
        for n in page:
            found.setdefault(n.originator_id, n.id)
        if len(page) < PAGE:
            return found
        start = page[-1].id


def pending_erasures(app: Any) -> list[PendingErasure]:
    """Every erasure not finished, by programme and case (none for a store without keys)."""
    mapper = app.mapper
    if not isinstance(mapper, SealingMapper) or mapper.keys is None:
        return []
    keys = mapper.keys
    recorded = _recorded(app)
    destroyed = keys.destroyed()
    out: list[PendingErasure] = []
    # Recorded, key still there: look up the key of each (a handful), as the ledger would.
    named: dict[Case, int] = {}
    by_id = {app.ids.case_id(*case): case for case in destroyed}
    for originator, position in recorded.items():
        if originator in by_id:
            continue
        case = mapper.case_of(originator)
        if case is not None:
            named[case] = position
    if named:
        for case, key in keys.keys(list(named)).items():
            if key is None or not key.erased:
                out.append(PendingErasure(case[0], case[1], True, str(named[case])))
    # Key destroyed, not recorded: unless the whole partnership's text was erased.
    erased_partnerships: dict[str, bool] = {}
    for case, erased_at in destroyed.items():
        if app.ids.case_id(*case) in recorded:
            continue
        partnership = mapper.partnership_of(case[0])
        if partnership not in erased_partnerships:
            erased_partnerships[partnership] = keys.partnerships is not None and \
                bool(keys.partnerships.key(partnership)[1])
        if not erased_partnerships[partnership]:
            out.append(PendingErasure(case[0], case[1], False, erased_at))
    return sorted(out, key=lambda p: (p.programme, p.case))
