"""Concern alerts on a lane of their own, so that nothing else the worker does sits in front of one.

The worker's other work (feedback, copies brought up to date, and the sweep of what falls due:
at national scale thousands of reminders and escalations when many programmes fall due at
once, each a Slack call) runs on the worker's thread. Concerns raised and escalated are alerted
here, on a thread and database connection of their own (`bot serve`, `audit-ledger worker`),
woken as events are committed (`wake`: PostgreSQL's NOTIFY, else every poll). The lane reads
only the events that raise or escalate a concern (the store filters them by topic) from where
everything before was alerted (`done`), and folds the views an alert reads only up to its own
event, and only for its programme's partnership and the directory when the views know which.

Exactly once, as everywhere in the worker: each message is looked for in the ledger before it
is posted and recorded right after (`courier`). The worker's other work never passes the lane
(`Worker.react` reads up to `done`), so an acknowledgement's update of every copy comes after
the alert's copies are out. A worker started again begins the lane at its own position (every
alert before it was out); alerts out after it are found in the ledger and not sent again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ledger.base import Act
from ledger.concerns import Concern
from projections.partitions import DIRECTORY, PARTITIONS, partition_of
from projections.queries import partnership_of

from .courier import Courier, wait_after
from .services import BotServices
from .telling import Teller
from .wake import Wake

log = logging.getLogger("bot.worker")

ALERTS = (Concern.Created.TOPIC, Concern.Escalated.TOPIC)
"""The events the lane reads: a concern raised, a concern escalated."""


class AlertLane:
    """Alerts every concern raised or escalated after `done`, in the log's order."""

    def __init__(self, services: BotServices, act: Callable[[], Act], start: Callable[[], int],
                 *, batch: int, reader: Any = None) -> None:
        self.s = services
        self.reader = reader if reader is not None else services.app
        """Whose recorder and mapper the lane reads the log with (its own connections when
        it runs on its own thread)."""
        self.courier = Courier(services, act)
        self.teller = Teller(services, self.courier)
        self.start = start
        self.batch = batch
        self.done: int | None = None
        """Every alert up to this position is out (None before the first look)."""
        self._looking = threading.Lock()

    def alerted_through(self) -> int:
        """Where the worker's other work may read up to: every alert before it is out."""
        return self.done or 0

    def look(self, stop: threading.Event) -> int:
        """Alert every concern raised or escalated since the last look, up to the log's head
        as it was on starting; returns how many were alerted. A failure (Slack unavailable)
        leaves `done` before the alert that failed, to be tried again."""
        with self._looking:
            if self.done is None:
                self.done = self.start()
            recorder = self.reader.recorder
            head = int(recorder.max_notification_id() or 0)
            alerted = 0
            while self.done < head and not stop.is_set():
                found = recorder.select_notifications(start=self.done, limit=self.batch,
                                                      stop=head, topics=ALERTS,
                                                      inclusive_of_start=False)
                for n in found:
                    if stop.is_set():
                        return alerted
                    self.alert(n)
                    self.done = n.id
                    alerted += 1
                if len(found) < self.batch:
                    self.done = head
            return alerted

    def alert(self, n: Any) -> None:
        """One concern raised or escalated: the views folded up to its event (not beyond, to
        whatever a busy writer added since), then its alert at its step."""
        event = self.reader.mapper.to_domain_event(n)
        if isinstance(event, Concern.Created):
            self._fold(n.id, event.programme)
            self.teller.alert_concern(event.programme, event.ref, 1)
            return
        if not isinstance(event, Concern.Escalated):
            return
        index = self._index(event.originator_id)
        self._fold(n.id, str(index["programme"]) if index else "")
        index = index or self._index(event.originator_id)
        if index is None or index.get("view") != "concern":
            log.warning("an escalated concern at position %d is not in the views; no alert",
                        n.id)
            return
        self.teller.alert_concern(str(index["programme"]), str(index["key"]).split("/", 1)[1],
                                  event.step)

    def _index(self, originator: Any) -> dict[str, Any] | None:
        return self.s.follower.store.get("ids", str(originator))

    def _fold(self, position: int, programme: str) -> None:
        """The views an alert reads brought up to its event: its programme's partnership's
        partition and the directory's when the views know the programme, else all."""
        prog = self.s.programme(programme) if programme else None
        parts = (frozenset({partition_of(partnership_of(prog)), DIRECTORY})
                 if prog is not None else PARTITIONS)
        self.s.follower.catch_up(until=position, parts=parts)


def run_lane(lane: AlertLane, wake: Wake, stop: threading.Event, leading: threading.Event,
             poll: float) -> None:
    """The lane's loop: look, then wait to be told of new events (at most `poll` seconds);
    only while this worker holds the lease (`leading`). Failures are waited out as the
    worker's are."""
    failures = 0
    while not stop.is_set():
        if not leading.wait(0.25):  # until this worker holds the lease (stop looked at)
            continue
        try:
            lane.look(stop)
            failures = 0
        except Exception as e:  # noqa: BLE001 - supervise: said and waited out
            failures += 1
            stop.wait(wait_after(e, failures, "alert"))
            continue
        wake.wait(poll)
