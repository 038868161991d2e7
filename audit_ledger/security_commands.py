"""`verify`, `export-digest` and `public-key`: is the stored log whole, unaltered and signed by
the ledger, and does it extend a digest?

None needs a secret: the hash chain covers the events as stored (ciphertext when the store
is encrypted) and the signed heads are checked with the public key, so an inspector can
check a copy of a sealed store without being able to read or sign it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ledger.application import AuditLedger
from ledger.digests import (
    DigestFile,
    digest_document,
    digest_text,
    key_id,
    read_digest,
    signature_problem,
)
from ledger.settings import StoreSettings, from_environment
from ledger.signing import ChainSigner, read_public_key, signer_from
from ledger.verification import Verdict, verify_log

from .record_checks import BesideLog, check_beside_log

if TYPE_CHECKING:
    from ledger.key_audit import KeyCheck


@contextmanager
def _log(ctx: click.Context) -> Iterator[tuple[StoreSettings, AuditLedger]]:
    """The ledger opened for checking only: no key, no views, no key check."""
    obj = ctx.find_root().ensure_object(dict)
    settings = replace(from_environment(obj.get("url"), ""), key="")
    app = AuditLedger(env=settings.library_env(key_check=False))
    try:
        yield settings, app
    finally:
        app.close()


def _verdict_data(verdict: Verdict, found: DigestFile | None,
                  keys: KeyCheck | None = None) -> dict[str, Any]:
    signed = verdict.signatures
    digest = found.checkpoint if found is not None else None
    sig = found.signature if found is not None else None
    return {"intact": verdict.intact and not (keys and keys.problems),
            "checked": verdict.checked,
            "head": {"position": verdict.head.position, "hash": verdict.head.hash},
            "problem": verdict.problem, "bad_position": verdict.bad_position,
            "digest": None if digest is None else {
                "position": digest.position, "hash": digest.hash,
                "exported_at": digest.exported_at, "signed_heads": digest.signed_heads,
                "signed": sig is not None, "key_id": sig.key_id if sig else None,
                "problem": verdict.digest_problem},
            "signatures": {"count": signed.count, "first_signed_position": signed.first,
                           "public_keys": list(signed.keys),
                           "checked_against": signed.checked_against},
            **({"adoptions": [{"position": a[0], "by": a[1], "at": a[2],
                               "event_position": a[3] if len(a) > 3 else None}
                              for a in verdict.adoptions]} if verdict.adoptions else {}),
            **({"case_keys": {"rows": keys.rows, "problems": keys.problems,
                              "unchecked": keys.unchecked, "unbound": keys.unbound}}
               if keys is not None else {})}


def _case_keys(ctx: click.Context, app: AuditLedger) -> KeyCheck:
    """The case key table checked against the log, with the store's key when one is set."""
    from eventsourcing.cryptography import AESCipher
    from eventsourcing.utils import Environment

    from ledger.key_audit import check_case_keys
    from ledger.key_epochs import key_bytes
    from ledger.persistence import store_scheme
    from ledger.store_key import key_format_problem

    obj = ctx.find_root().ensure_object(dict)
    settings = from_environment(obj.get("url"), obj.get("key"))
    key = settings.key
    cipher = AESCipher(Environment(env={AESCipher.CIPHER_KEY: key.strip()})) \
        if key and not key_format_problem(key) else None
    wrapping = key_bytes(settings.wrapping_key) if settings.wrapping_key.strip() else None
    return check_case_keys(app.recorder, app.mapper.transcoder, cipher, wrapping,
                           store_scheme(app.recorder, key if cipher else ""))


def _adoption_lines(verdict: Verdict) -> list[str]:
    """Each `adopt-chain`, said with what it means for the events before it."""
    lines = []
    for position, by, at, *event in verdict.adoptions:
        try:
            when = datetime.fromisoformat(str(at))
            said = f"on {when.day} {when:%B %Y}"
        except ValueError:
            said = f"at {at!r}"
        lines.append(f"the chain was adopted at position {position} by {by} {said}: the events "
                     "up to it were stored before the ledger kept a chain, so nothing shows "
                     "whether they were changed before then")
        if event and event[0] is not None:
            lines.append(f"the adoption is recorded as the event at position {event[0]}, "
                         "chained and signed with the rest of the log")
        else:
            lines.append("the adoption is recorded only beside the chain, not in the log "
                         "(adopted by an earlier release): run audit-ledger adopt-chain --by "
                         "QUALITY-LEAD again to record it in the log too")
    return lines


def _own_signer(ctx: click.Context) -> ChainSigner | None:
    """The signing key this process holds (AUDIT_LEDGER_KEY or AUDIT_LEDGER_SIGNING_KEY), or
    None when it holds none."""
    obj = ctx.find_root().ensure_object(dict)
    settings = from_environment(obj.get("url"), obj.get("key"))
    return signer_from(settings.key, settings.signing_key)


def _own_public_key(ctx: click.Context) -> str:
    signer = _own_signer(ctx)
    return signer.public if signer is not None else ""


def _digest_lines(found: DigestFile, trusted: str) -> list[str]:
    """What the digest proves, and whose signature it bears, in words."""
    digest, signature = found.checkpoint, found.signature
    when = f" exported {digest.exported_at}" if digest.exported_at else ""
    lines = [f"the log still extends the digest{when}: position {digest.position}, hash "
             f"{digest.hash}" + (f", {_heads(digest.signed_heads)}"
                                 if digest.signed_heads else "")]
    if signature is None:
        return lines
    if trusted:
        lines.append(f"the digest is signed with the trusted public key (key id "
                     f"{signature.key_id})")
    else:
        lines.append(f"the digest's signature was checked only against the public key written "
                     f"in it (key id {signature.key_id}), which proves nothing against whoever "
                     "could rewrite the file: give --public-key to check it against the key "
                     "you trust")
    return lines


def _unsigned_warning(found: DigestFile, shown: str) -> str:
    why = ("written by an earlier release, before digests were signed" if found.version == 1
           else "exported where no key was set")
    return (f"warning: the digest {shown} is not signed ({why}): whoever could change the "
            "file could have rewritten it to match the log, so it proves only as much as the "
            "place it was kept")


IDS_SAID = {
    "keyed": "records are named with the store's key (keyed ids and view keys): without the key, "
             "nothing in the store names a case, an agency or a person, or shows which agencies "
             "work with a case",
    "public": "records are named by a public rule (uuid5 of their names), as in every store "
              "written without a key or before keyed ids: anyone holding the database can guess "
              "names and so learn which agencies work with each case and confirm staff ids. A "
              "store written with AUDIT_LEDGER_KEY from its first event names them with the key "
              "(a store keeps the rule it was first written with)",
}
"""What `verify` says of how the store names its records (`ledger.ids`)."""


def _heads(count: int) -> str:
    return f"{count} signed head{'' if count == 1 else 's'}"


def _signature_lines(verdict: Verdict, trusted: str) -> list[str]:
    """What the signatures prove, and against whom, in words."""
    signed = verdict.signatures
    if not signed.count:
        if not verdict.checked:
            return []
        return ["no event is signed: this store was written without a key (AUDIT_LEDGER_KEY "
                "or AUDIT_LEDGER_SIGNING_KEY), or by release 0.1 before the ledger signed its "
                "chain, so its administrator could rewrite it, events and chain alike, and "
                "this check would not notice; only a digest kept outside the system "
                "(export-digest) would"]
    keys = ", ".join(signed.keys)
    lines = []
    if trusted:
        lines.append(f"every commit from position {signed.first} on is signed with public key "
                     f"{trusted} ({_heads(signed.count)}): nobody without that key's "
                     "secret added or rewrote them")
    else:
        lines.append(f"{_heads(signed.count)} from position {signed.first}, each checked "
                     f"only against the public key stored beside it ({keys}): give "
                     "--public-key (from audit-ledger public-key) to check them against the "
                     "key you trust")
    if signed.first is not None and signed.first > 1:
        lines.append(f"the events before the first signed head (position {signed.first}) were "
                     "stored before the ledger signed its chain (by release 0.1, or while no "
                     "key was set), or in the commit that head signs (the signatures do not "
                     "say which): they are not tampering, and the first signature vouches "
                     "for them only as they stood when it was made")
    return lines


@click.command()
@click.option("--digest", "digest_file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a digest written by export-digest: prove the log still extends it")
@click.option("--public-key", "public_key", default=None, metavar="KEY",
              help="the ledger's public key (audit-ledger public-key prints it): check every "
                   "signed head with it. Needs no secret, so an inspector can check a copy")
@click.option("--views", "views", is_flag=True,
              help="also fold the log afresh and compare every view document with it, naming "
                   "the first difference (view, key, field)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for scripts")
@click.pass_context
def verify(ctx: click.Context, digest_file: Path | None, public_key: str | None,
           views: bool, fmt: str) -> None:
    """Check the whole stored log against its hash chain, its signatures (and a digest).

    Exit 0 when intact; exit 1 naming the first bad position when any stored event was
    edited, deleted, inserted or reordered, when events were appended without the ledger's
    signature (or signed with another key), or when the log no longer extends the digest.
    Without --public-key, the key set here (AUDIT_LEDGER_KEY or AUDIT_LEDGER_SIGNING_KEY)
    is the one trusted; with neither, signatures are checked only against the keys stored
    beside them, which proves nothing against the store's administrator. With --views, a
    view document that the log does not give is exit 1.
    """
    found = read_digest(digest_file) if digest_file else None
    trusted_text = public_key.strip() if public_key else _own_public_key(ctx)
    trusted = read_public_key(trusted_text) if trusted_text else None  # refused plainly if bad
    forged = signature_problem(found, trusted_text, str(digest_file)) if found else None
    if found is not None and found.signature is None:
        click.echo(_unsigned_warning(found, str(digest_file)), err=True)
    with _log(ctx) as (settings, app):
        verdict = verify_log(app.recorder, None if forged or not found else found.checkpoint,
                             public_key=trusted, require_signed=public_key is not None)
        keys = _case_keys(ctx, app)
        ids = app.ids.name
    if forged:
        verdict = replace(verdict, digest_problem=forged)
    beside = check_beside_log(ctx, views) if verdict.problem is None else BesideLog()
    if fmt == "json":
        click.echo(json.dumps({**_verdict_data(verdict, found, keys), "ids": ids, **beside.data},
                              indent=2))
    if verdict.problem or verdict.digest_problem or keys.problems or beside.problem:
        for problem in [verdict.problem or verdict.digest_problem or "", *keys.problems,
                        beside.problem or ""]:
            if problem:
                click.echo(problem, err=True)
        ctx.exit(1)
    if fmt == "json":
        return
    click.echo(f"verified {verdict.checked} events in {settings.describe()}: the hash chain is "
               f"intact; head position {verdict.head.position}, hash {verdict.head.hash}")
    for line in _adoption_lines(verdict) + _signature_lines(verdict, trusted_text):
        click.echo(line)
    if verdict.checked:
        click.echo(IDS_SAID[ids])
    if keys.rows:
        click.echo(f"{keys.rows} case key rows checked against the log: each belongs to a case "
                   "it holds, and every destroyed key to a recorded erasure")
    for line in keys.unchecked:
        click.echo(line)
    if found is not None:
        for line in _digest_lines(found, trusted_text):
            click.echo(line)
    for line in beside.lines:
        click.echo(line)


@click.command("export-digest")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the digest to this file (default: print it)")
@click.pass_context
def export_digest(ctx: click.Context, output: Path | None) -> None:
    """Write a signed digest of the log (head position and hash) to keep outside the system.

    The log is verified first, against this process's own key: a digest is only ever
    exported for a log whose chain is intact and signed by this ledger. The digest is signed
    with the same key (AUDIT_LEDGER_KEY or AUDIT_LEDGER_SIGNING_KEY); without one it is
    written unsigned, with a warning. Keep the file where the database's administrators
    cannot change it, and give it to `verify --digest` later to prove the log still extends
    it (docs/digest-format.md).
    """
    signer = _own_signer(ctx)
    with _log(ctx) as (_, app):
        verdict = verify_log(app.recorder, public_key=signer.private.public_key()
                             if signer is not None else None)
    if verdict.problem:
        click.echo(verdict.problem, err=True)
        click.echo("no digest was exported: the log does not verify", err=True)
        ctx.exit(1)
    text = digest_text(digest_document(verdict, signer,
                                       datetime.now(UTC).isoformat(timespec="seconds")))
    if signer is None:
        click.echo("warning: the digest is not signed, as no key is set here (AUDIT_LEDGER_KEY "
                   "or AUDIT_LEDGER_SIGNING_KEY): keep it where nobody who can change the "
                   "store can change it", err=True)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    signed = f", signed with key id {key_id(signer.public)}" if signer is not None else ""
    click.echo(f"wrote {output}: position {verdict.head.position}, hash "
               f"{verdict.head.hash}{signed}")


@click.command("public-key")
@click.pass_context
def public_key(ctx: click.Context) -> None:
    """Print the public key that checks this ledger's signed chain.

    It is derived from AUDIT_LEDGER_SIGNING_KEY when set, else from AUDIT_LEDGER_KEY (the
    same key every process of the ledger is given). Publish it, or hand it to an inspector:
    `audit-ledger verify --public-key KEY` then checks a copy of the store with no secret.
    """
    own = _own_public_key(ctx)
    if not own:
        raise click.ClickException(
            "no key is set, so nothing is signed: set AUDIT_LEDGER_KEY or "
            "AUDIT_LEDGER_SIGNING_KEY (make one with audit-ledger keygen)")
    click.echo(own)
