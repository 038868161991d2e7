"""`rotate-key`: every key alive re-wrapped under a new epoch's wrapping key in one
transaction; wrong keys refused in words with nothing changed; everything still reads and
verifies; and a key an erasure destroyed, kept in a copy of the tables taken before (as in an
old WAL segment or a backup), opens with nothing once its epoch's wrapping key is gone."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from audit_ledger.wiring import wire
from ledger.key_epochs import KeyRotation, unwrap_partnership_key
from ledger.key_wrapping import bound_to, unwrap_case_key
from ledger.personal import SEALED

from .conftest import cli_env, console_script, run_cli

KEY = base64.b64encode(b"rotation-test-store-key-32-bytes").decode()
TEXT = "School did not report to the review conference."  # K01's concern: sealed
OTHER = "A worry about K02 raised before the rotations."
K01 = bound_to("default", "mini-2026", "K01")  # what K01's key row is bound to


def _cli(url: str, *args: str, wrapping: Path | None = None,
         key: str = KEY) -> subprocess.CompletedProcess[str]:
    extra = {"AUDIT_LEDGER_WRAPPING_KEY_FILE": str(wrapping)} if wrapping else {}
    return subprocess.run([console_script(), *args], capture_output=True, text=True,
                          env=cli_env(url, key, **extra), timeout=120)


def _key_file(tmp_path: Path, name: str) -> tuple[Path, bytes]:
    raw = os.urandom(32)
    path = tmp_path / name
    path.write_text(base64.b64encode(raw).decode() + "\n", encoding="utf-8")
    return path, raw


def _rows(url: str) -> dict[tuple[str, ...], bytes | None]:
    """Both key tables as stored: what a copy of the database (a backup) would hold."""
    w = wire(url, KEY)
    try:
        keys = w.app.mapper.keys  # type: ignore[attr-defined]
        datastore = keys.partnerships.datastore
        schema = f"{datastore.schema}." if hasattr(datastore, "schema") else ""
        out: dict[tuple[str, ...], bytes | None] = {}
        with datastore.transaction(commit=False) as c:
            c.execute(f"SELECT partnership, key FROM {schema}partnership_keys")
            for row in c.fetchall():
                values = list(row.values()) if isinstance(row, dict) else list(row)
                out[("partnership", values[0])] = bytes(values[1]) if values[1] else None
            c.execute(f"SELECT programme, case_ref, key FROM {schema}case_keys")
            for row in c.fetchall():
                values = list(row.values()) if isinstance(row, dict) else list(row)
                out[("case", values[0], values[1])] = bytes(values[2]) if values[2] else None
        return out
    finally:
        w.close()


def _imported(url: str, tmp_path: Path, pack: dict[str, Any]) -> None:
    (tmp_path / "pack.json").write_text(json.dumps(pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=url, key=KEY, check=True)


def test_rotation_rewraps_every_key_and_everything_still_reads_and_verifies(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(store_url, tmp_path, mini_pack)
    k1, _ = _key_file(tmp_path, "k1")
    before = _rows(store_url)
    rotated = _cli(store_url, "rotate-key", "--new-key-file", str(k1), "--by", "ql")
    assert rotated.returncode == 0, rotated.stderr
    assert "keys rotated to epoch 1: 1 partnership keys made anew and 2 case keys" in \
        rotated.stdout
    assert "wrapped with AUDIT_LEDGER_KEY until now" in rotated.stdout
    after = _rows(store_url)
    assert set(after) == set(before) and all(after[k] != before[k] for k in before)

    with_key = _cli(store_url, "history", "mini-2026", "K01", wrapping=k1)
    assert with_key.returncode == 0 and TEXT in with_key.stdout, with_key.stderr
    without = _cli(store_url, "history", "mini-2026", "K01")
    assert without.returncode == 2 and "AUDIT_LEDGER_WRAPPING_KEY" in without.stderr
    assert "epoch 1 (rotated on " in without.stderr and "Traceback" not in without.stderr
    assert "-12-" not in without.stderr  # the day as people say it
    other, _ = _key_file(tmp_path, "other")
    wrong = _cli(store_url, "history", "mini-2026", "K01", wrapping=other)
    assert wrong.returncode == 2 and "does not open" in wrong.stderr, wrong.stderr
    raised = _cli(store_url, "concern", "raise", "mini-2026", "K02", "--agency", "school",
                  "--by", "sch.aud", "--summary", "A new worry.", wrapping=k1)
    assert raised.returncode == 0, raised.stderr
    verified = _cli(store_url, "verify", wrapping=k1)
    assert verified.returncode == 0, verified.stderr

    w = wire(store_url, KEY)
    try:
        record = w.app.find(KeyRotation, w.app.ids.key_epoch_id(1))
        assert record is not None
        assert (record.epoch, record.case_keys, record.partnership_keys) == (1, 2, 1)
    finally:
        w.close()


def test_wrong_keys_and_people_are_refused_in_words_and_nothing_changes(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(store_url, tmp_path, mini_pack)
    k1, _ = _key_file(tmp_path, "k1")
    _cli(store_url, "rotate-key", "--new-key-file", str(k1), "--by", "ql")
    k2, _ = _key_file(tmp_path, "k2")
    (tmp_path / "bad").write_text("not a key\n", encoding="utf-8")
    (tmp_path / "store-key").write_text(KEY, encoding="utf-8")
    before = _rows(store_url)
    cases = [
        ((str(k2), "ql", None), "set AUDIT_LEDGER_WRAPPING_KEY_FILE"),  # current key not given
        ((str(k2), "ql", k2), "does not open the keys"),  # the current key wrong
        ((str(k1), "ql", k1), "the new key is the key in use now"),
        ((str(tmp_path / "store-key"), "ql", k1), "the new key is the key in use now"),
        ((str(tmp_path / "bad"), "ql", k1), "does not hold a key"),
        ((str(tmp_path / "missing"), "ql", k1), "cannot be read"),
        ((str(k2), "sc.mgr", k1), "quality-lead"),
        ((str(k2), "ghost", k1), "no person 'ghost'"),
    ]
    for (new, by, current), said in cases:
        refused = _cli(store_url, "rotate-key", "--new-key-file", new, "--by", by,
                       wrapping=current)
        assert refused.returncode == 2, (new, by, refused.stdout)
        assert said in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert _rows(store_url) == before
    w = wire(store_url, KEY)
    try:
        assert w.app.find(KeyRotation, w.app.ids.key_epoch_id(2)) is None
    finally:
        w.close()


def test_an_erased_key_in_a_copy_taken_before_opens_with_nothing_once_its_epoch_key_is_gone(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(store_url, tmp_path, mini_pack)
    run_cli("concern", "raise", "mini-2026", "K02", "--agency", "school", "--by", "sch.aud",
            "--summary", OTHER, url=store_url, key=KEY, check=True)
    k1, raw1 = _key_file(tmp_path, "k1")
    _cli(store_url, "rotate-key", "--new-key-file", str(k1), "--by", "ql")
    backup = _rows(store_url)  # what an old WAL segment or a backup holds
    erased = _cli(store_url, "erase", "mini-2026", "K01", "--by", "ql", "--reason",
                  "ICO order 2026-114", wrapping=k1)
    assert erased.returncode == 0, erased.stderr
    k2, raw2 = _key_file(tmp_path, "k2")
    rotated = _cli(store_url, "rotate-key", "--new-key-file", str(k2), "--by", "ql",
                   wrapping=k1)
    assert rotated.returncode == 0 and "epoch 2" in rotated.stdout, rotated.stderr
    now = _rows(store_url)
    assert now[("case", "mini-2026", "K01")] is None

    old_partnership = backup[("partnership", "default")]
    old_case = backup[("case", "mini-2026", "K01")]
    assert old_partnership is not None and old_case is not None
    # With epoch 1's key the copy still gives the erased key up: the copy is real.
    partnership_key = unwrap_partnership_key(raw1, old_partnership, "default")
    assert len(unwrap_case_key(partnership_key, old_case, K01)) == 32
    # With everything kept after epoch 1's key is destroyed, it opens with nothing.
    for key in (raw2, base64.b64decode(KEY)):
        with pytest.raises(ValueError):
            unwrap_partnership_key(key, old_partnership, "default")
    current = now[("partnership", "default")]
    assert current is not None
    with pytest.raises(ValueError):
        unwrap_case_key(unwrap_partnership_key(raw2, current, "default"), old_case, K01)

    history = _cli(store_url, "history", "mini-2026", "K01", wrapping=k2)
    assert history.returncode == 0 and TEXT not in history.stdout
    assert "[erased]" in history.stdout
    kept = _cli(store_url, "history", "mini-2026", "K02", wrapping=k2)
    assert kept.returncode == 0 and OTHER in kept.stdout, kept.stderr
    verified = _cli(store_url, "verify", wrapping=k2)
    assert verified.returncode == 0, verified.stderr


def test_a_rotation_stopped_before_its_record_is_recorded_by_the_next_run(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(store_url, tmp_path, mini_pack)
    from ledger.rotation import Rotation

    k1, raw1 = _key_file(tmp_path, "k1")
    w = wire(store_url, KEY)
    try:  # the keys' transaction committed, the process killed before the event was saved
        Rotation(w.app.mapper.keys, raw1).rotate("ql", "2026-07-01T10:00:00+00:00")  # type: ignore[attr-defined]
    finally:
        w.close()
    k2, _ = _key_file(tmp_path, "k2")
    rotated = _cli(store_url, "rotate-key", "--new-key-file", str(k2), "--by", "ql",
                   wrapping=k1)
    assert rotated.returncode == 0, rotated.stderr
    assert "epoch 1's rotation (by ql) stopped before it was recorded" in rotated.stdout
    assert "keys rotated to epoch 2" in rotated.stdout
    w = wire(store_url, KEY)
    try:
        first = w.app.find(KeyRotation, w.app.ids.key_epoch_id(1))
        assert first is not None and first.epoch == 1
        assert w.app.find(KeyRotation, w.app.ids.key_epoch_id(2)) is not None
    finally:
        w.close()


def test_a_key_wrapped_meanwhile_with_a_remembered_partnership_key_is_wrapped_again(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process remembers its partnership key for up to a second: a case key it makes
    with it just after the rotation committed is found by the rotation's late pass."""
    import ledger.partnership_keys
    from ledger.rotation import Rotation

    _imported(store_url, tmp_path, mini_pack)
    monkeypatch.setattr(ledger.partnership_keys, "TTL", 600.0)  # the window, held open
    k1, raw1 = _key_file(tmp_path, "k1")
    stale, rotating = wire(store_url, KEY), wire(store_url, KEY)
    try:
        stale_keys = stale.app.mapper.keys  # type: ignore[attr-defined]
        assert stale_keys.partnerships.key("default")[0] is not None  # remembered
        rotation = Rotation(rotating.app.mapper.keys, raw1)  # type: ignore[attr-defined]
        done = rotation.rotate("ql", "2026-07-01T10:00:00+00:00")
        late_key = stale_keys.ensure(("mini-2026", "K09"))  # wrapped with the old key
        assert rotation.rewrap_late(done) == 1
    finally:
        stale.close()
        rotating.close()
    fresh = wire(store_url, KEY)
    try:
        keys = fresh.app.mapper.keys  # type: ignore[attr-defined]
        keys.partnerships.wrapping_key = raw1
        found = keys.key(("mini-2026", "K09"))
        assert found is not None and found.cipher is not None
        assert found.open(late_key.seal("still readable")[SEALED]) == "still readable"
    finally:
        fresh.close()


def test_a_store_without_a_key_gets_its_keys_wrapped_from_its_first_rotation(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    (tmp_path / "pack.json").write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=store_url, check=True)
    k1, _ = _key_file(tmp_path, "k1")
    rotated = _cli(store_url, "rotate-key", "--new-key-file", str(k1), "--by", "ql", key="")
    assert rotated.returncode == 0, rotated.stderr
    assert "stored unwrapped until now" in rotated.stdout
    without = _cli(store_url, "history", "mini-2026", "K01", key="")
    assert without.returncode == 2 and "AUDIT_LEDGER_WRAPPING_KEY_FILE" in without.stderr
    with_key = _cli(store_url, "history", "mini-2026", "K01", wrapping=k1, key="")
    assert with_key.returncode == 0 and TEXT in with_key.stdout, with_key.stderr
