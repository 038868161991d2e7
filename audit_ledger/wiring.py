"""The composition root: one place where the store, the ledger and the views are put together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

from bot.clock import Clock, FixedClock, SystemClock
from ledger.application import AuditLedger
from ledger.chain import StoreKeyError, key_format_problem
from ledger.settings import StoreSettings, from_environment
from projections.follower import Follower
from projections.queries import Views
from projections.store import ViewStore, open_view_store


@dataclass
class Wiring:
    settings: StoreSettings
    app: AuditLedger
    store: ViewStore
    follower: Follower
    views: Views

    def fresh_views(self) -> Views:
        """The views brought up to the log's head first, so the shell never shows stale answers."""
        self.follower.catch_up()
        return self.views

    def close(self) -> None:
        self.store.close()
        self.app.close()


def wire(url: str | None = None, key: str | None = None) -> Wiring:
    settings = from_environment(url, key)
    problem = key_format_problem(settings.key) if settings.key else None
    if problem:
        raise StoreKeyError(problem)  # before anything builds a cipher from it
    store = open_view_store(settings)  # first: it makes the PostgreSQL schema if one is named
    with store.setting_up():
        app = AuditLedger(env=settings.library_env())
    return Wiring(settings, app, store, Follower(app, store), Views(store))


CLOCK = "AUDIT_LEDGER_CLOCK"


def clock_from_environment() -> Clock:
    """The bot's and the worker's day: today in England, or the day AUDIT_LEDGER_CLOCK fixes
    (YYYY-MM-DD), for trying and testing, so what falls due never depends on when they run.
    A value that is not a date raises ValueError, saying so."""
    text = os.environ.get(CLOCK, "").strip()
    if not text:
        return SystemClock()
    try:
        return FixedClock(date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{CLOCK} is not a date: write it as YYYY-MM-DD (for example "
                         "2026-04-02), or unset it for today") from None
