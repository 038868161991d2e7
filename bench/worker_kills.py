"""Messages sent twice when the worker is killed: how rare "at least once" makes a duplicate.

Loads the bundled Lontown audit into a fresh store and raises concerns (each alerts its
agency's managers and the audit channel), then runs `audit-ledger worker` against a fake Slack
on 127.0.0.1 and kills it with SIGKILL at random moments (0.5-3 s apart by default), starting
it again each time, until it has read the whole log and Slack has gone quiet; a last worker
then finishes unkilled. A message is sent twice only when the worker dies between Slack's
answer and recording the delivery (README, "Delivery"); this counts how often that happens:
every chat.postMessage Slack accepted, by channel and text, those accepted more than once, and
the kills. Prints the load average beside the figures.

    python -m bench.worker_kills                           # SQLite, 4,000 concerns
    python -m bench.worker_kills --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.worker_kills --concerns 500 --kill-every 1.0

A benchmark, not a test: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit_ledger.wiring import wire  # noqa: E402
from bench.alert_latency import TOKEN, console_script, stopped_with_us  # noqa: E402
from ledger import commands as c  # noqa: E402
from ledger.importer import import_pack  # noqa: E402
from ledger.pack import parse_pack  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402

LIMIT = 3600.0  # seconds the whole run may take: a hang ends it, it never waits for ever


def _raise_concerns(url: str, concerns: int, seed: int) -> tuple[int, int]:
    """The Lontown audit and `concerns` concerns on its cases; the log's size and how long
    raising them took (seconds)."""
    from bench.generate import importer_of

    pack = json.loads(resources.files("ledger").joinpath(
        "packs", "lontown-2009.json").read_text(encoding="utf-8"))
    w = wire(url, "")
    try:
        lontown = parse_pack(pack)
        import_pack(w.app, lontown, importer_of(lontown))
        views = w.fresh_views()
        pid = pack["programme"]["id"]
        targets = [(case["case"], agency) for case in views.cases(pid)
                   for agency in case["agencies"]]
        auditor = next(p["person"] for p in views.everyone() if "auditor" in p["roles"])
        rng = random.Random(seed)
        # Letters only: a hex id such as "e41ea3" reads as a postcode, which is refused.
        run_id = "".join(rng.choice("bcdfghjkmnpqrstvwxz") for _ in range(6))
        started = time.monotonic()
        for i in range(concerns):
            case, agency = rng.choice(targets)
            w.app.raise_concern(c.RaiseConcern(
                programme=pid, case=case, agency=agency, by=auditor,
                summary=f"Kill bench concern {run_id}-{i}: no record of the child being seen."))
        return int(w.app.recorder.max_notification_id() or 0), round(time.monotonic() - started)
    finally:
        w.close()


def _caught_up(url: str) -> bool:
    w = wire(url, "")
    try:
        head = int(w.app.recorder.max_notification_id() or 0)
        return w.store.positions().get("worker", 0) >= head
    finally:
        w.close()


def _posts(fake: FakeSlack) -> int:
    return len(fake.calls_to("chat.postMessage"))


def run(url: str, concerns: int, kill_every: float, seed: int) -> None:
    events, raising = _raise_concerns(url, concerns, seed)
    print(f"log of {events:,} events ({concerns:,} concerns raised in {raising} s); "
          f"load {os.getloadavg()[0]:.1f}")
    fake = FakeSlack((TOKEN,)).start()
    assert fake.server is not None
    fake.server.handle_error = lambda *args: None  # type: ignore[method-assign]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env.update(AUDIT_LEDGER_URL=url, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=TOKEN)
    rng = random.Random(seed)
    kills = 0
    started = time.monotonic()
    loads = [os.getloadavg()[0]]

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(stopped_with_us([console_script(), "worker", "--poll", "0.05"]),
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        while not _caught_up(url):
            if time.monotonic() - started > LIMIT:
                raise SystemExit(f"the worker never caught up within {LIMIT:.0f} s")
            proc = worker()
            before = _posts(fake)
            try:  # killed once it has sent something, at a random moment after
                fake.wait_for("chat.postMessage", count=before + 1, timeout=120)
            except AssertionError:
                pass  # nothing left to send, or slow to start: killed all the same
            time.sleep(rng.uniform(0, kill_every))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            kills += 1
            loads.append(os.getloadavg()[0])
        last = worker()  # what is left (the position is at the head: little or nothing)
        try:
            from bench.alert_latency import quiet

            quiet(fake, for_seconds=2.0, limit=LIMIT)
        finally:
            last.terminate()
            last.wait(30)
    finally:
        fake.stop()
    posts = fake.calls_to("chat.postMessage")
    seen = Counter((p.body.get("channel"), p.body.get("text")) for p in posts)
    twice = sum(n - 1 for n in seen.values() if n > 1)
    print(f"{len(posts):,} messages accepted by Slack, {len(seen):,} distinct; {twice} sent "
          f"more than once ({twice / max(1, len(seen)) * 10_000:.1f} in 10,000), over {kills} "
          f"SIGKILLs in {time.monotonic() - started:.0f} s; load {min(loads):.1f}-"
          f"{max(loads):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use (a "
                        "fresh schema is made in it and dropped afterwards)")
    parser.add_argument("--concerns", type=int, default=4000)
    parser.add_argument("--kill-every", type=float, default=3.0,
                        help="the longest random wait before each SIGKILL (seconds)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="worker-kills-")
    schema = ""
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
    else:
        url = f"sqlite:///{folder}/ledger.db"
    try:
        print(f"store: {'PostgreSQL' if schema else 'SQLite'}; SIGKILL up to "
              f"{args.kill_every:.1f} s after the worker's first message each run")
        run(url, args.concerns, args.kill_every, args.seed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if schema:
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    main()
