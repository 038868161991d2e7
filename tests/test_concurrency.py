"""Several processes writing to one case at once: every conflict retried, no update lost."""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

from audit_ledger.wiring import Wiring, wire
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import Barrier, CollidingSaves

AGENCIES = ["social-care", "school", "police", "health-visiting"]
AREAS = ["2", "3", "4", "5", "6", "7", "8"]
DEADLINE = 120  # seconds for any writer to arrive or finish: a hang fails, it never waits forever


def _pack() -> dict[str, object]:
    people: list[dict[str, object]] = []
    for agency in AGENCIES:
        people += [{"id": f"aud.{agency}", "agency": agency, "roles": ["auditor"]},
                   {"id": f"p.{agency}", "agency": agency, "roles": ["practitioner"]}]
    return {"programme": {"id": "busy"}, "people": people,
            "cases": [{"ref": "B01", "agencies": AGENCIES}]}


def _grade_every_area(url: str, agency: str, barrier: Barrier, results: Any) -> None:
    """One writer process: its agency's grade for each area of case B01, its first save held
    at the barrier until every writer has loaded the case; reports the conflicts it met."""
    try:
        w = wire(url, "")
        try:
            colliding = CollidingSaves(w.app, barrier, DEADLINE)
            for n, area in enumerate(AREAS):
                w.app.grade_area(c.GradeArea(by=f"aud.{agency}", programme="busy", case="B01",
                                             agency=agency, area=area, grade=2 + (n % 3),
                                             practitioner=f"p.{agency}"))
        finally:
            w.close()
        results.put((agency, colliding.conflicts, ""))
    except BaseException as e:  # noqa: BLE001 - reported to the test, which fails on it
        results.put((agency, -1, f"{type(e).__name__}: {e}"))


def test_concurrent_writers_on_one_case_lose_nothing(wiring: Wiring, store_url: str) -> None:
    import_pack(wiring.app, parse_pack(_pack()))
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as separate processes are
    barrier = spawn.Barrier(len(AGENCIES))
    results = spawn.Queue()
    procs = [spawn.Process(target=_grade_every_area, args=(store_url, agency, barrier, results))
             for agency in AGENCIES]
    for p in procs:
        p.start()
    try:
        reports = {}
        for _ in AGENCIES:
            try:
                agency, conflicts, error = results.get(timeout=DEADLINE)
            except queue.Empty:
                raise AssertionError(f"a writer did not finish within {DEADLINE} s") from None
            assert not error, f"{agency}: {error}"
            reports[agency] = conflicts
    finally:
        for p in procs:
            p.join(timeout=DEADLINE)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0] * len(AGENCIES)

    # Every writer saved the same version first, so all but one met a conflict and retried.
    assert sum(reports.values()) >= len(AGENCIES) - 1, reports
    wiring.follower.catch_up()
    case = wiring.views.case("busy", "B01")
    for agency in AGENCIES:
        grades = case["returns"][agency]["grades"]
        assert grades == {area: 2 + (n % 3) for n, area in enumerate(AREAS)}, (agency, grades)
    events = list(wiring.app.repository.event_store.get(
        wiring.app.case("busy", "B01").id))
    assert len(events) == 1 + len(AGENCIES) * len(AREAS)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
