"""Several processes writing to one case at once: every conflict retried, no update lost."""

from __future__ import annotations

import json
import multiprocessing
import queue
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from audit_ledger.wiring import Wiring, wire
from ledger import commands as c
from ledger import persistence
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import Barrier, CollidingSaves, cli_env, console_script, run_cli

AGENCIES = ["social-care", "school", "police", "health-visiting"]
AREAS = ["2", "3", "4", "5", "6", "7", "8"]
DEADLINE = 120  # seconds for any writer to arrive or finish: a hang fails, it never waits forever


def _pack() -> dict[str, object]:
    people: list[dict[str, object]] = [{"id": "ql", "agency": "partnership",
                                        "roles": ["quality-lead"]}]
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


class _FakeClock:
    """Stands in for the clock `retrying` reads and sleeps on: time passes only by sleeping."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_a_writer_that_always_loses_backs_off_and_is_told_to_try_again(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before each of this writer's saves another process's writer changes the same case, so
    every attempt really conflicts; the loser waits longer and at random each time, then says
    so in words, having written nothing."""
    loser, rival = wire(store_url, ""), wire(store_url, "")
    try:
        import_pack(loser.app, parse_pack(_pack()))
        clock = _FakeClock()
        monkeypatch.setattr(persistence, "time", clock)
        save = loser.app.save
        rival_grades = iter(range(10_000))

        def save_after_the_rival(*objects: Any, **kwargs: Any) -> Any:
            n = next(rival_grades)  # the rival grades area 3, then revises it, 2, 3, 2...
            if n == 0:
                rival.app.grade_area(c.GradeArea(
                    by="aud.school", programme="busy", case="B01", agency="school", area="3",
                    grade=2, practitioner="p.school"))
            else:
                rival.app.revise_grade(c.ReviseGrade(
                    by="aud.school", programme="busy", case="B01", agency="school", area="3",
                    grade=2 + n % 2, reason="Second look at the chronology."))
            return save(*objects, **kwargs)

        setattr(loser.app, "save", save_after_the_rival)  # noqa: B010 - this instance only
        with pytest.raises(persistence.TooBusy) as refused:
            loser.app.grade_area(c.GradeArea(by="aud.police", programme="busy", case="B01",
                                             agency="police", area="2", grade=4,
                                             practitioner="p.police"))
        assert refused.value.problems == ["too many people changed this at once: try again"]
        waits = clock.waits
        assert len(waits) >= 5 and len(set(waits)) == len(waits)  # drawn at random each time
        assert all(0 <= w <= persistence.CONFLICT_LONGEST_WAIT for w in waits)
        assert sum(waits) <= persistence.CONFLICT_PATIENCE < sum(waits) + 1
        events = list(loser.app.repository.event_store.get(loser.app.case("busy", "B01").id))
        assert len(events) == 1 + next(rival_grades)  # the case, then only the rival's grades
        assert not [e for e in events if getattr(e, "agency", "") == "police"]
    finally:
        loser.close()
        rival.close()


def test_two_first_processes_with_different_keys_one_loses_in_words(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """Two processes start on an empty store at once, each with its own key: whichever
    writes first owns the store; the other is refused plainly (never a traceback), and the
    store opens with the winner's key only."""
    keys = [AESCipher.create_key(num_bytes=32) for _ in range(2)]
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    procs = [subprocess.Popen([console_script(), "import", str(pack)], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=cli_env(store_url, key)) for key in keys]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=DEADLINE)
        outcomes.append((p.returncode, out, err))
    for code, _out, err in outcomes:
        assert "Traceback" not in err, err
        assert code == 0 or (err.startswith("error: ") and code in (1, 2)), (code, err)
    winners = [key for key, (code, _o, _e) in zip(keys, outcomes, strict=True) if code == 0]
    assert len(winners) <= 1, outcomes
    for key in winners:
        loser = next(k for k in keys if k != key)
        assert run_cli("case", "mini-2026", "K01", url=store_url, key=key).returncode == 0
        refused = run_cli("case", "mini-2026", "K01", url=store_url, key=loser)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_a_busy_store_is_waited_for_and_other_failures_are_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's "database is locked" and PostgreSQL's lock timeout are waited out like a
    conflict; any other failure of the store is said at once, not retried."""
    from eventsourcing.persistence import OperationalError

    w = wire(f"sqlite:///{tmp_path / 'ledger.db'}", "")
    try:
        clock = _FakeClock()
        monkeypatch.setattr(persistence, "time", clock)
        failures = [OperationalError("database is locked"),
                    OperationalError("canceling statement due to lock timeout")]

        def attempt() -> str:
            if failures:
                raise failures.pop(0)
            return "saved"

        assert w.app.retrying(attempt) == "saved" and len(clock.waits) == 2
        with pytest.raises(OperationalError, match="no such table"):
            w.app.retrying(lambda: (_ for _ in ()).throw(OperationalError("no such table: x")))
        assert len(clock.waits) == 2
    finally:
        w.close()


def test_a_write_that_met_another_writer_is_said_as_such() -> None:
    """An import is not retried: meeting another writer, it says so, not that the store
    could not be reached."""
    from eventsourcing.persistence import IntegrityError

    from audit_ledger.group import _failure

    said = _failure(IntegrityError("UNIQUE constraint failed: stored_events.originator_id"))
    assert said is not None
    [line], code = said
    assert line.startswith("someone else changed the same records at the same moment") and code
    assert "UNIQUE" not in line and "could not be reached" not in line
