"""How a quality lead's overrides fold into the `identifiers_allowed` view: one document per
text let through, so that quality review can read who allowed what, and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.overrides import IdentifierOverride

if TYPE_CHECKING:
    from .views import Folding


def _allowed(f: Folding, e: IdentifierOverride.Created, position: int) -> None:
    f.put("identifiers_allowed", f"{e.programme}/{position:012d}", {
        "programme": e.programme, "case": e.case, "field": e.field, "kinds": list(e.kinds),
        "text_of": e.act_of, "allowed_by": e.by, "reason": e.reason, "on": e.occurred_on,
        "recorded_at": e.timestamp.isoformat()})


OVERRIDE_HANDLERS: dict[type, Callable[[Folding, Any, int], None]] = {
    IdentifierOverride.Created: _allowed,
}
