"""(a) Import throughput: the ledger's `import_pack` against two neighbours, in the same batches.

The ledger imports whole audit packs (parsed beforehand, as `audit-ledger import` parses the
file before importing it) into an empty store: each pack checked against itself and the
store, its aggregates and events made, their text sealed, and saved in one transaction
through the ledger's recorder (which also extends the hash chain). Beside it, each into an
empty store of the same kind, one transaction a pack as the ledger's:

- **the library's own save**: a plain `eventsourcing` `Application` (its own mapper and
  recorder) saving the very same domain events (read back from the ledger's store, text
  opened), one `save` a pack: what the library costs for these events, serialising included;
- **the bare insert**: the library's recorder inserting the very same stored events (bytes
  already serialised and sealed), one `insert_events` a pack: the floor of any writer.

Each of the three is timed on its own store; `measure` runs them one after another, so
repeated runs alternate (ledger, save, insert, ledger, ...). Each starts from a collected
heap (`gc.collect()` before its clock starts): otherwise the full collections owed for what
the setup made (the parsed packs, the modules imported, the events read back) fell in
whichever side ran first, the ledger's, 100-250 ms of a 10k import on this machine. Each is
timed twice: wall time (the figures) and this process's CPU time (`time.process_time`), which
the machine's other work disturbs less; on PostgreSQL the server's own work is not in it.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent

from audit_ledger.wiring import wire
from ledger.importer import import_pack
from ledger.pack import Pack, parse_pack

from .generate import importer_of, plan_programme
from .stores import Store, make_store


class LibraryApplication(Application[UUID]):
    """The library's Application as it comes, with the one transcoding the ledger's events need
    beyond its defaults (dates)."""

    name = "LibrarySave"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        from ledger.persistence import DateAsISO

        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def packs_for(events: int, seed: int) -> tuple[list[Pack], float]:
    """Parsed packs of the first programmes, about `events` events when imported; and the
    seconds parsing them took."""
    packs: list[Pack] = []
    parse = 0.0
    estimate = 0
    index = 0
    while estimate < events:
        data = plan_programme(seed, index).pack
        started = time.perf_counter()
        packs.append(parse_pack(data))
        parse += time.perf_counter() - started
        estimate += 1 + len(data["people"]) + len(data["cases"]) + 2 * len(data["returns"]) \
            + len(data["concerns"]) + len(data["recommendations"]) + len(data["actions"])
        index += 1
    return packs, parse


def in_batches(items: list[Any], sizes: list[int]) -> list[list[Any]]:
    """Items cut into consecutive batches of these sizes (each pack's events)."""
    out, start = [], 0
    for size in sizes:
        out.append(items[start:start + size])
        start += size
    assert start == len(items), (start, len(items))
    return out


class Timed:
    """Wall and CPU seconds of a `with` block."""

    def __enter__(self) -> Timed:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def library_save(store: Store, batches: list[list[Any]]) -> Timed:
    """The library's own Application saving these events, a `save` a batch."""
    app = LibraryApplication(env=store.raw_env())
    try:
        gc.collect()
        with Timed() as timed:
            for batch in batches:
                app.save(*batch)
        return timed
    finally:
        app.close()


def bare_insert(store: Store, batches: list[list[StoredEvent]]) -> Timed:
    """The library's recorder inserting these stored events, a transaction a batch."""
    factory, recorder = store.raw_recorder()
    try:
        gc.collect()
        with Timed() as timed:
            for batch in batches:
                recorder.insert_events(batch)
        return timed
    finally:
        factory.close()


def measure(kind: str, folder: Path, events: int, seed: int) -> dict[str, Any]:
    packs, parse_seconds = packs_for(events, seed)
    store = make_store(kind, folder, "import")
    save_store = make_store(kind, folder, "import-save")
    raw_store = make_store(kind, folder, "import-raw")
    w = wire(store.url, "")
    try:
        gc.collect()
        with Timed() as ledger:
            sizes = [import_pack(w.app, pack, importer_of(pack)).events for pack in packs]
        imported = sum(sizes)

        notifications = w.app.recorder.select_notifications(start=None, limit=imported + 1)
        assert len(notifications) == imported, (len(notifications), imported)
        stored = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                  for n in notifications]
        domain = [w.app.mapper.to_domain_event(n) for n in notifications]
        save = library_save(save_store, in_batches(domain, sizes))
        raw = bare_insert(raw_store, in_batches(stored, sizes))
    finally:
        w.close()
        store.drop()
        save_store.drop()
        raw_store.drop()
    return {"events": imported, "packs": len(packs), "ledger_seconds": ledger.wall,
            "save_seconds": save.wall, "raw_seconds": raw.wall, "ledger_cpu": ledger.cpu,
            "save_cpu": save.cpu, "raw_cpu": raw.cpu, "parse_seconds": parse_seconds}
