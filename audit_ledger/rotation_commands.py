"""`audit-ledger rotate-key`: every key still alive re-wrapped under a new wrapping key, so
that what an erasure destroyed opens with nothing once the old wrapping key is gone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from .group import Refused
from .shared import chosen_partnership, wiring


def _new_key(path: Path) -> bytes:
    from ledger.key_epochs import key_bytes
    from ledger.settings import SettingsError, key_in_file

    try:
        raw = key_bytes(key_in_file(path, "--new-key-file"))
    except SettingsError as e:
        raise Refused([str(e)]) from None
    if raw is None:
        raise Refused([f"--new-key-file {path}: it does not hold a key; make one with "
                       f"audit-ledger keygen > {path}"])
    return raw


@click.command("rotate-key")
@click.option("--new-key-file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="a file holding the new wrapping key (made with audit-ledger keygen > FILE); "
                   "the key in use now is the one configured: AUDIT_LEDGER_WRAPPING_KEY(_FILE) "
                   "after an earlier rotation, else AUDIT_LEDGER_KEY")
@click.option("--by", required=True, help="the quality lead carrying out the rotation")
@click.option("--partnership", default=None,
              help="the partnership --by is a quality lead of (needed only when the store "
                   "holds more than one)")
@click.pass_context
def rotate_key(ctx: click.Context, new_key_file: Path, by: str, partnership: str | None) -> None:
    """Re-wrap every partnership's and case's key still alive under a new wrapping key, in
    one transaction (a new key epoch, recorded as an event). Then give every process the
    new key as AUDIT_LEDGER_WRAPPING_KEY_FILE and destroy the old wrapping key everywhere it
    is kept: what erasures destroyed before now, wherever a copy survives (old WAL, backups),
    opens with nothing from then on. See "When an erasure is final" in the README."""
    from ledger import commands as c
    from ledger.handlers.shared import act_of
    from ledger.key_epochs import KeyRotation
    from ledger.rotation import Rotation
    from ledger.sealing import SealingMapper

    new_key = _new_key(new_key_file)
    w = wiring(ctx)
    acting = chosen_partnership(ctx, partnership)
    w.app.require("rotate keys", by, acting)
    mapper = w.app.mapper
    if not isinstance(mapper, SealingMapper) or mapper.keys is None:
        raise Refused(["this store keeps no keys beside its log, so none can be rotated"])
    rotation = Rotation(mapper.keys, new_key)
    for epoch in rotation.unrecorded(lambda n: w.app.find(KeyRotation, w.app.ids.key_epoch_id(n))):
        # A rotation that committed its keys and stopped before its record: recorded now.
        w.app.save(KeyRotation._create(
            KeyRotation.Created, id=w.app.ids.key_epoch_id(epoch.number), epoch=epoch.number,
            partnership_keys=-1, case_keys=-1, by=epoch.started_by,
            occurred_on=epoch.started_at[:10], key=""))
        click.echo(f"epoch {epoch.number}'s rotation (by {epoch.started_by}) stopped before it "
                   "was recorded: its StoreKeysRotated event is recorded now (its key counts "
                   "unknown, -1)")
    done = rotation.rotate(by, datetime.now(UTC).isoformat(timespec="seconds"))
    act = act_of(c.Command(by=by))
    record = KeyRotation._create(KeyRotation.Created, id=w.app.ids.key_epoch_id(done.epoch),
                                 epoch=done.epoch, partnership_keys=done.partnership_keys,
                                 case_keys=done.case_keys, **act.fields())
    w.app.save(record)
    late = rotation.rewrap_late(done)
    rotation.scrub()
    before = "AUDIT_LEDGER_KEY" if rotation.previous_key is None else \
        f"epoch {done.epoch - 1}'s wrapping key"
    click.echo(
        f"keys rotated to epoch {done.epoch}: {done.partnership_keys} partnership keys made "
        f"anew and {done.case_keys} case keys wrapped again, in one transaction"
        + (f" ({late} more made meanwhile by another process, wrapped again after)"
           if late else "") + f"; recorded as StoreKeysRotated by {by}.\n"
        f"Now give every process (bot, worker, cron jobs) AUDIT_LEDGER_WRAPPING_KEY_FILE="
        f"{new_key_file} and restart it; until then it cannot open the keys.")
    after = ("Keys destroyed from now on are gone for good once the keys are rotated again "
             "and this epoch's key is destroyed.")
    if rotation.previous_key is None and mapper.cipher is None:
        click.echo("The keys were stored unwrapped until now (this store has no "
                   "AUDIT_LEDGER_KEY): keys destroyed before this rotation can be read from "
                   "backups and WAL taken before it by anyone who has them, until those "
                   f"copies expire. {after}")
    elif rotation.previous_key is None:
        click.echo(f"The keys were wrapped with {before} until now, and it stays in use for "
                   "the log: keys destroyed before this rotation can still be opened, from "
                   "backups and WAL taken before it, by whoever holds AUDIT_LEDGER_KEY, until "
                   f"those copies expire. {after}")
    else:
        click.echo(f"Then destroy {before} everywhere it is kept: every key destroyed before "
                   "this rotation is then gone for good, even from old WAL and backups.")
