"""How long `verify --views` takes: the log folded afresh into a scratch store and every view
document compared, beside a plain rebuild of the same views on the same machine in the same
run (what the check cannot be faster than).

    python -m bench.verify_views [--events 10000] [--stores sqlite,postgres]

Prints, for each store: events, documents compared, the check's seconds (best of --repeat)
and the rebuild's, microseconds an event, and a linear estimate for 1M events (the fold and
the comparison are both linear in the log; never run at 1M on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from audit_ledger.wiring import wire
from projections.view_check import verify_views

from .generate import Populator
from .stores import KINDS, make_store, postgres_problem

MILLION = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verify_views", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    kinds = [k for k in args.stores.split(",") if k in KINDS]
    if "postgres" in kinds and postgres_problem():
        print(f"postgres skipped: {postgres_problem()}")
        kinds.remove("postgres")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("store     events  documents  verify --views s  rebuild s  verify us/event  "
          "1M estimate")
    with tempfile.TemporaryDirectory() as folder:
        for kind in kinds:
            store = make_store(kind, Path(folder), "views")
            w = wire(store.url, "")
            try:
                Populator([w.app], seed=args.seed).grow(args.events)
                rebuilds, checks = [], []
                documents = events = 0
                for _ in range(args.repeat):  # alternately, so both see the same machine
                    started = time.perf_counter()
                    events = w.follower.rebuild()
                    rebuilds.append(time.perf_counter() - started)
                    verdict = verify_views(w.app, w.store, "")
                    assert verdict.intact, verdict.difference
                    checks.append(verdict.seconds)
                    documents = verdict.documents
                check, rebuild = min(checks), min(rebuilds)
                per_event = check / events * 1e6
                print(f"{kind:8} {events:7,} {documents:10,} {check:16.1f} {rebuild:10.1f} "
                      f"{per_event:16.0f}  {per_event * MILLION / 1e6 / 60:.0f} min")
            finally:
                w.close()
                store.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
