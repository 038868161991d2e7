"""Feedback: a practitioner (or their manager) acknowledges it and answers each issue it raises."""

from __future__ import annotations

from .. import commands as c
from ..base import NotPermitted, Rejected
from ..feedback import Feedback
from .shared import LedgerCommands, Outcome, act_of


class FeedbackCommands(LedgerCommands):
    """Feedback is issued with each return (see CaseAuditCommands); here it is answered."""

    def _feedback_for(self, cmd: c.FeedbackCommand, act_name: str) -> Feedback:
        who = self.require(act_name, cmd.by, self.partnership_of(cmd.programme))
        feedback = self.feedback(cmd.programme, cmd.case, cmd.agency)
        if cmd.by not in (feedback.practitioner, feedback.manager):
            raise NotPermitted(f"{cmd.by}: this feedback is for {feedback.practitioner} "
                               f"(and their manager); only they may {act_name}")
        del who
        return feedback

    def acknowledge_feedback(self, cmd: c.AcknowledgeFeedback) -> Outcome:
        return self.retrying(lambda: self._acknowledge_feedback(cmd))

    def _acknowledge_feedback(self, cmd: c.AcknowledgeFeedback) -> Outcome:
        feedback = self._feedback_for(cmd, "acknowledge feedback")
        if feedback.acknowledged_by:
            return Outcome(False, f"already acknowledged by {feedback.acknowledged_by} at "
                                  f"{feedback.acknowledged_at}")
        feedback.record(Feedback.Acknowledged, act_of(cmd))
        self.save(feedback)
        return Outcome(True, f"feedback on case {cmd.case} ({cmd.agency}) acknowledged")

    def respond_to_issue(self, cmd: c.RespondToIssue) -> Outcome:
        return self.retrying(lambda: self._respond(cmd))

    def _respond(self, cmd: c.RespondToIssue) -> Outcome:
        feedback = self._feedback_for(cmd, "respond to issue")
        numbers = [i["number"] for i in feedback.issues]
        if cmd.issue not in numbers:
            allowed = ", ".join(str(n) for n in numbers) or "none: this feedback raised no issues"
            raise Rejected(f"issue {cmd.issue} is not in this feedback; issues: {allowed}")
        if cmd.key and feedback.has_key(cmd.key):
            return Outcome(False, "response already recorded")
        previous = feedback.responses.get(cmd.issue)
        if previous and previous["response"] == cmd.response:
            return Outcome(False, f"issue {cmd.issue} already has this response")
        overrides = self.keep_identifiers_out(
            cmd, {"response": cmd.response}, programme=cmd.programme, case=cmd.case,
            names=self.names_on_case(self.case(cmd.programme, cmd.case), feedback.practitioner))
        feedback.record(Feedback.IssueResponded, act_of(cmd), issue=cmd.issue,
                        response=cmd.response)
        self.save(feedback, *overrides)
        return Outcome(True, f"response to issue {cmd.issue} recorded")
