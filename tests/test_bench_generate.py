"""The benchmark's generated stores are real stores: events, case keys and partnership keys as
the ledger itself stores them, so `verify` finds them intact and a case's text opens. (The
generator once dropped every key: each figure was then measured on text that never opened.)"""

from __future__ import annotations

from bench.generate import Populator

from .conftest import in_process, run_cli


def grown(url: str, events: int, workers: int) -> Populator:
    from audit_ledger.wiring import wire

    w = wire(url, "")
    try:
        populator = Populator([w.app], seed=7, workers=workers)
        populator.grow(events)
        return populator
    finally:
        w.close()


def test_a_generated_store_verifies_and_its_case_text_opens(store_url: str) -> None:
    populator = grown(store_url, 900, workers=1)
    done = run_cli("verify", url=store_url)
    assert done.returncode == 0, done.stdout + done.stderr
    cases = sum(len(refs) for refs in populator.programme_cases.values())
    assert f"{cases} case key rows checked against the log" in done.stdout
    programme, refs = next(iter(populator.programme_cases.items()))
    shown = in_process(store_url, "case", programme, refs[0])
    assert "unreadable" not in shown and "Area 2" in shown

