"""Figure d's worker and busy writer stop when the benchmark that started them is killed (as
`python -m bench` kills an overrunning figure d): none is left polling or writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent
PARENT = """
import subprocess, sys, time
from bench.alert_latency import stopped_with_us
child = subprocess.Popen(stopped_with_us([sys.executable, "-c", "import time; time.sleep(600)"]))
print(child.pid, flush=True)
time.sleep(600)
"""


def running(pid: int) -> bool:
    """Whether a process is still running (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is "
                    "Linux's; elsewhere the children are stopped by the benchmark's own cleanup")
def test_a_killed_benchmark_leaves_no_child_running() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert running(child)
    parent.kill()  # as subprocess.run(timeout=...) does: no cleanup of its own can run
    parent.wait(30)
    wait_until(lambda: not running(child), "the child to stop with its parent")
