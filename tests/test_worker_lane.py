"""The worker's alert lane: concern alerts on a thread and connection of their own, woken by the
store, on both stores, against the fake Slack over real HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from audit_ledger.wiring import Wiring, wire
from bot import wake
from bot import worker as worker_module
from bot.clock import FixedClock
from bot.courier import Message
from bot.services import BotServices
from bot.worker import Worker
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack
from ledger.settings import StoreSettings

from .conftest import CLOCK_DAY, bot_services, worker_pack
from .fake_slack import Call, FakeSlack

PID = "mini-2026"
WAIT = 30.0
"""Seconds an alert is waited for before the test fails (polled, never slept)."""


@dataclass
class Lane:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    worker: Worker

    def raise_concern(self, summary: str) -> str:
        outcome = self.wiring.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud", summary=summary,
            occurred_on=CLOCK_DAY))
        assert outcome.changed
        return outcome.message.split()[1]

    def alert_for(self, ref: str) -> list[Call]:
        """The alert's first message reaching Slack (waited for; fails after WAIT s)."""
        return self.fake.wait_for("chat.postMessage", carrying(ref), timeout=WAIT)

    def running(self, poll: float) -> Callable[[], None]:
        """The worker's own loop in a thread, as `bot serve` runs it; returns what stops it."""
        stop = threading.Event()
        self.worker.poll = poll
        thread = threading.Thread(target=self.worker.run, args=(stop,), daemon=True)
        thread.start()
        until(lambda: self.worker.lane.alerted_through() > 0)  # the lane's first look

        def stopping() -> None:
            stop.set()
            thread.join(timeout=WAIT)
            assert not thread.is_alive()

        return stopping


def carrying(ref: str) -> Callable[[Call], bool]:
    return lambda call: ref in call.body.get("text", "")


def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.02)


@pytest.fixture
def lane(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> Iterator[Lane]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    services = bot_services(w, fake_slack, clock=FixedClock(CLOCK_DAY))
    try:
        yield Lane(w, fake_slack, services, Worker(services))
    finally:
        services.close()
        w.close()


def alerts_once(lane: Lane, ref: str) -> None:
    """The concern's alert reached its manager and the programme's channel, once each."""
    sent = Counter(p.body["channel"] for p in lane.fake.calls_to("chat.postMessage")
                   if p.answer.get("ok") and ref in p.body.get("text", ""))
    assert sent == {"DU0SCMGR": 1, "C0AUDIT": 1}


def test_an_alert_goes_out_while_a_sweep_is_held_up(lane: Lane) -> None:
    """The sweep (escalations, reminders, digests: at scale thousands of messages) is held in
    the middle of its work; a concern raised meanwhile is alerted all the same, once."""
    sweeping, release = threading.Event(), threading.Event()
    sweep = lane.worker.due.run

    def held(today: date, between: Any = None) -> None:
        sweeping.set()
        release.wait(WAIT)
        sweep(today, between=between)

    lane.worker.due.run = held  # type: ignore[method-assign]
    stop = lane.running(poll=0.02)
    try:
        assert sweeping.wait(WAIT)  # the first round's sweep is under way, and held
        ref = lane.raise_concern("Nobody saw the child for a month.")
        lane.alert_for(ref)
        assert not release.is_set() and lane.worker.lane.alerted_through() > 0
        release.set()
        until(lambda: lane.worker.position() >= lane.wiring.follower.head())
    finally:
        release.set()
        stop()
    alerts_once(lane, ref)
    # The rest of the work went on once the sweep was let go: the feedback was sent.
    assert [p for p in lane.fake.calls_to("chat.postMessage")
            if "case K01 (social-care)" in p.body.get("text", "")]


def test_the_rest_of_the_work_never_passes_the_alert_lane(lane: Lane) -> None:
    """A concern acknowledged while its alert is going out (the manager's copy sent, the
    channel's not yet): were the acknowledgement read before the alert was all out, only the
    copies sent so far would be updated, and the channel's would show it unanswered for
    good. The worker's other work waits for the lane, so every copy is updated."""
    held, release = threading.Event(), threading.Event()
    rounds = [0]
    tick = lane.worker.tick

    def counted() -> int:
        rounds[0] += 1
        return tick()

    lane.worker.tick = counted  # type: ignore[method-assign]
    stop = lane.running(poll=0.02)
    try:
        courier = lane.worker.lane.courier
        send = courier.send
        concern_messages: list[Message] = []

        def second_held(m: Message, channel: str = "") -> bool:
            if m.subject.startswith("concern/"):
                concern_messages.append(m)
                if len(concern_messages) == 2:
                    held.set()
                    release.wait(WAIT)
            return send(m, channel)

        courier.send = second_held  # type: ignore[method-assign]
        ref = lane.raise_concern("Nobody saw the child for a month.")
        raised_at = lane.wiring.follower.head()
        assert held.wait(WAIT)  # the manager's copy is out; the channel's waits
        lane.wiring.app.acknowledge_concern(c.AcknowledgeConcern(
            programme=PID, concern=ref, by="sc.mgr", occurred_on=CLOCK_DAY))
        after = rounds[0]
        until(lambda: rounds[0] >= after + 3)  # rounds of the other work meanwhile
        assert lane.worker.position() < raised_at  # none read the concern, nor what followed
        release.set()
        until(lambda: lane.worker.position() >= lane.wiring.follower.head())
    finally:
        release.set()
        stop()
    alerts_once(lane, ref)
    posted = {p.answer["ts"] for p in lane.fake.calls_to("chat.postMessage")
              if ref in p.body.get("text", "")}
    updated = {u.body["ts"] for u in lane.fake.calls_to("chat.update")
               if "Acknowledged by" in u.body.get("text", "")}
    assert len(posted) == 2 and posted <= updated


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)  # SQLite tells nobody
def test_the_store_wakes_the_alert_lane(lane: Lane) -> None:
    """PostgreSQL tells the lane as the concern is committed: with ten minutes between
    looks, the alert still goes out at once."""
    stop = lane.running(poll=600.0)
    try:
        ref = lane.raise_concern("Nobody saw the child for a month.")
        lane.fake.wait_for("chat.postMessage", carrying(ref), count=2, timeout=WAIT)
    finally:
        stop()
    alerts_once(lane, ref)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_without_notifications_the_lane_still_looks_every_poll(
        lane: Lane, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listening where nobody notifies (as when notifications are lost): the poll finds the
    concern."""
    told: list[bool] = []

    def deaf(settings: StoreSettings, recorder: Any, stop: threading.Event) -> wake.Wake:
        listening = wake.Listening(settings, "audit_ledger_nobody_notifies", stop)
        waiting = listening.wait

        def wait(timeout: float) -> bool:
            told.append(waiting(timeout))
            return told[-1]

        listening.wait = wait  # type: ignore[method-assign]
        return listening

    monkeypatch.setattr(worker_module, "wake_for", deaf)
    stop = lane.running(poll=0.05)
    try:
        ref = lane.raise_concern("Nobody saw the child for a month.")
        lane.fake.wait_for("chat.postMessage", carrying(ref), count=2, timeout=WAIT)
    finally:
        stop()
    alerts_once(lane, ref)
    assert told and not any(told)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_lost_listening_connection_is_looked_past_and_made_again(
        lane: Lane, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL drops the lane's listening connection: the lane still finds the next
    concern (it looks while it listens again) and is woken by the store again after."""
    import psycopg

    from .conftest import PG_BASE

    made: list[wake.Listening] = []

    def recorded(settings: StoreSettings, recorder: Any, stop: threading.Event) -> wake.Wake:
        found = wake.wake_for(settings, recorder, stop)
        assert isinstance(found, wake.Listening)
        made.append(found)
        return found

    monkeypatch.setattr(worker_module, "wake_for", recorded)
    stop = lane.running(poll=600.0)
    try:
        listening = made[0]
        first = listening.conn.info.backend_pid
        with psycopg.connect(PG_BASE, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        ref = lane.raise_concern("Nobody saw the child for a month.")
        lane.alert_for(ref)
        until(lambda: listening.conn is not None and listening.conn.info.backend_pid != first)
        again = lane.raise_concern("Nobody saw the baby either.")
        lane.alert_for(again)  # ten minutes between looks: woken by the store
    finally:
        stop()
    alerts_once(lane, ref)
    alerts_once(lane, again)
