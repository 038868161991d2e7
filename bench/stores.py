"""The stores a benchmark runs on: an SQLite file in a temporary folder, or a fresh PostgreSQL
schema (dropped afterwards); the ledger wired to one, and the raw library's recorder beside it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from eventsourcing.utils import Environment

from ledger.settings import parse_url

PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
KINDS = ("sqlite", "postgres")


@dataclass
class Store:
    """One empty store of a kind, named by the ledger's URL."""

    kind: str
    url: str
    name: str
    drop: Callable[[], None] = field(default=lambda: None)

    def raw_env(self) -> dict[str, str]:
        """The raw library's own persistence settings for this store (no hash chain, no key
        check): what the ledger's figures are measured against."""
        s = parse_url(self.url)
        if s.kind == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": s.sqlite_path,
                    "SQLITE_LOCK_TIMEOUT": "30"}
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": s.pg_dbname,
               "POSTGRES_HOST": s.pg_host, "POSTGRES_PORT": s.pg_port,
               "POSTGRES_USER": s.pg_user, "POSTGRES_PASSWORD": s.pg_password}
        if s.pg_schema:
            env["POSTGRES_SCHEMA"] = s.pg_schema
        return env

    def raw_recorder(self, name: str = "raw") -> tuple[InfrastructureFactory[Any],
                                                     ApplicationRecorder]:
        factory = InfrastructureFactory.construct(Environment(name, self.raw_env()))
        return factory, factory.application_recorder()


def raw_mapper() -> Mapper[Any]:
    """The library's own Mapper (no sealing), with the transcodings the ledger's events need:
    the library's defaults and the ledger's dates."""
    from ledger import application  # noqa: F401  (every event class, so their TOPICs resolve)
    from ledger.persistence import DateAsISO

    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3):
            return None
    except Exception as e:  # noqa: BLE001 - any failure means "not usable"
        return f"{type(e).__name__}: {e}"


def _pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(sql)


def make_store(kind: str, folder: Path, name: str) -> Store:
    if kind == "sqlite":
        path = folder / f"{name}-{uuid.uuid4().hex[:8]}.db"

        def remove() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return Store(kind, f"sqlite:///{path}", name, drop=remove)
    schema = f"bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    _pg_execute(f"CREATE SCHEMA {schema}")
    sep = "&" if urlparse(PG_BASE).query else "?"
    return Store(kind, f"{PG_BASE}{sep}schema={schema}", name,
                 drop=lambda: _pg_execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
