"""The alert, escalation and reminder worker: its loop, following the log from its own position.

It follows the event log from its own tracking position (`worker`, kept beside the views'
positions in the same database) and carries out what `policies.escalation` decides:

- a concern raised: alert the agency's managers by direct message, and the programme's channel;
- a concern escalated: alert the step's recipients;
- feedback issued: the practitioner's direct message and their manager's copy;
- a concern or feedback acknowledged, answered, acted on or closed: every delivered copy is
  updated in place (chat.update at the recorded channel and ts);
- a case's text erased: every delivered copy of its feedback and concerns is updated in place
  to read as the record now does;
- on its own schedule, by the injected clock: the sweep of what falls due (`due`): escalations,
  feedback and action reminders, the weekly digest.

Alerts come first, always: concerns raised and escalated are alerted on a lane of their own
(`alert_lane`: its own thread and database connection, woken as events are committed), so no
sweep, backlog of feedback or slow Slack call sits in front of one; the rest of the work never
passes the lane. Driven round by round (`tick`, as the tests do) the lane's looks are made on
the caller's thread: first in each round, between programmes and before each message of a
sweep. A sweep reads only what the due index lists for the days up to today (`due`), and runs
when the day changes, every `recheck` seconds, and (not sooner than `settle` seconds after the
last one) when someone else's events arrived; never because of the worker's own records
(deliveries and escalations).

Who is told what is `telling`; sending each message once is `courier`; one worker at a time is
`lease`. Only a process that dies between Slack's answer and the delivery's record sends the
message again when it restarts. When Slack is unavailable (429, 5xx, timeouts, beyond the
client's own retries) the worker stops where it is, waits (Retry-After, or backing off) and
carries on from the same event: nothing is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from ledger.base import Act
from ledger.case_audit import CaseAudit
from ledger.concerns import Concern
from ledger.deliveries import Delivery
from ledger.feedback import Feedback
from policies.subjects import concern_subject, feedback_subject
from projections.store import PositionMoved

from .alert_lane import AlertLane, run_lane
from .clock import Clock
from .courier import Courier, wait_after
from .directory import Directory
from .due import DueChecks
from .lease import Lease
from .services import BotServices
from .telling import Teller
from .wake import Polling, Wake, wake_for

log = logging.getLogger(__name__)

Doc = dict[str, Any]

TRACKING_NAME = "worker"
WORKER = "audit-ledger-worker"
"""Who the worker's records name as having acted (`by`)."""

POLL = 0.05
BATCH = 200
RECHECK = 60.0
"""Seconds after which the sweep runs again even when nothing else changed."""
SETTLE = 1.0
"""Seconds at least between two sweeps brought on by other people's events."""

ACKNOWLEDGED_AND_ANSWERED = {Concern.Acknowledged.TOPIC, Concern.ActionRecorded.TOPIC,
                             Concern.Closed.TOPIC, Feedback.Acknowledged.TOPIC,
                             Feedback.IssueResponded.TOPIC, Feedback.SeenByManager.TOPIC}
TOPICS = {Feedback.Created.TOPIC, CaseAudit.TextErased.TOPIC, *ACKNOWLEDGED_AND_ANSWERED}
"""What the worker's other work reads the log for (concerns raised and escalated are the
alert lane's, `ALERTS`)."""
LANE_STOP = 5.0
"""Seconds the worker waits for its alert lane to finish when stopped."""
OWN_RECORDS = {Delivery.Created.TOPIC, Delivery.Updated.TOPIC, Concern.Escalated.TOPIC}
"""What the worker itself records: never a reason to sweep again."""


class Worker:
    """Follows the log and does what the policies decide; run by `bot serve` or on its own."""

    def __init__(self, services: BotServices, clock: Clock | None = None, *,
                 poll: float = POLL, batch: int = BATCH, recheck: float = RECHECK,
                 settle: float = SETTLE, lease: Lease | None = None,
                 daily: Callable[[date], None] | None = None) -> None:
        self.s = services
        self.clock: Clock = clock or services.clock
        self.poll = poll
        self.batch = batch
        self.recheck = recheck
        self.settle = settle
        self.lease = lease
        self.daily = daily
        """Called with the day at the end of each round (the daily digest): it
        keeps its own account of what it did today, and never holds the round up."""
        self.stop = threading.Event()
        self.courier = Courier(services, self.act, before=self.alerts_meanwhile)
        self.teller = Teller(services, self.courier)
        self.due = DueChecks(services, self.courier)
        self.lane = AlertLane(services, self.act, self.position, batch=batch)
        """Concerns raised and escalated: on its own thread in `run`, else looked at here."""
        self._lane_running = False
        self._lane_looked = 0.0
        self._checked_day: date | None = None
        self._checked_at = 0.0
        self._others_wrote = True
        self._standing_by = False

    # ---- where we are ---------------------------------------------------------------------

    def position(self) -> int:
        return self.s.follower.store.positions().get(TRACKING_NAME, 0)

    def head(self) -> int:
        return self.s.follower.head()

    def act(self) -> Act:
        return Act(WORKER, self.clock.today().isoformat())

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Tick every `poll` seconds until stopped. Failures are waited out, never fatal: Slack's
        Retry-After is honoured, other failures back off up to 30 s."""
        if stop is not None:
            self.stop = stop
        failures = 0
        log.info("worker started at position %d", self.position_or_zero())
        leading = threading.Event()
        """Set while this worker holds the lease: the alert lane works only then."""
        stop_lane = self._start_lane(leading)
        try:
            while not self.stop.is_set():
                if self.lease is not None and not self.lease.hold():
                    leading.clear()
                    if not self._standing_by:
                        log.warning("another worker is running on this store; standing by")
                        self._standing_by = True
                    self.stop.wait(1.0)
                    continue
                if self._standing_by:
                    log.info("worker taking over")
                    self._standing_by = False
                leading.set()
                try:
                    self.tick()
                    failures = 0
                except Exception as e:  # noqa: BLE001 - supervise: said and waited out
                    failures += 1
                    self.stop.wait(wait_after(e, failures, "other work"))
                    continue
                self.stop.wait(self.poll)
        finally:
            leading.clear()
            stop_lane()
            if self.lease is not None:
                self.lease.release()

    def _start_lane(self, leading: threading.Event) -> Callable[[], None]:
        """The alert lane on a thread of its own, reading the store on connections of its own
        (another opening of the same store: a busy view store or connection pool never holds
        an alert up), woken by the store as events are committed; returns what stops it."""
        stop = threading.Event()
        reading = None
        wake: Wake = Polling(stop)
        services = self.s
        if self.s.follower.opener is not None:
            try:
                reading = self.s.follower.opener()
            except Exception as e:  # noqa: BLE001 - the lane can share this worker's
                log.warning("the alert lane could not open the store on its own (%s); it "
                            "shares the worker's connections", type(e).__name__)
        if reading is not None:
            d = self.s.directory
            services = replace(self.s, views=reading.views, follower=reading.follower,
                               directory=Directory(reading.views, d.extra,
                                                   any_workspace=d.any_workspace,
                                                   workspace=d.workspace))
            wake = wake_for(reading.settings, reading.app.recorder, stop)
        here = self.lane  # looked at on the caller's thread again once stopped
        lane = self.lane = AlertLane(services, self.act, self.position, batch=self.batch,
                                     reader=reading.app if reading is not None else None)
        thread = threading.Thread(target=run_lane, args=(lane, wake, stop, leading, self.poll),
                                  name="alert-lane", daemon=True)
        self._lane_running = True
        thread.start()

        def stopping() -> None:
            stop.set()
            thread.join(LANE_STOP)
            wake.close()
            if lane.done is not None:
                here.done = lane.done
            self.lane, self._lane_running = here, False
            if reading is not None and not thread.is_alive():
                reading.close()

        return stopping

    def position_or_zero(self) -> int:
        try:
            return self.position()
        except Exception:  # noqa: BLE001 - only for the first log line
            return 0

    def tick(self) -> int:
        """One round: react to new events (alerts first), then the sweep when it is due, with
        the log read again after each programme it checks; the views are then brought up to
        what the round recorded. Returns how many events were read."""
        self.alerts_first()
        read = self.react()
        if self._sweep_due():
            read += self.check_time()
        if self.daily is not None:
            self.daily(self.clock.today())
        if read:
            self.s.follower.catch_up()
        return read

    def _sweep_due(self) -> bool:
        since = time.monotonic() - self._checked_at
        return (self.clock.today() != self._checked_day or since >= self.recheck
                or (self._others_wrote and since >= self.settle))

    def check_time(self) -> int:
        """Escalations, reminders and the digest due today (by the clock), reacting to the log
        between programmes so that alerts never wait for the whole sweep. Returns how many
        events were read meanwhile."""
        today = self.clock.today()
        self._others_wrote = False
        read = [0]

        def between() -> None:
            self.alerts_first()
            read[0] += self.react()

        self.due.run(today, between=between)
        between()
        self._checked_day = today
        self._checked_at = time.monotonic()
        return read[0]

    # ---- following the log ------------------------------------------------------------------

    def react(self) -> int:
        """Handle every event after our position up to the log's head as it was on starting
        (so that a busy writer never keeps the sweep from its turn), never past the alert
        lane (`AlertLane.alerted_through`); the position moves after each batch, only past
        events whose messages are all sent (or could never be)."""
        store = self.s.follower.store
        read = 0
        head = min(self.head(), self.lane.alerted_through())
        while not self.stop.is_set():
            position = self.position()
            if head <= position:
                return read
            notifications = self.s.app.recorder.select_notifications(
                start=position, limit=self.batch, stop=head, inclusive_of_start=False)
            if not notifications:
                return read
            if any(n.topic not in OWN_RECORDS for n in notifications):
                self._others_wrote = True
            views_at = -1
            done = position
            try:
                for n in notifications:
                    if n.topic in TOPICS:  # concerns raised and escalated: the lane's
                        if n.id > views_at:
                            self.s.follower.catch_up()
                            views_at = self.s.follower.position()
                        self.handle(self.s.app.mapper.to_domain_event(n), n.topic, n.id)
                    done = n.id
            finally:
                if done > position:
                    try:
                        store.commit({}, {TRACKING_NAME: position}, done)
                    except PositionMoved:
                        log.warning("another worker moved the position; carrying on from it")
            read += len(notifications)
        return read

    def alerts_first(self) -> None:
        """Driven round by round (the lane not on its own thread): the alert lane's look,
        made here, before anything else."""
        if not self._lane_running:
            self._lane_looked = time.monotonic()
            self.lane.look(self.stop)

    def alerts_meanwhile(self) -> None:
        """Before each message of other work (the courier's `before`), driven round by
        round: the alert lane's look, at most once a `poll`."""
        if not self._lane_running and time.monotonic() - self._lane_looked >= self.poll:
            self.alerts_first()

    def handle(self, event: Any, topic: str, position: int) -> None:
        if isinstance(event, Feedback.Created):
            self.teller.send_feedback(event.programme, event.case, event.agency)
        else:
            index = self._index(event.originator_id)
            if isinstance(event, CaseAudit.TextErased) and index is not None and \
                    index.get("view") == "case":
                case = str(index["key"]).split("/", 1)[1]
                self.teller.erased(index["programme"], case, f"CaseTextErased at position "
                                                              f"{position}")
                return
            if index is None or index.get("view") not in ("concern", "feedback"):
                return
            rest = str(index["key"]).split("/", 1)[1]
            if topic in ACKNOWLEDGED_AND_ANSWERED:
                subject = (concern_subject(rest) if index["view"] == "concern"
                           else feedback_subject(*rest.split("/", 1)))
                self.teller.refresh(index["programme"], subject,
                                    f"{topic.split(':')[-1]} at position {position}")

    def _index(self, originator: UUID) -> Doc | None:
        return self.s.follower.store.get("ids", str(originator))


def start_in_thread(worker: Worker, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker.run, args=(stop,), name="alert-worker", daemon=True)
    thread.start()
    return thread
