"""Feedback: the practitioner acknowledges it and answers each issue; their manager records seeing it.

Each person's press is their own fact: the manager's "seen" never acknowledges for the
practitioner. The practitioner answering every issue counts as acknowledging, and is recorded
as such (an acknowledgement beside the last answer), so reminders stop and history says so.
"""

from __future__ import annotations

from .. import commands as c
from ..base import NotPermitted, Rejected
from ..feedback import Feedback
from .shared import LedgerCommands, Outcome, act_of


class FeedbackCommands(LedgerCommands):
    """Feedback is issued with each return (see CaseAuditCommands); here it is answered."""

    def _feedback_for(self, cmd: c.FeedbackCommand, act_name: str) -> Feedback:
        self.require(act_name, cmd.by, self.partnership_of(cmd.programme))
        feedback = self.feedback(cmd.programme, cmd.case, cmd.agency)
        if cmd.by not in (feedback.practitioner, feedback.manager):
            raise NotPermitted(f"{cmd.by}: this feedback is for {feedback.practitioner} "
                               f"(and their manager); only they may {act_name}")
        return feedback

    def acknowledge_feedback(self, cmd: c.AcknowledgeFeedback) -> Outcome:
        return self.retrying(lambda: self._acknowledge_feedback(cmd))

    def _acknowledge_feedback(self, cmd: c.AcknowledgeFeedback) -> Outcome:
        feedback = self._feedback_for(cmd, "acknowledge feedback")
        if cmd.by != feedback.practitioner:
            raise NotPermitted(f"{cmd.by}: only {feedback.practitioner} can acknowledge their "
                               "own feedback; as their manager, record that you have seen your "
                               "copy instead (feedback seen)")
        if feedback.acknowledged_by:
            return Outcome(False, f"already acknowledged by {feedback.acknowledged_by} at "
                                  f"{feedback.acknowledged_at}")
        feedback.record(Feedback.Acknowledged, act_of(cmd))
        self.save(feedback)
        return Outcome(True, f"feedback on case {cmd.case} ({cmd.agency}) acknowledged")

    def record_feedback_seen(self, cmd: c.RecordFeedbackSeen) -> Outcome:
        return self.retrying(lambda: self._record_seen(cmd))

    def _record_seen(self, cmd: c.RecordFeedbackSeen) -> Outcome:
        feedback = self._feedback_for(cmd, "record feedback seen")
        if cmd.by != feedback.manager or cmd.by == feedback.practitioner:
            raise NotPermitted(f"{cmd.by}: only {feedback.practitioner}'s manager "
                               f"({feedback.manager or 'none recorded'}) records seeing this "
                               "copy; the practitioner acknowledges it (feedback acknowledge)")
        if feedback.seen_by:
            return Outcome(False, f"already seen by {feedback.seen_by} at {feedback.seen_at}")
        feedback.record(Feedback.SeenByManager, act_of(cmd))
        self.save(feedback)
        return Outcome(True, f"recorded that you have seen the feedback on case {cmd.case} "
                             f"({cmd.agency}); {feedback.practitioner} still acknowledges it "
                             "themselves")

    def respond_to_issue(self, cmd: c.RespondToIssue) -> Outcome:
        return self.retrying(lambda: self._respond(cmd))

    def _issue_in(self, feedback: Feedback, issue: int) -> None:
        numbers = [i["number"] for i in feedback.issues]
        if issue not in numbers:
            allowed = ", ".join(str(n) for n in numbers) or "none: this feedback raised no issues"
            raise Rejected(f"issue {issue} is not in this feedback; issues: {allowed}")

    def _respond(self, cmd: c.RespondToIssue) -> Outcome:
        feedback = self._feedback_for(cmd, "respond to issue")
        self._issue_in(feedback, cmd.issue)
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
        said = f"response to issue {cmd.issue} recorded"
        if cmd.by == feedback.practitioner and not feedback.acknowledged_by and \
                not feedback.unanswered():
            feedback.record(Feedback.Acknowledged, act_of(cmd))
            said += "; every issue is answered, so the feedback is acknowledged too"
        self.save(feedback, *overrides)
        return Outcome(True, said)

    def draft_answer(self, cmd: c.DraftAnswer) -> Outcome:
        return self.retrying(lambda: self._draft(cmd))

    def _draft(self, cmd: c.DraftAnswer) -> Outcome:
        """Kept only when it differs from what is already sent or drafted for that issue."""
        feedback = self._feedback_for(cmd, "respond to issue")
        self._issue_in(feedback, cmd.issue)
        if cmd.key and feedback.has_key(cmd.key):
            return Outcome(False, "draft already kept")
        sent = (feedback.responses.get(cmd.issue) or {}).get("response", "")
        kept = feedback.drafts.get((cmd.by, cmd.issue), "")
        if cmd.text == kept or (cmd.text == sent and not kept):
            return Outcome(False, f"issue {cmd.issue}: nothing new to keep")
        overrides = self.keep_identifiers_out(
            cmd, {"draft": cmd.text}, programme=cmd.programme, case=cmd.case,
            names=self.names_on_case(self.case(cmd.programme, cmd.case), feedback.practitioner))
        feedback.record(Feedback.AnswerDrafted, act_of(cmd), issue=cmd.issue, text=cmd.text)
        self.save(feedback, *overrides)
        return Outcome(True, f"draft answer to issue {cmd.issue} kept" if cmd.text else
                             f"draft answer to issue {cmd.issue} cleared")
