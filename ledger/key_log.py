"""What the log says about cases and their keys, read with the key tables in one snapshot of
the store (`ledger.key_audit` checks one against the other): which cases the log holds, which
hold sealed text, which were erased, to which partnership each programme belongs, and which key
rotations it records. With the store's key every event that names one of these is decoded;
without it, only the events' topics and ids are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Cipher, Mapper, StoredEvent, Transcoder

from . import ids
from .case_audit import CaseAudit
from .concerns import Concern
from .epoch_audit import EpochRow, Rotations
from .feedback import Feedback
from .ids import IdScheme
from .key_epochs import EPOCH_TABLE, KeyRotation
from .partnership import Partnership
from .programme import Programme

CASE_TABLE = "case_keys"
BATCH = 2000
SEALED_TEXT = re.compile(rb'\{"sealed"\s*:')  # a sealed value in an event's JSON
Case = tuple[str, str]
NAMING = {cls.TOPIC: cls for cls in (CaseAudit.Created, Concern.Created, Feedback.Created)}
ERASED_TOPIC = CaseAudit.TextErased.TOPIC
CASE_TOPIC = CaseAudit.Created.TOPIC
PROGRAMME_TOPIC = Programme.Created.TOPIC
PARTNERSHIP_ERASED_TOPIC = Partnership.TextErased.TOPIC
ROTATION_TOPIC = KeyRotation.Created.TOPIC


@dataclass
class KeyCheck:
    """What the key table says against the log: problems (each naming its case), what could
    not be checked and why, and how many rows were checked."""

    rows: int = 0
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    unbound: int = 0  # rows written before keys were bound to their case


@dataclass
class KeyLog:
    """What the log says about cases: which it holds, which have sealed text, which were
    erased (and when, by whom, when the events could be read)."""

    readable: bool
    scheme: IdScheme  # how the store names its aggregates (`ledger.ids`)
    cases: dict[UUID, Case | None] = field(default_factory=dict)  # case id -> case, if read
    case_of: dict[UUID, Case] = field(default_factory=dict)  # any aggregate -> its case
    sealed: set[Case] = field(default_factory=set)  # cases whose events hold sealed text
    erased: dict[UUID, str] = field(default_factory=dict)  # case id -> "on DATE by PERSON"
    erased_partnerships: set[UUID] = field(default_factory=set)  # by `partnership erase`
    partnership_of: dict[str, str] = field(default_factory=dict)  # programme -> partnership
    rotations: Rotations = field(default_factory=Rotations)  # rotations recorded
    rotation_ids: list[UUID] = field(default_factory=list)  # in log order, when unreadable


def count_cases(count: int) -> str:
    return f"{count} case{'' if count == 1 else 's'}"


def case_name(case: Case) -> str:
    return f"case {case[1]} in {case[0]}"



@contextmanager
def snapshot(recorder: Any) -> Iterator[tuple[Any, bool]]:
    """A cursor reading one committed state of the whole store, and whether it is PostgreSQL."""
    datastore = recorder.datastore
    if hasattr(datastore, "schema"):
        from psycopg.rows import tuple_row

        with datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield curs, True
    else:
        with datastore.transaction(commit=False) as c:
            yield c, False


class SnapshotReader:
    """The tables read in the snapshot: the events, the case and partnership key rows."""

    def __init__(self, c: Any, postgres: bool, recorder: Any) -> None:
        self.c = c
        self.postgres = postgres
        self.schema = recorder.datastore.schema if postgres else ""
        self.events = self._table(recorder.events_table_name)
        self.nid = "notification_id" if postgres else "rowid"

    def _table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.postgres else name

    def exists(self, name: str) -> bool:
        if self.postgres:
            return bool(self.rows("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname=? AND "
                                  "tablename=?", [self.schema, name]))
        return bool(self.rows("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                              [name]))

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        self.c.execute(sql.replace("?", "%s") if self.postgres else sql, params or [])
        return [tuple(r) for r in self.c.fetchall()]

    def key_rows(self, table: str) -> dict[Any, tuple[bytes | None, str]]:
        """Each row's (wrapped key or None, erased_at), by its case or partnership."""
        if not self.exists(table):
            return {}
        if table == CASE_TABLE:
            found = self.rows(f"SELECT programme, case_ref, key, erased_at FROM "
                              f"{self._table(table)}")
            return {(str(r[0]), str(r[1])): (None if r[2] is None else bytes(r[2]),
                                             str(r[3] or "")) for r in found}
        found = self.rows(f"SELECT partnership, key, erased_at FROM {self._table(table)}")
        return {str(r[0]): (None if r[1] is None else bytes(r[1]), str(r[2] or ""))
                for r in found}

    def epochs(self) -> list[EpochRow]:
        if not self.exists(EPOCH_TABLE):
            return []
        return [EpochRow(int(r[0]), str(r[1]), str(r[2])) for r in self.rows(
            f"SELECT epoch, started_at, started_by FROM {self._table(EPOCH_TABLE)}")]

    def events_after(self, after: int, with_state: bool) -> list[tuple[Any, ...]]:
        if with_state:
            return self.rows(f"SELECT {self.nid}, originator_id, originator_version, topic, "
                             f"state FROM {self.events} WHERE {self.nid}>? ORDER BY {self.nid} "
                             f"LIMIT {BATCH}", [after])
        return self.rows(f"SELECT {self.nid}, originator_id, originator_version, topic FROM "
                         f"{self.events} WHERE {self.nid}>? AND topic IN (?, ?, ?, ?) ORDER BY "
                         f"{self.nid} LIMIT {BATCH}",
                         [after, CASE_TOPIC, ERASED_TOPIC, PARTNERSHIP_ERASED_TOPIC,
                          ROTATION_TOPIC])

    def first_state(self) -> bytes | None:
        found = self.rows(f"SELECT state FROM {self.events} ORDER BY {self.nid} LIMIT 1")
        return bytes(found[0][0]) if found else None


def as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class EventOpener:
    """Decodes the events that name a case, a programme's partnership or an erasure, and
    finds sealed text in the others without decoding them."""

    def __init__(self, transcoder: Transcoder, cipher: Cipher | None) -> None:
        self.mapper: Mapper[UUID] = Mapper(transcoder=transcoder)
        self.cipher = cipher

    def learn(self, log: KeyLog, row: tuple[Any, ...]) -> None:
        originator, topic = as_uuid(row[1]), str(row[3])
        if topic == PARTNERSHIP_ERASED_TOPIC:
            log.erased_partnerships.add(originator)
        state = bytes(row[4])
        if self.cipher is not None:
            state = self.cipher.decrypt(state)
        if topic in NAMING or topic in (PROGRAMME_TOPIC, ERASED_TOPIC, ROTATION_TOPIC):
            said = vars(self.mapper.to_domain_event(StoredEvent(
                originator_id=originator, originator_version=int(row[2]), topic=topic,
                state=state)))
            if topic == PROGRAMME_TOPIC:
                log.partnership_of[str(said["programme"])] = \
                    str(said.get("partnership") or ids.DEFAULT_PARTNERSHIP)
            elif topic == ERASED_TOPIC:
                log.erased[originator] = f" on {said['occurred_on']} by {said['by']}"
            elif topic == ROTATION_TOPIC:
                log.rotations.recorded[int(said["epoch"])] = str(said["by"])
            else:
                fields = NAMING[topic].CASE
                case = (str(said[fields[0]]), str(said[fields[1]]))
                log.case_of[originator] = case
                if topic == CASE_TOPIC:
                    log.cases[originator] = case
        if SEALED_TEXT.search(state):
            case_of = log.case_of.get(originator)
            if case_of is not None:
                log.sealed.add(case_of)


def read_log(reader: SnapshotReader, opener: EventOpener | None, scheme: IdScheme) -> KeyLog:
    """The cases the log holds, erased or with sealed text (all of it with an `opener`; else
    from the events' topics and ids alone), in a store naming its aggregates by `scheme`."""
    log = KeyLog(readable=opener is not None, scheme=scheme)
    after = 0
    while batch := reader.events_after(after, with_state=opener is not None):
        after = int(batch[-1][0])
        for row in batch:
            if opener is not None:
                opener.learn(log, row)
            elif str(row[3]) == CASE_TOPIC:
                log.cases[as_uuid(row[1])] = None
            elif str(row[3]) == ERASED_TOPIC:
                log.erased[as_uuid(row[1])] = ""
            elif str(row[3]) == ROTATION_TOPIC:
                log.rotation_ids.append(as_uuid(row[1]))
            else:
                log.erased_partnerships.add(as_uuid(row[1]))
    return log


def rotations_by_id(log: KeyLog, epochs: list[EpochRow]) -> None:
    """Rotation events whose state could not be read, told apart by their id (one per
    epoch); those matching no epoch near the ones known are counted as unknown.

    Keyed ids (`ledger.ids`) cannot be made without the key; there, the events are told apart
    by their order instead: `rotate-key` records epoch after epoch, each once (one id an
    epoch), a rotation stopped before its record being recorded by the next before its own,
    so the log's n-th rotation event is the rotation to epoch n."""
    if not log.rotation_ids:
        return
    if log.scheme.keyed:
        for number, _found in enumerate(log.rotation_ids, start=1):
            log.rotations.recorded[number] = ""
        return
    limit = len(log.rotation_ids) + max((e.number for e in epochs), default=0) + 1
    by_id = {log.scheme.key_epoch_id(n): n for n in range(1, limit + 1)}
    for found in log.rotation_ids:
        if found in by_id:
            log.rotations.recorded[by_id[found]] = ""
        else:
            log.rotations.unknown += 1
