"""(a) Import throughput: the ledger's `import_pack` against the raw library's `insert_events`.

The ledger imports whole audit packs (parsed beforehand, as `audit-ledger import` parses the
file before importing it) into an empty store: each pack checked against itself and the
store, its aggregates and events made, and saved in one transaction through the ledger's
recorder (which also extends the hash chain). The raw library then inserts the very same
stored events, read back from the ledger's store, into another empty store of the same kind
with its own recorder, 100 events a transaction. Also timed, to show the floor: the library's
mapper serialising the same events (what any importer must pay before inserting).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

from audit_ledger.wiring import wire
from ledger.importer import import_pack
from ledger.pack import Pack, parse_pack

from .generate import plan_programme
from .stores import make_store, raw_mapper

RAW_BATCH = 100


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


def measure(kind: str, folder: Path, events: int, seed: int) -> dict[str, Any]:
    packs, parse_seconds = packs_for(events, seed)
    store = make_store(kind, folder, "import")
    raw_store = make_store(kind, folder, "import-raw")
    w = wire(store.url, "")
    try:
        started = time.perf_counter()
        imported = sum(import_pack(w.app, pack).events for pack in packs)
        ledger_seconds = time.perf_counter() - started

        notifications = w.app.recorder.select_notifications(start=None, limit=imported + 1)
        assert len(notifications) == imported, (len(notifications), imported)
        stored = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                  for n in notifications]
        domain = [w.app.mapper.to_domain_event(n) for n in notifications]
        mapper = raw_mapper()
        started = time.perf_counter()
        for event in domain:
            mapper.to_stored_event(event)
        serialise_seconds = time.perf_counter() - started

        factory, recorder = raw_store.raw_recorder()
        try:
            started = time.perf_counter()
            for i in range(0, len(stored), RAW_BATCH):
                recorder.insert_events(stored[i:i + RAW_BATCH])
            raw_seconds = time.perf_counter() - started
        finally:
            factory.close()
    finally:
        w.close()
        store.drop()
        raw_store.drop()
    return {"events": imported, "packs": len(packs), "ledger_seconds": ledger_seconds,
            "raw_seconds": raw_seconds, "parse_seconds": parse_seconds,
            "serialise_seconds": serialise_seconds}
