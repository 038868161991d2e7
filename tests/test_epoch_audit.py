"""`verify` checks the key epochs against the rotations the log records, on both stores.

The administrator (with the database, not the keys) edits `key_epochs` and the key rows in
SQL: an epoch row deleted, added or relabelled, partnership key rows put back from a copy
taken before a rotation (which would let an erased key in that copy open again), a rotation
that stopped before its event. Each is named by `verify`, exit 1, and a clean store after two
rotations verifies, with the store's key and without it.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from audit_ledger.wiring import wire
from ledger.epoch_audit import EpochRow, Rotations, check_epochs
from ledger.key_epochs import EPOCH_MARK

from .conftest import run_cli
from .test_rotation import KEY, _cli, _key_file
from .test_tamper import Raw


class KeyTables:
    """`key_epochs`, `partnership_keys` and `case_keys`, reached without the ledger."""

    def __init__(self, url: str) -> None:
        self.raw = Raw(url)
        self.prefix = "" if self.raw.sqlite else \
            f"{parse_qs(urlparse(url).query)['schema'][0]}."

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        for table in ("key_epochs", "partnership_keys", "case_keys"):
            sql = sql.replace(table.upper(), self.prefix + table)
        return self.raw.run(sql, *params)

    def partnership_key(self) -> bytes:
        return bytes(self.run("SELECT key FROM PARTNERSHIP_KEYS WHERE partnership='default'")
                     [0][0])


@pytest.fixture
def rotated(store_url: str, tmp_path: Path,
            mini_pack: dict[str, Any]) -> Iterator[tuple[KeyTables, Path, bytes]]:
    """The mini audit imported with a key and rotated twice; the tables, epoch 2's key file,
    and the default partnership's key row as it was in epoch 1."""
    (tmp_path / "pack.json").write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=store_url, key=KEY, check=True)
    k1, _ = _key_file(tmp_path, "k1")
    k2, _ = _key_file(tmp_path, "k2")
    tables = KeyTables(store_url)
    try:
        assert _cli(store_url, "rotate-key", "--new-key-file", str(k1), "--by", "ql"
                    ).returncode == 0
        epoch_1 = tables.partnership_key()
        done = _cli(store_url, "rotate-key", "--new-key-file", str(k2), "--by", "ql",
                    wrapping=k1)
        assert done.returncode == 0, done.stderr
        yield tables, k2, epoch_1
    finally:
        tables.raw.close()


def _verify(url: str, wrapping: Path | None, key: str = KEY) -> tuple[int, str, str]:
    result = _cli(url, "verify", wrapping=wrapping, key=key)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("given", ["key", "no-key"])
def test_each_edit_of_the_key_epochs_is_named_by_verify(
        rotated: tuple[KeyTables, Path, bytes], store_url: str, given: str) -> None:
    tables, k2, epoch_1 = rotated
    key, wrapping = (KEY, k2) if given == "key" else ("", None)
    code, _out, err = _verify(store_url, wrapping, key)
    assert code == 0, err

    # A recorded rotation's row deleted.
    row = tables.run("SELECT epoch, check_value, started_at, started_by FROM KEY_EPOCHS "
                     "WHERE epoch=2")[0]
    tables.run("DELETE FROM KEY_EPOCHS WHERE epoch=2")
    code, _out, err = _verify(store_url, wrapping, key)
    assert code == 1
    assert "the rotation to key epoch 2 is recorded in the log" in err
    assert "the key_epochs table has no row for it" in err
    tables.run("INSERT INTO KEY_EPOCHS (epoch, check_value, started_at, started_by) "
               "VALUES (?, ?, ?, ?)", *row)
    assert _verify(store_url, wrapping, key)[0] == 0

    # An epoch no rotation started, added by hand.
    tables.run("INSERT INTO KEY_EPOCHS (epoch, check_value, started_at, started_by) "
               "VALUES (3, 'x', '2026-11-30T09:00:00+00:00', 'mallory')")
    code, _out, err = _verify(store_url, wrapping, key)
    assert code == 1
    assert ("key epoch 3 (started on 2026-11-30 by mallory) is in the key_epochs table but "
            "the log records no rotation to it") in err
    tables.run("DELETE FROM KEY_EPOCHS WHERE epoch=3")

    # The partnership's key row put back from a copy taken in epoch 1: the rotation undone.
    now = tables.partnership_key()
    tables.run("UPDATE PARTNERSHIP_KEYS SET key=? WHERE partnership='default'", epoch_1)
    code, _out, err = _verify(store_url, wrapping, key)
    assert code == 1
    assert ("the rotation to key epoch 2 is recorded, but no partnership key row is of that "
            "epoch (default: epoch 1)") in err

    # A row wrapped in an epoch nobody started, and one naming no epoch at all.
    for forged, said in ((EPOCH_MARK + b"7\n" + now[len(EPOCH_MARK) + 2:],
                          "partnership default's key row is wrapped in key epoch 7, which no "
                          "recorded rotation started"),
                         (EPOCH_MARK + b"x\n" + now[len(EPOCH_MARK) + 2:],
                          "partnership default's key row names no key epoch the ledger "
                          "writes")):
        tables.run("UPDATE PARTNERSHIP_KEYS SET key=? WHERE partnership='default'", forged)
        code, _out, err = _verify(store_url, wrapping, key)
        assert code == 1 and said in err, err
    tables.run("UPDATE PARTNERSHIP_KEYS SET key=? WHERE partnership='default'", now)
    assert _verify(store_url, wrapping, key)[0] == 0

    if given == "key":  # who started an epoch: only the readable log says
        tables.run("UPDATE KEY_EPOCHS SET started_by='mallory' WHERE epoch=1")
        code, _out, err = _verify(store_url, wrapping, key)
        assert code == 1
        assert ("key epoch 1's row in key_epochs says it was started by mallory, but the log "
                "records the rotation by ql") in err


def test_a_rotation_stopped_before_its_event_is_named_until_the_next_records_it(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    from ledger.rotation import Rotation

    (tmp_path / "pack.json").write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=store_url, key=KEY, check=True)
    k1, raw1 = _key_file(tmp_path, "k1")
    w = wire(store_url, KEY)
    try:  # the keys' transaction committed; the process killed before the event was saved
        Rotation(w.app.mapper.keys, raw1).rotate("ql", "2026-07-01T10:00:00+00:00")  # type: ignore[attr-defined]
    finally:
        w.close()
    code, _out, err = _verify(store_url, k1)
    assert code == 1
    assert ("key epoch 1 (started on 2026-07-01 by ql) is in the key_epochs table but the log "
            "records no rotation to it: the rotation stopped after committing its keys") in err
    k2, _ = _key_file(tmp_path, "k2")
    assert _cli(store_url, "rotate-key", "--new-key-file", str(k2), "--by", "ql",
                wrapping=k1).returncode == 0
    code, _out, err = _verify(store_url, k2)
    assert code == 0, err


def test_case_key_rows_older_than_every_rotation_are_named() -> None:
    """Rotations write every live case key in the bound format: an older row after one was
    put back by hand (unit level: such rows are made only by release 0.2 or earlier)."""
    bound = b"audit-ledger case key v2\n" + os.urandom(60)
    older = base64.b64encode(os.urandom(32))
    rows = {("p", "K01"): (bound, ""), ("p", "K02"): (older, ""), ("p", "K03"): (None, "x")}
    epochs = [EpochRow(1, "2026-07-01T10:00:00+00:00", "ql")]
    problems, unchecked = check_epochs(epochs, Rotations({1: "ql"}), {}, rows)
    assert problems == [
        "1 case key row (case K02 in p) is in the format written before key epochs, though the "
        "store was rotated to epoch 1, which wrote every live key again: put back outside the "
        "ledger from a copy taken before it"] and unchecked == []
    assert check_epochs([], Rotations(), {}, rows) == ([], [])  # never rotated: as written
