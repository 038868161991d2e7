"""What `verify` checks beside the log: erasures left half done, and (`--views`) the stored
views against the log folded afresh. Both need the store's key when it has one (the key
table and the views are read, not only hashed); without it they say what was not checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click


@dataclass
class BesideLog:
    data: dict[str, Any] = field(default_factory=dict)  # for --format json
    lines: list[str] = field(default_factory=list)  # for people
    problem: str | None = None  # exit 1 when set


def check_beside_log(ctx: click.Context, views: bool) -> BesideLog:
    from ledger.base import LedgerError
    from ledger.erasures import pending_erasures

    from .wiring import wire_reading

    out = BesideLog()
    obj = ctx.find_root().ensure_object(dict)
    try:
        reading = wire_reading(obj.get("url"), obj.get("key"))
    except (LedgerError, ValueError) as e:
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        out.lines.append(f"erasures not checked: the store could not be read ({why})")
        out.data["erasures_pending"] = None  # not checked (said in words above)
        if views:
            out.problem = f"the views could not be checked: {why}"
            out.data["views"] = {"intact": False, "difference": out.problem}
        return out
    try:
        try:
            pending = pending_erasures(reading.app)
        except (LedgerError, ValueError) as e:
            out.lines.append(f"erasures not checked: {e}")
            out.data["erasures_pending"] = None
        else:
            out.data["erasures_pending"] = [p.as_dict() for p in pending]
            out.lines += [p.words() for p in pending]
        if views:
            from projections.view_check import verify_views

            verdict = verify_views(reading.app, reading.store, reading.settings.key)
            out.data["views"] = {"intact": verdict.intact, "position": verdict.position,
                                 "documents": verdict.documents,
                                 "seconds": round(verdict.seconds, 2),
                                 "difference": verdict.difference}
            if verdict.difference:
                out.problem = (f"the stored views differ from the log folded afresh (to "
                               f"position {verdict.position}): {verdict.difference}")
            else:
                out.lines.append(f"the views match the log folded afresh: {verdict.documents} "
                                 f"documents to position {verdict.position}, compared in "
                                 f"{verdict.seconds:.1f} s")
    finally:
        reading.close()
    return out
