"""A store written by release 0.1.0 opens in this release, verifies, and reads exactly as that
release read it (tests/data/README.md says how the stores were written)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import run_cli

DATA = Path(__file__).parent / "data"
AS_OF = "2026-12-01T12:00:00+00:00"
KEY = "dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE="
READS = {
    "verify.json": ["verify", "--format", "json"],
    "report.json": ["report", "lontown-2009", "--format", "json", "--today", "2010-03-15"],
    "report.md": ["report", "lontown-2009", "--today", "2010-03-15"],
    "case-C01.json": ["case", "lontown-2009", "C01", "--format", "json"],
    "case-C02.json": ["case", "lontown-2009", "C02", "--format", "json"],
    "history-C01.json": ["history", "lontown-2009", "C01", "--as-of", AS_OF, "--format", "json"],
    "history-C07.json": ["history", "lontown-2009", "C07", "--as-of", AS_OF, "--format", "json"],
    "concerns.json": ["concern", "list", "lontown-2009", "--format", "json"],
    "feedback.json": ["feedback", "list", "lontown-2009", "--format", "json"],
    "actions.json": ["action", "list", "lontown-2009", "--format", "json", "--today", "2010-03-15"],
    "people.json": ["person", "list", "--format", "json"],
}


@pytest.mark.parametrize("name,key", [("release-0.1", ""), ("release-0.1-key", KEY)])
def test_a_store_of_the_previous_release_opens_verifies_and_reads_the_same(
        name: str, key: str, tmp_path: Path) -> None:
    shutil.copy(DATA / f"{name}.db", tmp_path / f"{name}.db")
    url = f"sqlite:///{tmp_path / name}.db"
    for expected, args in READS.items():
        result = run_cli(*args, url=url, key=key, check=True)
        assert result.stdout == (DATA / "expected" / name / expected).read_text(encoding="utf-8"), \
            f"audit-ledger {' '.join(args)} reads {name} differently from release 0.1.0"
