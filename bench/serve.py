"""(e) `audit-ledger bot serve` in its own process, under concurrent signed slash commands.

The server runs as a person runs it (the console script, configured by the environment, with
`--no-worker`: at scale the worker is its own process), against the tests' fake Slack on
127.0.0.1. `clients` threads send `/audit progress|my|case` commands, signed with the signing
secret and shaped as Slack sends them, each over a new HTTP connection, until `requests`
have been sent or `seconds` have passed. What Slack would see is timed: the HTTP answer. An
answer that takes longer than the bot's two-second budget is acknowledged with a holding
reply and sent later to the command's response_url; those are counted, and timed to the
final answer too. Beside the times, the server's CPU a command (its processes' user and system
time over the load, from /proc): on a shared machine the times follow the machine's load, and
that figure much less.

The server runs with `bot serve`'s defaults (its number of serving processes included) unless
`serve_args` says otherwise. Alone, for one store and one size (the log is generated first):

    python -m bench.serve --store sqlite --events 10000
    python -m bench.serve --store postgres --events 10000 -- --workers 1
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .generate import Populator
from .latency import ANSWERS, Percentiles, asker_texts

TOKEN = "xoxb-fake-bot-token"
SECRET = "bench-signing-secret-0123456789abcdef"
HOLDING = "Looking that up"


def _fake_slack() -> Any:
    try:
        from tests import fake_slack
    except ImportError as e:  # run from elsewhere than the repository's root
        raise SystemExit("bench needs tests/fake_slack.py: run `python -m bench` from the "
                         f"repository's root ({e})") from None
    return fake_slack


def console_script() -> str:
    beside = Path(sys.executable).parent / "audit-ledger"
    return str(beside) if beside.exists() else "audit-ledger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Load:
    answered: list[float] = field(default_factory=list)  # seconds to the HTTP answer
    statuses: Counter[str] = field(default_factory=Counter)  # HTTP answers by status
    deferred: dict[str, float] = field(default_factory=dict)  # response_url -> sent at
    failures: list[str] = field(default_factory=list)  # no answer, or not 200
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(port: int, body: str, headers: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read().decode("utf-8", "replace")
    finally:
        conn.close()


def server_cpu(pid: int) -> float:
    """Seconds of CPU (user and system) spent so far by process `pid` and every process it
    started that still runs (uvicorn's serving processes with `--workers N`), from /proc;
    0.0 where there is no /proc. On a shared machine this, not wall time, says what a
    command costs the server."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    spent: dict[int, float] = {}
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += spent.get(p, 0.0)
        todo += [child for child, parent in parents.items() if parent == p]
    return total


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"bot serve exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("bot serve did not answer /healthz within 120 s")
        time.sleep(0.2)


def measure(url: str, populator: Populator, clients: int = 50, requests: int = 1000,
            seconds: float = 120.0, seed: int = 13, serve_args: Sequence[str] = ()
            ) -> dict[str, Any]:
    fake_slack = _fake_slack()
    rng = random.Random(seed)
    work: queue.Queue[tuple[str, str]] = queue.Queue()
    for n in range(requests):
        work.put(asker_texts(populator, rng, ANSWERS[n % len(ANSWERS)]))
    load = Load()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    with fake_slack.running((TOKEN,)) as fake, tempfile.TemporaryDirectory() as tmp:
        env.update(AUDIT_LEDGER_URL=url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
                   SLACK_API_URL=fake.api_url)
        log = Path(tmp) / "serve.log"
        with log.open("wb") as err:
            proc = subprocess.Popen([console_script(), "bot", "serve", "--port", str(port),
                                     "--no-worker", *serve_args], env=env,
                                    stdout=subprocess.DEVNULL, stderr=err)
        try:
            _wait_healthy(proc, port, log)

            def send(user: str, text: str) -> None:
                reply_to = fake.response_url()
                body = fake_slack.slash_command(user, user.lower(), text, reply_to)
                headers = fake_slack.signed_headers(body, SECRET)
                started = time.monotonic()
                try:
                    status, said = _post(port, body, headers)
                except (OSError, http.client.HTTPException) as e:
                    with load.lock:
                        load.failures.append(type(e).__name__)
                    return
                elapsed = time.monotonic() - started
                with load.lock:
                    load.answered.append(elapsed)
                    load.statuses[f"HTTP {status}"] += 1
                    if status != 200:
                        load.failures.append(f"HTTP {status}")
                    elif HOLDING in said:
                        load.deferred[reply_to] = started

            for kind in ANSWERS:  # warm the server: imports, first catch-up, caches
                user, text = asker_texts(populator, random.Random(kind), kind)
                body = fake_slack.slash_command(user, "warm", text, fake.response_url())
                _post(port, body, fake_slack.signed_headers(body, SECRET))
            stop_at = time.monotonic() + seconds

            def client() -> None:
                while time.monotonic() < stop_at:
                    try:
                        user, text = work.get_nowait()
                    except queue.Empty:
                        return
                    send(user, text)

            cpu_before = server_cpu(proc.pid)
            started = time.monotonic()
            threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=seconds + 60)
            wall = time.monotonic() - started
            cpu = server_cpu(proc.pid) - cpu_before
            finals = _final_answers(fake, load, 60.0)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    http_p = Percentiles.of(load.answered)
    return {"http": http_p, "over_3s": sum(1 for s in load.answered if s > 3.0),
            "sent": requests - work.qsize(), "failures": load.failures,
            "statuses": dict(load.statuses),
            "deferred": len(load.deferred), "final": Percentiles.of(finals),
            "unanswered": len(load.deferred) - len(finals), "wall": wall,
            "clients": clients, "server_cpu": cpu}


def _final_answers(fake: Any, load: Load, timeout: float) -> list[float]:
    """Seconds from sending to the answer at the response_url, for the deferred ones."""
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in fake.calls_to("response_url") if c.body.get("url") in load.deferred]
        if len(calls) >= len(load.deferred) or time.monotonic() > deadline:
            return [c.at - load.deferred[c.body["url"]] for c in calls]
        time.sleep(0.2)


def _load() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    from audit_ledger.wiring import wire

    from .stores import KINDS, make_store, postgres_problem

    parser = argparse.ArgumentParser(
        prog="python -m bench.serve", description="Figure (e) alone: `bot serve` under "
        "concurrent signed slash commands, for one store and one log size. Arguments after "
        "`--` go to `bot serve` (for example `-- --workers 1`).")
    parser.add_argument("--store", choices=KINDS, default="sqlite")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("serve_args", nargs="*", help="passed to `bot serve`")
    args = parser.parse_args(argv)
    if args.store == "postgres" and (problem := postgres_problem()):
        parser.error(f"PostgreSQL is not reachable ({problem}); set BENCH_PG_URL")
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        store = make_store(args.store, Path(tmp), "serve")
        try:
            w = wire(store.url, "")
            try:
                populator = Populator([w.app], seed=args.seed)
                populator.grow(args.events)
                w.follower.catch_up()  # as in a full run, where figure c comes first
            finally:
                w.close()
            e = measure(store.url, populator, clients=args.clients, requests=args.requests,
                        seconds=args.seconds, serve_args=args.serve_args)
        finally:
            store.drop()
    p: Percentiles = e["http"]
    final: Percentiles = e["final"]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(e["statuses"].items()))
    print(f"(e) {args.store}, {populator.progress.events:,} events, bot serve "
          f"{' '.join(args.serve_args) or '(defaults)'}: {e['clients']} clients sent "
          f"{e['sent']} of {args.requests} commands in {e['wall']:.1f} s "
          f"({e['sent'] / e['wall']:.0f}/s; answers: {statuses}); HTTP answer p50 "
          f"{p.p50 * 1000:.1f} ms, p99 {p.p99 * 1000:.1f} ms, max {p.worst * 1000:.1f} ms; "
          f"{e['over_3s']} after more than 3 s; server CPU "
          f"{e['server_cpu'] * 1000 / max(1, e['sent']):.2f} ms a command; load {_load()}"
          + (f"; {e['deferred']} held, answered at the response_url after p50 "
             f"{final.p50:.1f} s / p99 {final.p99:.1f} s" if e["deferred"] else "")
          + (f"; {len(e['failures'])} failed" if e["failures"] else ""))
    return 0 if not e["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
