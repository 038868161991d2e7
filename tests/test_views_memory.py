"""A catch-up keeps what it committed only up to a limit (`projections.remembered`): past it,
everything kept is forgotten and read from the store again, and the views come out the same,
byte for byte, as when everything was kept."""

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

        forgotten: list[int] = []
        forget = remembered.Remembered.forget

        def counting(self: remembered.Remembered) -> None:
            if self.docs:
                forgotten.append(self.size)
            forget(self)

        monkeypatch.setattr(remembered.Remembered, "forget", counting)
        # Each document counts its bytes and an entry's cost: a limit of two entries forgets
        # after nearly every batch.
        monkeypatch.setattr(remembered, "LIMIT", 2 * remembered.ENTRY)
        w.store.drop()
        assert Follower(w.app, w.store, batch=5).catch_up(fresh=True) == head  # as a rebuild
        assert len(forgotten) > 2  # the limit was passed, again and again
        assert w.store.dump() == everything_kept
    finally:
        w.close()
