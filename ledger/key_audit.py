"""`verify`'s check of the case key table against the log, read in one snapshot.

The hash chain covers the events, not the keys beside them; but every key row answers to the
log: a case's key is made with its first text, and destroyed only by an erasure the log
records (`CaseTextErased`, or its partnership's key destroyed). So each row is checked:

- a row for a case the log does not hold (an orphan: added by hand, or left by an import
  killed before release 0.3 wrote keys in the events' transaction);
- a key destroyed, or a row deleted, with no erasure recorded;
- a key still there after its erasure was recorded (an erasure interrupted: `erase` again
  finishes it; or a key put back by hand);
- a key that does not open as its own case's (`ledger.key_wrapping`): rows swapped or copied
  between cases are named together.

Which rows can be opened, and whether the events can be read, depends on the key: a store
written without AUDIT_LEDGER_KEY is checked whole without one; an encrypted store without its
key is checked from the events' topics and ids only, and `unchecked` says what that leaves.
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
from .epoch_audit import EpochRow, Rotations, check_epochs
from .feedback import Feedback
from .key_epochs import EPOCH_TABLE, KeyRotation, epoch_of, unwrap_partnership_key
from .key_wrapping import KeyDoesNotOpen, bound_to, is_bound, unwrap_case_key
from .partnership import Partnership
from .partnership_keys import TABLE as PARTNERSHIP_TABLE
from .programme import Programme
from .store_key import holds_plain_json

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
class _Log:
    """What the log says about cases: which it holds, which have sealed text, which were
    erased (and when, by whom, when the events could be read)."""

    readable: bool
    cases: dict[UUID, Case | None] = field(default_factory=dict)  # case id -> case, if read
    case_of: dict[UUID, Case] = field(default_factory=dict)  # any aggregate -> its case
    sealed: set[Case] = field(default_factory=set)  # cases whose events hold sealed text
    erased: dict[UUID, str] = field(default_factory=dict)  # case id -> "on DATE by PERSON"
    erased_partnerships: set[UUID] = field(default_factory=set)  # by `partnership erase`
    partnership_of: dict[str, str] = field(default_factory=dict)  # programme -> partnership
    rotations: Rotations = field(default_factory=Rotations)  # rotations recorded
    rotation_ids: set[UUID] = field(default_factory=set)  # when the events cannot be read


def _cases(count: int) -> str:
    return f"{count} case{'' if count == 1 else 's'}"


def _name(case: Case) -> str:
    return f"case {case[1]} in {case[0]}"


@contextmanager
def _snapshot(recorder: Any) -> Iterator[tuple[Any, bool]]:
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


class _Reader:
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


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class _Opener:
    """Decodes the events that name a case, a programme's partnership or an erasure, and
    finds sealed text in the others without decoding them."""

    def __init__(self, transcoder: Transcoder, cipher: Cipher | None) -> None:
        self.mapper: Mapper[UUID] = Mapper(transcoder=transcoder)
        self.cipher = cipher

    def learn(self, log: _Log, row: tuple[Any, ...]) -> None:
        originator, topic = _uuid(row[1]), str(row[3])
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


def _read_log(reader: _Reader, opener: _Opener | None) -> _Log:
    """The cases the log holds, erased or with sealed text (all of it with an `opener`; else
    from the events' topics and ids alone)."""
    log = _Log(readable=opener is not None)
    after = 0
    while batch := reader.events_after(after, with_state=opener is not None):
        after = int(batch[-1][0])
        for row in batch:
            if opener is not None:
                opener.learn(log, row)
            elif str(row[3]) == CASE_TOPIC:
                log.cases[_uuid(row[1])] = None
            elif str(row[3]) == ERASED_TOPIC:
                log.erased[_uuid(row[1])] = ""
            elif str(row[3]) == ROTATION_TOPIC:
                log.rotation_ids.add(_uuid(row[1]))
            else:
                log.erased_partnerships.add(_uuid(row[1]))
    return log


def _rotations_by_id(log: _Log, epochs: list[EpochRow]) -> None:
    """Rotation events whose state could not be read, told apart by their id (one per
    epoch); those matching no epoch near the ones known are counted as unknown."""
    if not log.rotation_ids:
        return
    limit = len(log.rotation_ids) + max((e.number for e in epochs), default=0) + 1
    by_id = {ids.key_epoch_id(n): n for n in range(1, limit + 1)}
    for found in log.rotation_ids:
        if found in by_id:
            log.rotations.recorded[by_id[found]] = ""
        else:
            log.rotations.unknown += 1


def _partnerships_against_log(partnerships: dict[str, tuple[bytes | None, str]], log: _Log,
                              out: KeyCheck) -> set[str]:
    """Each partnership's key row against the log's partnership erasures; the partnerships
    whose key is destroyed (their cases' keys went with it)."""
    destroyed = set()
    held = set(log.partnership_of.values())
    for partnership, (wrapped, erased_at) in sorted(partnerships.items()):
        recorded = ids.partnership_id(partnership) in log.erased_partnerships
        if log.readable and partnership not in held and not recorded:
            out.problems.append(
                f"the key table has a key for partnership {partnership}, which no programme "
                "in the log belongs to: it was added outside the ledger (or left by an import "
                "stopped part-way by release 0.2 or earlier)")
            continue
        if wrapped is None:
            destroyed.add(partnership)
            if not recorded:
                when = f" (the row says on {erased_at[:10]})" if erased_at else ""
                out.problems.append(
                    f"partnership {partnership}'s key was destroyed{when} but the log records "
                    "no erasure of its text: the key was removed outside the ledger, and its "
                    "cases' text can no longer be read")
        elif recorded:
            out.problems.append(
                f"partnership {partnership}: its erasure is recorded but its key is still in "
                "the key table, so its cases' text can still be read: the erasure was "
                "interrupted (run audit-ledger partnership erase again to finish it) or the key "
                "was put back outside the ledger")
    return destroyed


def _against_log(rows: dict[Case, tuple[bytes | None, str]], log: _Log,
                 partnerships: dict[str, tuple[bytes | None, str]], out: KeyCheck) -> None:
    """Each row against the log's cases and erasures, and each case of the log with sealed
    text or an erasure against its row."""
    erased_partnerships = _partnerships_against_log(partnerships, log, out)
    gone_with_partnership = 0
    for case, (wrapped, erased_at) in sorted(rows.items()):
        case_id = ids.case_id(*case)
        if case_id not in log.cases:
            out.problems.append(
                f"the key table has a row for {_name(case)}, which the log does not hold: it "
                "was added outside the ledger (or left by an import stopped part-way by "
                "release 0.2 or earlier)")
            continue
        erasure = log.erased.get(case_id)
        if wrapped is not None and erasure is not None:
            out.problems.append(
                f"{_name(case)}: its erasure is recorded{erasure} but its key is still in the "
                "key table, so its text can still be read: the erasure was interrupted (run "
                "audit-ledger erase again to finish it) or the key was put back outside the "
                "ledger")
        elif wrapped is None and erasure is None:
            partnership = log.partnership_of.get(case[0], ids.DEFAULT_PARTNERSHIP)
            if log.readable and partnership in erased_partnerships:
                continue  # erased with its partnership (`partnership erase`)
            if not log.readable and erased_partnerships:
                gone_with_partnership += 1
                continue
            when = f" (the row says on {erased_at[:10]})" if erased_at else ""
            out.problems.append(
                f"{_name(case)}: its key was destroyed{when} but the log records no erasure "
                "of its text: an erase stopped before recording it (run audit-ledger erase "
                "again, with --by and --reason, to record it) or the key was removed outside "
                "the ledger; the case's text can no longer be read")
    if gone_with_partnership:
        out.unchecked.append(
            f"{_cases(gone_with_partnership)} had their key destroyed with no erasure "
            "recorded; partnership keys were destroyed too (partnership erase), and which "
            "programmes belong to which partnership can only be read with AUDIT_LEDGER_KEY: "
            "set it to tell whether those keys went with their partnership")
    for case_id, named in log.cases.items():
        if named is None or named in rows:
            continue
        erasure = log.erased.get(case_id)
        if erasure is not None:
            out.problems.append(
                f"{_name(named)}: its erasure is recorded{erasure} but its row in the key table "
                "(which stops new text being recorded for it) was deleted outside the ledger")
        elif named in log.sealed:
            out.problems.append(
                f"{_name(named)}: its key row was deleted but the log records no erasure of its "
                "text: it was removed outside the ledger, and the case's text can no longer be "
                "read")
    if not log.readable:
        missing = [i for i in log.erased if i not in {ids.case_id(*c) for c in rows}]
        if missing:
            out.problems.append(
                f"{_cases(len(missing))} erased by a recorded erasure no longer in the key "
                "table (whose row stops new text being recorded for a case): rows were deleted "
                "outside the ledger (set AUDIT_LEDGER_KEY to have them named)")


def _opened_partnership_keys(partnerships: dict[str, tuple[bytes | None, str]],
                             cipher: Cipher | None, wrapping_key: bytes | None
                             ) -> tuple[dict[str, bytes | None], set[str]]:
    """Each partnership's raw key (None once destroyed), one that does not open left out;
    and the partnerships whose key needs the key epoch's wrapping key, not given."""
    out: dict[str, bytes | None] = {}
    rotated = set()
    for partnership, (wrapped, _at) in partnerships.items():
        if wrapped is None:
            out[partnership] = None
            continue
        try:
            if epoch_of(wrapped) == 0:
                out[partnership] = cipher.decrypt(wrapped) if cipher is not None else wrapped
            elif wrapping_key is not None:
                out[partnership] = unwrap_partnership_key(wrapping_key, wrapped, partnership)
            else:
                rotated.add(partnership)
        except ValueError:
            continue
    return out, rotated


def _binding(rows: dict[Case, tuple[bytes | None, str]], log: _Log,
             opened: tuple[dict[str, bytes | None], set[str]], out: KeyCheck) -> None:
    """Each bound row opened as its own case's key; those that do not, named together when
    one holds another's key (rows swapped or copied by hand)."""
    keys, rotated = opened
    failing: dict[Case, tuple[bytes, bytes]] = {}  # case -> (wrapped, wrapping key)
    missing: dict[str, list[Case]] = {}
    unopened = 0
    for case, (wrapped, _at) in sorted(rows.items()):
        if wrapped is None:
            continue
        if not is_bound(wrapped):
            out.unbound += 1
            continue
        partnership = log.partnership_of.get(case[0], ids.DEFAULT_PARTNERSHIP)
        if partnership in rotated:
            unopened += 1
            continue
        if partnership not in keys:
            missing.setdefault(partnership, []).append(case)
            continue
        wrapping = keys[partnership]
        if wrapping is None:
            continue  # erased with its partnership
        try:
            unwrap_case_key(wrapping, wrapped, bound_to(partnership, *case))
        except KeyDoesNotOpen:
            failing[case] = (wrapped, wrapping)
    for partnership, cases in missing.items():
        out.problems.append(
            f"partnership {partnership}'s key is missing or does not open, so the keys of "
            f"{len(cases)} of its cases ({', '.join(_name(c) for c in cases[:3])}"
            f"{', ...' if len(cases) > 3 else ''}) cannot be opened: its row was deleted or "
            "changed outside the ledger")
    if unopened:
        out.unchecked.append(
            f"{_cases(unopened)} not checked against their key rows: their partnership's key "
            "is wrapped with a key epoch's wrapping key (rotate-key): set "
            "AUDIT_LEDGER_WRAPPING_KEY to check them")
    holds: dict[Case, Case] = {}
    for case, (wrapped, wrapping) in failing.items():
        for other in failing:
            partnership = log.partnership_of.get(other[0], ids.DEFAULT_PARTNERSHIP)
            try:
                unwrap_case_key(wrapping, wrapped, bound_to(partnership, *other))
            except KeyDoesNotOpen:
                continue
            holds[case] = other
            break
    said: set[Case] = set()
    for case in failing:
        if case in said:
            continue
        held = holds.get(case)
        if held is not None and holds.get(held) == case:
            said |= {case, held}
            out.problems.append(
                f"the key rows of {_name(case)} and {_name(held)} were swapped: each holds the "
                "other's key, so neither case's text can be read (swap them back, or restore "
                "the key table from a backup)")
        elif held is not None:
            said.add(case)
            out.problems.append(
                f"the key row of {_name(case)} holds the key of {_name(held)}: it was copied "
                "there outside the ledger, and the case's own text can no longer be read")
        else:
            said.add(case)
            out.problems.append(
                f"the key row of {_name(case)} does not open as that case's key: it was changed "
                "outside the ledger (or copied from another store), and the case's text can no "
                "longer be read")


NOT_READ = ("without AUDIT_LEDGER_KEY this store's events cannot be read, so its key rows "
            "were checked only against the cases and erasures the log's topics show: a key row "
            "deleted outright or moved to another case is found only with the key (set "
            "AUDIT_LEDGER_KEY and run verify again)")
OTHER_KEY = ("AUDIT_LEDGER_KEY does not open this store's events, so its key rows were checked "
             "only against the cases and erasures the log's topics show")


def check_case_keys(recorder: Any, transcoder: Transcoder, cipher: Cipher | None,
                    wrapping_key: bytes | None = None) -> KeyCheck:
    """The case key table checked against the log, in one snapshot of the store (`cipher`:
    the store's key, when the process holds one; `wrapping_key`: the key epoch's, after a
    rotation)."""
    out = KeyCheck()
    with _snapshot(recorder) as (c, postgres):
        reader = _Reader(c, postgres, recorder)
        first = reader.first_state()
        plain = first is None or holds_plain_json(first)
        opener: _Opener | None = _Opener(transcoder, None if plain else cipher)
        if not plain and cipher is None:
            opener = None
            out.unchecked.append(NOT_READ)
        elif not plain and cipher is not None and first is not None:
            try:
                cipher.decrypt(first)
            except ValueError:
                opener = None
                out.unchecked.append(OTHER_KEY)
        rows = reader.key_rows(CASE_TABLE)
        partnerships = reader.key_rows(PARTNERSHIP_TABLE)
        log = _read_log(reader, opener)
        epochs = reader.epochs()
    out.rows = len(rows)
    _against_log(rows, log, partnerships, out)
    _rotations_by_id(log, epochs)
    problems, unchecked = check_epochs(epochs, log.rotations, partnerships, rows)
    out.problems += problems
    out.unchecked += unchecked
    if opener is not None:
        _binding(rows, log, _opened_partnership_keys(partnerships, opener.cipher, wrapping_key),
                 out)
    if out.unbound:
        out.unchecked.append(
            f"{out.unbound} case key row{'' if out.unbound == 1 else 's'} "
            f"{'was' if out.unbound == 1 else 'were'} written before keys were bound to their "
            "case (release 0.2 or earlier): a swap among them shows only as unreadable text")
    return out

