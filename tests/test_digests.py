"""Signed digests, on both stores: the tests play the database's administrator, who can delete
events and signature rows and rewrite the digest file, but holds no key.

`export-digest` writes a checkpoint signed with the ledger's key; `verify --digest` checks its
signature (with only the public key) and that the log still extends it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit_ledger.wiring import Wiring
from ledger import commands as c
from ledger.digests import key_id, signed_message
from ledger.signing import SIGNATURE_TABLE, public_text

from .test_signed_chain import _signatures, cli, keys, signed  # noqa: F401 - fixtures
from .test_tamper import Raw

__all__ = ["keys", "signed"]


@pytest.fixture
def grown(signed: tuple[Wiring, Raw]) -> Iterator[tuple[Wiring, Raw]]:
    """The signed mini audit and two more commits, each with its own signed head."""
    w, _ = signed
    for n in range(2):
        w.app.raise_concern(c.RaiseConcern(
            by="sch.aud", programme="mini-2026", case="K02", agency="school",
            summary=f"Attendance note {n}.", occurred_on=date(2026, 3, 2)))
    yield signed


class Exported(NamedTuple):
    """A signed digest of the grown store, exported with the ledger's key."""

    raw: Raw
    public: str
    file: Path
    digest: dict[str, Any]


@pytest.fixture
def exported(grown: tuple[Wiring, Raw], store_url: str, keys: dict[str, str],
             tmp_path: Path) -> Exported:
    public = cli(store_url, "public-key", **keys).stdout.strip()
    digest_file = tmp_path / "digest.json"
    return Exported(grown[1], public, digest_file, _export(store_url, digest_file, **keys))


def _export(url: str, path: Path, **env: str) -> dict[str, Any]:
    result = cli(url, "export-digest", "-o", str(path), **env)
    assert result.returncode == 0, result.stderr
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _signature_table(raw: Raw) -> str:
    return SIGNATURE_TABLE if raw.sqlite else raw.chain.replace("event_chain", SIGNATURE_TABLE)


def _cut_after(raw: Raw, position: int) -> None:
    """The newest events deleted with their chain records and signed heads: what is left is a
    consistent, signed, shorter log."""
    for nid in raw.ids()[position:]:
        raw.run("DELETE FROM {events} WHERE {nid}=?", nid)
    raw.run("DELETE FROM {chain} WHERE position>?", position)
    raw.run(f"DELETE FROM {_signature_table(raw)} WHERE position>?", position)


def test_a_signed_digest_is_checked_with_only_the_public_key(
        exported: Exported, store_url: str, keys: dict[str, str]) -> None:
    raw, public, digest_file, digest = exported
    heads = _signatures(raw)
    assert (digest["version"], digest["position"], digest["signed_heads"]) == \
        (2, len(raw.ids()), len(heads))
    assert digest["signature"]["public_key"] == public
    assert digest["signature"]["key_id"] == key_id(public)
    # The inspector holds the public key and the file, no secret.
    result = cli(store_url, "verify", "--digest", str(digest_file), "--public-key", public)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"the log still extends the digest exported {digest['exported_at']}: position " \
           f"{digest['position']}" in result.stdout
    assert f"the digest is signed with the trusted public key (key id {key_id(public)})" \
        in result.stdout
    data = json.loads(cli(store_url, "verify", "--digest", str(digest_file), "--public-key",
                          public, "--format", "json").stdout)
    assert data["digest"]["signed"] is True and data["digest"]["key_id"] == key_id(public)
    # Without a key to trust, the signature is checked against the key in the file, and
    # the output says what that proves.
    plain = cli(store_url, "verify", "--digest", str(digest_file))
    assert plain.returncode == 0 and "checked only against the public key written in it" \
        in plain.stdout


def test_a_rewritten_digest_fails_its_signature(
        exported: Exported, store_url: str, keys: dict[str, str]) -> None:
    raw, public, digest_file, digest = exported
    # The administrator cuts the newest commit off, then rewrites the digest to match.
    heads = _signatures(raw)
    keep = heads[-2][0]
    _cut_after(raw, keep)
    assert cli(store_url, "verify", "--public-key", public).returncode == 0  # still signed
    rewritten = {**digest, "position": keep, "count": keep, "hash": heads[-2][1],
                 "signed_heads": len(heads) - 1}
    digest_file.write_text(json.dumps(rewritten), encoding="utf-8")
    for trust in ((), ("--public-key", public)):
        result = cli(store_url, "verify", "--digest", str(digest_file), *trust)
        assert result.returncode == 1, result.stdout
        assert result.stderr.strip() == (
            f"the digest {digest_file} was changed after it was signed: its signature does "
            "not match its position, hash, signed heads and time")

    # ... and signs it again with a key of their own.
    forger = Ed25519PrivateKey.generate()
    theirs = public_text(forger.public_key())
    value = forger.sign(signed_message(keep, heads[-2][1], len(heads) - 1,
                                       digest["exported_at"])).hex()
    rewritten["signature"] = {"algorithm": "ed25519", "public_key": theirs,
                              "key_id": key_id(theirs), "value": value}
    digest_file.write_text(json.dumps(rewritten), encoding="utf-8")
    result = cli(store_url, "verify", "--digest", str(digest_file), "--public-key", public)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"the digest {digest_file} is signed with another key (key id {key_id(theirs)}) than "
        f"the one trusted here (key id {key_id(public)}): it was not written by this ledger")
    # The ledger's own key, set in the environment, is trusted the same way.
    assert cli(store_url, "verify", "--digest", str(digest_file), **keys).returncode == 1

    # A key id edited by hand is named too.
    digest_file.write_text(json.dumps(
        {**digest, "signature": {**digest["signature"], "key_id": "0" * 16}}))
    result = cli(store_url, "verify", "--digest", str(digest_file))
    assert result.returncode == 1 and "its key id 0000000000000000 is not that of the " \
        "public key written in it" in result.stderr


def test_the_newest_events_cut_off_with_their_signatures_are_caught_against_a_digest(
        exported: Exported, store_url: str, keys: dict[str, str]) -> None:
    raw, public, digest_file, digest = exported
    keep = _signatures(raw)[-2][0]
    _cut_after(raw, keep)
    # The shorter log is consistent and signed: only the digest can tell.
    assert cli(store_url, "verify", "--public-key", public).returncode == 0
    result = cli(store_url, "verify", "--digest", str(digest_file), "--public-key", public)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"the log was altered: the digest exported {digest['exported_at']} records "
        f"{digest['position']} events but the log now has {keep}: events were removed from "
        f"its end (positions {keep + 1} to {digest['position']})")
    data = json.loads(cli(store_url, "verify", "--digest", str(digest_file), "--format",
                          "json").stdout)
    assert data["intact"] is False and "removed from its end" in data["digest"]["problem"]


def test_deleting_every_signature_row_is_caught_against_a_digest(
        exported: Exported, store_url: str, keys: dict[str, str]) -> None:
    raw, _, digest_file, digest = exported
    raw.run(f"DELETE FROM {_signature_table(raw)}")
    # Without the digest, the store now only looks like one written without a key.
    alone = cli(store_url, "verify")
    assert alone.returncode == 0 and "no event is signed" in alone.stdout
    result = cli(store_url, "verify", "--digest", str(digest_file))
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip() == (
        f"the log's signatures were altered at or before position {digest['position']}: the "
        f"digest exported {digest['exported_at']} records {digest['signed_heads']} signed "
        "heads up to there but the store holds 0: every signature row was deleted")


def test_deleting_some_signature_rows_is_caught_against_a_digest(
        exported: Exported, store_url: str, keys: dict[str, str]) -> None:
    raw, public, digest_file, digest = exported
    first = _signatures(raw)[0][0]
    raw.run(f"DELETE FROM {_signature_table(raw)} WHERE position=?", first)
    assert cli(store_url, "verify", "--public-key", public).returncode == 0  # unnoticed
    result = cli(store_url, "verify", "--digest", str(digest_file), "--public-key", public)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        f"records {digest['signed_heads']} signed heads up to there but the store holds "
        f"{digest['signed_heads'] - 1}: signature rows were deleted")


def test_an_unsigned_digest_still_reads_with_a_plain_warning(
        wiring: Wiring, store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    from ledger.importer import import_pack
    from ledger.pack import parse_pack

    import_pack(wiring.app, parse_pack(mini_pack))
    raw = Raw(store_url)
    try:
        count, head = len(raw.ids()), raw.chain_rows()[-1][2]
    finally:
        raw.close()
    # As releases 0.1 and 0.2 wrote it.
    old = tmp_path / "old.digest.json"
    old.write_text(json.dumps({"kind": "audit-ledger log digest", "version": 1,
                               "algorithm": "sha256-chain-v1", "position": count, "hash": head,
                               "count": count, "exported_at": "2026-03-31T17:00:02+00:00"}))
    result = cli(store_url, "verify", "--digest", str(old))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f"warning: the digest {old} is not signed (written by an earlier release, before "
        "digests were signed): whoever could change the file could have rewritten it to match "
        "the log, so it proves only as much as the place it was kept")
    assert "the log still extends the digest exported 2026-03-31T17:00:02+00:00" in result.stdout
    # Exported where no key is set: written unsigned, and said so at both ends.
    new = tmp_path / "new.digest.json"
    exported = cli(store_url, "export-digest", "-o", str(new))
    assert exported.returncode == 0 and "warning: the digest is not signed" in exported.stderr
    assert json.loads(new.read_text())["signature"] is None
    result = cli(store_url, "verify", "--digest", str(new))
    assert result.returncode == 0 and "exported where no key was set" in result.stderr


def test_a_digest_with_a_broken_signature_field_is_refused_naming_it(
        wiring: Wiring, store_url: str, tmp_path: Path) -> None:
    digest_file = tmp_path / "digest.json"
    digest = _export(store_url, digest_file)
    public = public_text(Ed25519PrivateKey.generate().public_key())
    for signature, said in [
            ("yes", "\"signature\" must be null or an ed25519 signature (algorithm, "
                    "public_key, key_id, value)"),
            ({"algorithm": "ed25519", "public_key": "x", "key_id": "", "value": "00"},
             "\"signature\".\"public_key\" is not a public key"),
            ({"algorithm": "ed25519", "public_key": public, "key_id": key_id(public),
              "value": "zz"}, "\"signature\".\"value\" must be 128 hexadecimal digits")]:
        digest_file.write_text(json.dumps({**digest, "signature": signature}))
        result = cli(store_url, "verify", "--digest", str(digest_file))
        assert result.returncode == 2, result.stdout
        assert result.stderr.strip() == (f"error: {digest_file}: {said}; use a file written "
                                          "by audit-ledger export-digest")
    digest_file.write_text(json.dumps({k: v for k, v in digest.items() if k != "signed_heads"}))
    result = cli(store_url, "verify", "--digest", str(digest_file))
    assert result.returncode == 2 and "\"signed_heads\" must be a whole number" in result.stderr


def test_the_format_page_shows_a_digest_whose_signature_holds_as_it_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.exceptions import InvalidSignature

    from ledger.digests import read_digest, signature_problem

    from .test_docs import _conforms, blocks
    from .test_signed_chain import SIGNING_KEY

    page = [b for b in blocks() if b.page == "digest-format.md"]
    (shown,) = [b for b in page if b.marker == "signed digest"]
    (snippet,) = [b for b in page if b.lang == "python"]
    example = json.loads(shown.body)
    # Its shape is what export-digest writes, signed.
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    exported = _export(url, tmp_path / "exported.json", AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY)
    _conforms(example, exported, shown.where())
    # Its signature holds, for the ledger and for the page's own few lines of Python.
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "2026-03-31.digest.json"
    path.write_text(shown.body, encoding="utf-8")
    assert signature_problem(read_digest(path), example["signature"]["public_key"], "") is None
    exec(snippet.body, {})  # noqa: S102 - the page's own example, run as a reader would
    path.write_text(json.dumps({**example, "position": 188}), encoding="utf-8")
    with pytest.raises(InvalidSignature):
        exec(snippet.body, {})  # noqa: S102
