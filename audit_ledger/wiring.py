"""The composition root: one place where the store, the ledger and the views are put together."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from ledger.persistence import LedgerApplication
from ledger.sealing import SealingMapper
from ledger.settings import StoreSettings, from_environment
from ledger.store_key import StoreKeyError, key_format_problem
from projections.follower import Follower
from projections.queries import Views
from projections.store import ViewStore, open_view_store

if TYPE_CHECKING:
    from ledger.application import AuditLedger
    from ledger.case_keys import CaseKeys


@dataclass
class Reading:
    """The views and what folds the log into them, without the ledger's command handlers:
    for a command that only reads (it starts without importing what writing needs)."""

    settings: StoreSettings
    app: LedgerApplication
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


@dataclass
class Wiring(Reading):
    """The same, with the ledger's command handlers: for a command that writes."""

    app: AuditLedger


class LogReader(LedgerApplication):
    """The ledger's store read as the ledger writes it (same name, mapper and recorder), with
    no commands."""

    name = "AuditLedger"


def case_keys(app: LedgerApplication) -> CaseKeys | None:
    """The ledger's case keys, which open the personal text the views keep sealed."""
    mapper = app.mapper
    return mapper.keys if isinstance(mapper, SealingMapper) else None


def _opened(url: str | None, key: str | None, cls: type[LedgerApplication]
            ) -> tuple[StoreSettings, LedgerApplication, ViewStore]:
    settings = from_environment(url, key)
    problem = key_format_problem(settings.key) if settings.key else None
    if problem:
        raise StoreKeyError(problem)  # before anything builds a cipher from it
    store = open_view_store(settings)  # first: it makes the PostgreSQL schema if one is named
    with store.setting_up():
        app = cls(env=settings.library_env())
    if settings.key:
        store.hide_names(app.ids.keyed)  # a store without a key has no keyed ids
    return settings, app, store


def wire(url: str | None = None, key: str | None = None) -> Wiring:
    from ledger.application import AuditLedger

    settings, app, store = _opened(url, key, AuditLedger)
    assert isinstance(app, AuditLedger)
    return Wiring(settings, app, store,
                  Follower(app, store, opener=partial(wire_reading, url, key)),
                  Views(store, case_keys(app), scheme=lambda: app.ids))


def wire_reading(url: str | None = None, key: str | None = None) -> Reading:
    settings, app, store = _opened(url, key, LogReader)
    return Reading(settings, app, store,
                   Follower(app, store, opener=partial(wire_reading, url, key)),
                   Views(store, case_keys(app), scheme=lambda: app.ids))
