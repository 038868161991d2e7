"""Run in a process of its own, so its peak memory is its own: `python -m bench.child KIND URL`.

KIND is `rebuild` (the ledger's `projections rebuild`: drop the views, fold the whole log) or
`read` (the raw library on the same store: `select_notifications` in batches of the same size,
each notification decoded with the library's mapper, nothing kept). Prints one JSON line:
events, seconds, and the process's resident memory before and at its peak (MB).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def _status(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status, in MB (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    return _status("VmRSS") or 0.0


def peak_mb() -> float:
    """This process's peak resident memory, in MB.

    VmHWM, the peak of this program's own memory: getrusage's ru_maxrss would do elsewhere,
    but on Linux it survives exec, so in a child started from a large parent it reports the
    parent's size at the fork instead of the child's own peak."""
    hwm = _status("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rebuild(url: str) -> dict[str, Any]:
    from audit_ledger.wiring import wire

    w = wire(url, "")
    try:
        before = rss_mb()
        started = time.perf_counter()
        events = w.follower.rebuild()
        seconds = time.perf_counter() - started
        return {"events": events, "seconds": seconds, "rss_before_mb": before,
                "peak_mb": peak_mb(), "batch": w.follower.fresh_batch}
    finally:
        w.close()


def read(url: str, batch: int) -> dict[str, Any]:
    """The raw library: its own recorder for this store (no hash chain) and its own Mapper
    (nothing unsealed), reading the ledger's table."""
    from bench.stores import Store, raw_mapper

    store = Store("sqlite" if url.startswith("sqlite") else "postgres", url, "read")
    factory, recorder = store.raw_recorder("AuditLedger")  # the ledger's events table
    mapper = raw_mapper()
    try:
        before = rss_mb()
        started = time.perf_counter()
        events, position = 0, 0
        while True:
            found = recorder.select_notifications(start=position, limit=batch,
                                                  inclusive_of_start=False)
            if not found:
                break
            for notification in found:
                mapper.to_domain_event(notification)
            events += len(found)
            position = found[-1].id
        seconds = time.perf_counter() - started
        return {"events": events, "seconds": seconds, "rss_before_mb": before,
                "peak_mb": peak_mb(), "batch": batch}
    finally:
        factory.close()


def main(argv: list[str]) -> int:
    kind, url = argv[0], argv[1]
    if kind == "rebuild":
        result = rebuild(url)
    elif kind == "read":
        from projections.follower import FRESH_BATCH  # the rebuild's batch: the same here

        result = read(url, int(argv[2]) if len(argv) > 2 else FRESH_BATCH)
    else:
        print(f"unknown kind {kind!r}: rebuild or read", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
