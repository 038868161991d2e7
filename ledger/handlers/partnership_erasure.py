"""A partnership's erasure: every sealed text of its cases made unreadable for ever by
destroying its data key, recorded as an event with the quality lead who authorised it."""

from __future__ import annotations

from collections.abc import Sequence

from policies.identifiers import identifier_problems

from .. import commands as c
from ..base import Rejected
from ..partnership import Partnership
from ..sealing import SealingMapper
from .shared import LedgerCommands, Outcome, act_of


class PartnershipErasureCommands(LedgerCommands):
    """`PartnershipTextErased` recorded (who, when, the order) before the partnership's key
    and its programmes' older case keys are destroyed: an erasure interrupted in between is
    finished by running it again, and no key is ever destroyed without its record."""

    def erase_partnership_text(self, cmd: c.ErasePartnershipText,
                               programmes: Sequence[str]) -> Outcome:
        """Record the erasure and destroy the partnership's data key and the older case keys
        of `programmes` (the partnership's): its text reads "[erased]" for ever after. The
        views still hold the text until they are refolded (the console does that at once)."""
        return self.retrying(lambda: self._erase_partnership_text(cmd, programmes))

    def _erase_partnership_text(self, cmd: c.ErasePartnershipText,
                                programmes: Sequence[str]) -> Outcome:
        found = self.partnership(cmd.partnership)
        self.require("erase partnership text", cmd.by, cmd.partnership)
        mapper = self.mapper
        if not isinstance(mapper, SealingMapper) or mapper.keys is None or \
                mapper.keys.partnerships is None:
            raise Rejected("this store keeps no keys beside its log, so nothing can be erased")
        keys = mapper.keys
        assert keys.partnerships is not None
        if found is not None and found.erased is not None:
            done = f"on {found.erased['on']} by {found.erased['by']}"
            if any(self._destroy(cmd.partnership, programmes)):
                return Outcome(True, f"partnership {cmd.partnership}'s erasure recorded {done} "
                                     "is now complete: its keys are destroyed")
            return Outcome(False, f"partnership {cmd.partnership}'s text was already erased "
                                  f"{done}")
        said = identifier_problems(cmd.reason)  # kept in the clear: no override
        if said:
            raise Rejected(*[f"reason: {p}" for p in said])
        if found is None:  # the default partnership, named for the first time
            found = Partnership._create(
                Partnership.Created, id=self.ids.partnership_id(cmd.partnership),
                partnership=cmd.partnership, name="", slack_team="", **act_of(cmd).fields())
        found.record(Partnership.TextErased, act_of(cmd), reason=cmd.reason)
        self.save(found)
        _, older = self._destroy(cmd.partnership, programmes)
        return Outcome(True, f"partnership {cmd.partnership}'s data key is destroyed "
                             f"({len(programmes)} programmes; {older} older case keys "
                             "destroyed with it)")

    def _destroy(self, partnership: str, programmes: Sequence[str]) -> tuple[bool, int]:
        """Destroy what keys are left: the partnership's own (True if it was there; a row
        with no key stays, so none is made again) and how many of its programmes' case keys
        wrapped with the store's key alone."""
        assert isinstance(self.mapper, SealingMapper) and self.mapper.keys is not None
        keys = self.mapper.keys
        assert keys.partnerships is not None
        cipher, erased_at = keys.partnerships.key(partnership)
        own = keys.partnerships.destroy(partnership) if cipher is not None or not erased_at \
            else False
        return own, keys.destroy_programmes(list(programmes))
