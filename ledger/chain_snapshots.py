"""Reading the log, its chain, signed heads and adoptions inside one snapshot, per store.

The recorders of `ledger.recorders` open the snapshot (one read transaction); these read
it in keyset batches for `ledger.verification` and for `adopt_chain`. A table that is not
there reads as empty, so `verify` can name what is missing instead of failing.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.sqlite import SQLiteCursor

from .chain import CHAIN_TABLE, ChainRow, ChainSnapshot, EventRow
from .signing import SIGNATURE_TABLE, ChainRefused, SignatureRow

ADOPTION_TABLE = "event_chain_adoptions"
CHAIN_DDL = ("CREATE TABLE {} (position bigint PRIMARY KEY, notification_id bigint NOT NULL, "
             "hash text NOT NULL)")
ADOPT_CHAINED = ("this store's log already has a hash chain: there is nothing to adopt (run "
                 "audit-ledger verify to check it)")
ADOPT_SIGNED = ("this store's chain was signed, so it was not written before the ledger kept "
                "a chain: it was removed or emptied outside the ledger. It is not adopted; "
                "restore the store from a backup and ask whoever looks after it")
ADOPT_EMPTY = "this store holds no events: its chain starts with the first one stored"


def refuse_adoption(snapshot: ChainSnapshot) -> None:
    """Adoption is only for a log stored before the ledger kept a chain."""
    if not snapshot.events_after(None, 1):
        raise ChainRefused(ADOPT_EMPTY)
    if snapshot.chain_after(None, 1):
        raise ChainRefused(ADOPT_CHAINED)
    if snapshot.signatures_after(None, 1):
        raise ChainRefused(ADOPT_SIGNED)


class SQLiteSnapshot:
    def __init__(self, c: SQLiteCursor, events_table: str) -> None:
        self.c = c
        self.events_table = events_table

    def events_after(self, notification_id: int | None, limit: int) -> list[EventRow]:
        where = "" if notification_id is None else "WHERE rowid>? "
        params: list[Any] = [] if notification_id is None else [notification_id]
        self.c.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM "
                       f"{self.events_table} {where}ORDER BY rowid LIMIT ?", [*params, limit])
        return [(r[0], r[1], r[2], r[3], r[4]) for r in self.c.fetchall()]

    def chain_after(self, position: int | None, limit: int) -> list[ChainRow]:
        import sqlite3

        where = "" if position is None else "WHERE position>? "
        params: list[Any] = [] if position is None else [position]
        try:
            self.c.execute(f"SELECT position, notification_id, hash FROM {CHAIN_TABLE} {where}"
                           "ORDER BY position LIMIT ?", [*params, limit])
        except sqlite3.OperationalError:
            return []  # the table is missing: `verify` names it
        return [(r[0], r[1], r[2]) for r in self.c.fetchall()]

    def signatures_after(self, position: int | None, limit: int) -> list[SignatureRow]:
        import sqlite3

        where = "" if position is None else "WHERE position>? "
        params: list[Any] = [] if position is None else [position]
        try:
            self.c.execute(f"SELECT position, hash, public_key, signature FROM "
                           f"{SIGNATURE_TABLE} {where}ORDER BY position LIMIT ?",
                           [*params, limit])
        except sqlite3.OperationalError:
            return []  # a store no release since signing has opened: nothing is signed
        return [(r[0], r[1], r[2], r[3]) for r in self.c.fetchall()]

    def adoptions(self) -> list[tuple[Any, Any, Any]]:
        import sqlite3

        try:
            self.c.execute(f"SELECT position, adopted_by, adopted_at FROM {ADOPTION_TABLE} "
                           "ORDER BY position")
        except sqlite3.OperationalError:
            return []  # never adopted
        return [(r[0], r[1], r[2]) for r in self.c.fetchall()]


class PostgresSnapshot:
    def __init__(self, curs: Any, events: Any, chain: Any, signatures: Any = None,
                 adoptions: Any = None) -> None:
        self.curs = curs
        self.events = events
        self.chain = chain
        self.signatures = signatures  # None: the table is not there
        self.adoption_table = adoptions  # None: the table is not there

    def adoptions(self) -> list[tuple[Any, Any, Any]]:
        from psycopg.sql import SQL

        if self.adoption_table is None:
            return []
        self.curs.execute(SQL("SELECT position, adopted_by, adopted_at FROM {} ORDER BY "
                              "position").format(self.adoption_table))
        return [(r[0], r[1], r[2]) for r in self.curs.fetchall()]

    def events_after(self, notification_id: int | None, limit: int) -> list[EventRow]:
        from psycopg.sql import SQL

        where = SQL("") if notification_id is None else SQL("WHERE notification_id>%s ")
        params: list[Any] = [] if notification_id is None else [notification_id]
        self.curs.execute(SQL("SELECT notification_id, originator_id, originator_version, "
                              "topic, state FROM {} {}ORDER BY notification_id LIMIT %s")
                          .format(self.events, where), [*params, limit])
        return [tuple(r) for r in self.curs.fetchall()]

    def chain_after(self, position: int | None, limit: int) -> list[ChainRow]:
        from psycopg.sql import SQL

        if self.chain is None:
            return []  # the table is missing: `verify` names it
        where = SQL("") if position is None else SQL("WHERE position>%s ")
        params: list[Any] = [] if position is None else [position]
        self.curs.execute(SQL("SELECT position, notification_id, hash FROM {} {}"
                              "ORDER BY position LIMIT %s").format(self.chain, where),
                          [*params, limit])
        return [tuple(r) for r in self.curs.fetchall()]

    def signatures_after(self, position: int | None, limit: int) -> list[SignatureRow]:
        from psycopg.sql import SQL

        if self.signatures is None:
            return []
        where = SQL("") if position is None else SQL("WHERE position>%s ")
        params: list[Any] = [] if position is None else [position]
        self.curs.execute(SQL("SELECT position, hash, public_key, signature FROM {} {}"
                              "ORDER BY position LIMIT %s").format(self.signatures, where),
                          [*params, limit])
        return [(r[0], r[1], r[2], r[3]) for r in self.curs.fetchall()]
