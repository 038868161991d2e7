"""`adopt-chain`: a store written before the ledger kept a hash chain, taken on explicitly.

No process chains a log silently: a missing or emptied chain beside stored events is
tampering until someone says otherwise, so every write refuses. A quality lead who knows the
store predates the chain adopts it with this command, which chains the log as it stands and
records who adopted it and when (and signs the head when a key is set).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from .shared import PARTNERSHIP, chosen_partnership, wiring


@click.command("adopt-chain")
@click.option("--by", required=True,
              help="the quality lead who knows this store was written before the ledger kept "
                   "a hash chain (their directory id)")
@PARTNERSHIP
@click.pass_context
def adopt_chain(ctx: click.Context, by: str, partnership: str | None) -> None:
    """Take on a store written before the ledger kept a hash chain: chain its log as it stands.

    Refused when the log already has a chain, or when it was ever signed (then the chain
    was removed, not missing from the start). The adoption is recorded (who, when, up to
    which position) and `verify` reports it: the events before it were never chained, so
    nothing shows whether they were changed before that day.
    """
    w = wiring(ctx)
    w.app.require("adopt chain", by, chosen_partnership(ctx, partnership))
    at = datetime.now(UTC).isoformat(timespec="seconds")
    position, head = w.app.recorder.adopt_chain(by, at)  # type: ignore[attr-defined]
    signer = getattr(w.app.recorder, "signer", None)
    click.echo(f"adopted the log of {position} events into a hash chain, recorded as adopted by "
               f"{by}; head position {position}, hash {head}")
    if signer is not None:
        click.echo(f"the head is signed with public key {signer.public}")
