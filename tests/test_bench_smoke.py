"""The benchmark runner still runs: `python -m bench --quick --stores sqlite` to completion.

Benchmarks are not tests: nothing here looks at a figure or a goal, only that the runner
finishes and prints its table (about 10 s), and that `--figures` runs only the figures chosen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str) -> list[str]:
    """`python -m bench --quick --stores sqlite --repeat 1 ARGS`'s table and notes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--stores", "sqlite",
                           "--repeat", "1", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)  # a hang guard: about 5 min at load 25 on 2 CPUs
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_the_benchmark_runner_runs_to_completion() -> None:
    lines = bench()
    header = next(line for line in lines if line.startswith("figure"))
    assert "raw eventsourcing" in header and "goal" in header
    for figure in ("(a)", "(b)", "(c)", "(d)", "(e)", "(f)"):
        assert any(line.startswith(figure) for line in lines), (figure, lines)


def test_only_the_figures_chosen_are_run() -> None:
    """f rides on b's rebuild: asked for alone, it still has its row, and b has none."""
    lines = bench("--figures", "f,a")
    rows = {line[:3] for line in lines if line.startswith("(")}
    assert rows == {"(a)", "(f)"}, lines


def test_an_unknown_figure_is_refused_naming_the_ones_there_are(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--figures", "b,g", "--stores", "sqlite"])
    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert "a, b, c, d, e, f" in error and "not known: g" in error, error
