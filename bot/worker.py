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

Alerts come first, always: each round reads the log and tells people what it holds before any
sweep, and a sweep stops after each programme to read the log again, so a concern raised while
it runs waits for one programme's checks at most. Concerns raised or escalated further on in the
log are alerted ahead of the work before them (`alert_ahead`), so a backlog of other people's
feedback and updates never holds an alert back. A sweep reads only what the due index lists
for the days up to today (`due`). The sweep runs when the day changes, every
`recheck` seconds, and (not sooner than `settle` seconds after the last one) when someone else's
events arrived; never because of the worker's own records (deliveries and escalations).

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
from datetime import date
from typing import Any
from uuid import UUID

from ledger.base import Act
from ledger.case_audit import CaseAudit
from ledger.concerns import Concern
from ledger.deliveries import Delivery
from ledger.feedback import Feedback
from ledger.signing import ChainRefused
from policies.subjects import concern_subject, feedback_subject
from projections.store import PositionMoved

from .clock import Clock
from .courier import Courier, SlackUnavailable
from .due import DueChecks
from .lease import Lease
from .services import BotServices
from .telling import Teller

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
TOPICS = {Concern.Created.TOPIC, Concern.Escalated.TOPIC, Feedback.Created.TOPIC,
          CaseAudit.TextErased.TOPIC, *ACKNOWLEDGED_AND_ANSWERED}
ALERTS = (Concern.Created.TOPIC, Concern.Escalated.TOPIC)
"""What is alerted ahead of its turn in the log (`Worker.alert_ahead`)."""
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
        self._checked_day: date | None = None
        self._checked_at = 0.0
        self._others_wrote = True
        self._standing_by = False
        self._alerted_to = 0
        """The last concern raised or escalated that was alerted ahead of its turn."""
        self._ahead_at = 0.0
        self._looked_to = 0
        self._alerting = False

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
        try:
            while not self.stop.is_set():
                if self.lease is not None and not self.lease.hold():
                    if not self._standing_by:
                        log.warning("another worker is running on this store; standing by")
                        self._standing_by = True
                    self.stop.wait(1.0)
                    continue
                if self._standing_by:
                    log.info("worker taking over")
                    self._standing_by = False
                try:
                    self.tick()
                    failures = 0
                except SlackUnavailable as e:
                    failures += 1
                    wait = e.retry_after or min(30.0, 0.1 * 2 ** min(failures, 9))
                    log.warning("Slack unavailable (%s); trying the same message again in "
                                "%.1f s", e, wait)
                    self.stop.wait(wait)
                    continue
                except Exception as e:  # noqa: BLE001 - supervise: log the kind, wait, go on
                    failures += 1
                    wait = min(30.0, 0.1 * 2 ** min(failures, 9))
                    # A refused chain is said in its own words (they hold no personal text).
                    why = "; ".join(e.problems) if isinstance(e, ChainRefused) \
                        else type(e).__name__
                    log.warning("worker round failed (%s); trying again in %.1f s", why, wait)
                    self.stop.wait(wait)
                    continue
                self.stop.wait(self.poll)
        finally:
            if self.lease is not None:
                self.lease.release()

    def position_or_zero(self) -> int:
        try:
            return self.position()
        except Exception:  # noqa: BLE001 - only for the first log line
            return 0

    def tick(self) -> int:
        """One round: react to new events (alerts first), then the sweep when it is due, with
        the log read again after each programme it checks; the views are then brought up to
        what the round recorded. Returns how many events were read."""
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
            read[0] += self.react()

        self.due.run(today, between=between)
        read[0] += self.react()
        self._checked_day = today
        self._checked_at = time.monotonic()
        return read[0]

    # ---- following the log ------------------------------------------------------------------

    def react(self) -> int:
        """Handle every event after our position up to the log's head as it was on starting
        (so that a busy writer never keeps the sweep from its turn); the position moves after
        each batch, only past events whose messages are all sent (or could never be)."""
        store = self.s.follower.store
        read = 0
        head = self.head()
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
            self.alert_ahead(position)
            views_at = -1
            done = position
            try:
                for n in notifications:
                    if n.topic in TOPICS and time.monotonic() - self._ahead_at >= self.poll:
                        self.alert_ahead(n.id - 1)  # between the events that take time
                    if n.topic in ALERTS and n.id <= self._alerted_to:
                        pass  # alerted ahead of its turn
                    elif n.topic in TOPICS:
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

    def alert_ahead(self, position: int) -> None:
        """Alerts first, always: concerns raised or escalated further on in the log than the
        worker has read are alerted now, ahead of the backlog of other work before them
        (feedback, copies brought up to date, someone else's busy import), which could
        otherwise hold an alert back for as long as that backlog takes; their own turn in the
        log then passes them by. Looked for before each batch and, within one, between the
        events that take time (at most once a `poll`)."""
        self._ahead_at = time.monotonic()
        if self._alerting:
            return
        self._alerting = True
        try:
            self._alert_ahead(position)
        finally:
            self._alerting = False

    def alerts_meanwhile(self) -> None:
        """Before each message of other work (the courier's `before`): alerts first, looked
        for at most once a `poll`, from where the last look stopped."""
        if self._looked_to and not self._alerting and \
                time.monotonic() - self._ahead_at >= self.poll:
            self.alert_ahead(self._looked_to)

    def _alert_ahead(self, position: int) -> None:
        head = self.head()
        found = self.s.app.recorder.select_notifications(
            start=max(position, self._alerted_to, self._looked_to), limit=self.batch,
            stop=head, topics=ALERTS, inclusive_of_start=False)
        # Where to look from next time: past what this look covered, so a long backlog is not
        # searched again each time (one found later in its turn is alerted then).
        self._looked_to = found[-1].id if len(found) == self.batch else head
        for n in found:
            if self.stop.is_set():
                return
            # Folded up to the alert's own event (one read when already there), not up to
            # whatever a busy writer added since.
            self.s.follower.catch_up(until=n.id)
            self.handle(self.s.app.mapper.to_domain_event(n), n.topic, n.id)
            self._alerted_to = n.id

    def handle(self, event: Any, topic: str, position: int) -> None:
        if isinstance(event, Concern.Created):
            self.teller.alert_concern(event.programme, event.ref, 1)
        elif isinstance(event, Feedback.Created):
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
            if isinstance(event, Concern.Escalated):
                self.teller.alert_concern(index["programme"], rest, event.step)
            elif topic in ACKNOWLEDGED_AND_ANSWERED:
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
