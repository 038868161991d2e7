"""The alert, escalation and reminder worker in this process, on both stores, against the fake
Slack over real HTTP, with a test clock walked through days and bank holidays."""

from __future__ import annotations

import copy
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

from audit_ledger.wiring import Wiring, wire
from bot.deliver import Deliverer, make_client
from bot.directory import Directory
from bot.services import BotServices
from bot.subjects import concern_subject
from bot.worker import Worker
from ledger import commands as c
from ledger import ids
from ledger.deliveries import Delivery
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack, reference_problems
from ledger.programme import Programme

from .fake_slack import Call, FakeSlack, all_text, buttons

TOKEN = "xoxb-fake-bot-token"
PID = "mini-2026"


class FakeClock:
    """The worker's clock, moved by the test."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 9, tzinfo=UTC)


@dataclass
class Rig:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    clock: FakeClock
    worker: Worker

    def raise_concern(self, summary: str, agency: str = "social-care", at_risk: bool = False
                      ) -> str:
        outcome = self.wiring.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency=agency, by="sc.aud", summary=summary,
            child_at_risk=at_risk, occurred_on=self.clock.today()))
        assert outcome.changed
        return outcome.message.split()[1]

    def posts(self, channel: str, containing: str = "") -> list[Call]:
        return [p for p in self.fake.calls_to("chat.postMessage")
                if p.body.get("channel") == channel and containing in p.body.get("text", "")]

    def day(self, day: date) -> None:
        self.clock.day = day
        self.worker.tick()


def worker_pack(mini_pack: dict[str, Any]) -> dict[str, Any]:
    """The mini audit with a head of service above the social-care manager, a board member and
    the quality lead on Slack, and a programme channel."""
    pack = copy.deepcopy(mini_pack)
    pack["programme"]["channel"] = "C0AUDIT"
    pack["people"].append({"id": "sc.head", "name": "Hana Head", "agency": "csc-leadership",
                           "roles": ["manager"], "slack_user": "U0SCHEAD"})
    for p in pack["people"]:
        if p["id"] == "sc.mgr":
            p["manager"] = "sc.head"
        if p["id"] == "chair":
            p["slack_user"] = "U0CHAIR"
    pack["concerns"] = []
    return pack


@pytest.fixture
def rig(store_url: str, mini_pack: dict[str, Any]) -> Iterator[Rig]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    fake = FakeSlack((TOKEN,)).start()
    clock = FakeClock(date(2026, 4, 2))
    services = BotServices(app=w.app, views=w.views, follower=w.follower,
                           deliver=Deliverer(make_client(TOKEN, fake.api_url)),
                           directory=Directory(w.views), clock=clock)
    try:
        yield Rig(w, fake, services, clock, Worker(services, clock))
    finally:
        services.close()
        fake.stop()
        w.close()


def test_alerts_feedback_and_acknowledgements_update_every_copy(rig: Rig) -> None:
    rig.worker.tick()
    # Feedback: the practitioner's message with both buttons, the manager's copy with one.
    mine = rig.posts("DU0SCSW", "case K01 (social-care)")
    copy_ = rig.posts("DU0SCMGR", "case K01 (social-care)")
    assert len(mine) == 1 and len(copy_) == 1
    assert set(buttons(mine[0].body["blocks"])) == {"feedback.acknowledge", "feedback.respond"}
    assert set(buttons(copy_[0].body["blocks"])) == {"feedback.acknowledge"}

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
    delivery = rig.wiring.app.find(Delivery, ids.delivery_id(PID, concern_subject(ref),
                                                             "concern-alert", "sc.mgr"))
    assert delivery is not None
    assert (delivery.channel, delivery.ts) == ("DU0SCMGR", alert[0].answer["ts"])

    # Nothing is sent twice, however often the worker looks.
    for _ in range(3):
        rig.worker.tick()
    assert len(rig.fake.calls_to("chat.postMessage")) == 6  # 2 x 2 feedback, alert, channel

    # Acknowledged from the shell: both copies of the alert are updated in place.
    rig.wiring.app.acknowledge_concern(c.AcknowledgeConcern(programme=PID, concern=ref,
                                                            by="sc.mgr"))
    rig.worker.tick()
    updates = {u.body["ts"]: u for u in rig.fake.calls_to("chat.update")}
    for posted in (alert[0], channel[0]):
        update = updates[posted.answer["ts"]]
        assert update.body["channel"] == posted.body["channel"]
        assert "Acknowledged by Sam Manager at" in update.body["text"]
        assert "concern.acknowledge" not in buttons(update.body["blocks"])
        assert "MASH" in update.body["blocks"][0]["text"]["text"]

    # Feedback acknowledged: both copies updated; Respond stays while issues await answers.
    rig.wiring.app.acknowledge_feedback(c.AcknowledgeFeedback(programme=PID, case="K01",
                                                              agency="social-care", by="sc.sw"))
    rig.worker.tick()
    updates = {u.body["ts"]: u for u in rig.fake.calls_to("chat.update")}
    practitioner = updates[mine[0].answer["ts"]]
    manager = updates[copy_[0].answer["ts"]]
    assert "Acknowledged by Sasha Worker at" in all_text(practitioner.body["blocks"])
    assert set(buttons(practitioner.body["blocks"])) == {"feedback.respond"}
    assert buttons(manager.body["blocks"]) == {}
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
    stop = threading.Event()
    rig.worker.poll = 0.02
    thread = threading.Thread(target=rig.worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        refs = [rig.raise_concern(f"Concern number {i} about the plan.") for i in range(4)]
        deadline = time.monotonic() + 25
        while len(rig.fake.calls_to("chat.postMessage")) < sent_before + 8:
            assert time.monotonic() < deadline, [(x.method, x.status) for x in rig.fake.calls]
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=10)
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
    """Leaves the first `slow` chat.postMessage calls unanswered for `delay` seconds (the client
    gives up first), then fails them: those messages never reached anyone."""

    def __init__(self, slow: int, delay: float) -> None:
        super().__init__((TOKEN,))
        self.slow = slow
        self.delay = delay

    def handle(self, path: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, dict[str, Any], bytes]:
        if path.endswith("/chat.postMessage"):
            with self.lock:
                slow, self.slow = self.slow > 0, self.slow - 1
                if slow:
                    self.calls.append(Call("chat.postMessage", {}, "", 504))
            if slow:
                time.sleep(self.delay)
                return 504, {"Content-Type": "application/json"}, b'{"ok":false}'
        return super().handle(path, headers, raw)


def test_timeouts_are_retried_and_the_alert_arrives_once(store_url: str,
                                                         mini_pack: dict[str, Any]) -> None:
    w = wire(store_url, "")
    fake = SlowSlack(slow=2, delay=1.0)
    fake.start()
    assert fake.server is not None
    fake.server.handle_error = lambda *args: None  # type: ignore[method-assign]
    try:
        import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
        services = BotServices(app=w.app, views=w.views, follower=w.follower,
                               deliver=Deliverer(make_client(TOKEN, fake.api_url)),
                               directory=Directory(w.views))
        services.deliver.client.timeout = 0.3  # type: ignore[assignment]  # int-typed, float-safe
        worker = Worker(services, FakeClock(date(2026, 4, 2)), poll=0.02)
        ref = w.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Timed out.")).message.split()[1]
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        try:
            fake.wait_for("chat.postMessage", lambda x: ref in x.body.get("text", ""),
                          count=2, timeout=15)  # the manager and the channel
            time.sleep(0.3)
        finally:
            stop.set()
            thread.join(timeout=10)
            services.close()
        assert len(fake.calls_to("chat.postMessage", ok_only=False)) >= 2 + 4 + 2
        posted = Counter((x.body["channel"], x.body["text"])
                         for x in fake.calls_to("chat.postMessage"))
        assert len(posted) == 4 + 2 and set(posted.values()) == {1}  # feedback, alert: once
        alerts = [x.body["channel"] for x in fake.calls_to("chat.postMessage")
                  if ref in x.body.get("text", "")]
        assert sorted(alerts) == ["C0AUDIT", "DU0SCMGR"]
    finally:
        fake.stop()
        w.close()


def test_escalation_climbs_the_whole_ladder_over_easter(rig: Rig) -> None:
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
    assert "deadline 2026-04-08" in all_text(head[0].body["blocks"])
    # The head of service is not one of social-care's managers: told, without buttons to press.
    assert buttons(head[0].body["blocks"]) == {}
    assert "Escalated to you: step 4 of 4" in all_text(chair[0].body["blocks"])
    assert len(rig.posts("DU0SCMGR", ref)) == 1  # the first alert once, never again

    # Acknowledged at last: every copy, at every step, is updated in place.
    rig.wiring.app.acknowledge_concern(c.AcknowledgeConcern(programme=PID, concern=ref,
                                                            by="sc.mgr"))
    rig.worker.tick()
    updated = {u.body["ts"] for u in rig.fake.calls_to("chat.update")}
    for posted in (*rig.posts("DU0SCMGR", ref), *rig.posts("C0AUDIT", ref), *head, *lead, *chair):
        assert posted.answer["ts"] in updated


def test_a_programme_sets_its_own_ladder(store_url: str, mini_pack: dict[str, Any]) -> None:
    pack = worker_pack(mini_pack)
    pack["programme"]["escalation"] = [1, 1, 1]
    w = wire(store_url, "")
    fake = FakeSlack((TOKEN,)).start()
    try:
        import_pack(w.app, parse_pack(pack), "import")
        clock = FakeClock(date(2026, 4, 2))
        services = BotServices(app=w.app, views=w.views, follower=w.follower,
                               deliver=Deliverer(make_client(TOKEN, fake.api_url)),
                               directory=Directory(w.views))
        worker = Worker(services, clock)
        ref = w.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Late.", occurred_on=clock.today())).message.split()[1]
        worker.tick()
        clock.day = date(2026, 4, 8)  # one working day (the 7th) has passed
        worker.tick()
        concern = services.fresh().concern(PID, ref)
        assert concern is not None and concern["step"] == 2
        assert w.views.programme(PID)["escalation"] == [1, 1, 1]
    finally:
        fake.stop()
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
    created = wiring.app.repository.event_store.get(ids.programme_id("old-2025"))
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
        description="Brief every social work team on reporting to reviews",
        measure="Briefing notes from each team", due=date(2026, 4, 20)))
    rig.worker.tick()  # Thursday 2 April: feedback delivered; A1.2 due in 18 days
    assert not rig.posts("DU0SCMGR", "A1.2")
    rig.day(date(2026, 4, 6))  # Easter Monday: due in 14 days
    soon = rig.posts("DU0SCMGR", "A1.2")
    assert len(soon) == 1 and "is due on 2026-04-20" in soon[0].body["text"]
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
    rig.wiring.app.acknowledge_feedback(c.AcknowledgeFeedback(programme=PID, case="K02",
                                                              agency="social-care", by="sc.sw"))
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
    stop = threading.Event()
    rig.worker.poll = 0.02
    thread = threading.Thread(target=rig.worker.run, args=(stop,), daemon=True)
    thread.start()
    other = wire(store_url, "")  # someone at the shell
    try:
        ref = other.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Raised while the worker's connections were gone.",
            occurred_on=rig.clock.today())).message.split()[1]
        rig.fake.wait_for("chat.postMessage", lambda x: ref in x.body.get("text", ""), count=2,
                          timeout=15)
    finally:
        stop.set()
        thread.join(timeout=10)
        other.close()
    assert len(rig.posts("DU0SCMGR", ref)) == 1
