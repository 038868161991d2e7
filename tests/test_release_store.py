"""A store written by release 0.1.0 opens in this release, verifies, and reads exactly as that
release read it (tests/data/README.md says how the stores were written)."""

from __future__ import annotations

import json
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
        then = (DATA / "expected" / name / expected).read_text(encoding="utf-8")
        if expected == "verify.json":  # what verify says now, beside what 0.1.0 said
            now = json.loads(result.stdout)
            keys = now.pop("case_keys")  # the key table against the log, since release 0.3
            assert (keys["rows"], keys["problems"], keys["unbound"]) == (10, [], 9), keys
            assert now.pop("erasures_pending") == []  # its erasure is complete (since 0.3)
            assert now.pop("ids") == "public"  # named as 0.1 named them: uuid5 (since 0.3)
            assert now.pop("signatures") == {"count": 0, "first_signed_position": None,
                                              "public_keys": [], "checked_against":
                                              "public key" if key else "stored keys"}
            assert now == json.loads(then)
            continue
        assert result.stdout == then, \
            f"audit-ledger {' '.join(args)} reads {name} differently from release 0.1.0"
    # Release 0.1.0 signed nothing: verify says so in words, and it is not tampering.
    said = run_cli("verify", url=url, key=key, check=True).stdout
    assert "no event is signed" in said and "release 0.1" in said
    # The next write signs (when a key is set), and the events before it are reported as
    # stored before the ledger signed its chain, not as tampering.
    if key:
        run_cli("person", "add", "newql", "--name", "New Lead", "--agency", "partnership",
                "--role", "quality-lead", "--by", "qa.bennett", url=url, key=key, check=True)
        public = run_cli("public-key", url=url, key=key, check=True).stdout.strip()
        said = run_cli("verify", "--public-key", public, url=url, check=True).stdout
        assert "were stored before the ledger signed its chain" in said
        assert "they are not tampering" in said
