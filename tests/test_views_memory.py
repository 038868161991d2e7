"""A catch-up keeps what it committed only up to a limit (`projections.remembered`): past it,
everything kept is let go and read from the store again when asked for, and the views come
out the same, byte for byte, as when everything was kept."""

from __future__ import annotations

from typing import Any

import pytest

import projections.remembered as remembered
from audit_ledger.wiring import wire
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.follower import Follower

from .conftest import log_head


def test_a_rebuild_past_its_memory_limit_gives_the_same_views(
        store_url: str, mini_pack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    w = wire(store_url)
    try:
        import_pack(w.app, parse_pack(mini_pack))
        head = log_head(w)
        w.follower.catch_up()
        everything_kept = w.store.dump()

        evicted: list[int] = []
        read: list[tuple[str, str]] = []
        evict, get = remembered.Remembered.evict, type(w.store).get

        def counting(self: remembered.Remembered) -> None:
            assert self.whole  # what it never wrote is still known absent
            if self.docs:
                evicted.append(self.size)
            evict(self)

        def reading(store: Any, view: str, key: str) -> Any:
            read.append((view, key))
            return get(store, view, key)

        monkeypatch.setattr(remembered.Remembered, "evict", counting)
        monkeypatch.setattr(type(w.store), "get", reading)
        # Each document counts its bytes and an entry's cost: a limit of two entries lets
        # everything go after nearly every batch.
        monkeypatch.setattr(remembered, "LIMIT", 2 * remembered.ENTRY)
        w.store.drop()
        assert Follower(w.app, w.store, batch=5).catch_up(fresh=True) == head  # as a rebuild
        assert len(evicted) > 2  # the limit was passed, again and again
        assert read  # what was let go is read back from the store
        assert w.store.dump() == everything_kept
    finally:
        w.close()
