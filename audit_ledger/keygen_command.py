"""`keygen`: a new key for AUDIT_LEDGER_KEY or AUDIT_LEDGER_SIGNING_KEY."""

from __future__ import annotations

import click


@click.command()
def keygen() -> None:
    """Print a new key for AUDIT_LEDGER_KEY or AUDIT_LEDGER_SIGNING_KEY.

    AUDIT_LEDGER_KEY encrypts the stored events, and the chain's signing key is derived from
    it. A store kept without encryption can still have its chain signed: run keygen again
    and set the output as AUDIT_LEDGER_SIGNING_KEY for every process of the ledger (the
    bot, its worker, the console). Keep either key out of the database and its backups;
    `audit-ledger public-key` prints the public half for inspectors.
    """
    from eventsourcing.cryptography import AESCipher

    click.echo(AESCipher.create_key(num_bytes=32))
