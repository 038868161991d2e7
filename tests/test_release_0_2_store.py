"""A store written by the release before this one (commit ff57bef: partnerships, a signed chain,
a published report) opens in this release, verifies, and reads exactly as that release read it.
tests/data/README.md says how the stores were written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import run_cli

DATA = Path(__file__).parent / "data"
KEY = "dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE="
READS = {
    "report.json": ["report", "lontown-2009", "--format", "json", "--today", "2010-03-15"],
    "report.md": ["report", "lontown-2009", "--today", "2010-03-15"],
    "report-northbrook.json": ["report", "northbrook-2026", "--format", "json",
                               "--today", "2026-12-01"],
    "case-C01.json": ["case", "lontown-2009", "C01", "--format", "json"],
    "history-C07.json": ["history", "lontown-2009", "C07", "--as-of", "2026-12-02T00:00:00+00:00",
                         "--format", "json"],
    "concerns.json": ["concern", "list", "lontown-2009", "--format", "json"],
    "feedback.json": ["feedback", "list", "lontown-2009", "--format", "json"],
    "actions.json": ["action", "list", "lontown-2009", "--format", "json", "--today", "2010-03-15"],
    "people.json": ["person", "list", "--format", "json", "--partnership", "default"],
    "people-northbrook.json": ["person", "list", "--format", "json", "--partnership",
                               "northbrook"],
}


def _holds(now: Any, then: Any, where: str = "verify") -> None:
    """Everything that release said is still said the same way (a later release may say more)."""
    if isinstance(then, dict):
        assert isinstance(now, dict), where
        for field, value in then.items():
            assert field in now, f"{where}.{field} is no longer reported"
            _holds(now[field], value, f"{where}.{field}")
    else:
        assert now == then, f"{where}: {now!r}, was {then!r}"


@pytest.mark.parametrize("name,key", [("release-0.2", ""), ("release-0.2-key", KEY)])
def test_a_store_of_the_release_before_opens_verifies_and_reads_the_same(
        name: str, key: str, tmp_path: Path) -> None:
    shutil.copy(DATA / f"{name}.db", tmp_path / f"{name}.db")
    url = f"sqlite:///{tmp_path / name}.db"
    now = json.loads(run_cli("verify", "--format", "json", url=url, key=key, check=True).stdout)
    _holds(now, json.loads((DATA / "expected" / name / "verify.json").read_text("utf-8")))
    for expected, args in READS.items():
        result = run_cli(*args, url=url, key=key, check=True)
        then = (DATA / "expected" / name / expected).read_text(encoding="utf-8")
        assert result.stdout == then, \
            f"audit-ledger {' '.join(args)} reads {name} differently from commit ff57bef"
    # The erased case stays erased, and the next write extends the chain that release left.
    assert "[erased]" in (DATA / "expected" / name / "history-C07.json").read_text("utf-8")
    run_cli("person", "add", "newql", "--name", "New Lead", "--agency", "partnership",
            "--role", "quality-lead", "--by", "qa.bennett", "--partnership", "default",
            url=url, key=key, check=True)
    after = json.loads(run_cli("verify", "--format", "json", url=url, key=key,
                               check=True).stdout)
    assert after["intact"] is True and after["checked"] > now["checked"]
    if key:  # an inspector with only the public key checks the whole signed chain
        public = run_cli("public-key", url=url, key=key, check=True).stdout.strip()
        assert public in now["signatures"]["public_keys"]
        run_cli("verify", "--public-key", public, url=url, check=True)
