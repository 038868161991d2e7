"""Sealed view documents are bound to their place: with a key, each document is AES-GCM sealed
with its (view, stored key) as associated data, so an administrator who swaps or copies
documents between cases (no key needed for that) gets a refusal naming the place, never the
other case's record served as this one's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from projections.sqlite_views import SQLiteViewStore
from projections.store import UnopenedView

from .conftest import PG_BASE, run_cli

P = "mini-2026"


def _key() -> str:
    return run_cli("keygen", url="sqlite:///unused.db", check=True).stdout.strip()


def _rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL on the store's own view table, as its administrator could (no ledger code)."""
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        try:
            return db.execute(sql.replace("%s", "?").replace("{t}", "view_docs"),
                              params).fetchall()
        finally:
            db.close()
    import psycopg

    schema = parse_qs(urlparse(url).query)["schema"][0]
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        cursor = conn.execute(sql.replace("{t}", f"{schema}.view_docs"), params)
        return cursor.fetchall() if cursor.description else []


def _doc(url: str, view: str, key: str) -> bytes:
    found = _rows(url, "SELECT doc FROM {t} WHERE view=%s AND key=%s", (view, key))
    assert len(found) == 1, (view, key)
    return bytes(found[0][0])


def _put(url: str, view: str, key: str, doc: bytes) -> None:
    _rows(url, "UPDATE {t} SET doc=%s WHERE view=%s AND key=%s", (doc, view, key))


def _refused_naming(result: Any, view: str, key: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert f"the {view} view's document stored under {key!r} does not open" in lines[0]


def test_swapped_case_documents_fail_to_open_and_say_where(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    key = _key()
    pack = tmp_path / "pack.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=store_url, key=key, check=True)
    k01 = run_cli("case", P, "K01", url=store_url, key=key, check=True).stdout
    k02 = run_cli("case", P, "K02", url=store_url, key=key, check=True).stdout
    assert k01 != k02

    # The case view's keys are hidden in a store written with a key (`ledger.ids`): the
    # administrator sees two case documents of one programme, and swaps them.
    at1, at2 = _stored(tmp_path, key, "case", f"{P}/K01"), _stored(tmp_path, key, "case", f"{P}/K02")
    first, second = _doc(store_url, "case", at1), _doc(store_url, "case", at2)
    _put(store_url, "case", at1, second)
    _put(store_url, "case", at2, first)
    _refused_naming(run_cli("case", P, "K01", url=store_url, key=key), "case", at1)
    _refused_naming(run_cli("case", P, "K02", url=store_url, key=key), "case", at2)

    # Swapped back, each opens again where it belongs: the check is the place, not the bytes.
    _put(store_url, "case", at1, first)
    _put(store_url, "case", at2, second)
    assert run_cli("case", P, "K01", url=store_url, key=key, check=True).stdout == k01

    # A document copied over another's (a summary over a case) fails the same way; folding
    # the views again from the log puts right what was spoilt.
    _put(store_url, "case", at2, _doc(store_url, "summary", P))
    _refused_naming(run_cli("case", P, "K02", url=store_url, key=key), "case", at2)
    run_cli("projections", "rebuild", url=store_url, key=key, check=True)
    assert run_cli("case", P, "K02", url=store_url, key=key, check=True).stdout == k02


def _stored(tmp_path: Path, key: str, view: str, name: str) -> str:
    """Where a store written with `key` keeps (view, name): its parts hashed with the key."""
    store = SQLiteViewStore(str(tmp_path / "places.db"), key)
    try:
        store.hide_names(True)
        stored = store.stored_key(view, name)
        assert stored != name
        return stored
    finally:
        store.close()


def test_documents_open_only_at_their_own_place(tmp_path: Path) -> None:
    key = run_cli("keygen", url="sqlite:///unused.db", check=True).stdout.strip()
    store = SQLiteViewStore(str(tmp_path / "views.db"), key)
    try:
        doc = {"grade": 4, "rule": "worst"}
        sealed = store.encode("case", "p/K01", doc)
        assert store.decode("case", "p/K01", sealed) == doc
        for view, place in (("case", "p/K02"), ("summary", "p/K01"), ("case", "p/K01 ")):
            with pytest.raises(UnopenedView) as refused:
                store.decode(view, place, sealed)
            assert (refused.value.view, refused.value.key) == (view, place)
        spoilt = bytearray(sealed)
        spoilt[-1] ^= 1
        with pytest.raises(UnopenedView):
            store.decode("case", "p/K01", bytes(spoilt))
    finally:
        store.close()
    plain = SQLiteViewStore(str(tmp_path / "plain.db"))
    try:  # without a key documents are plain JSON, readable anywhere (verify --views checks them)
        assert plain.decode("case", "p/K02", plain.encode("case", "p/K01", {"a": 1})) == {"a": 1}
    finally:
        plain.close()
