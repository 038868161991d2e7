"""Alert latency: from a concern being stored to chat.postMessage reaching Slack.

Loads the bundled Lontown audit (51 people, all linked to Slack) into a fresh store (or, with
--url, into a store the benchmark has grown: figure d at each log size), starts
`audit-ledger worker` as its own process against a fake Slack on 127.0.0.1, lets it read the
whole log and send the backlog (feedback, the pack's concerns, and what fell due in the other
programmes), then raises concerns one at a time from this process at random intervals and
times each from the moment `raise_concern` returned (the concern is committed) to the first
chat.postMessage carrying it arriving at the fake Slack.

With --busy, another process meanwhile carries out further generated audits through the
ledger's commands (`bench.generate`, programmes of their own): their feedback goes
unacknowledged, their concerns unanswered and their actions overdue as the worker's clock
sees them, so escalations, reminders and digests fall due while the alerts are timed.

    python -m bench.alert_latency                      # SQLite file in a temporary folder
    python -m bench.alert_latency --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.alert_latency --concerns 300 --poll 0.05
    python -m bench.alert_latency --url sqlite:///grown.db --busy

A benchmark, not a test: it prints figures and never fails on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit_ledger.wiring import wire  # noqa: E402
from ledger import commands as c  # noqa: E402
from ledger.importer import import_pack  # noqa: E402
from ledger.pack import parse_pack  # noqa: E402
from tests.fake_slack import Call, FakeSlack  # noqa: E402

TOKEN = "xoxb-bench-token"


def console_script() -> str:
    beside = Path(sys.executable).parent / "audit-ledger"
    found = str(beside) if beside.exists() else shutil.which("audit-ledger")
    if not found:
        raise SystemExit("the audit-ledger console script is not installed")
    return found


def stopped_with_us(command: list[str]) -> list[str]:
    """`command`, run so that it is stopped (SIGTERM) when this process dies, however it dies:
    Linux's parent-death signal, set before the command starts (and kept across its exec). A
    run killed for overrunning its time (figure d's limit in `python -m bench`) then leaves no
    worker or busy writer behind, polling and writing on a machine others measure on."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", "import ctypes, os, signal, sys\n"
            "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
            "if os.getppid() != int(sys.argv[1]): sys.exit(0)  # gone before that\n"
            "os.execv(sys.argv[2], sys.argv[2:])", str(os.getpid()), *command]


def quiet(fake: FakeSlack, for_seconds: float = 1.0, limit: float = 120.0) -> None:
    """Wait until the fake Slack has heard nothing for a while."""
    started = last_change = time.monotonic()
    count = len(fake.calls)
    while time.monotonic() - last_change < for_seconds:
        if time.monotonic() - started > limit:
            raise SystemExit("the worker never went quiet")
        time.sleep(0.05)
        if len(fake.calls) != count:
            count, last_change = len(fake.calls), time.monotonic()


def carrying(ref: str) -> Callable[[Call], bool]:
    return lambda call: ref in call.body.get("text", "")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


WAIT = 30.0
"""Seconds an alert is waited for; one later is counted as this long."""
BUSY_FROM = 900_000
"""The first generated programme the busy writer carries out: far beyond any the benchmark's
log holds, so their ids never meet."""


def keep_busy(url: str, seed: int) -> None:
    """Carry out generated audits, one after another, until killed (the --busy writer)."""
    from bench.generate import plans, run_plan

    w = wire(url, "")
    try:
        # A start of their own each run: a store the benchmark grows further is measured again.
        for plan in plans(seed, start=BUSY_FROM + random.randrange(10**6) * 100):
            run_plan(w.app, plan)
    finally:
        w.close()


def caught_up(w: Any, limit: float) -> float:
    """Wait until the worker has read the whole log (its position at the log's head)."""
    started = time.monotonic()
    while True:
        head = int(w.app.recorder.max_notification_id() or 0)
        if w.store.positions().get("worker", 0) >= head:
            return time.monotonic() - started
        if time.monotonic() - started > limit:
            raise SystemExit("the worker never reached the log's head")
        time.sleep(0.2)


def followed_all_along(w: Any) -> int:
    """Put the worker's position at the log's head, where a worker that had followed the log
    all along would be: the benchmark's generator already recorded the deliveries and
    escalations that worker made. Otherwise a worker reading a grown log from its start sends
    every copy update again (hours at 1M), and the figure measures that catch-up, not how
    soon a new concern is alerted. Returns the position."""
    from bot.worker import TRACKING_NAME

    head = int(w.app.recorder.max_notification_id() or 0)
    at = w.store.positions().get(TRACKING_NAME, 0)
    if head > at:
        w.store.commit({}, {TRACKING_NAME: at}, head)
    return head


def run(url: str, concerns: int, poll: float, gap: float, seed: int, busy: bool = False,
        from_head: bool = False) -> list[float]:
    pack = json.loads(resources.files("ledger").joinpath(
        "packs", "lontown-2009.json").read_text(encoding="utf-8"))
    w = wire(url, "")
    from bench.generate import importer_of

    if from_head:
        print(f"worker placed at position {followed_all_along(w):,}, the grown log's head, as "
              f"if it had followed it all along")
    lontown = parse_pack(pack)
    import_pack(w.app, lontown, importer_of(lontown))
    views = w.fresh_views()
    events = int(w.app.recorder.max_notification_id() or 0)
    pid = pack["programme"]["id"]
    targets = [(case["case"], agency) for case in views.cases(pid)
               for agency in case["agencies"]]
    auditor = next(p["person"] for p in views.everyone() if "auditor" in p["roles"])

    fake = FakeSlack((TOKEN,)).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env.update(AUDIT_LEDGER_URL=url, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=TOKEN)
    worker = subprocess.Popen(stopped_with_us([console_script(), "worker", "--poll", str(poll)]),
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = random.Random(seed)
    latencies: list[float] = []
    writer: subprocess.Popen[bytes] | None = None
    try:
        fake.wait_for("auth.test", timeout=30)
        took = caught_up(w, limit=3600)
        quiet(fake, limit=3600)  # the backlog: feedback, copies, concern alerts, what fell due
        backlog = len(fake.calls_to("chat.postMessage"))
        print(f"log of {events:,} events read by the worker in {took:.0f} s; backlog sent on "
              f"starting: {backlog} messages")
        if busy:
            writer = subprocess.Popen(stopped_with_us(
                [sys.executable, "-c", "import sys; from bench.alert_latency import keep_busy; "
                 "keep_busy(sys.argv[1], int(sys.argv[2]))", url, str(seed)]), env=env,
                cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        before = len(fake.calls_to("chat.postMessage"))
        late = 0
        # Letters only: a hex id such as "e41ea3" reads as a postcode (E4 1EA), and the ledger
        # rightly refuses a concern whose summary holds one.
        run_id = "".join(random.choice("bcdfghjkmnpqrstvwxz") for _ in range(6))
        for i in range(concerns):
            case, agency = rng.choice(targets)
            outcome = w.app.raise_concern(c.RaiseConcern(
                programme=pid, case=case, agency=agency, by=auditor,
                summary=f"Bench concern {run_id}-{i}: no record of the child being seen."))
            stored = time.monotonic()
            ref = outcome.message.split()[1]
            try:
                posted = fake.wait_for("chat.postMessage", carrying(ref), timeout=WAIT)
            except AssertionError:  # not alerted in time: counted at the limit, and said
                late += 1
                latencies.append(WAIT)
            else:
                latencies.append(min(x.at for x in posted) - stored)
            time.sleep(rng.uniform(0, gap))
        if late:
            print(f"{late} of {concerns} concerns not alerted within {WAIT:.0f} s (counted "
                  f"as {WAIT:.0f} s)")
        others = len(fake.calls_to("chat.postMessage")) - before - concerns + late
        print(f"meanwhile the worker sent {others} other messages (escalations, reminders, "
              f"digests, feedback{' of the busy writer' if busy else ''}'s audits)")
        if busy:
            print(f"log at the end: {int(w.app.recorder.max_notification_id() or 0):,} events")
    finally:
        if writer is not None:
            writer.kill()
            writer.wait(10)
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
        fake.stop()
        w.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use (a "
                        "fresh schema is made in it and dropped afterwards)")
    parser.add_argument("--concerns", type=int, default=200)
    parser.add_argument("--poll", type=float, default=0.05, help="the worker's poll interval")
    parser.add_argument("--gap", type=float, default=0.2,
                        help="the longest random pause between two concerns (seconds)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--url", help="a store the benchmark grew (its log is kept; the "
                        "Lontown audit is added to it)")
    parser.add_argument("--busy", action="store_true", help="another process carries out "
                        "generated audits meanwhile, their reminders and escalations falling due")
    parser.add_argument("--from-head", action="store_true", help="with --url: the worker starts "
                        "at the grown log's head, as if it had followed it all along (the "
                        "generator recorded its deliveries); the Lontown audit is still new to it")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="alert-latency-")
    schema = ""
    if args.url:
        url = args.url
        store = f"{url.split('://')[0]} store of the benchmark's log"
    elif args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
        store = f"PostgreSQL ({args.postgres.split('@')[-1]}, schema {schema})"
    else:
        url = f"sqlite:///{folder}/ledger.db"
        store = "SQLite (WAL, one file)"
    try:
        latencies = run(url, args.concerns, args.poll, args.gap, args.seed, args.busy,
                        args.from_head and bool(args.url))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if schema:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    ms = [x * 1000 for x in latencies]
    print(f"store: {store}; worker poll {args.poll * 1000:.0f} ms; {len(ms)} concerns, "
          f"one at a time, up to {args.gap * 1000:.0f} ms apart")
    print(f"concern stored -> chat.postMessage at Slack: p50 {statistics.median(ms):.0f} ms, "
          f"p90 {percentile(ms, 90):.0f} ms, p99 {percentile(ms, 99):.0f} ms, "
          f"max {max(ms):.0f} ms, mean {statistics.fmean(ms):.0f} ms")


if __name__ == "__main__":
    main()
