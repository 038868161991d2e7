"""Erasure: a case's personal text made unreadable for ever by destroying the case's key."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence

from policies.identifiers import identifier_problems

from .. import commands as c
from ..base import Rejected
from ..case_audit import CaseAudit
from ..case_keys import Destroyed
from ..personal import ERASED, personal_texts
from ..sealing import SealingMapper
from ..wal import wal_kept
from .shared import LedgerCommands, Outcome, act_of

ERASE_STOP = "AUDIT_LEDGER_TEST_ERASE_STOP"
"""Tests only: the step of an erasure at which the process kills itself (SIGKILL), as a
power cut would: "destroyed" (key gone, erasure not recorded) or "recorded" (both done)."""
QUOTE_MIN = 12  # an erasure's reason may not repeat a text of the case this long or longer


def _quoted(reason: str, texts: list[str]) -> str:
    """A text that an erasure's reason repeats (the reason outlives the text), or ''."""
    said = " ".join(reason.casefold().split())
    for text in texts:
        words = " ".join(text.casefold().split())
        if (len(words) >= QUOTE_MIN and words in said) or \
                (len(said) >= QUOTE_MIN and said in words):
            return text
    return ""


def _kept(destroyed: Destroyed) -> tuple[str, ...]:
    """The warning when the destroyed key's old copy is still in SQLite's write-ahead log."""
    return () if destroyed.scrubbed else (wal_kept("the destroyed key's old copy"),)


def _stop(step: str) -> None:
    if os.environ.get(ERASE_STOP) == step:
        os.kill(os.getpid(), signal.SIGKILL)


class ErasureCommands(LedgerCommands):
    """The erasure is recorded (by whom, why) and the key destroyed; grades, counts and the
    history's shape remain."""

    def erase_case_text(self, cmd: c.EraseCaseText, concern_refs: Sequence[str] = ()) -> Outcome:
        """Destroy the case's key and record the erasure: its personal text reads "[erased]"
        for ever after, in the log and in the views (which keep it sealed with that key), while
        its grades, counts and history's shape remain. No refold is needed."""
        return self.retrying(lambda: self._erase_case_text(cmd, concern_refs))

    def _erase_case_text(self, cmd: c.EraseCaseText, concern_refs: Sequence[str]) -> Outcome:
        self.require("erase case text", cmd.by, self.partnership_of(cmd.programme))
        case = self.case(cmd.programme, cmd.case)
        mapper = self.mapper
        if not isinstance(mapper, SealingMapper) or mapper.keys is None:
            raise Rejected("this store keeps no case keys, so no case's text can be erased")
        where = (cmd.programme, cmd.case)
        if case.erased:
            done = f"on {case.erased['on']} by {case.erased['by']}"
            destroyed = mapper.keys.destroy(where)  # and the WAL emptied, if it was kept
            if destroyed.found:  # recorded, key kept: an older release's order
                return Outcome(True, f"case {cmd.case}'s erasure recorded {done} is now "
                                     "complete: its key is destroyed", _kept(destroyed))
            return Outcome(False, f"case {cmd.case}'s personal text was already erased {done}",
                           _kept(destroyed))
        aggregates = [self.ids.case_id(cmd.programme, cmd.case)]
        aggregates += [self.ids.feedback_id(cmd.programme, cmd.case, a) for a in case.agencies]
        aggregates += [self.ids.concern_id(cmd.programme, ref) for ref in concern_refs]
        stored = [e for a in aggregates for e in self.recorder.select_events(a)]
        quoted = _quoted(cmd.reason, [t for e in stored
                                      for t in personal_texts(mapper.to_domain_event(e))])
        if quoted:
            raise Rejected("reason: it repeats text from the case's record "
                           f"({quoted[:20]!r}...); the reason is kept in the clear after the "
                           "text is erased: give the order's reference and who made it instead")
        said = identifier_problems(cmd.reason)  # kept in the clear: no override
        if said:
            raise Rejected(*[f"reason: {p}" for p in said])
        # The key first: from then on the text is unreadable everywhere (the views keep it
        # sealed with this key), whatever happens next. Stopped before the erasure is recorded,
        # it is pending, and said so (`ledger.erasures`) until `erase` is run again.
        destroyed = mapper.keys.destroy(where)
        _stop("destroyed")
        case.record(CaseAudit.TextErased, act_of(cmd), reason=cmd.reason)
        self.save(case)
        _stop("recorded")
        message = (f"case {cmd.case}'s personal text is erased: its key is destroyed; grades, "
                   f"counts and dates remain and its text reads {ERASED}")
        plain = sum(1 for e in stored if mapper.holds_plain_text(e))
        if plain:
            message += (f". Warning: {plain} of its events were stored before text was sealed "
                        "per case: they read [erased] from now on, but their text stays in the "
                        "log (encrypted only with AUDIT_LEDGER_KEY, if set)")
        return Outcome(True, message, _kept(destroyed))
