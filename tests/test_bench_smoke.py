"""The benchmark runner still runs: `python -m bench --quick --stores sqlite` to completion.

Benchmarks are not tests: nothing here looks at a figure or a goal, only that the runner
finishes and prints its table (about 10 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runner_runs_to_completion() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--stores", "sqlite",
                           "--repeat", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)  # a hang guard: about 5 min at load 25 on 2 CPUs
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("figure"))
    assert "raw eventsourcing" in header and "goal" in header
    for figure in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)"):
        assert any(line.startswith(figure) for line in lines), (figure, done.stdout)
