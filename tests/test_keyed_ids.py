"""Keyed ids, played as the attacker: someone with the whole database but not the key.

Ids made by uuid5 under the ledger's published namespace can be guessed from names: hash every
programme, case, agency and staff id you can think of and match them against the stored ids,
and the matches say which agencies work with each case. With a key set, a new store names its
aggregates with a keyed function and hides the names in the views' keys, so the same attack
finds nothing; without a key it works (the control, so the test can fail), and `verify` says
so. A store written before keeps the scheme it was written with, after new writes too.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import UUID, uuid5

from ledger.ids import NAMESPACE

from .conftest import PG_BASE, fresh_store, run_cli

P = "mini-2026"
AGENCIES = ("social-care", "school", "police", "health", "partnership")
CASES = ("K01", "K02", "K03")
RELEASE_0_2_KEY = Path(__file__).parent / "data" / "release-0.2-key.db"
RELEASE_KEY = "dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE="  # tests/data/README.md


def _key() -> str:
    return run_cli("keygen", url="sqlite:///unused.db", check=True).stdout.strip()


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, as its administrator reads them (no ledger code)."""
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        try:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {n: db.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
        finally:
            db.close()
    import psycopg

    schema = parse_qs(urlparse(url).query)["schema"][0]
    with psycopg.connect(PG_BASE) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname=%s", [schema])]
        return {n: conn.execute(f"SELECT * FROM {schema}.{n}").fetchall() for n in names}


def _values(url: str) -> tuple[set[UUID], list[str]]:
    """Every id-shaped value the store holds, and every value that reads as text."""
    found: set[UUID] = set()
    texts: list[str] = []
    for rows in _tables(url).values():
        for value in itertools.chain.from_iterable(rows):
            if isinstance(value, UUID):
                found.add(value)
                continue
            if isinstance(value, bytes | memoryview):
                continue  # ciphertext, or (without a key) the events' JSON: texts below
            text = str(value)
            texts.append(text)
            for match in re.findall(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?"
                                    r"[0-9a-f]{12}", text):
                found.add(UUID(match))
    return found, texts


def _guesses(people: list[str]) -> dict[UUID, str]:
    """The dictionary: ids of every name the attacker can guess, as the public scheme makes
    them."""
    parts: list[tuple[str, ...]] = [("programme", P), ("partnership", "default")]
    parts += [("person", p) for p in people]
    parts += [("case", P, c) for c in CASES]
    parts += [("feedback", P, c, a) for c in CASES for a in AGENCIES]
    return {uuid5(NAMESPACE, "/".join(p)): "/".join(p) for p in parts}


def _imported(url: str, tmp_path: Path, pack: dict[str, Any], key: str) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    run_cli("import", str(path), url=url, key=key, check=True)
    run_cli("concern", "list", P, url=url, key=key, check=True)  # the views folded


def _feedback_links(texts: list[str]) -> list[str]:
    """Stored texts that put a case beside an agency (a feedback view's key, C01/agency)."""
    return [t for t in texts if any(c in t for c in CASES) and any(a in t for a in AGENCIES)]


def test_with_a_key_the_dictionary_attack_finds_nothing(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    key = _key()
    _imported(store_url, tmp_path, mini_pack, key)
    ids, texts = _values(store_url)
    assert len(ids) > 10, "the attack read no ids: it would prove nothing"
    guesses = _guesses([p["id"] for p in mini_pack["people"]])
    assert not {guesses[i] for i in ids & set(guesses)}
    assert _feedback_links(texts) == []
    for name in (*AGENCIES[:2], *(p["id"] for p in mini_pack["people"])):
        assert not [t for t in texts if name in t], f"{name} is readable in the store"

    # The store still answers as one without a key does, and says how it names its records.
    case = run_cli("case", P, "K01", url=store_url, key=key, check=True).stdout
    assert "social-care" in case and "school" in case
    verified = run_cli("verify", url=store_url, key=key, check=True).stdout
    assert "records are named with the store's key" in verified
    said = json.loads(run_cli("verify", "--format", "json", url=store_url, key=key,
                              check=True).stdout)
    assert said["ids"] == "keyed"
    views = run_cli("verify", "--views", url=store_url, key=key, check=True).stdout
    assert "records are named with the store's key" in views


def test_without_a_key_the_same_attack_works_and_verify_says_so(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(store_url, tmp_path, mini_pack, "")
    ids, texts = _values(store_url)
    guesses = _guesses([p["id"] for p in mini_pack["people"]])
    recovered = {guesses[i] for i in ids & set(guesses)}
    assert {f"feedback/{P}/K01/social-care", f"feedback/{P}/K01/school",
            "person/sc.sw"} <= recovered
    assert f"feedback/{P}/K03/police" not in recovered
    verified = run_cli("verify", url=store_url, check=True).stdout
    assert "anyone holding the database can guess names" in verified


def test_two_stores_of_either_scheme_in_one_process(tmp_path: Path,
                                                    mini_pack: dict[str, Any]) -> None:
    """Each store keeps its own scheme: one process opening both (as tests and `verify
    --views` do) never names one store's records by the other's rule."""
    from audit_ledger.wiring import wire
    from ledger.importer import import_pack
    from ledger.pack import parse_pack

    key = _key()
    with fresh_store("sqlite", tmp_path) as plain_url, fresh_store("sqlite", tmp_path) as keyed_url:
        plain, keyed = wire(plain_url, ""), wire(keyed_url, key)
        try:
            for w in (plain, keyed, plain):
                import_pack(w.app, parse_pack(mini_pack))
            assert not plain.app.ids.keyed and keyed.app.ids.keyed
            assert plain.app.ids.case_id(P, "K01") == uuid5(NAMESPACE, f"case/{P}/K01")
            assert keyed.app.ids.case_id(P, "K01") != plain.app.ids.case_id(P, "K01")
            assert keyed.app.ids.case_id(P, "K01").version == 8
            for w in (plain, keyed):
                assert w.fresh_views().case(P, "K01")["agencies"] == ["social-care", "school"]
        finally:
            plain.close()
            keyed.close()


def test_a_release_0_2_store_keeps_its_scheme_after_a_write(tmp_path: Path) -> None:
    """Written with a key before keyed ids: its ids stay uuid5, also for what is added now, and
    its views' keys stay as they were (the release's reads are checked byte for byte by
    test_release_0_2_store)."""
    db = tmp_path / "release-0.2-key.db"
    shutil.copy(RELEASE_0_2_KEY, db)
    url = f"sqlite:///{db}"
    before, texts = _values(url)
    assert any(t.startswith("lontown-2009/C01/") for t in texts), \
        "the release's views name agencies beside cases"
    run_cli("person", "add", "nova.sw", "--name", "Nova Worker", "--agency", "partnership",
            "--role", "quality-lead", "--by", "qa.bennett", "--partnership", "default",
            url=url, key=RELEASE_KEY, check=True)
    after, _ = _values(url)
    assert uuid5(NAMESPACE, "person/nova.sw") in after - before
    said = json.loads(run_cli("verify", "--format", "json", url=url, key=RELEASE_KEY,
                              check=True).stdout)
    assert said["ids"] == "public" and said["intact"]


def test_hidden_view_keys_keep_prefix_scans_and_their_order(tmp_path: Path) -> None:
    from projections.sqlite_views import SQLiteViewStore

    store = SQLiteViewStore(str(tmp_path / "views.db"), _key())
    try:
        store.hide_names(True)
        docs = {("feedback", f"{p}/{c}/{a}"): {"n": i} for i, (p, c, a) in enumerate(
            itertools.product(("p1", "p2"), ("K02", "K01"), ("school", "social-care")))}
        store.commit(docs, {"t": 0}, 1)
        stored = [k for _, k, _ in store.dump()]
        assert len(stored) == 8 and not [k for k in stored if re.search(r"p1|K0|school", k)]
        k01 = store.stored_key("feedback", "p1/K01/school").split("/")
        k02 = store.stored_key("feedback", "p1/K02/school").split("/")
        assert k01[0] == k02[0] and k01[2] != k02[2]  # one programme; the agency unlinkable
        scanned = store.scan("feedback", "p1/")
        assert [k for k, _ in scanned] == sorted(k for _, k in docs if k.startswith("p1/"))
        assert [d for _, d in scanned] == [docs[("feedback", k)] for k, _ in scanned]
        assert store.get("feedback", "p2/K01/school") == docs[("feedback", "p2/K01/school")]
        assert store.scan("feedback", "p1/K01/") == [
            ("p1/K01/school", docs[("feedback", "p1/K01/school")]),
            ("p1/K01/social-care", docs[("feedback", "p1/K01/social-care")])]
    finally:
        store.close()


def test_a_keyed_store_keys_every_case_it_opens_so_verify_can_count_them_blind(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """A case opened with no text yet (no returns, nothing about the child) still gets its key
    row in a keyed store, so `verify` without the key counts one row a case; a store without a
    key makes keys with text only, as before."""
    pack = {**mini_pack, "cases": [*mini_pack["cases"], {"ref": "K03", "category": "neglect",
                                                         "agencies": ["social-care"]}]}
    key = _key()
    _imported(store_url, tmp_path, pack, key)
    refs = sorted(r[1] for r in _tables(store_url)["case_keys"])
    assert refs == ["K01", "K02", "K03"]
    blind = run_cli("verify", url=store_url)
    assert blind.returncode == 0, blind.stderr
    assert "were counted against the cases and erasures" in blind.stdout
    with fresh_store("sqlite", tmp_path) as plain:
        _imported(plain, tmp_path, pack, "")
        assert sorted(r[1] for r in _tables(plain)["case_keys"]) == ["K01", "K02"]
