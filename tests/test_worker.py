"""The alert, escalation and reminder worker in this process, on both stores, against the fake
Slack over real HTTP, with a fixed clock the tests walk through days and bank holidays."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from audit_ledger.wiring import Wiring, wire
from bot.clock import FixedClock
from bot.services import BotServices
from bot.worker import Worker
from ledger import commands as c
from ledger.deliveries import Delivery
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack
from ledger.pack_rules import reference_problems
from ledger.programme import Programme
from policies.subjects import concern_subject

from .conftest import BOT_TOKEN, CLOCK_DAY, bot_services, run_cli, worker_pack
from .fake_slack import Call, FakeSlack, all_text, buttons

PID = "mini-2026"


@dataclass
class Rig:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    clock: FixedClock
    worker: Worker

    def raise_concern(self, summary: str, agency: str = "social-care", at_risk: bool = False
                      ) -> str:
        outcome = self.wiring.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency=agency, by="sc.aud", summary=summary,
            child_at_risk=at_risk, occurred_on=self.clock.today()))
        assert outcome.changed
        return outcome.message.split()[1]

    def acknowledge_concern(self, ref: str, by: str = "sc.mgr") -> None:
        self.wiring.app.acknowledge_concern(c.AcknowledgeConcern(
            programme=PID, concern=ref, by=by, occurred_on=self.clock.today()))

    def acknowledge_feedback(self, case: str, by: str = "sc.sw") -> None:
        self.wiring.app.acknowledge_feedback(c.AcknowledgeFeedback(
            programme=PID, case=case, agency="social-care", by=by,
            occurred_on=self.clock.today()))

    def posts(self, channel: str, containing: str = "") -> list[Call]:
        """The messages Slack took in a channel (those it refused are not among them)."""
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
    try:
        yield Rig(w, fake_slack, services, clock, Worker(services))
    finally:
        services.close()
        w.close()


def running_worker(worker: Worker) -> tuple[threading.Thread, threading.Event]:
    """The worker's own loop, in a thread, as `bot serve` runs it."""
    stop = threading.Event()
    worker.poll = 0.02
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def test_alerts_feedback_and_acknowledgements_update_every_copy(rig: Rig) -> None:
    rig.worker.tick()
    # Feedback: the practitioner's message with both buttons, the manager's copy with one.
    mine = rig.posts("DU0SCSW", "case K01 (social-care)")
    copy_ = rig.posts("DU0SCMGR", "case K01 (social-care)")
    assert len(mine) == 1 and len(copy_) == 1
    assert set(buttons(mine[0].body["blocks"])) == {"feedback.acknowledge", "feedback.respond",
                                                    "feedback.answer"}
    assert set(buttons(copy_[0].body["blocks"])) == {"feedback.seen"}

    ref = rig.raise_concern("Child not seen for six weeks.", at_risk=True)
    rig.worker.tick()
    alert = rig.posts("DU0SCMGR", ref)
    channel = rig.posts("C0AUDIT", ref)
    assert len(alert) == 1 and len(channel) == 1
    first = alert[0].body["blocks"][0]["text"]["text"]
    assert "MASH" in first and "999" in first  # said first, plainly
    assert alert[0].body["text"].startswith("A child may be at risk now")
    assert set(buttons(alert[0].body["blocks"])) == {"concern.acknowledge",
                                                     "concern.record_action"}
    # Each delivery is in the ledger with where it landed.
    delivery = rig.wiring.app.find(Delivery, rig.wiring.app.ids.delivery_id(PID, concern_subject(ref),
                                                             "concern-alert", "sc.mgr"))
    assert delivery is not None
    assert (delivery.channel, delivery.ts) == ("DU0SCMGR", alert[0].answer["ts"])

    # Nothing is sent twice, however often the worker looks.
    for _ in range(3):
        rig.worker.tick()
    assert len(rig.fake.calls_to("chat.postMessage")) == 6  # 2 x 2 feedback, alert, channel

    # Acknowledged from the shell: both copies of the alert are updated in place.
    rig.acknowledge_concern(ref)
    rig.worker.tick()
    updates = {u.body["ts"]: u for u in rig.fake.calls_to("chat.update")}
    for posted in (alert[0], channel[0]):
        update = updates[posted.answer["ts"]]
        assert update.body["channel"] == posted.body["channel"]
        assert "Acknowledged by Sam Manager on" in update.body["text"]
        assert "concern.acknowledge" not in buttons(update.body["blocks"])
        assert "MASH" in update.body["blocks"][0]["text"]["text"]

    # Feedback acknowledged: both copies updated; Respond stays while issues await answers.
    rig.acknowledge_feedback("K01")
    rig.worker.tick()
    updates = {u.body["ts"]: u for u in rig.fake.calls_to("chat.update")}
    practitioner = updates[mine[0].answer["ts"]]
    manager = updates[copy_[0].answer["ts"]]
    assert "Acknowledged by Sasha Worker on" in all_text(practitioner.body["blocks"])
    assert set(buttons(practitioner.body["blocks"])) == {"feedback.respond", "feedback.answer"}
    assert set(buttons(manager.body["blocks"])) == {"feedback.seen"}  # his own, not yet pressed
    before = len(rig.fake.calls_to("chat.update"))
    rig.worker.tick()
    rig.worker.tick()
    assert len(rig.fake.calls_to("chat.update")) == before  # each update once


def test_every_alert_arrives_after_slack_recovers_and_none_twice(rig: Rig) -> None:
    rig.worker.tick()  # the feedback messages first
    sent_before = len(rig.fake.calls_to("chat.postMessage"))
    for handler in rig.services.deliver.client.retry_handlers:  # the client's backoff, quicker
        handler.interval_calculator = BackoffRetryIntervalCalculator(backoff_factor=0.05)
    rig.fake.fail_next(4, status=500)
    rig.fake.fail_next(2, status=429, retry_after=1)
    rig.fake.fail_next(2, status=503)
    thread, stop = running_worker(rig.worker)
    try:
        refs = [rig.raise_concern(f"Concern number {i} about the plan.") for i in range(4)]
        rig.fake.wait_for("chat.postMessage", count=sent_before + 8, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    rig.worker.stop = threading.Event()  # the run's stop set would end the look at once
    rig.worker.tick()  # one more look, after every alert went: it finds nothing left to send
    statuses = Counter(x.status for x in rig.fake.calls)
    assert statuses[500] == 4 and statuses[429] == 2 and statuses[503] == 2
    for ref in refs:
        assert len(rig.posts("DU0SCMGR", ref)) == 1
        assert len(rig.posts("C0AUDIT", ref)) == 1
    assert len(rig.fake.calls_to("chat.postMessage")) == sent_before + 8
    recorded = [d for d in rig.services.fresh().deliveries(PID) if d["subject"].startswith(
        "concern/")]
    assert sorted((d["channel"], d["ts"]) for d in recorded) == sorted(
        (p.body["channel"], p.answer["ts"]) for ref in refs
        for p in rig.posts("DU0SCMGR", ref) + rig.posts("C0AUDIT", ref))


class SlowSlack(FakeSlack):
    """Leaves the first `slow` chat.postMessage calls unanswered until released (the client
    gives up first: it times out), then fails them: those messages never reached anyone."""

    def __init__(self, slow: int) -> None:
        super().__init__((BOT_TOKEN,))
        self.slow = slow
        self.release = threading.Event()

    def handle(self, path: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, dict[str, Any], bytes]:
        if path.endswith("/chat.postMessage"):
            with self.lock:
                slow, self.slow = self.slow > 0, self.slow - 1
                if slow:
                    self.calls.append(Call("chat.postMessage", {}, "", 504))
            if slow:
                self.release.wait(120)
                return 504, {"Content-Type": "application/json"}, b'{"ok":false}'
        return super().handle(path, headers, raw)


def test_timeouts_are_retried_and_the_alert_arrives_once(store_url: str,
                                                         mini_pack: dict[str, Any]) -> None:
    w = wire(store_url, "")
    fake = SlowSlack(slow=2)
    fake.start()
    assert fake.server is not None
    fake.server.handle_error = lambda *args: None  # type: ignore[method-assign]
    try:
        import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
        services = bot_services(w, fake)
        # A client that gives up on Slack after 2 s (the bot's own waits 10): the held calls
        # time out; every other call is answered at once, far within it.
        services.deliver.client.timeout = 2
        worker = Worker(services, poll=0.02)
        ref = w.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Timed out.", occurred_on=CLOCK_DAY)).message.split()[1]
        thread, stop = running_worker(worker)
        try:
            fake.wait_for("chat.postMessage", lambda x: ref in x.body.get("text", ""),
                          count=2, timeout=60)  # the manager and the channel
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not thread.is_alive()
        worker.stop = threading.Event()  # the run's stop set would end the look at once
        worker.tick()  # one more look: nothing is left to send
        services.close()
        assert len(fake.calls_to("chat.postMessage", ok_only=False)) >= 2 + 4 + 2
        posted = Counter((x.body["channel"], x.body["text"])
                         for x in fake.calls_to("chat.postMessage"))
        assert len(posted) == 4 + 2 and set(posted.values()) == {1}  # feedback, alert: once
        alerts = [x.body["channel"] for x in fake.calls_to("chat.postMessage")
                  if ref in x.body.get("text", "")]
        assert sorted(alerts) == ["C0AUDIT", "DU0SCMGR"]
    finally:
        fake.release.set()
        fake.stop()
        w.close()


def test_escalation_climbs_the_whole_ladder_over_easter(rig: Rig) -> None:
    assert rig.clock.today() == date(2026, 4, 2)  # the Thursday before Good Friday
    rig.worker.tick()
    ref = rig.raise_concern("No plan agreed after the strategy meeting.")  # Thursday 2 April
    rig.worker.tick()
    assert len(rig.posts("DU0SCMGR", ref)) == 1
    steps: dict[date, int] = {date(2026, 4, 2): 1}
    day = date(2026, 4, 2)
    while day < date(2026, 4, 30):
        day += timedelta(days=1)
        rig.day(day)
        rig.worker.tick()  # a second look the same day changes nothing
        step = rig.services.fresh().concern(PID, ref)["step"]  # type: ignore[index]
        if step not in steps.values():
            steps[day] = step
    # Good Friday 3 April and Easter Monday 6 April are not working days: the 2 working days of
    # step 1 are Tuesday 7 and Wednesday 8 April; step 2 (5 days) runs 10-16 April; step 3
    # (2 days) 20-21 April.
    assert steps == {date(2026, 4, 2): 1, date(2026, 4, 9): 2, date(2026, 4, 17): 3,
                     date(2026, 4, 22): 4}

    concern = rig.services.views.concern(PID, ref)
    assert concern is not None
    assert [(e["step"], e["to"], e["on"]) for e in concern["escalations"]] == [
        (2, ["sc.head"], "2026-04-09"), (3, ["ql"], "2026-04-17"), (4, ["chair"], "2026-04-22")]
    assert "deadline 2026-04-08" in concern["escalations"][0]["reason"]
    head = rig.posts("DU0SCHEAD", ref)
    lead = rig.posts("DU0QL", ref)
    chair = rig.posts("DU0CHAIR", ref)
    assert [len(head), len(lead), len(chair)] == [1, 1, 1]
    assert "Escalated to you (step 2)" in head[0].body["text"]
    assert "Escalated to you: step 2 of 4" in all_text(head[0].body["blocks"])
    assert "deadline Wednesday 8 April 2026" in all_text(head[0].body["blocks"])
    # The head of service is not one of social-care's managers: told, without buttons to press.
    assert buttons(head[0].body["blocks"]) == {}
    assert "Escalated to you: step 4 of 4" in all_text(chair[0].body["blocks"])
    assert len(rig.posts("DU0SCMGR", ref)) == 1  # the first alert once, never again

    # Acknowledged at last: every copy, at every step, is updated in place.
    rig.acknowledge_concern(ref)
    rig.worker.tick()
    updated = {u.body["ts"] for u in rig.fake.calls_to("chat.update")}
    for posted in (*rig.posts("DU0SCMGR", ref), *rig.posts("C0AUDIT", ref), *head, *lead, *chair):
        assert posted.answer["ts"] in updated


def test_a_programme_sets_its_own_ladder(store_url: str, mini_pack: dict[str, Any],
                                         fake_slack: FakeSlack) -> None:
    pack = worker_pack(mini_pack)
    pack["programme"]["escalation"] = [1, 1, 1]
    w = wire(store_url, "")
    try:
        import_pack(w.app, parse_pack(pack), "import")
        clock = FixedClock(CLOCK_DAY)
        services = bot_services(w, fake_slack, clock=clock)
        worker = Worker(services)
        ref = w.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Late.", occurred_on=clock.today())).message.split()[1]
        worker.tick()
        clock.day = date(2026, 4, 8)  # one working day (the 7th) has passed
        worker.tick()
        concern = services.fresh().concern(PID, ref)
        assert concern is not None and concern["step"] == 2
        assert w.views.programme(PID)["escalation"] == [1, 1, 1]
        services.close()
    finally:
        w.close()
    wrong = worker_pack(mini_pack)
    wrong["programme"]["escalation"] = [2, 5]
    assert any(p.startswith("programme.escalation: escalation needs 3")
               for p in reference_problems(parse_pack(wrong)))
    wrong["programme"]["escalation"] = [0, 5, 2]
    with pytest.raises(PackProblems):
        parse_pack(wrong)


def test_programmes_stored_before_the_ladder_setting_read_back_with_the_default(
        wiring: Wiring) -> None:
    """A version-1 ProgrammeOpened (no `escalation`) is upcast on reading."""
    import_pack(wiring.app, parse_pack({"programme": {"id": "old-2025"}}), "import")
    created = wiring.app.repository.event_store.get(wiring.app.ids.programme_id("old-2025"))
    stored = wiring.app.mapper.to_stored_event(next(iter(created)))
    transcoder = wiring.app.mapper.transcoder
    state = transcoder.decode(stored.state)
    del state["escalation"]
    state.pop("class_version", None)
    old = StoredEvent(originator_id=stored.originator_id,
                      originator_version=stored.originator_version, topic=stored.topic,
                      state=transcoder.encode(state))
    event = wiring.app.mapper.to_domain_event(old)
    assert isinstance(event, Programme.Created) and event.escalation == []


def test_reminders_once_per_state_and_the_weekly_digest(rig: Rig) -> None:
    rig.wiring.app.plan_action(c.PlanAction(
        programme=PID, action="A1.2", recommendation=1, owner="sc.mgr", by="ql",
        occurred_on=rig.clock.today(),
        description="Brief every social work team on reporting to reviews",
        measure="Briefing notes from each team", due=date(2026, 4, 20)))
    rig.worker.tick()  # Thursday 2 April: feedback delivered; A1.2 due in 18 days
    assert not rig.posts("DU0SCMGR", "A1.2")
    rig.day(date(2026, 4, 6))  # Easter Monday: due in 14 days
    soon = rig.posts("DU0SCMGR", "A1.2")
    assert len(soon) == 1 and "is due on Monday 20 April 2026" in soon[0].body["text"]
    assert "action.update" in buttons(soon[0].body["blocks"])
    assert not rig.posts("DU0QL", "Weekly digest")  # never on a bank holiday
    rig.day(date(2026, 4, 7))  # Tuesday: A1.1 (due 30 June) is not overdue; no digest
    assert not rig.posts("DU0QL", "Weekly digest")

    # Feedback not acknowledged five working days after it arrived (2 April): 3 April and 6
    # April are bank holidays, so the fifth working day is Monday 13 April.
    rig.day(date(2026, 4, 10))
    assert not rig.posts("DU0SCSW", "Reminder")
    rig.day(date(2026, 4, 13))
    reminders = rig.posts("DU0SCSW", "Reminder")
    assert len(reminders) == 2  # K01 and K02
    assert {"feedback.acknowledge", "feedback.respond"} <= set(
        buttons(reminders[0].body["blocks"]))
    rig.day(date(2026, 4, 14))
    assert len(rig.posts("DU0SCSW", "Reminder")) == 2

    # Acknowledging the feedback updates its reminder too, and stops its reminders.
    rig.acknowledge_feedback("K02")
    rig.worker.tick()
    k02 = next(r for r in reminders if "case K02" in r.body["text"])
    update = [u for u in rig.fake.calls_to("chat.update") if u.body["ts"] == k02.answer["ts"]]
    assert len(update) == 1 and "acknowledged by Sasha Worker" in update[0].body["text"]
    assert buttons(update[0].body["blocks"]) == {}  # K02 raised no issues

    rig.day(date(2026, 4, 21))  # A1.2 overdue: reminded once more, once
    rig.worker.tick()
    overdue = rig.posts("DU0SCMGR", "A1.2 is overdue")
    assert len(overdue) == 1
    digest = rig.posts("DU0QL", "Weekly digest")
    assert len(digest) == 1 and "A1.2" in all_text(digest[0].body["blocks"])
    # ten working days after it arrived: K01's second reminder; none for K02
    assert [r.body["text"][:55] for r in rig.posts("DU0SCSW", "Reminder")][2:] == [
        "Reminder: your audit feedback on case K01 (social-care)"]
    rig.day(date(2026, 4, 24))  # the same week: no second digest
    assert len(rig.posts("DU0QL", "Weekly digest")) == 1
    rig.day(date(2026, 4, 27))  # a new week: the next digest
    assert len(rig.posts("DU0QL", "Weekly digest")) == 2
    assert len(rig.posts("DU0SCMGR", "A1.2")) == 2


def test_slack_refusing_a_user_or_channel_for_good_is_logged_and_skipped(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """An unknown user or channel is no reason to stop: the worker logs it, records nothing,
    moves past it and goes on telling everyone else."""
    rig.fake.unknown_users.add("U0SCSW")  # the practitioner has left the workspace
    rig.fake.unknown_channels.add("C0AUDIT")  # the programme's channel was deleted
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        rig.worker.tick()
        ref = rig.raise_concern("Raised after the channel went.")
        rig.worker.tick()
        # The manager's copies of the feedback and the alert arrive; nothing reaches the others.
        assert len(rig.posts("DU0SCMGR", "audit feedback on case K01")) == 1
        assert len(rig.posts("DU0SCMGR", "audit feedback on case K02")) == 1
        alert = rig.posts("DU0SCMGR", ref)
        assert len(alert) == 1
        assert rig.posts("DU0SCSW") == [] and rig.posts("C0AUDIT") == []
        # Then the manager's own direct message goes too: updating it is refused for good.
        rig.fake.unknown_channels.add("DU0SCMGR")
        rig.acknowledge_concern(ref)
        rig.worker.tick()
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert said == [
        "feedback for feedback/K01/social-care in mini-2026 not sent to U0SCSW: Slack says "
        "user_not_found (HTTP 200); not trying again",
        "feedback for feedback/K02/social-care in mini-2026 not sent to U0SCSW: Slack says "
        "user_not_found (HTTP 200); not trying again",
        f"concern-alert for concern/{ref} in mini-2026 not sent to channel:C0AUDIT: Slack says "
        "channel_not_found (HTTP 200); not trying again",
        f"concern-alert for concern/{ref} in mini-2026 not updated: Slack says "
        "channel_not_found (HTTP 200)"]
    # Nothing refused is recorded as delivered or updated, and the worker has moved past it all.
    delivered = rig.services.fresh().deliveries(PID)
    assert sorted(d["recipient"] for d in delivered) == ["sc.mgr", "sc.mgr", "sc.mgr"]
    assert all(d["notes"] == [] for d in delivered)
    assert rig.worker.position() == rig.worker.head()
    calls = len(rig.fake.calls)
    rig.worker.tick()
    assert len(rig.fake.calls) == calls  # nothing refused is tried again
    # And it goes on telling people: the next concern reaches the manager, now back on Slack.
    rig.fake.unknown_channels.discard("DU0SCMGR")
    after = rig.raise_concern("Raised once Slack knew the manager again.")
    rig.worker.tick()
    assert len(rig.posts("DU0SCMGR", after)) == 1


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)  # SQLite has no server
def test_the_worker_survives_lost_database_connections(rig: Rig, store_url: str) -> None:
    """PostgreSQL drops the worker's connections (a restart, a failover): it carries on."""
    import psycopg

    from .conftest import PG_BASE

    rig.worker.tick()
    ours = {rig.wiring.store.conn.info.backend_pid}  # type: ignore[attr-defined]
    ours |= {conn.info.backend_pid
             for conn in rig.wiring.app.recorder.datastore.pool._pool}  # type: ignore[attr-defined]
    with psycopg.connect(PG_BASE, autocommit=True) as admin:
        for pid in ours:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread, stop = running_worker(rig.worker)
    other = wire(store_url, "")  # someone at the shell
    try:
        ref = other.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Raised while the worker's connections were gone.",
            occurred_on=rig.clock.today())).message.split()[1]
        rig.fake.wait_for("chat.postMessage", lambda x: ref in x.body.get("text", ""), count=2,
                          timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
        other.close()
    assert len(rig.posts("DU0SCMGR", ref)) == 1


def test_a_rebuild_resets_the_worker_which_reads_the_log_again_and_sends_nothing_twice(
        rig: Rig, store_url: str) -> None:
    ref = rig.raise_concern("Core group did not meet for two months.")
    rig.worker.tick()
    head = rig.wiring.follower.head()
    assert rig.worker.position() == head
    posted = len(rig.fake.calls_to("chat.postMessage"))
    assert rig.posts("DU0SCMGR", ref)  # the alert went
    rebuilt = run_cli("projections", "rebuild", url=store_url, check=True)
    assert rebuilt.returncode == 0
    assert rig.worker.position_or_zero() == 0  # the rebuild forgot where the worker was
    rig.worker.tick()
    assert rig.worker.position() == head  # it read the whole log again ...
    assert len(rig.fake.calls_to("chat.postMessage")) == posted  # ... and sent nothing again
    assert not rig.fake.calls_to("chat.update")


def test_the_sweep_keeps_its_own_schedule_and_alerts_go_first(rig: Rig) -> None:
    rig.worker.settle = 0.0
    rig.worker.recheck = 3600.0
    # Something the sweep checks every time: an action due soon whose owner is not on Slack
    # (its reminder cannot go, so it stays due).
    rig.wiring.app.plan_action(c.PlanAction(
        programme=PID, action="A1.2", recommendation=1, owner="sch.mgr", by="ql",
        occurred_on=rig.clock.today(), description="Audit every school's reports",
        measure="A report from each school", due=CLOCK_DAY + timedelta(days=10)))
    sweeps: list[date] = []
    sweep = rig.worker.due.run

    def counted(today: date, between: Any = None) -> None:
        sweeps.append(today)
        sweep(today, between=between)

    rig.worker.due.run = counted  # type: ignore[method-assign]
    rig.worker.tick()  # the first round sweeps, and the worker records its deliveries
    assert len(sweeps) == 1 and rig.fake.calls_to("chat.postMessage")
    rig.worker.tick()  # nothing but the worker's own records since: no sweep
    rig.worker.tick()
    assert len(sweeps) == 1
    # A concern raised while a sweep runs is alerted before the sweep checks anything.
    seen_when_checking: list[int] = []
    check = rig.worker.due.check_programme

    def checking(*args: Any) -> None:
        if not seen_when_checking:
            seen_when_checking.append(len(rig.posts("DU0SCMGR", first)))
        check(*args)

    rig.worker.due.check_programme = checking  # type: ignore[method-assign,assignment]
    first = rig.raise_concern("Nobody saw the baby for a month.")
    rig.worker.tick()  # someone else's event: alerted at once, then a sweep
    assert len(sweeps) == 2
    assert seen_when_checking == [1]  # the alert went before the sweep checked anything
    rig.worker.tick()
    assert len(sweeps) == 2  # the alert's own delivery record brings no sweep
    sweeps_before = len(sweeps)
    midway: list[str] = []

    def raising_midway(*args: Any) -> None:
        if not midway:
            midway.append(rig.raise_concern("Nobody saw the baby again."))  # mid-sweep
        check(*args)

    rig.worker.due.check_programme = raising_midway  # type: ignore[method-assign,assignment]
    rig.day(CLOCK_DAY + timedelta(days=1))  # a new day: a sweep even with nothing new
    assert len(sweeps) == sweeps_before + 1
    assert len(rig.posts("DU0SCMGR", midway[0])) == 1  # read and alerted within the round


def test_an_alert_reaches_a_manager_added_after_the_last_alert(rig: Rig) -> None:
    first = rig.raise_concern("Core group did not meet.")
    rig.worker.tick()
    assert rig.posts("DU0SCMGR", first)
    rig.wiring.app.register_person(c.RegisterPerson(
        person="sc.mgr2", name="Robin Manager", agency="social-care", roles=["manager"],
        slack_user="U0SCMGR2", by="ql"))
    second = rig.raise_concern("Nobody visited the home.")
    rig.worker.tick()  # the directory the alerts read is read again after the new entry
    assert rig.posts("DU0SCMGR", second) and rig.posts("DU0SCMGR2", second)
    assert not rig.posts("DU0SCMGR2", first)


def test_a_concern_is_alerted_ahead_of_a_backlog_of_other_work(rig: Rig) -> None:
    """Someone else's import before the concern (feedback to send) does not hold the alert
    back: it goes first, and once only."""
    order: list[str] = []
    send_feedback = rig.worker.teller.send_feedback

    def feedback(programme: str, case: str, agency: str) -> None:
        order.append(f"feedback {case}")
        send_feedback(programme, case, agency)

    rig.worker.teller.send_feedback = feedback  # type: ignore[method-assign]
    ref = rig.raise_concern("Nobody saw the baby for a month.")  # after the import's feedback
    alert = rig.worker.teller.alert_concern

    def alerting(programme: str, concern: str, step: int) -> None:
        order.append(f"concern {concern}")
        alert(programme, concern, step)

    rig.worker.teller.alert_concern = alerting  # type: ignore[method-assign,assignment]
    rig.worker.batch = 2  # the backlog takes several batches
    rig.worker.react()
    assert order[0] == f"concern {ref}"
    assert order.count(f"concern {ref}") == 1 and len(order) > 1
    assert len(rig.posts("DU0SCMGR", ref)) == 1


def test_a_concern_raised_while_a_batch_is_worked_through_goes_next(rig: Rig) -> None:
    """Within one batch of slow work, the worker looks ahead for alerts between events."""
    order: list[str] = []
    raised: list[str] = []
    send_feedback, alert = rig.worker.teller.send_feedback, rig.worker.teller.alert_concern

    def feedback(programme: str, case: str, agency: str) -> None:
        order.append(f"feedback {case} {agency}")
        if not raised:  # someone raises a concern while the first feedback goes out
            raised.append(rig.raise_concern("Nobody saw the baby for a month."))
        send_feedback(programme, case, agency)

    def alerting(programme: str, concern: str, step: int) -> None:
        order.append(f"concern {concern}")
        alert(programme, concern, step)

    rig.worker.teller.send_feedback = feedback  # type: ignore[method-assign]
    rig.worker.teller.alert_concern = alerting  # type: ignore[method-assign,assignment]
    rig.worker.poll = 0.0  # look ahead before every event that takes time
    rig.worker.react()
    assert len([o for o in order if o.startswith("feedback")]) >= 2  # one batch of several
    assert order[1] == f"concern {raised[0]}" and order.count(order[1]) == 1
    assert len(rig.posts("DU0SCMGR", raised[0])) == 1


def test_looking_ahead_does_not_search_the_same_backlog_again(rig: Rig,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    while rig.worker.react():  # each look reads to the head as it was: its own records next
        pass
    starts: list[int] = []
    select = rig.wiring.app.recorder.select_notifications

    def selecting(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("topics"):
            starts.append(kwargs["start"])
        return select(*args, **kwargs)

    monkeypatch.setattr(rig.wiring.app.recorder, "select_notifications", selecting)
    head = rig.wiring.follower.head()
    rig.worker.alert_ahead(0)  # from the log's start, as after a rebuild
    assert starts == [head]  # the look already covered up to the head: searched from there
