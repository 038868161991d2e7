"""Whole partnerships generated in other processes, so growing a large log uses every CPU.

Partnerships share nothing (the Populator starts a fresh in-memory ledger for each), so each
can be carried out in a process of its own and its stored events handed back, in order, to
be copied into the benchmark's stores exactly as `Populator` copies its own. The log is the
same as one process makes: programme k still comes from the seed and k alone, whole
partnerships are only taken in parallel while the target is further off than any partnership
could reach, and the rest is grown as before.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

AHEAD = 40_000
"""Events still to grow above which whole partnerships are taken in parallel: more than any
one partnership stores (12 programmes of at most 40 cases), so none runs past the target."""


@dataclass
class Generated:
    """One partnership's audits, carried out in a process of its own."""

    first: int  # its first programme's index
    programmes: list[tuple[str, list[str], dict[str, str], int]]  # id, cases, people, events
    events: list[tuple[Any, int, str, bytes]]  # stored events, in the log's order
    keys: dict[Any, Any]  # its cases' key rows, as stored beside the log
    partnership_keys: dict[str, bytes]  # its partnership's key row (wrapping the case keys)
    cpu: float  # seconds of CPU the process spent on it


def partnership(seed: int, first: int) -> Generated:
    """Carry out one partnership's programmes into a fresh in-memory ledger; hand back what
    it stored. Runs in a worker process."""
    import time

    from ledger.application import AuditLedger

    from .generate import PROGRAMMES_PER_PARTNERSHIP, SOURCE, plan_programme, run_plan

    started = time.process_time()
    source = AuditLedger(env=SOURCE)
    try:
        programmes = []
        for index in range(first, first + PROGRAMMES_PER_PARTNERSHIP):
            plan = plan_programme(seed, index)
            stored = run_plan(source, plan)
            programmes.append((plan.programme, [k["ref"] for k in plan.pack["cases"]],
                               dict(plan.people), stored))
        found = source.recorder.select_notifications(start=0, limit=10**9)
        events = [(n.originator_id, n.originator_version, n.topic, n.state) for n in found]
        keys: dict[Any, Any] = {}
        table = getattr(source.mapper, "keys", None)
        if table is not None:
            table._table()
            cases = [(pid, ref) for pid, refs, _, _ in programmes for ref in refs]
            keys = {case: wrapped for case, (wrapped, _) in table._select(cases).items()}
        return Generated(first, programmes, events, keys, partnership_key_rows(source),
                         time.process_time() - started)
    finally:
        source.close()


def partnership_key_rows(source: Any) -> dict[str, bytes]:
    """The partnership keys the source stored (each wraps its partnership's case keys), as
    their rows hold them: the one other place the benchmark reaches into the sealing's
    insides, beside the case keys' table."""
    table = source.mapper.keys.partnerships
    if table is None:
        return {}
    table._create()
    with table.datastore.transaction(commit=False) as c:
        c.execute(table._sql("SELECT partnership, key FROM {} WHERE key IS NOT NULL"))
        return {row[0]: bytes(row[1]) for row in c.fetchall()}


def store_keys(target: Any, partnerships: dict[str, bytes], cases: dict[Any, Any]) -> None:
    """Store the keys the copied events need in `target`, partnerships' first (the case keys
    are wrapped under them)."""
    keys = target.mapper.keys
    if partnerships and keys.partnerships is not None:
        keys.partnerships._create()
        with keys.partnerships.datastore.transaction(commit=True) as c:
            keys.partnerships.insert(c, partnerships)
    if cases:
        keys._table()
        keys._insert(cases)


def _stop_with_parent() -> None:
    """A worker process is stopped when the benchmark dies, however it dies (Linux's
    parent-death signal), rather than carrying out partnerships for nobody."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def processes() -> int:
    """One process a CPU, at least two (the parent copies while they generate)."""
    return max(2, os.cpu_count() or 1)


def partnerships(seed: int, first: int, count: int, workers: int) -> Iterator[Generated]:
    """`count` partnerships from programme `first` on, generated `workers` at a time and
    yielded in order."""
    from .generate import PROGRAMMES_PER_PARTNERSHIP

    context = multiprocessing.get_context("spawn")  # nothing of the parent's stores inherited
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_stop_with_parent) as pool:
        pending: list[Future[Generated]] = []
        starts = iter(range(first, first + count * PROGRAMMES_PER_PARTNERSHIP,
                            PROGRAMMES_PER_PARTNERSHIP))
        for start in starts:
            pending.append(pool.submit(partnership, seed, start))
            if len(pending) > workers:
                break
        while pending:
            done = pending.pop(0).result()
            nxt = next(starts, None)
            if nxt is not None:
                pending.append(pool.submit(partnership, seed, nxt))
            yield done
