"""Contention: many people changing one record at once.

N writer processes (8 and 16 by default), started together at a barrier, record progress on
the same action, 400 commands in all, each through the ledger's own command handler (load,
decide, save, retried on conflict with jittered back-off for `CONFLICT_PATIENCE` seconds).
Counts the commands that gave up, and what they said (it must be "too many people changed this
at once: try again"), checks that every command that succeeded is in the log once (nothing
lost, nothing doubled), and prints the load average beside each figure.

    python -m bench.contention                        # SQLite and PostgreSQL, 8 and 16 writers
    python -m bench.contention --kinds sqlite --writers 8 --commands 400

A benchmark, not a test: it prints figures and never fails on a timing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stores import KINDS, make_store, postgres_problem  # noqa: E402

PID = "busy-2026"
ACTION = "A1"
DEADLINE = 600.0  # seconds for a writer to arrive or finish: a hang ends the run, it never waits


def _pack(writers: int) -> dict[str, Any]:
    """One programme, one action, and a quality lead for each writer (any may update it)."""
    return {
        "programme": {"id": PID, "title": "Contention", "opened": "2026-01-05"},
        "people": [{"id": f"ql{i}", "agency": "partnership", "roles": ["quality-lead"]}
                   for i in range(writers)],
        "cases": [],
        "recommendations": [{"number": 1, "text": "Keep the tracker current."}],
        "actions": [{"id": ACTION, "recommendation": 1, "description": "Update the tracker",
                     "measure": "Updated weekly", "owner": "ql0", "due": "2026-12-31"}],
    }


def _wired(url: str) -> Any:
    """The ledger wired to the store, tried a few times: on a loaded machine a process may
    wait more than the connection pool's 5 s for its first connection; that is start-up, not
    the contention measured."""
    from audit_ledger.wiring import wire

    for attempt in range(5):
        try:
            return wire(url, "")
        except Exception:  # noqa: BLE001 - tried again; the last failure is raised
            if attempt == 4:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def _write(url: str, writer: int, commands: int, barrier: Any, results: Any) -> None:
    """One writer process: `commands` progress updates on the action, as fast as it can."""
    from ledger import commands as c
    from ledger.base import LedgerError

    said: Counter[str] = Counter()
    done = 0
    try:
        w = _wired(url)
        try:
            w.app.action(PID, ACTION)  # loaded once before the start, as a warm process would
            barrier.wait(DEADLINE)
            for n in range(commands):
                try:
                    w.app.record_action_progress(c.RecordActionProgress(
                        programme=PID, action=ACTION, by=f"ql{writer}", rag="green",
                        note=f"Writer {writer} update {n}."))
                    done += 1
                except LedgerError as e:
                    said[str(e)] += 1
        finally:
            w.close()
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which says it
        said[f"{type(e).__name__}: {e}"] += 1
        barrier.abort()  # the others are not kept waiting for a writer that will not come
    results.put((writer, done, dict(said)))


def run(kind: str, writers: int, commands: int, folder: Path) -> None:
    from audit_ledger.wiring import wire
    from ledger.importer import import_pack_data

    store = make_store(kind, folder, f"contention-{writers}")
    try:
        w = wire(store.url, "")
        try:
            import_pack_data(w.app, _pack(writers))
        finally:
            w.close()
        spawn = multiprocessing.get_context("spawn")
        barrier, results = spawn.Barrier(writers + 1), spawn.Queue()
        share = [commands // writers + (1 if i < commands % writers else 0)
                 for i in range(writers)]
        procs = [spawn.Process(target=_write, args=(store.url, i, share[i], barrier, results))
                 for i in range(writers)]
        for p in procs:
            p.start()
        try:
            barrier.wait(DEADLINE)
        except threading.BrokenBarrierError:
            pass  # a writer failed before the start: what it said is printed below
        started = time.monotonic()
        load_start = os.getloadavg()[0]
        done, said = 0, Counter[str]()
        try:
            for _ in procs:
                try:
                    _i, ok, words = results.get(timeout=DEADLINE)
                except queue.Empty:
                    raise SystemExit(f"a writer did not finish within {DEADLINE:.0f} s") from None
                done += ok
                said.update(words)
        finally:
            for p in procs:
                p.join(timeout=60)
                if p.is_alive():
                    p.kill()
        took = time.monotonic() - started
        w = wire(store.url, "")
        try:
            stored = len(list(w.app.repository.event_store.get(w.app.ids.action_id(PID, ACTION)))) - 1
        finally:
            w.close()
        failed = sum(said.values())
        print(f"{kind}, {writers} writers, {commands} commands on one action: {failed} failed, "
              f"{done} recorded ({stored} progress events in the log: "
              f"{'each once' if stored == done else 'MISMATCH'}) in {took:.1f} s; "
              f"load {load_start:.1f} -> {os.getloadavg()[0]:.1f}")
        for words, n in said.most_common():
            print(f"  {n} said: {words}")
    finally:
        store.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--writers", default="8,16")
    parser.add_argument("--commands", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="contention-") as folder:
        for kind in args.kinds.split(","):
            if kind == "postgres" and (problem := postgres_problem()):
                print(f"postgres skipped: {problem}")
                continue
            for writers in (int(n) for n in args.writers.split(",")):
                run(kind, writers, args.commands, Path(folder))


if __name__ == "__main__":
    main()
