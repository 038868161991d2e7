"""Alert latency: from a concern being stored to chat.postMessage reaching Slack.

Loads the bundled Lontown audit (51 people, all linked to Slack) into a fresh store, starts
`audit-ledger worker` as its own process against a fake Slack on 127.0.0.1, lets it send the
backlog (feedback and the pack's concerns), then raises concerns one at a time from this
process at random intervals and times each from the moment `raise_concern` returned (the
concern is committed) to the first chat.postMessage carrying it arriving at the fake Slack.

    python -m bench.alert_latency                      # SQLite file in a temporary folder
    python -m bench.alert_latency --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.alert_latency --concerns 300 --poll 0.05

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


def run(url: str, concerns: int, poll: float, gap: float, seed: int) -> list[float]:
    pack = json.loads(resources.files("ledger").joinpath(
        "packs", "lontown-2009.json").read_text(encoding="utf-8"))
    w = wire(url, "")
    import_pack(w.app, parse_pack(pack), "bench")
    views = w.fresh_views()
    pid = pack["programme"]["id"]
    targets = [(case["case"], agency) for case in views.cases(pid)
               for agency in case["agencies"]]
    auditor = next(p["person"] for p in views.everyone() if "auditor" in p["roles"])

    fake = FakeSlack((TOKEN,)).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env.update(AUDIT_LEDGER_URL=url, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=TOKEN)
    worker = subprocess.Popen([console_script(), "worker", "--poll", str(poll)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rng = random.Random(seed)
    latencies: list[float] = []
    try:
        fake.wait_for("auth.test", timeout=30)
        quiet(fake)  # the backlog: 40 feedback messages and their copies, 6 concern alerts ...
        backlog = len(fake.calls_to("chat.postMessage"))
        print(f"backlog sent by the worker on starting: {backlog} messages")
        run_id = uuid.uuid4().hex[:6]
        for i in range(concerns):
            case, agency = rng.choice(targets)
            outcome = w.app.raise_concern(c.RaiseConcern(
                programme=pid, case=case, agency=agency, by=auditor,
                summary=f"Bench concern {run_id}-{i}: no record of the child being seen."))
            stored = time.monotonic()
            ref = outcome.message.split()[1]
            posted = fake.wait_for("chat.postMessage", carrying(ref), timeout=30)
            latencies.append(min(x.at for x in posted) - stored)
            time.sleep(rng.uniform(0, gap))
    finally:
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
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="alert-latency-")
    schema = ""
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
        store = f"PostgreSQL ({args.postgres.split('@')[-1]}, schema {schema})"
    else:
        url = f"sqlite:///{folder}/ledger.db"
        store = "SQLite (WAL, one file)"
    try:
        latencies = run(url, args.concerns, args.poll, args.gap, args.seed)
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
