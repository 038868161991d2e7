"""The composition root: one place where the store, the ledger and the views are put together."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.application import AuditLedger
from ledger.settings import StoreSettings, from_environment
from ledger.store_key import StoreKeyError, key_format_problem
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
