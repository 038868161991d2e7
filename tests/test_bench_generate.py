"""The benchmark's generated stores are real stores: events, case keys and partnership keys as
the ledger itself stores them, so `verify` finds them intact and a case's text opens. (The
generator once dropped every key: each figure was then measured on text that never opened.)"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bench.generate import Populator

from .conftest import in_process, run_cli

KEY = base64.b64encode(b"generator-test-key-of-32-bytes!!").decode()


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



def test_generated_events_carry_the_ids_the_store_itself_would_make(
        store_url: str, tmp_path: Path) -> None:
    """The events are made in an in-memory ledger and copied byte for byte: the store's own
    naming rule finds them (a command against it lands on the same aggregates)."""
    from audit_ledger.wiring import wire
    from ledger.case_audit import CaseAudit
    from ledger.programme import Programme

    populator = grown(store_url, 900, workers=1)
    w = wire(store_url, "")
    try:
        for programme, refs in populator.programme_cases.items():
            assert w.app.find(Programme, w.app.ids.programme_id(programme)) is not None
            assert w.app.find(CaseAudit, w.app.ids.case_id(programme, refs[0])) is not None
    finally:
        w.close()
    keyed = wire(f"sqlite:///{tmp_path / 'keyed.db'}", KEY)
    try:  # a store with a key names and encrypts its events otherwise: refused, in words
        with pytest.raises(ValueError, match="grow a store opened without a key"):
            Populator([keyed.app], seed=7, workers=1)
    finally:
        keyed.close()
