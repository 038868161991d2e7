"""Concerns: raised on a case for an agency, then acknowledged, acted on and closed by its managers."""

from __future__ import annotations

from .. import commands as c
from .. import ids
from ..base import Act, NotPermitted, Rejected
from ..concerns import Concern
from .shared import LedgerCommands, Outcome, act_of


class ConcernCommands(LedgerCommands):
    """A concern goes to the agency's managers at once; only they (or the partnership's
    quality leads and board) answer it."""

    def raise_concern(self, cmd: c.RaiseConcern) -> Outcome:
        return self.retrying(lambda: self._raise_concern(cmd))

    def _raise_concern(self, cmd: c.RaiseConcern) -> Outcome:
        self.require("raise concern", cmd.by, self.partnership_of(cmd.programme))
        case = self.case(cmd.programme, cmd.case)
        if cmd.agency not in case.agencies:
            raise Rejected(f"agency {cmd.agency!r} is not involved in case {cmd.case}; "
                           f"involved: {', '.join(case.agencies)}")
        ref = ids.concern_ref(cmd.case, cmd.agency, cmd.summary, cmd.occurred_on.isoformat())
        if self.find(Concern, self.ids.concern_id(cmd.programme, ref)) is not None:
            return Outcome(False, f"concern {ref} was already raised")
        allowed = self.keep_identifiers_out(cmd, {"summary": cmd.summary},
                                            programme=cmd.programme, case=cmd.case,
                                            names=self.names_on_case(case, cmd.by))
        concern = Concern._create(
            Concern.Created, id=self.ids.concern_id(cmd.programme, ref), programme=cmd.programme,
            case=cmd.case, agency=cmd.agency, ref=ref, summary=cmd.summary,
            child_at_risk=cmd.child_at_risk, **act_of(cmd).fields())
        self.save(concern, *allowed)
        urgent = (" A child may be at risk now: contact the children's services front door "
                  "(MASH) or emergency services (999) now; do not wait for a reply."
                  if cmd.child_at_risk else "")
        return Outcome(True, f"concern {ref} raised on case {cmd.case} for {cmd.agency}; "
                             f"the agency's managers are alerted.{urgent}")

    def _concern_names(self, programme: str, concern: Concern) -> list[str]:
        return self.names_on_case(self.case(programme, concern.case), concern.raised_by)

    def _concern_for_manager(self, cmd: c.ConcernCommand, act_name: str) -> Concern:
        who = self.require(act_name, cmd.by, self.partnership_of(cmd.programme))
        concern = self.concern(cmd.programme, cmd.concern)
        if who.agency != concern.agency and not {"quality-lead", "board"} & set(who.roles):
            raise NotPermitted(f"{cmd.by}: concern {cmd.concern} is for {concern.agency}'s "
                               f"managers; you manage in {who.agency}")
        if concern.closed and act_name != "close concern":
            raise Rejected(f"concern {cmd.concern} is closed; raise a new concern if there is "
                           "more to do")
        return concern

    def acknowledge_concern(self, cmd: c.AcknowledgeConcern) -> Outcome:
        return self.retrying(lambda: self._acknowledge_concern(cmd))

    def _acknowledge_concern(self, cmd: c.AcknowledgeConcern) -> Outcome:
        concern = self._concern_for_manager(cmd, "acknowledge concern")
        if concern.acknowledged_by:
            return Outcome(False, f"concern {cmd.concern} was already acknowledged by "
                                  f"{concern.acknowledged_by} at {concern.acknowledged_at}")
        concern.record(Concern.Acknowledged, act_of(cmd))
        self.save(concern)
        return Outcome(True, f"concern {cmd.concern} acknowledged by {cmd.by}")

    def record_concern_action(self, cmd: c.RecordConcernAction) -> Outcome:
        return self.retrying(lambda: self._record_concern_action(cmd))

    def _record_concern_action(self, cmd: c.RecordConcernAction) -> Outcome:
        concern = self._concern_for_manager(cmd, "record concern action")
        if cmd.key and concern.has_key(cmd.key):
            return Outcome(False, "action already recorded")
        allowed = self.keep_identifiers_out(cmd, {"action": cmd.action},
                                            programme=cmd.programme, case=concern.case,
                                            names=self._concern_names(cmd.programme, concern))
        if not concern.acknowledged_by:
            concern.record(Concern.Acknowledged, Act(cmd.by, cmd.occurred_on.isoformat()))
        concern.record(Concern.ActionRecorded, act_of(cmd), action=cmd.action)
        self.save(concern, *allowed)
        return Outcome(True, f"action recorded on concern {cmd.concern}")

    def close_concern(self, cmd: c.CloseConcern) -> Outcome:
        return self.retrying(lambda: self._close_concern(cmd))

    def _close_concern(self, cmd: c.CloseConcern) -> Outcome:
        concern = self._concern_for_manager(cmd, "close concern")
        if concern.closed:
            return Outcome(False, f"concern {cmd.concern} is already closed")
        allowed = self.keep_identifiers_out(cmd, {"outcome": cmd.outcome},
                                            programme=cmd.programme, case=concern.case,
                                            names=self._concern_names(cmd.programme, concern))
        concern.record(Concern.Closed, act_of(cmd), outcome=cmd.outcome)
        self.save(concern, *allowed)
        return Outcome(True, f"concern {cmd.concern} closed")
