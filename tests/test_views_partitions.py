"""The views' partitions folded apart, in any order and in processes of their own, give the
same documents, byte for byte, as every event folded together: programmes' documents never
share a key (the indexes across programmes are kept a document a partition), and the
directory (people, Slack users across partnerships) is one partition."""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any

import pytest

from audit_ledger.wiring import wire
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.fold_processes import Turns, forkable
from projections.follower import Follower
from projections.partitions import DIRECTORY, PARTITIONS, programme_partition

from .conftest import log_head, partnership_pack, run_cli

OTHERS = {"eastmoor": "Eastmoor SCP", "westfield": "Westfield SCP"}
P = "mini-2026"  # the mini pack's programme; the other partnerships' are named after them


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "with a key"])
def test_partitions_folded_apart_equal_the_views_folded_together(
        store_url: str, mini_pack: dict[str, Any], keyed: bool) -> None:
    parts = {programme_partition(p) for p in (P, *(f"{o}-{P}" for o in OTHERS))}
    assert len(parts) == 3  # three programmes, three partitions: the test says something
    key = run_cli("keygen", url="sqlite:///unused.db", check=True).stdout.strip() if keyed else ""
    w = wire(store_url, key)
    try:
        import_pack(w.app, parse_pack(mini_pack))
        for partnership, name in OTHERS.items():  # the same Slack users in both (prefix U1)
            import_pack(w.app, parse_pack(partnership_pack(mini_pack, partnership, name, "U1")))
        head = log_head(w)
        w.follower.catch_up()
        together = w.store.dump()
        assert key or any(v == "slack" and b'"people":["eastmoor/' in d and b'westfield/' in d
                          for v, _, d in together)  # a directory document across partnerships

        w.store.drop()  # the directory last, one partnership first, in small batches
        order = [frozenset({programme_partition(f"eastmoor-{P}")}), PARTITIONS - {DIRECTORY},
                 frozenset({DIRECTORY})]
        for share in order:
            Follower(w.app, w.store, batch=7).catch_up(parts=share)
        assert Follower(w.app, w.store).catch_up() == 0  # every partition at the head
        assert w.store.dump() == together

        w.store.drop()  # one partition part of the way, then the rest levelled with it
        Follower(w.app, w.store, batch=5).catch_up(until=head // 2,
                                                   parts=frozenset({programme_partition(P)}))
        Follower(w.app, w.store, batch=11).catch_up()
        assert w.store.dump() == together

        w.follower.parallel_from = 0
        assert w.follower.rebuild() == head
        assert w.follower.processes == min(len(os.sched_getaffinity(0)), len(PARTITIONS))
        assert w.follower.position() == head
        assert w.store.dump() == together
    finally:
        w.close()


def test_a_commits_turn_is_given_up_on_after_a_while() -> None:
    """A parallel rebuild's processes take turns to commit on SQLite; a process that died
    holding the turn holds up the others only so long (the store's own lock still orders the
    writes)."""
    lock = multiprocessing.get_context("spawn").Lock()
    turns = Turns(lock, wait=0.05)
    with turns:
        assert turns.held and not lock.acquire(block=False)  # the others wait
    assert lock.acquire(block=False)  # given back; now held as by a process that died
    with turns:
        assert not turns.held  # written anyway, once the wait is over
    lock.release()


def test_a_rebuild_forks_beside_the_pool_alone(wiring: Any) -> None:
    """A rebuild's processes are forked when nothing runs beside it but the PostgreSQL
    connection pool's own threads (and on SQLite, with no thread at all); beside any other
    thread they are started afresh."""
    wiring.follower.head()  # the pool (PostgreSQL) opened, its threads running
    assert forkable()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="pool-9-worker-0-not", daemon=True)
    other.start()
    try:
        assert not forkable()
    finally:
        stop.set()
        other.join()
    assert forkable()
