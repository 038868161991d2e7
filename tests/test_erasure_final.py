"""When an erasure is final on SQLite: after `erase` the destroyed key's bytes are in neither the
database file nor its WAL, and after `rotate-key` neither are the previous epoch's wrapped keys
(zeroed with secure_delete, the WAL checkpointed and truncated). PostgreSQL cannot promise this
for its pg_wal (README "When an erasure is final"); the rotation tests cover what it can."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.wal import wal_kept

from .conftest import run_cli
from .test_rotation import KEY, _cli, _key_file, _rows


def _files_holding(directory: Path, needle: bytes) -> list[str]:
    return sorted(p.name for p in directory.iterdir()
                  if p.name.startswith("ledger.db") and needle in p.read_bytes())


def test_erased_and_rotated_away_keys_leave_no_bytes_in_the_sqlite_file_or_its_wal(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    (tmp_path / "pack.json").write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=url, key=KEY, check=True)
    first = _rows(url)
    case_key = first[("case", "mini-2026", "K01")]
    assert case_key is not None
    assert _files_holding(tmp_path, case_key[-24:]) == ["ledger.db"]  # the search finds it

    erased = run_cli("erase", "mini-2026", "K01", "--by", "ql", "--reason",
                     "ICO order 2026-114", url=url, key=KEY)
    assert erased.returncode == 0, erased.stderr
    assert _files_holding(tmp_path, case_key[-24:]) == []

    k1, _ = _key_file(tmp_path, "k1")
    rotated = _cli(url, "rotate-key", "--new-key-file", str(k1), "--by", "ql")
    assert rotated.returncode == 0, rotated.stderr
    for row in (first[("partnership", "default")], first[("case", "mini-2026", "K02")]):
        assert row is not None
        assert _files_holding(tmp_path, row[-24:]) == []


def test_a_destroyed_partnership_key_leaves_no_bytes_in_the_sqlite_file_or_its_wal(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    (tmp_path / "pack.json").write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=url, key=KEY, check=True)
    partnership_key = _rows(url)[("partnership", "default")]
    assert partnership_key is not None
    assert _files_holding(tmp_path, partnership_key[-24:]) == ["ledger.db"]
    erased = run_cli("partnership", "erase", "default", "--by", "ql", "--reason",
                     "Contract ended, board minute 2026-07", "--yes", url=url, key=KEY)
    assert erased.returncode == 0, erased.stderr
    assert _files_holding(tmp_path, partnership_key[-24:]) == []


def test_erase_beside_a_reader_that_holds_the_wal_warns_in_seconds_and_a_rerun_finishes(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    (tmp_path / "pack.json").write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=url, key=KEY, check=True)
    case_key = _rows(url)[("case", "mini-2026", "K01")]
    assert case_key is not None
    reader = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    try:  # another process in the middle of a read: the WAL cannot be emptied meanwhile
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM case_keys").fetchone()
        erased = run_cli("erase", "mini-2026", "K01", "--by", "ql", "--reason",
                         "ICO order 2026-114", url=url, key=KEY)
        assert erased.returncode == 0, erased.stderr
        # Said once, in the words every erasure uses (the WAL is tried once, by the erasure).
        assert erased.stderr.count("could not be emptied") == 1, erased.stderr
        assert "warning: " + wal_kept("the destroyed key's old copy") in erased.stderr
    finally:
        reader.execute("COMMIT")
        reader.close()
    again = run_cli("erase", "mini-2026", "K01", "--by", "ql", "--reason",
                    "ICO order 2026-114", url=url, key=KEY)
    assert again.returncode == 0 and "could not be emptied" not in again.stderr, again.stderr
    assert _files_holding(tmp_path, case_key[-24:]) == []
