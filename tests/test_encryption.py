"""Encryption at rest, on both stores: with a key, no comment's text is readable in the store;
without the right key the commands refuse plainly (exit 2, one line, no traceback)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import PG_BASE, run_cli

COMMENT = "Quokka-marmalade 4471: the child's bedroom had no working heater"
SUMMARY = "Zebra-lantern 9083: strategy discussion notes were never shared"


def _pack(mini_pack: dict[str, Any], tmp_path: Path) -> Path:
    """The mini audit with distinctive comments: a return's concern and strength, a concern."""
    pack = copy.deepcopy(mini_pack)
    pack["returns"][0]["concerns"]["4"] = COMMENT
    pack["returns"][0]["strengths"]["5"] = COMMENT + " (since fixed)"
    pack["concerns"][0]["summary"] = SUMMARY
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


def _key() -> str:
    return run_cli("keygen", url="sqlite:///unused.db", check=True).stdout.strip()


def _stored_values(url: str, tmp_path: Path) -> list[bytes]:
    """Everything the store holds at rest: the SQLite files' bytes, or every PostgreSQL row's
    every value in the test's schema (events, their chain, view documents, positions)."""
    if url.startswith("sqlite"):
        db = Path(url[len("sqlite:///"):])
        files = sorted(db.parent.glob(db.name + "*"))
        assert db in files
        return [f.read_bytes() for f in files]
    import psycopg

    schema = parse_qs(urlparse(url).query)["schema"][0]
    values: list[bytes] = []
    with psycopg.connect(PG_BASE) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname=%s", [schema])]
        assert {"auditledger_events", "view_docs"} <= set(tables), tables
        for table in tables:
            rows = conn.execute(f"SELECT * FROM {schema}.{table}").fetchall()
            if table in ("auditledger_events", "view_docs"):
                assert rows, f"{table} is empty: nothing would be checked"
            for row in rows:
                for value in row:
                    values.append(bytes(value) if isinstance(value, bytes | memoryview)
                                  else str(value).encode())
    return values


def _readable(text: str, values: list[bytes]) -> bool:
    needle = text.split(":")[0].encode()  # the distinctive words alone
    return any(needle in v for v in values)


def test_with_a_key_no_comment_is_readable_at_rest(store_url: str, tmp_path: Path,
                                                   mini_pack: dict[str, Any]) -> None:
    key = _key()
    run_cli("import", str(_pack(mini_pack, tmp_path)), url=store_url, key=key, check=True)
    # The text is there, and the key reads it back, through the views and the log.
    report = run_cli("report", "mini-2026", "--format", "json", url=store_url, key=key,
                     check=True).stdout
    assert COMMENT in report
    concerns = run_cli("concern", "list", "mini-2026", url=store_url, key=key, check=True).stdout
    assert SUMMARY in concerns
    history = run_cli("history", "mini-2026", "K01", "--format", "json", url=store_url, key=key,
                      check=True).stdout
    assert "ReturnRecorded" in history
    at_rest = _stored_values(store_url, tmp_path)
    assert not _readable(COMMENT, at_rest)
    assert not _readable(SUMMARY, at_rest)
    assert not any(b"Sasha Worker" in v for v in at_rest)  # a person's name, sealed too


def test_without_a_key_the_same_check_finds_the_text(store_url: str, tmp_path: Path,
                                                     mini_pack: dict[str, Any]) -> None:
    """The check above can see text at rest when it is there, so its silence means something:
    without a key, people's names are stored as they are. Comments are not, even then: each
    case's text is sealed with its case key in the log and the views alike (opened when read),
    though without a store key that case key lies in the clear beside it."""
    run_cli("import", str(_pack(mini_pack, tmp_path)), url=store_url, check=True)
    at_rest = _stored_values(store_url, tmp_path)
    assert any(b"Sasha Worker" in v for v in at_rest)
    assert not _readable(COMMENT, at_rest) and not _readable(SUMMARY, at_rest)
    report = run_cli("report", "mini-2026", "--format", "json", url=store_url, check=True).stdout
    assert COMMENT in report


def _refused(result: Any, message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr == f"error: {message}\n", result.stderr
    assert "Traceback" not in result.stderr


NO_KEY = "this store is encrypted: set AUDIT_LEDGER_KEY to the key it was written with"
OTHER_KEY = "AUDIT_LEDGER_KEY does not open this store: it was written with another key"
PLAIN = "AUDIT_LEDGER_KEY is set but this store was written without a key: unset AUDIT_LEDGER_KEY"
BAD_KEY = "AUDIT_LEDGER_KEY is not a valid key: make one with audit-ledger keygen"


def test_a_missing_or_wrong_key_is_refused_plainly(store_url: str, tmp_path: Path,
                                                   mini_pack: dict[str, Any]) -> None:
    key, other = _key(), _key()
    pack = _pack(mini_pack, tmp_path)
    run_cli("import", str(pack), url=store_url, key=key, check=True)
    head = json.loads(run_cli("verify", "--format", "json", url=store_url,
                              check=True).stdout)["checked"]
    commands = [("report", "mini-2026"), ("case", "mini-2026", "K01"),
                ("history", "mini-2026", "K01"), ("concern", "list", "mini-2026"),
                ("projections", "status"), ("projections", "rebuild"),
                ("grade", "revise", "mini-2026", "K01", "--agency", "school", "--area", "6",
                 "--grade", "3", "--reason", "found the report", "--by", "sch.aud"),
                ("import", str(pack))]
    for args in commands:
        _refused(run_cli(*args, url=store_url), NO_KEY)
        _refused(run_cli(*args, url=store_url, key=other), OTHER_KEY)
    # Nothing was written by any refused command, and the right key still opens everything.
    after = json.loads(run_cli("verify", "--format", "json", url=store_url,
                               check=True).stdout)
    assert after["intact"] and after["checked"] == head
    run_cli("case", "mini-2026", "K01", url=store_url, key=key, check=True)


def test_a_key_on_a_store_written_without_one_is_refused(store_url: str, tmp_path: Path,
                                                         mini_pack: dict[str, Any]) -> None:
    run_cli("import", str(_pack(mini_pack, tmp_path)), url=store_url, check=True)
    _refused(run_cli("report", "mini-2026", url=store_url, key=_key()), PLAIN)
    run_cli("report", "mini-2026", url=store_url, check=True)


def test_verify_needs_no_key(store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """An inspector can check a sealed store's chain without being able to read it."""
    run_cli("import", str(_pack(mini_pack, tmp_path)), url=store_url, key=_key(), check=True)
    result = run_cli("verify", url=store_url, check=True)
    assert "the hash chain is intact" in result.stdout


@pytest.mark.parametrize("bad", ["not-a-key", base64.b64encode(b"ten bytes!").decode()])
def test_a_malformed_key_is_refused_plainly(store_url: str, bad: str) -> None:
    _refused(run_cli("projections", "status", url=store_url, key=bad), BAD_KEY)


def test_a_stray_prefixed_variable_cannot_switch_encryption_on(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from audit_ledger.wiring import wire

    monkeypatch.setenv("AUDITLEDGER_CIPHER_TOPIC", "eventsourcing.cryptography:AESCipher")
    monkeypatch.setenv("AUDITLEDGER_CIPHER_KEY", "stray")
    w = wire(store_url, "")
    try:
        assert w.app.mapper.cipher is None
    finally:
        w.close()
