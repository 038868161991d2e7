"""`verify` and `export-digest`: is the stored log whole and unaltered, and does it extend a digest?

Neither needs the key: the hash chain covers the events as stored (ciphertext when the
store is encrypted), so an inspector can check a sealed store without being able to read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ledger.application import AuditLedger
from ledger.base import LedgerError
from ledger.settings import StoreSettings, from_environment
from ledger.verification import Digest, Verdict, verify_log

DIGEST_KIND = "audit-ledger log digest"
DIGEST_VERSION = 1
MAX_DIGEST_BYTES = 64 * 1024


class BadDigest(LedgerError):
    """The --digest file is not one that export-digest wrote."""


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


def _read_digest(path: Path) -> Digest:
    def bad(why: str) -> BadDigest:
        return BadDigest(f"{path}: {why}; use a file written by audit-ledger export-digest")

    if path.stat().st_size > MAX_DIGEST_BYTES:
        raise bad("too large to be a digest")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise bad("not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise bad(f"line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})") from None
    if not isinstance(data, dict) or data.get("kind") != DIGEST_KIND:
        raise bad(f"not a digest (no \"kind\": \"{DIGEST_KIND}\")")
    if data.get("version") != DIGEST_VERSION:
        raise bad(f"digest version {data.get('version')!r} is not one this ledger reads "
                  f"({DIGEST_VERSION})")
    position, digest_hash = data.get("position"), data.get("hash")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise bad("\"position\" must be a whole number, 0 or more")
    if not isinstance(digest_hash, str) or len(digest_hash) != 64 or \
            any(ch not in "0123456789abcdefABCDEF" for ch in digest_hash):
        raise bad("\"hash\" must be 64 hexadecimal digits")
    exported = data.get("exported_at")
    return Digest(position, digest_hash.lower(), exported if isinstance(exported, str) else "")


def _verdict_data(verdict: Verdict, digest: Digest | None) -> dict[str, Any]:
    return {"intact": verdict.intact, "checked": verdict.checked,
            "head": {"position": verdict.head.position, "hash": verdict.head.hash},
            "problem": verdict.problem, "bad_position": verdict.bad_position,
            "digest": None if digest is None else {
                "position": digest.position, "hash": digest.hash,
                "exported_at": digest.exported_at, "problem": verdict.digest_problem}}


@click.command()
@click.option("--digest", "digest_file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a digest written by export-digest: prove the log still extends it")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for scripts")
@click.pass_context
def verify(ctx: click.Context, digest_file: Path | None, fmt: str) -> None:
    """Check the whole stored log against its hash chain (and an exported digest).

    Exit 0 when intact; exit 1 naming the first bad position when any stored event was
    edited, deleted, inserted or reordered, or when the log no longer extends the digest.
    """
    digest = _read_digest(digest_file) if digest_file else None
    with _log(ctx) as (settings, app):
        verdict = verify_log(app.recorder, digest)
    if fmt == "json":
        click.echo(json.dumps(_verdict_data(verdict, digest), indent=2))
    if verdict.problem or verdict.digest_problem:
        click.echo(verdict.problem or verdict.digest_problem, err=True)
        ctx.exit(1)
    if fmt == "json":
        return
    click.echo(f"verified {verdict.checked} events in {settings.describe()}: the hash chain is "
               f"intact; head position {verdict.head.position}, hash {verdict.head.hash}")
    if digest is not None:
        when = f" exported {digest.exported_at}" if digest.exported_at else ""
        click.echo(f"the log still extends the digest{when}: position {digest.position}, "
                   f"hash {digest.hash}")


@click.command("export-digest")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the digest to this file (default: print it)")
@click.pass_context
def export_digest(ctx: click.Context, output: Path | None) -> None:
    """Write a small digest of the log (head position and hash) to keep outside the system.

    The log is verified first: a digest is only ever exported for a log whose chain is
    intact. Keep the file where the database's administrators cannot change it, and give
    it to `verify --digest` later to prove the log still extends it.
    """
    with _log(ctx) as (_, app):
        verdict = verify_log(app.recorder)
    if verdict.problem:
        click.echo(verdict.problem, err=True)
        click.echo("no digest was exported: the log does not verify", err=True)
        ctx.exit(1)
    data = {"kind": DIGEST_KIND, "version": DIGEST_VERSION, "algorithm": "sha256-chain-v1",
            "position": verdict.head.position, "hash": verdict.head.hash,
            "count": verdict.checked,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    text = json.dumps(data, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}: position {verdict.head.position}, hash {verdict.head.hash}")
