"""`keygen`: a new key for AUDIT_LEDGER_KEY."""

from __future__ import annotations

import click


@click.command()
def keygen() -> None:
    """Print a new key for AUDIT_LEDGER_KEY."""
    from eventsourcing.cryptography import AESCipher

    click.echo(AESCipher.create_key(num_bytes=32))
