"""The signed chain, on both stores: the tests play the database's administrator, who can
append events and extend the chain with its public algorithm, but holds no key.

Each commit's head is signed with a key kept out of the database (derived from
AUDIT_LEDGER_KEY, or AUDIT_LEDGER_SIGNING_KEY); `verify --public-key` checks a copy with no
secret. A missing or emptied chain beside stored events makes every write refuse.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit_ledger.wiring import Wiring, wire
from ledger import commands as c
from ledger.chain import link
from ledger.importer import import_pack
from ledger.pack import parse_pack
from ledger.signing import SIGNATURE_TABLE, ChainRefused, head_message, public_text

from .conftest import cli_env, console_script, run_cli
from .test_tamper import Raw, _forged_row

STORE_KEY = base64.b64encode(bytes(range(32))).decode()
SIGNING_KEY = base64.b64encode(bytes(range(100, 132))).decode()


def cli(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([console_script(), *args], capture_output=True, text=True,
                            env=cli_env(url, **env), timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(params=["store key", "signing key"])
def keys(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a signing ledger: encrypted (the signing key derived from the
    store key), or plain with a signing key of its own."""
    if request.param == "store key":
        return {"AUDIT_LEDGER_KEY": STORE_KEY}
    return {"AUDIT_LEDGER_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def signed(store_url: str, keys: dict[str, str], mini_pack: dict[str, Any],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Wiring, Raw]]:
    """The mini audit imported by a signing ledger, and the store's tables at hand."""
    monkeypatch.setenv("AUDIT_LEDGER_SIGNING_KEY", keys.get("AUDIT_LEDGER_SIGNING_KEY", ""))
    w = wire(store_url, keys.get("AUDIT_LEDGER_KEY", ""))
    raw = Raw(store_url)
    try:
        import_pack(w.app, parse_pack(mini_pack))
        yield w, raw
    finally:
        raw.close()
        w.close()


def _signatures(raw: Raw) -> list[tuple[Any, ...]]:
    table = SIGNATURE_TABLE if raw.sqlite else raw.chain.replace("event_chain", SIGNATURE_TABLE)
    return raw.run(f"SELECT position, hash, public_key, signature FROM {table} ORDER BY position")


def _forge_append(raw: Raw) -> int:
    """An event appended by hand, and the chain extended with the chain's own algorithm."""
    count = len(raw.ids())
    raw.run("INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)", *_forged_row(raw, 3))
    head = bytes.fromhex(raw.chain_rows()[-1][2])
    new = link(head, raw.event(count + 1))
    raw.run("INSERT INTO {chain} (position, notification_id, hash) VALUES (?, ?, ?)",
            count + 1, raw.at(count + 1), new.hex())
    return count + 1


def _sign_as_forger(raw: Raw, position: int) -> str:
    forger = Ed25519PrivateKey.generate()
    head = raw.chain_rows()[position - 1][2]
    table = SIGNATURE_TABLE if raw.sqlite else raw.chain.replace("event_chain", SIGNATURE_TABLE)
    raw.run(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", position, head,
            public_text(forger.public_key()), forger.sign(head_message(position, head)).hex())
    return public_text(forger.public_key())


def test_every_commit_is_signed_and_an_inspector_checks_a_copy_with_the_public_key(
        signed: tuple[Wiring, Raw], store_url: str, keys: dict[str, str]) -> None:
    _, raw = signed
    count = len(raw.ids())
    signatures = _signatures(raw)
    assert signatures and signatures[-1][0] == count and signatures[-1][1] == raw.chain_rows()[-1][2]
    public = cli(store_url, "public-key", **keys).stdout.strip()
    assert {s[2] for s in signatures} == {public}
    # The inspector holds no secret, only the public key.
    result = cli(store_url, "verify", "--public-key", public)
    assert result.returncode == 0, result.stderr
    assert f"every commit from position {signatures[0][0]} on is signed with public key " \
           f"{public}" in result.stdout
    data = json.loads(cli(store_url, "verify", "--public-key", public, "--format", "json").stdout)
    assert data["intact"] and data["signatures"]["count"] == len(signatures)


def test_a_forged_append_passes_the_hash_check_but_not_the_signature_check(
        signed: tuple[Wiring, Raw], store_url: str, keys: dict[str, str]) -> None:
    w, raw = signed
    public = cli(store_url, "public-key", **keys).stdout.strip()
    position = _forge_append(raw)
    for args in [(), ("--public-key", public)]:
        result = cli(store_url, "verify", *args)
        assert result.returncode == 1, result.stdout
        assert result.stderr.strip() == (
            f"the log was altered at position {position}: the events from position {position} "
            f"to {position} are not signed: they were added outside the ledger")
    # The ledger will not sign on top of it.
    with pytest.raises(ChainRefused, match=f"from position {position}"):
        w.app.raise_concern(c.RaiseConcern(
            by="sch.aud", programme="mini-2026", case="K02", agency="school",
            summary="Attendance fell in the spring term.", occurred_on=date(2026, 3, 2)))
    assert len(raw.ids()) == position


def test_a_forged_append_signed_with_another_key_fails_verify_with_the_public_key(
        signed: tuple[Wiring, Raw], store_url: str, keys: dict[str, str]) -> None:
    _, raw = signed
    public = cli(store_url, "public-key", **keys).stdout.strip()
    position = _forge_append(raw)
    forger = _sign_as_forger(raw, position)
    # Checked only against the keys stored beside them, the forger's signature holds: the
    # output says so and names both keys.
    plain = cli(store_url, "verify")
    assert plain.returncode == 0 and public in plain.stdout and forger in plain.stdout
    assert "give --public-key" in plain.stdout
    result = cli(store_url, "verify", "--public-key", public)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"the log was altered at position {position}: the events from position {position} to "
        f"{position} were not signed by the public key given: they were added outside the ledger")
    # The ledger's own key, set in the environment, is trusted the same way.
    assert cli(store_url, "verify", **keys).returncode == 1


def test_a_rewritten_and_re_chained_log_fails_the_signature_check(
        signed: tuple[Wiring, Raw], store_url: str, keys: dict[str, str]) -> None:
    _, raw = signed
    public = cli(store_url, "public-key", **keys).stdout.strip()
    count = len(raw.ids())
    nid, *_, state = raw.event(10)
    raw.run("UPDATE {events} SET state=? WHERE {nid}=?", bytes(state) + b" ", nid)
    previous = bytes.fromhex(raw.chain_rows()[8][2])
    for position in range(10, count + 1):
        previous = link(previous, raw.event(position))
        raw.run("UPDATE {chain} SET hash=? WHERE position=?", previous.hex(), position)
    result = cli(store_url, "verify", "--public-key", public)
    assert result.returncode == 1
    first_signed_after = min(s[0] for s in _signatures(raw) if s[0] >= 10)
    assert f"the signed head at position {first_signed_after} does not match the chain" \
        in result.stderr


def test_a_store_kept_without_a_key_says_its_administrator_could_rewrite_it(
        wiring: Wiring, store_url: str, mini_pack: dict[str, Any]) -> None:
    import_pack(wiring.app, parse_pack(mini_pack))
    result = cli(store_url, "verify")
    assert result.returncode == 0
    assert "no event is signed" in result.stdout
    assert "its administrator could rewrite it" in result.stdout
    # An inspector who expects a signed store is told it is not one.
    some_key = public_text(Ed25519PrivateKey.generate().public_key())
    refused = cli(store_url, "verify", "--public-key", some_key)
    assert refused.returncode == 1 and "no event in this store is signed" in refused.stderr
    assert "could not" not in cli(store_url, "public-key").stderr
    assert cli(store_url, "public-key").returncode == 1


def test_a_store_signed_after_it_began_keyless_says_which_events_came_before(
        wiring: Wiring, store_url: str, mini_pack: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import_pack(wiring.app, parse_pack(mini_pack))
    raw = Raw(store_url)
    before = len(raw.ids())
    raw.close()
    with monkeypatch.context() as env:  # a later process, given a signing key
        env.setenv("AUDIT_LEDGER_SIGNING_KEY", SIGNING_KEY)
        keyed = wire(store_url, "")
    try:
        keyed.app.raise_concern(c.RaiseConcern(
            by="sch.aud", programme="mini-2026", case="K02", agency="school",
            summary="Attendance fell in the spring term.", occurred_on=date(2026, 3, 2)))
    finally:
        keyed.close()
    public = cli(store_url, "public-key", AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY).stdout.strip()
    result = cli(store_url, "verify", "--public-key", public)
    assert result.returncode == 0, result.stderr
    assert f"the events before the first signed head (position {before + 1})" in result.stdout
    assert "they are not tampering" in result.stdout
    # A writer without the key may not go on unsigned.
    with pytest.raises(ChainRefused, match="signed but no key is set"):
        wiring.app.raise_concern(c.RaiseConcern(
            by="sch.aud", programme="mini-2026", case="K01", agency="school",
            summary="Another note.", occurred_on=date(2026, 3, 2)))


@pytest.mark.parametrize("how", ["drop", "empty"])
def test_a_missing_or_emptied_chain_makes_every_write_refuse(
        wiring: Wiring, store_url: str, mini_pack: dict[str, Any], how: str) -> None:
    import_pack(wiring.app, parse_pack(mini_pack))
    raw = Raw(store_url)
    try:
        count = len(raw.ids())
        raw.run("DROP TABLE {chain}" if how == "drop" else "DELETE FROM {chain}")
        with pytest.raises(ChainRefused, match="missing or empty"):
            wiring.app.raise_concern(c.RaiseConcern(
                by="sch.aud", programme="mini-2026", case="K02", agency="school",
                summary="Attendance fell in the spring term.", occurred_on=date(2026, 3, 2)))
        result = run_cli("concern", "raise", "mini-2026", "K02", "--agency", "school",
                         "--by", "sch.aud", "--summary", "Attendance fell.", url=store_url)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "hash chain is missing or empty beside stored events" in result.stderr
        assert "nothing was written" in result.stderr
        assert len(raw.ids()) == count
    finally:
        raw.close()


def test_writers_at_once_each_sign_their_own_commit_and_none_is_refused(
        signed: tuple[Wiring, Raw], store_url: str, keys: dict[str, str]) -> None:
    """Four writers at once: each commit checks the head its predecessor signed and signs its
    own, so none is refused and every head verifies with the public key."""
    w, raw = signed
    before = len(_signatures(raw))
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                w.app.raise_concern(c.RaiseConcern(
                    by="sch.aud", programme="mini-2026", case="K01", agency="school",
                    summary=f"Writer {n} note {i}.", occurred_on=date(2026, 3, 2)))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(_signatures(raw)) == before + 4 * 5  # one signed head per commit
    public = cli(store_url, "public-key", **keys).stdout.strip()
    result = cli(store_url, "verify", "--public-key", public)
    assert result.returncode == 0, result.stderr


def test_a_key_that_is_not_one_is_refused_plainly(wiring: Wiring, store_url: str) -> None:
    bad = cli(store_url, "verify", "--public-key", "not-a-key")
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("error: 'not-a-key' is not a public key: give the one line "
                                  "that audit-ledger public-key prints")
    for args in [("public-key",), ("verify",)]:
        wrong = cli(store_url, *args, AUDIT_LEDGER_SIGNING_KEY="c2hvcnQ=")
        assert wrong.returncode == 2, wrong.stdout
        assert "AUDIT_LEDGER_SIGNING_KEY is not a valid signing key: make one with " \
               "audit-ledger keygen" in wrong.stderr


def test_the_signing_key_from_a_file_signs_as_the_key_itself_does(
        wiring: Wiring, store_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "signing-key"
    key_file.write_text(SIGNING_KEY + "\n", encoding="utf-8")  # as `keygen > file` leaves it
    by_value = cli(store_url, "public-key", AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY)
    by_file = cli(store_url, "public-key", AUDIT_LEDGER_SIGNING_KEY_FILE=str(key_file))
    assert by_file.returncode == 0, by_file.stderr
    assert by_file.stdout == by_value.stdout and by_file.stdout.strip()
    both = cli(store_url, "public-key", AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY,
               AUDIT_LEDGER_SIGNING_KEY_FILE=str(key_file))
    assert both.returncode == 2 and "not both" in both.stderr
    assert SIGNING_KEY not in both.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    for path, said in ((empty, "the file is empty"), (tmp_path / "missing", "cannot be read")):
        result = cli(store_url, "public-key", AUDIT_LEDGER_SIGNING_KEY_FILE=str(path))
        assert result.returncode == 2, result.stdout
        assert result.stderr.strip() == f"error: AUDIT_LEDGER_SIGNING_KEY_FILE {path}: {said}" + (
            "; put the key from audit-ledger keygen in it" if path == empty
            else " (no such file or directory)")
