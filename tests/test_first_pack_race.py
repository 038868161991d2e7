"""Two first packs imported at once into the same empty directory: each would bring its own
quality lead without anyone's leave. Exactly one lands; the other is refused in words and
changes nothing, on both stores.

The two imports run in two processes started together; each holds its save at a barrier
until both have checked the store (and found the directory empty), so the race is certain,
not hoped for; every wait has a deadline."""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

from audit_ledger.wiring import Wiring, wire
from ledger.import_rights import directory_roles
from ledger.programme import Programme

from .conftest import Barrier, CollidingSaves, log_head

DEADLINE = 120  # seconds for a process to arrive or finish: a hang fails, it never waits


def _first_pack(name: str) -> dict[str, Any]:
    return {"programme": {"id": f"{name}-2026", "title": f"{name} audit"},
            "people": [{"id": f"ql.{name}", "agency": "partnership",
                        "roles": ["quality-lead"]}],
            "cases": [{"ref": "K01", "agencies": ["social-care"]}]}


def _import(url: str, name: str, barrier: Barrier, results: Any) -> None:
    """One process: its first pack, its save held until both processes have checked."""
    from ledger.importer import import_pack_data
    from ledger.pack import PackProblems

    try:
        w = wire(url, "")
        try:
            colliding = CollidingSaves(w.app, barrier, DEADLINE)
            try:
                said = import_pack_data(w.app, _first_pack(name)).describe()
            except PackProblems as e:
                said = "refused: " + " | ".join(e.problems)
        finally:
            w.close()
        results.put((name, colliding.conflicts, said))
    except BaseException as e:  # noqa: BLE001 - reported to the test, which fails on it
        results.put((name, -1, f"{type(e).__name__}: {e}"))


def test_of_two_first_packs_at_once_exactly_one_lands(wiring: Wiring, store_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    results = spawn.Queue()
    procs = [spawn.Process(target=_import, args=(store_url, name, barrier, results))
             for name in ("alpha", "beta")]
    for p in procs:
        p.start()
    try:
        said: dict[str, tuple[int, str]] = {}
        for _ in procs:
            try:
                name, conflicts, text = results.get(timeout=DEADLINE)
            except queue.Empty:
                raise AssertionError(f"an import did not finish within {DEADLINE} s") from None
            said[name] = (conflicts, text)
    finally:
        for p in procs:
            p.join(timeout=DEADLINE)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0], said
    landed = [n for n, (_c, text) in said.items() if text.startswith("imported into")]
    assert len(landed) == 1, said
    winner = landed[0]
    loser = "beta" if winner == "alpha" else "alpha"
    conflicts, refusal = said[loser]
    assert conflicts >= 1, said  # the two saves really met
    assert refusal == (
        "refused: --by: the directory already has people in it, so say who is importing with "
        f"--by PERSON: its auditors and quality leads can import (ask ql.{winner})"), refusal

    # Only the winner's pack is in the store: its quality lead and programme, its events alone.
    assert directory_roles(wiring.app, "default") == {f"ql.{winner}": ["quality-lead"]}
    assert wiring.app.find(Programme, wiring.app.ids.programme_id(f"{winner}-2026")) is not None
    assert wiring.app.find(Programme, wiring.app.ids.programme_id(f"{loser}-2026")) is None
    events = int(said[winner][1].rsplit("(", 1)[1].split(" ")[0])
    assert log_head(wiring) == events, said  # the directory's opening counted among them
