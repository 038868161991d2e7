"""Acknowledgements per person and answers one issue at a time, on both stores: the ledger's
rules, then the bot and its worker against the fake Slack over real HTTP, walking the days."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse

from audit_ledger.wiring import Wiring, wire
from bot.app import build_app
from bot.clock import FixedClock
from bot.services import BotServices
from bot.worker import Worker
from ledger import commands as c
from ledger.base import Act, NotPermitted
from ledger.feedback import Feedback
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.history import case_history

from .conftest import CLOCK_DAY, bot_services, worker_pack
from .fake_slack import (
    Call,
    FakeSlack,
    all_text,
    block_actions,
    buttons,
    signed_headers,
    text_values,
    view_submission,
)

P = "mini-2026"
K01: dict[str, Any] = {"programme": P, "case": "K01", "agency": "social-care"}
SECRET = "acks-signing-secret"


@pytest.fixture
def loaded(wiring: Wiring, mini_pack: dict[str, Any]) -> Wiring:
    import_pack(wiring.app, parse_pack(mini_pack))
    wiring.follower.catch_up()
    return wiring


def _events(w: Wiring) -> list[tuple[str, str]]:
    return [(type(e).__name__, getattr(e, "by", "")) for e in
            w.app.repository.event_store.get(w.app.ids.feedback_id(P, "K01", "social-care"))]


def _item(w: Wiring) -> dict[str, Any]:
    w.follower.catch_up()
    item = w.views.feedback_item(P, "K01", "social-care")
    assert item is not None
    return item


# ---- the ledger's rules -----------------------------------------------------------------------


def test_the_managers_seen_is_his_own_and_never_acknowledges_for_her(loaded: Wiring) -> None:
    with pytest.raises(NotPermitted) as refused:
        loaded.app.acknowledge_feedback(c.AcknowledgeFeedback(by="sc.mgr", **K01))
    assert "only sc.sw can acknowledge their own feedback" in str(refused.value)
    with pytest.raises(NotPermitted):
        loaded.app.record_feedback_seen(c.RecordFeedbackSeen(by="sc.sw", **K01))
    seen = loaded.app.record_feedback_seen(c.RecordFeedbackSeen(by="sc.mgr", **K01))
    again = loaded.app.record_feedback_seen(c.RecordFeedbackSeen(by="sc.mgr", **K01))
    assert seen.changed and not again.changed and "already seen by sc.mgr" in again.message
    item = _item(loaded)
    assert item["seen_by"] == "sc.mgr" and item["acknowledged_by"] == ""
    person = loaded.views.person("sc.sw")
    assert person is not None
    waiting = loaded.views.waiting(person)["feedback"]
    assert any(f["case"] == "K01" and f["agency"] == "social-care" for f in waiting)
    assert _events(loaded)[1:] == [("SeenByManager", "sc.mgr")]


def test_what_waits_opens_the_concerns_text_and_leaves_the_feedbacks_sealed(
        loaded: Wiring) -> None:
    """`/audit my` and the Home tab show a concern's summary but no feedback text: reading
    what waits opens the one, and reads no key for the other (a manager's team may have
    many); a feedback item read on its own opens."""
    head, teacher = loaded.views.person("sch.mgr"), loaded.views.person("sch.t")
    assert head is not None and teacher is not None
    waits = loaded.views.waiting(head)
    assert [k["summary"] for k in waits["concerns"]] == [
        "School did not report to the review conference."]
    theirs = loaded.views.waiting(teacher)["feedback"]
    assert [f["case"] for f in waits["team_feedback"]] == [f["case"] for f in theirs] != []
    texts = [i["text"] for f in waits["team_feedback"] + theirs for i in f["issues"]]
    assert texts and all(set(t) == {"sealed"} for t in texts)
    item = loaded.views.feedback_item(P, "K01", "school")
    assert item is not None
    assert [i["text"] for i in item["issues"]] == ["No school report to review conference."]


def test_answering_every_issue_acknowledges_but_the_managers_answers_do_not(
        loaded: Wiring) -> None:
    answer: dict[str, Any] = dict(K01, by="sc.mgr")
    loaded.app.respond_to_issue(c.RespondToIssue(issue=1, response="Seen alone since.", **answer))
    loaded.app.respond_to_issue(c.RespondToIssue(issue=2, response="Now recorded.", **answer))
    assert _item(loaded)["acknowledged_by"] == ""  # all answered, but not by her
    mine: dict[str, Any] = dict(K01, by="sc.sw")
    first = loaded.app.respond_to_issue(c.RespondToIssue(issue=2, response="I record it.", **mine))
    assert "acknowledged" in first.message  # every issue now has an answer, the last hers
    item = _item(loaded)
    assert item["acknowledged_by"] == "sc.sw"
    assert _events(loaded)[-2:] == [("IssueResponded", "sc.sw"), ("Acknowledged", "sc.sw")]


def test_one_issue_now_another_later_and_an_answer_revised(loaded: Wiring) -> None:
    mine: dict[str, Any] = dict(K01, by="sc.sw")
    loaded.app.respond_to_issue(c.RespondToIssue(issue=2, response="Now recorded.", **mine))
    item = _item(loaded)
    assert set(item["responses"]) == {"2"} and item["acknowledged_by"] == ""
    loaded.app.respond_to_issue(c.RespondToIssue(issue=2, response="Recorded weekly.", **mine))
    assert _item(loaded)["responses"]["2"]["response"] == "Recorded weekly."
    loaded.app.respond_to_issue(c.RespondToIssue(issue=1, response="Seen alone.", **mine))
    assert _item(loaded)["acknowledged_by"] == "sc.sw"


def test_a_draft_is_its_writers_kept_until_sent_and_no_part_of_the_record(loaded: Wiring) -> None:
    mine: dict[str, Any] = dict(K01, by="sc.sw")
    kept = loaded.app.draft_answer(c.DraftAnswer(issue=1, text="I saw the child al", **mine))
    same = loaded.app.draft_answer(c.DraftAnswer(issue=1, text="I saw the child al", **mine))
    assert kept.changed and not same.changed
    assert _item(loaded)["drafts"] == {"sc.sw": {"1": {"text": "I saw the child al",
                                                       "at": _item(loaded)["drafts"]["sc.sw"]
                                                       ["1"]["at"]}}}
    steps = case_history(loaded.app, P, "K01")["steps"]
    assert not any("Draft" in s["event"] for s in steps)
    loaded.app.respond_to_issue(c.RespondToIssue(issue=1, response="I saw the child alone.",
                                                 **mine))
    assert "drafts" not in _item(loaded)  # sent: the draft is gone


def test_an_older_store_s_acknowledgement_by_the_manager_reads_as_his_seeing_it(
        loaded: Wiring) -> None:
    """Before "seen" existed, the manager's press was recorded as the acknowledgement. Nothing
    is rewritten: that event is read as what it was."""
    feedback: Feedback = loaded.app.repository.get(loaded.app.ids.feedback_id(P, "K01", "social-care"))
    feedback.record(Feedback.Acknowledged, Act("sc.mgr", "2026-02-05"))
    loaded.app.save(feedback)
    item = _item(loaded)
    assert item["acknowledged_by"] == "" and item["seen_by"] == "sc.mgr"
    again: Feedback = loaded.app.repository.get(loaded.app.ids.feedback_id(P, "K01", "social-care"))
    assert again.acknowledged_by == "" and again.seen_by == "sc.mgr"
    assert loaded.app.acknowledge_feedback(c.AcknowledgeFeedback(by="sc.sw", **K01)).changed


# ---- the bot and its worker ----------------------------------------------------------------------


@dataclass
class Rig:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    clock: FixedClock
    worker: Worker
    bolt: App

    def send(self, body: str) -> BoltResponse:
        headers: dict[str, Any] = {k.lower(): [v] for k, v in signed_headers(body, SECRET).items()}
        response = self.bolt.dispatch(BoltRequest(body=body, headers=headers))
        assert self.services.wait_idle(timeout=30)
        assert response.status == 200
        return response

    def press(self, user: str, message: Call | dict[str, Any], action_id: str,
              issue: int | None = None) -> None:
        """Press a button of a message (a call that posted or updated it, or the message)."""
        if isinstance(message, Call):
            message = {"ts": message.body.get("ts") or message.answer["ts"],
                       "text": message.body["text"], "blocks": message.body["blocks"],
                       "channel": message.body["channel"]}
        found = [e for blk in message["blocks"] for e in blk.get("elements", []) + (
            [blk["accessory"]] if "accessory" in blk else []) if e.get("action_id") == action_id
            and (issue is None or json.loads(e["value"]).get("i") == issue)]
        self.send(block_actions(user, "someone", message, message["channel"], found[0],
                                self.fake.response_url()))

    def opened_view(self) -> dict[str, Any]:
        call = self.fake.calls_to("views.open")[-1]
        return {**call.body["view"], "id": call.answer["view"]["id"],
                "hash": call.answer["view"]["hash"]}

    def latest(self, posted: Call) -> Call:
        """A message as it now reads: the last update of it, or as it was posted."""
        updates = [u for u in self.fake.calls_to("chat.update")
                   if u.body["ts"] == posted.answer["ts"]]
        return updates[-1] if updates else posted

    def posts(self, channel: str, containing: str = "") -> list[Call]:
        return [p for p in self.fake.calls_to("chat.postMessage") if p.answer.get("ok")
                and p.body.get("channel") == channel and containing in p.body.get("text", "")]

    def day(self, day: date) -> None:
        self.clock.day = day
        self.worker.tick()


@pytest.fixture
def rig(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> Iterator[Rig]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    clock = FixedClock(CLOCK_DAY)
    services = bot_services(w, fake_slack, clock=clock)
    bolt = build_app(services, signing_secret=SECRET, client=services.deliver.client)
    try:
        yield Rig(w, fake_slack, services, clock, Worker(services), bolt)
    finally:
        services.wait_idle()
        services.close()
        w.close()


def test_the_managers_press_leaves_her_button_and_reminders_and_her_answers_acknowledge(
        rig: Rig) -> None:
    rig.worker.tick()  # Thursday 2 April: the feedback and the manager's copy delivered
    mine = rig.posts("DU0SCSW", "case K01 (social-care)")[0]
    copy_ = rig.posts("DU0SCMGR", "case K01 (social-care)")[0]
    assert "Press *Seen* to record that you have read this copy. It does not acknowledge the " \
           "feedback for Sasha Worker: only they can." in all_text(copy_.body["blocks"])

    rig.press("U0SCMGR", copy_, "feedback.seen")
    told = rig.fake.calls_to("response_url")[-1].body["text"]
    assert "recorded that you have seen this copy. Only Sasha Worker can acknowledge" in told
    rig.worker.tick()
    his = rig.latest(copy_)
    assert buttons(his.body["blocks"]) == {}
    assert "Not yet acknowledged by Sasha Worker" in all_text(his.body["blocks"])
    hers = rig.latest(mine)
    assert "Seen by Sam Manager (manager)" in all_text(hers.body["blocks"])
    assert {"feedback.acknowledge", "feedback.answer"} <= set(buttons(hers.body["blocks"]))

    # A copy sent before "Seen" existed had Acknowledge: his press records his seeing it.
    older = {"ts": copy_.answer["ts"], "text": copy_.body["text"], "channel": "DU0SCMGR",
             "blocks": mine.body["blocks"]}
    rig.press("U0SCMGR", older, "feedback.acknowledge")
    assert "You recorded seeing this copy" in rig.fake.calls_to("response_url")[-1].body["text"]
    events = [(type(e).__name__, getattr(e, "by", "")) for e in
              rig.wiring.app.repository.event_store.get(
                  rig.wiring.app.ids.feedback_id(P, "K01", "social-care"))]
    assert events[1:] == [("SeenByManager", "sc.mgr")]

    # Her reminders run on: five working days after it arrived (Easter between), 13 April.
    rig.day(date(2026, 4, 13))
    reminders = rig.posts("DU0SCSW", "Reminder: your audit feedback on case K01")
    assert len(reminders) == 1
    assert "feedback.acknowledge" in buttons(reminders[0].body["blocks"])
    assert "Sam Manager has seen the copy sent to them as your manager; only you can " \
           "acknowledge it." in all_text(reminders[0].body["blocks"])

    # Issue 2 on its own, today; the message says 1 of 2 answered.
    rig.press("U0SCSW", rig.latest(mine), "feedback.answer", issue=2)
    view = rig.opened_view()
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["issue-2"]
    done = json.loads(rig.send(view_submission("U0SCSW", "sasha", view, text_values(
        {"issue-2": "Supervision is now recorded."}))).body)
    assert "1 of 2 issues answered" in all_text(done["view"]["blocks"])
    assert "1 of 2 answered" in all_text(rig.latest(mine).body["blocks"])

    # Issue 1 another day: typed, interrupted (the form closed), finished from the draft.
    rig.day(date(2026, 4, 15))
    rig.press("U0SCSW", rig.latest(mine), "feedback.answer", issue=1)
    view = rig.opened_view()
    assert view["notify_on_close"] is True
    closed = view_submission("U0SCSW", "sasha", view, text_values({"issue-1": "I saw him al"}))
    rig.send(closed.replace("view_submission", "view_closed", 1))
    assert "Your draft answer is saved" in all_text(rig.latest(mine).body["blocks"])
    rig.press("U0SCSW", rig.latest(mine), "feedback.answer", issue=1)
    view = rig.opened_view()
    box = next(b for b in view["blocks"] if b.get("block_id") == "issue-1")
    assert box["element"]["initial_value"] == "I saw him al"
    assert box["hint"]["text"] == "Restored from your draft, not sent yet."
    rig.send(view_submission("U0SCSW", "sasha", view, text_values(
        {"issue-1": "I saw him alone on 3 February."})))
    rig.worker.tick()
    assert (rig.wiring.views.feedback_item(P, "K01", "social-care") or {})["acknowledged_by"] \
        == "sc.sw"
    assert "feedback.acknowledge" not in buttons(rig.latest(mine).body["blocks"])
    assert "acknowledged by Sasha Worker" in rig.latest(reminders[0]).body["text"]

    # Acknowledged by her answers: no second reminder on the tenth working day.
    rig.day(date(2026, 4, 21))
    assert len(rig.posts("DU0SCSW", "Reminder: your audit feedback on case K01")) == 1


def test_an_issue_answered_from_an_earlier_part_of_a_long_feedback_updates_that_part(
        store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    """Sent in parts, each issue's Answer button sits in the part that shows it; the answer
    lands in that part, and the part with Acknowledge stays as it is."""
    from .test_worker_words import long_pack

    w = wire(store_url, "")
    import_pack(w.app, parse_pack(long_pack(mini_pack)), "import")
    clock = FixedClock(CLOCK_DAY)
    services = bot_services(w, fake_slack, clock=clock)
    bolt = build_app(services, signing_secret=SECRET, client=services.deliver.client)
    rig = Rig(w, fake_slack, services, clock, Worker(services), bolt)
    try:
        rig.worker.tick()
        sent = rig.posts("DU0SCSW", "case K01 (social-care)")
        assert len(sent) >= 2
        first = sent[0]
        assert "feedback.answer" in buttons(first.body["blocks"])
        rig.press("U0SCSW", first, "feedback.answer", issue=1)
        view = rig.opened_view()
        rig.send(view_submission("U0SCSW", "sasha", view, text_values(
            {"issue-1": "Seen alone since; my note is on file."})))
        now = rig.latest(first)
        assert "Seen alone since; my note is on file." in all_text(now.body["blocks"])
        assert "feedback.acknowledge" not in buttons(now.body["blocks"])
        assert rig.latest(sent[-1]) is sent[-1]  # the last part was not touched by the press
    finally:
        services.wait_idle()
        services.close()
        w.close()


def test_history_tells_whose_fact_each_step_is(loaded: Wiring) -> None:
    """The manager's seeing (also an older store's acknowledgement by him) and her answers, in
    the case's story; drafts are not in it."""
    from bot.replies import history_answer

    loaded.app.record_feedback_seen(c.RecordFeedbackSeen(by="sc.mgr", **K01))
    feedback: Feedback = loaded.app.repository.get(loaded.app.ids.feedback_id(P, "K02", "social-care"))
    feedback.record(Feedback.Acknowledged, Act("sc.mgr", "2026-02-05"))  # as stored before
    loaded.app.save(feedback)
    mine: dict[str, Any] = dict(K01, by="sc.sw")
    loaded.app.draft_answer(c.DraftAnswer(issue=1, text="Not sent", **mine))
    loaded.app.respond_to_issue(c.RespondToIssue(issue=1, response="Seen alone.", **mine))
    steps = case_history(loaded.app, P, "K01")["steps"]
    assert [s["event"] for s in steps if s["event"].startswith(("Feedback", "Issue"))][-2:] == \
        ["FeedbackSeenByManager", "IssueResponded"]
    k02 = case_history(loaded.app, P, "K02")["steps"]
    assert "FeedbackSeenByManager" in [s["event"] for s in k02]
    assert "FeedbackAcknowledged" not in [s["event"] for s in k02]
    loaded.follower.catch_up()
    text = all_text(history_answer(case_history(loaded.app, P, "K01"),
                                   loaded.views.programme(P), str)[1])  # people by their ids
    assert "The feedback was seen by the practitioner's manager by sc.mgr" in text
    assert "Issue 1 of the feedback was answered by sc.sw: Seen alone." in text
    assert "Not sent" not in text
