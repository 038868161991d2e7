"""`adopt-chain`: a store written before the ledger kept a hash chain, taken on explicitly.

No process chains a log silently: a missing or emptied chain beside stored events is
tampering until someone says otherwise, so every write refuses. A quality lead who knows the
store predates the chain adopts it with this command, which chains the log as it stands and
records who adopted it and when (and signs the head when a key is set): in a row beside the
chain, which `verify` reads without a key, and then as an event in the log
(`ledger.chain_adoption`), chained and signed like any other fact. Run again, it finishes an
adoption whose event is missing (one made by an earlier release, or stopped between the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from ledger.base import Act
from ledger.chain_adoption import ChainAdoption, adoption_id
from ledger.signing import ChainRefused

from .shared import PARTNERSHIP, chosen_partnership, wiring
from .wiring import Wiring


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
    recorder: Any = w.app.recorder
    try:
        position, head = recorder.adopt_chain(by, at)
    except ChainRefused:
        unrecorded = _adoption_without_event(w)
        if unrecorded is None:
            raise
        position, head, by, at = unrecorded
        _record(w, position, head, by, at)
        click.echo(f"the adoption of the log at position {position} by {by} is now recorded "
                   "as an event in the log too")
        return
    _record(w, position, head, by, at)
    signer = getattr(recorder, "signer", None)
    click.echo(f"adopted the log of {position} events into a hash chain, recorded as adopted by "
               f"{by} (an event in the log, and a row beside the chain); head position "
               f"{position}, hash {head}")
    if signer is not None:
        click.echo(f"the head is signed with public key {signer.public}")


def _record(w: Wiring, position: int, head: str, by: str, at: str) -> None:
    """The adoption recorded as an event in the log (chained and signed as any other)."""
    w.app.save(ChainAdoption.adopted(position, head, Act(by, at[:10])))


def _adoption_without_event(w: Wiring) -> tuple[int, str, str, str] | None:
    """(position, head hash, by, at) of an adoption recorded beside the chain whose event is
    not in the log, or None."""
    if w.app.recorder.select_events(adoption_id(), limit=1):
        return None
    with w.app.recorder.chain_snapshot() as snapshot:  # type: ignore[attr-defined]
        rows = snapshot.adoptions()
        if not rows:
            return None
        position, by, at = rows[-1]
        chained = snapshot.chain_after(int(position) - 1, 1)
    if not chained:
        return None
    return int(position), str(chained[0][2]), str(by), str(at)
