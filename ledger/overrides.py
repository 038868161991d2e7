"""A quality lead's override: text holding what looks like an identifier let through, with why.

Recorded as its own fact beside the act it allowed (saved in the same transaction), so the
record says who allowed what kind of identifier in which field, for whose act, and why. The
reason is kept in the clear and is itself checked: it may not hold an identifier.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from .base import Act, LedgerAggregate


class IdentifierOverride(LedgerAggregate):
    TOPIC = "audit-ledger:IdentifierOverride"

    class Created(LedgerAggregate.Created):
        TOPIC = "audit-ledger:IdentifiersAllowed"
        programme: str
        case: str
        field: str
        kinds: list[str]
        act_of: str
        reason: str

    def __init__(self, *, programme: str, case: str, field: str, kinds: list[str], act_of: str,
                 reason: str, by: str, occurred_on: str, key: str) -> None:
        self.keys: set[str] = set()
        self.programme = programme
        self.case = case
        self.field = field
        self.kinds = list(kinds)
        self.act_of = act_of
        self.reason = reason
        self.allowed_by = by


def identifiers_allowed(programme: str, case: str, field: str, kinds: list[str], act_of: str,
                        reason: str, act: Act, id: UUID | None = None) -> IdentifierOverride:
    """The override's record. A command's is new each time (the act it allows carries the
    act's idempotency key, and a retried act stops before it reaches here); a file's has the
    id of its text (`IdScheme.override_id`)."""
    return IdentifierOverride._create(
        IdentifierOverride.Created, id=id or uuid4(), programme=programme, case=case,
        field=field, kinds=list(kinds), act_of=act_of, reason=reason, **act.fields())
