"""The case key table played by its administrator, on both stores: rows swapped, deleted or
added by hand in SQL, an import killed half-way. Each key is bound to its case, so a row moved
to another case does not open; `verify` checks the table against the log's erasures.

Each test reaches the key table directly (sqlite3, or psycopg in the test's schema), as
someone with the database but not the application's key would, then runs the console script.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from eventsourcing.cryptography import AESCipher

from audit_ledger.wiring import wire
from ledger.key_wrapping import CASE_KEY_V2

from .conftest import cli_env, console_script, demo_pack, run_cli
from .test_partnership_export import KEY
from .test_tamper import Raw

PID = "mini-2026"
DEADLINE = 120  # seconds for a process to arrive or finish: a hang fails, it never waits
TEXT = "Clear chronology kept."


class KeyTable:
    """The store's key table, reached without the ledger."""

    def __init__(self, url: str) -> None:
        self.raw = Raw(url)
        self.table = "case_keys" if self.raw.sqlite else \
            f"{parse_qs(urlparse(url).query)['schema'][0]}.case_keys"

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.raw.run(sql.replace("KEYS", self.table), *params)

    def key(self, case: str) -> bytes | None:
        rows = self.run("SELECT key FROM KEYS WHERE programme=? AND case_ref=?", PID, case)
        return None if not rows or rows[0][0] is None else bytes(rows[0][0])

    def swap(self, one: str, other: str) -> None:
        first, second = self.key(one), self.key(other)
        self.run("UPDATE KEYS SET key=? WHERE programme=? AND case_ref=?", second, PID, one)
        self.run("UPDATE KEYS SET key=? WHERE programme=? AND case_ref=?", first, PID, other)

    def close(self) -> None:
        self.raw.close()


@pytest.fixture(params=["", KEY], ids=["no-key", "key"])
def key(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def imported(store_url: str, tmp_path: Path, mini_pack: dict[str, Any],
             key: str) -> Iterator[KeyTable]:
    """The mini audit imported through the console script, and its key table at hand."""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=store_url, key=key, check=True)
    table = KeyTable(store_url)
    try:
        yield table
    finally:
        table.close()


def _texts(url: str, key: str, case: str) -> str:
    """Everything the ledger reads back from a case's events, as one string."""
    w = wire(url, key)
    try:
        events = w.app.recorder.select_events(w.app.ids.case_id(PID, case))
        return repr([vars(w.app.mapper.to_domain_event(e)) for e in events])
    finally:
        w.close()


def test_each_new_key_row_is_bound_to_its_case(imported: KeyTable) -> None:
    for case in ("K01", "K02"):
        stored = imported.key(case)
        assert stored is not None and stored.startswith(CASE_KEY_V2)


def test_swapped_key_rows_do_not_open_and_nothing_is_written_for_them(
        imported: KeyTable, store_url: str, key: str) -> None:
    assert TEXT in _texts(store_url, key, "K01")
    imported.swap("K01", "K02")
    said = _texts(store_url, key, "K01")
    assert TEXT not in said and "[unreadable]" in said
    refused = run_cli("concern", "raise", PID, "K01", "--agency", "school", "--by", "sch.aud",
                      "--summary", "Another worry.", url=store_url, key=key)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "K01" in refused.stderr and "changed outside the ledger" in refused.stderr
    imported.swap("K01", "K02")  # put back: the text reads again
    assert TEXT in _texts(store_url, key, "K01")


# ---- verify: the key table against the log ------------------------------------------------


@pytest.fixture(params=["plain", "key", "key-not-given"])
def keyed(request: pytest.FixtureRequest, store_url: str, tmp_path: Path,
          mini_pack: dict[str, Any]) -> Iterator[tuple[KeyTable, str, str]]:
    """The mini audit imported (with a key, or without), its key table, the key it was written
    with, and the key verify is given: none, for an encrypted store checked without its key."""
    written = "" if request.param == "plain" else KEY
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=store_url, key=written, check=True)
    table = KeyTable(store_url)
    try:
        yield table, written, "" if request.param == "key-not-given" else written
    finally:
        table.close()


def _verify(url: str, key: str) -> tuple[int, str, str]:
    result = run_cli("verify", url=url, key=key)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def _verify_json(url: str, key: str) -> dict[str, Any]:
    result = run_cli("verify", "--format", "json", url=url, key=key)
    assert "Traceback" not in result.stderr, result.stderr
    return dict(json.loads(result.stdout)["case_keys"])


def _orphan_row_refused(table: KeyTable, store_url: str, given: str) -> str:
    """Verify's complaint (it must fail) about an orphan row, a copy of K01's for a case K99
    the log does not hold; the row is deleted again before returning."""
    table.run("INSERT INTO KEYS (programme, case_ref, key) SELECT programme, 'K99', key "
              "FROM KEYS WHERE case_ref='K01'")
    code, _out, err = _verify(store_url, given)
    table.run("DELETE FROM KEYS WHERE case_ref='K99'")
    assert code == 1, err
    return err


def test_each_edit_of_the_key_table_is_named_by_verify(
        keyed: tuple[KeyTable, str, str], store_url: str) -> None:
    """The administrator's edits, one at a time (each put back before the next): a clean store
    verifies; each edit fails verify with its case named, or, for an encrypted store checked
    without its key, is said to be out of reach rather than passed over in silence."""
    table, written, given = keyed
    blind = bool(written) and not given
    code, out, err = _verify(store_url, given)
    assert code == 0, err
    if blind:
        _blind_edits(table, store_url, written, given, out)
        return
    assert "2 case key rows checked against the log" in out
    assert "without AUDIT_LEDGER_KEY this store's events cannot be read" not in out
    assert _verify_json(store_url, given) == {
        "rows": 2, "problems": [], "unbound": 0,
        "unchecked": [line for line in out.splitlines() if "without AUDIT_LEDGER_KEY" in line]}

    # An orphan: a row for a case the log does not hold.
    assert "the key table has a row for case K99 in mini-2026, which the log does not hold" \
        in _orphan_row_refused(table, store_url, given)
    partnerships = table.table.replace("case_keys", "partnership_keys")
    table.run(f"INSERT INTO {partnerships} (partnership, key) SELECT 'ghost', key FROM "
              f"{partnerships}")
    code, out, err = _verify(store_url, given)
    assert code == 1 and "a key for partnership ghost, which no programme in the log " \
        "belongs to" in err, err
    table.run(f"DELETE FROM {partnerships} WHERE partnership='ghost'")

    # A key destroyed, and a row deleted, with no erasure recorded.
    kept = table.key("K01")
    table.run("UPDATE KEYS SET key=NULL, erased_at='2026-12-01T10:00:00+00:00' "
              "WHERE case_ref='K01'")
    code, _out, err = _verify(store_url, given)
    assert code == 1
    assert ("case K01 in mini-2026: its key was destroyed (the row says on 2026-12-01) but "
            "the log records no erasure of its text") in err
    table.run("DELETE FROM KEYS WHERE case_ref='K01'")
    code, out, err = _verify(store_url, given)
    assert code == 1
    assert ("case K01 in mini-2026: its key row was deleted but the log records no "
            "erasure of its text") in err
    table.run("INSERT INTO KEYS (programme, case_ref, key) VALUES (?, 'K01', ?)", PID, kept)
    assert _verify(store_url, given)[0] == 0

    # Two rows swapped: named together, in one line.
    table.swap("K01", "K02")
    code, out, err = _verify(store_url, given)
    assert code == 1
    assert err == ("the key rows of case K01 in mini-2026 and case K02 in mini-2026 were "
                   "swapped: each holds the other's key, so neither case's text can be read "
                   "(swap them back, or restore the key table from a backup)\n")
    table.swap("K01", "K02")

    # An erased case's key put back, then its row deleted.
    kept = table.key("K02")
    run_cli("erase", PID, "K02", "--by", "ql", "--reason", "Retention review RR-7, 1 May 2026",
            url=store_url, key=written, check=True)
    assert _verify(store_url, given)[0] == 0  # a finished erasure verifies
    table.run("UPDATE KEYS SET key=?, erased_at=NULL WHERE case_ref='K02'", kept)
    code, _out, err = _verify(store_url, given)
    assert code == 1
    assert "case K02 in mini-2026: its erasure is recorded" in err
    assert "but its key is still in the key table" in err
    table.run("DELETE FROM KEYS WHERE case_ref='K02'")
    code, _out, err = _verify(store_url, given)
    assert code == 1
    assert ("case K02 in mini-2026: its erasure is recorded on 2026-" in err and
            "its row in the key table (which stops new text being recorded for it) was "
            "deleted" in err), err


def _blind_edits(table: KeyTable, store_url: str, written: str, given: str, out: str) -> None:
    """Written with a key from the start, the store names its records with it (ledger.ids):
    without the key no row can be matched to its case, so the rows are counted against the
    cases and erasures the log's topics show, and verify says what that leaves."""
    assert "could not be matched to the log's cases one by one" in out, out
    assert "case key rows checked against the log" not in out
    assert _verify_json(store_url, given) == {
        "rows": 0, "problems": [], "unbound": 0,
        "unchecked": [line for line in out.splitlines() if "could not be matched" in line]}

    # An orphan: one row more than the log has cases.
    err = _orphan_row_refused(table, store_url, given)
    assert ("the key table has 3 case key rows but the log opened only 2 cases: at least 1 of "
            "them belong to no case of the log") in err, err
    assert _verify(store_url, given)[0] == 0

    # A key destroyed with no erasure recorded.
    kept = table.key("K01")
    table.run("UPDATE KEYS SET key=NULL, erased_at='2026-12-01T10:00:00+00:00' "
              "WHERE case_ref='K01'")
    code, _out, err = _verify(store_url, given)
    assert code == 1 and ("the key table has 1 case key destroyed but the log records only 0 "
                          "erasures of case text") in err, err
    table.run("UPDATE KEYS SET key=?, erased_at=NULL WHERE case_ref='K01'", kept)
    assert _verify(store_url, given)[0] == 0

    # A live key's row deleted.
    table.run("DELETE FROM KEYS WHERE case_ref='K01'")
    code, _out, err = _verify(store_url, given)
    assert code == 1 and ("the log opened 2 cases but the key table has only 1 case key row: "
                          "1 was deleted outside the ledger") in err, err
    table.run("INSERT INTO KEYS (programme, case_ref, key) VALUES (?, 'K01', ?)", PID, kept)
    assert _verify(store_url, given)[0] == 0

    # An erased case's key put back, then its row deleted.
    kept = table.key("K02")
    run_cli("erase", PID, "K02", "--by", "ql", "--reason", "Retention review RR-7, 1 May 2026",
            url=store_url, key=written, check=True)
    assert _verify(store_url, given)[0] == 0  # a finished erasure verifies
    table.run("UPDATE KEYS SET key=?, erased_at=NULL WHERE case_ref='K02'", kept)
    said = "the log records 1 erasure of case text but the key table has only 0 destroyed"
    code, _out, err = _verify(store_url, given)
    assert code == 1 and said in err, err
    table.run("DELETE FROM KEYS WHERE case_ref='K02'")
    code, _out, err = _verify(store_url, given)
    assert code == 1 and said in err, err


# ---- keys written in the events' transaction -----------------------------------------------


def _stored_keys(table: KeyTable, name: str) -> int:
    """Rows of a key table (0 while the import has not made the table)."""
    try:
        return int(table.run(f"SELECT count(*) FROM "
                             f"{table.table.replace('case_keys', name)}")[0][0])
    except Exception:  # noqa: BLE001 - sqlite3's or psycopg's "no such table"
        return 0


def _import_killed_at_its_first_key(url: str, key: str, pack: Path,
                                    name: str) -> subprocess.Popen[str]:
    """`audit-ledger import` killed with SIGKILL the moment a row of key table `name` is
    visible to another connection (before release 0.3 keys were committed before the events
    that use them)."""
    table = KeyTable(url)
    proc = subprocess.Popen([console_script(), "import", str(pack)], text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=cli_env(url, key))
    try:
        deadline = time.monotonic() + DEADLINE
        while proc.poll() is None and not _stored_keys(table, name):
            assert time.monotonic() < deadline, "the import never stored a key"
            time.sleep(0.001)  # a tight poll: the window being looked for is short
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=DEADLINE)
    finally:
        table.close()
    return proc


@pytest.mark.parametrize("key", ["", KEY], ids=["no-key", "key"])
def test_an_import_killed_at_its_first_key_leaves_no_key_without_its_events(
        store_url: str, tmp_path: Path, key: str) -> None:
    pack = tmp_path / "demo.json"
    pack.write_text(json.dumps(demo_pack()), encoding="utf-8")
    _import_killed_at_its_first_key(store_url, key, pack, "case_keys")
    code, out, err = _verify(store_url, key)
    assert code == 0, err
    assert "case key rows checked against the log" in out or "verified 0 events" in out
    # The import run again finishes the job, and the store verifies.
    run_cli("import", str(pack), url=store_url, key=key, check=True)
    code, out, err = _verify(store_url, key)
    assert code == 0 and "case key rows checked against the log" in out, err


def test_a_first_process_killed_never_wedges_the_store_for_another_key(
        store_url: str, tmp_path: Path) -> None:
    """The first process on an empty store, with one key, killed as its first key appears; the
    next, with another key, either owns the store (nothing of the first was committed) or is
    refused in words because the first one's import is whole: never a store that opens with
    neither key."""
    first, second = (AESCipher.create_key(num_bytes=32) for _ in range(2))
    pack = tmp_path / "demo.json"
    pack.write_text(json.dumps(demo_pack()), encoding="utf-8")
    _import_killed_at_its_first_key(store_url, first, pack, "partnership_keys")
    table = KeyTable(store_url)
    try:
        events = int(table.raw.run("SELECT count(*) FROM {events}")[0][0])
    finally:
        table.close()
    again = run_cli("import", str(pack), url=store_url, key=second)
    assert "Traceback" not in again.stderr, again.stderr
    owner = first if events else second
    if events:
        assert again.returncode == 2 and again.stderr.startswith("error: "), again.stderr
    else:
        assert again.returncode == 0, again.stderr
    assert _verify(store_url, owner)[0] == 0
    assert run_cli("case", "lontown-2009", "C01", url=store_url, key=owner).returncode == 0
