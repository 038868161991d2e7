"""What the bot's handlers share: the ledger, the views, the directory, delivery, the clock, threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

from ledger.application import AuditLedger
from ledger.ids import DEFAULT_PARTNERSHIP
from projections.follower import Follower
from projections.queries import NotInViews, Views

from .clock import Clock, SystemClock
from .deliver import Deliverer, NotInstalled
from .directory import Directory
from .words import ENGLAND

WORK_THREADS = 8
"""Answers computed at once in one process. They are Python under one interpreter lock, so more
threads only take turns (and every turn costs a hand-over: at 16, each answer took a fifth to
a quarter more CPU than at 1 to 8); 8 still overlaps one answer's store round trips with
another's work. A process answers more by being one of several (`bot serve --workers`)."""


class WorkPool(Executor):
    """A thread pool that knows what is still running, so a console or a test can wait for quiet."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self._pool.submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@dataclass
class BotServices:
    """Everything a handler needs; built by the entry point, which owns the store."""

    app: AuditLedger
    views: Views
    follower: Follower
    deliver: Deliverer
    directory: Directory
    clock: Clock = field(default_factory=SystemClock)
    """Where the day comes from (the day acts are recorded on, what is overdue): the worker's."""
    listeners: WorkPool = field(default_factory=lambda: WorkPool(32, "bot-listener"))
    """What handlers do after Slack has its ack: recording acts, updating messages, Home tabs,
    answers sent after a holding reply (mostly waiting on Slack and the store)."""
    work: WorkPool = field(default_factory=lambda: WorkPool(WORK_THREADS, "bot-work"))
    """`/audit` answers and form checks, each timed against the ack budget."""

    def __post_init__(self) -> None:
        self._fresh_lock = threading.Lock()
        self._checked_from = -1  # time.monotonic_ns() when the last finished check began

    def today(self) -> date:
        return self.clock.today()

    def programme(self, pid: str) -> dict[str, Any] | None:
        """A programme's document, or None when the views do not hold it (yet)."""
        try:
            return self.views.programme(pid)
        except NotInViews:
            return None

    def partnership_of(self, programme: str) -> str | None:
        """The partnership that owns a programme; None when the views do not hold it."""
        found = self.programme(programme)
        return str(found.get("partnership") or DEFAULT_PARTNERSHIP) if found else None

    def team_of(self, programme: str) -> str:
        """The Slack workspace of the partnership that owns a programme ("" when it is linked
        to none: with one bot token, the token's)."""
        partnership = self.partnership_of(programme)
        return self.directory.team_of(partnership) if partnership else ""

    def zone(self, slack_user: str, programme: str) -> tzinfo:
        """A reader's time zone, asked in the workspace of the programme's partnership
        (England's when it cannot be asked there)."""
        return self.zone_in(slack_user, self.team_of(programme))

    def zone_in(self, slack_user: str, team: str) -> tzinfo:
        """A reader's time zone asked in a workspace (England's when it cannot be asked)."""
        try:
            return self.deliver.in_team(team).zone(slack_user)
        except NotInstalled:
            return ENGLAND

    def fresh(self) -> Views:
        """The views brought up to the log's head as it was when this was called: every event
        stored before the call is in them.

        Cheap when nothing is new (the log's head and the views' positions, one statement),
        and shared: handlers asking at the same time do not each query the store. One check
        runs at a time, and a check that began after a caller asked covers that caller too;
        so a caller waits at most for the check under way and the next, and under load most
        callers run none.
        """
        asked = time.monotonic_ns()
        with self._fresh_lock:
            if self._checked_from <= asked:
                began = time.monotonic_ns()
                if self.follower.is_behind():
                    self.follower.catch_up()
                self._checked_from = began
        return self.views

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no handler and no slow work is running (for the console and tests)."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if self.listeners.busy() or self.work.busy():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 0.05:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self.listeners.shutdown(wait=False)
        self.work.shutdown(wait=False)
