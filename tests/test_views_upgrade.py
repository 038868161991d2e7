"""Views folded by an earlier version are folded again, not carried on from."""

from __future__ import annotations

import pytest

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.follower import Follower
from projections.partitions import PARTITIONS
from projections.store import PositionMoved
from projections.views import RETIRED, position_name

from .conftest import demo_pack


def test_views_of_an_earlier_version_are_rebuilt_once(wiring: Wiring) -> None:
    w = wiring
    import_pack(w.app, parse_pack(demo_pack()))
    head = w.follower.catch_up()
    assert head > 0
    folded = w.store.dump()

    # As an earlier version left them: its own position name, documents of its own shape
    # (here: without the indexes this version folds), and a document it alone knew.
    w.store.drop()
    w.store.commit({("programme", "left-over"): {"programme": "left-over"}},
                   {RETIRED[0]: 0}, head)
    assert w.store.positions() == {RETIRED[0]: head}

    follower = Follower(w.app, w.store)
    assert follower.catch_up() == head  # the whole log, folded again
    assert w.store.positions() == {position_name(p): head for p in PARTITIONS}
    assert w.store.dump() == folded
    assert not follower.retire_old_views()  # once per follower

    # Carrying on after that is ordinary following: nothing is dropped again.
    assert Follower(w.app, w.store).catch_up() == 0
    assert w.store.dump() == folded


def test_a_commit_after_another_follower_moved_a_position_changes_nothing(
        wiring: Wiring) -> None:
    """The documents and every position of a batch are committed together, and only if each
    position is still where the batch began (one moved by another follower: nothing written)."""
    store = wiring.store
    store.drop()
    store.commit({("programme", "a"): {"n": 1}}, {"p1": 0, "p2": 0}, 5)
    assert store.positions() == {"p1": 5, "p2": 5}
    store.commit({}, {"p2": 5}, 7)  # another follower moved p2 on
    with pytest.raises(PositionMoved):
        store.commit({("programme", "a"): {"n": 2}, ("programme", "b"): {"n": 3}},
                     {"p1": 5, "p2": 5, "p3": 0}, 9)
    assert store.positions() == {"p1": 5, "p2": 7}
    assert store.get("programme", "a") == {"n": 1} and store.get("programme", "b") is None
    with pytest.raises(PositionMoved):  # a position never folded is at 0
        store.commit({}, {"p3": 4}, 9)
    store.commit({("programme", "a"): None}, {"p1": 5, "p3": 0}, 9)
    assert store.positions() == {"p1": 9, "p2": 7, "p3": 9}
    assert store.get("programme", "a") is None
