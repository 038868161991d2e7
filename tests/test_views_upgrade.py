"""Views folded by an earlier version are folded again, not carried on from."""

from __future__ import annotations

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.follower import Follower
from projections.partitions import PARTITIONS
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
