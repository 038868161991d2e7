"""Where events live: one URL turned into the eventsourcing library's persistence settings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_URL = "sqlite:///audit-ledger.db"
LIBRARY_APP_PREFIX = "AUDITLEDGER"  # AuditLedger.name, upper-cased, as the library does
AES_CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class StoreSettings:
    """The store's URL, parsed once; `kind` is 'sqlite' or 'postgres'."""

    url: str
    kind: str
    sqlite_path: str = ""
    pg_host: str = ""
    pg_port: str = ""
    pg_user: str = ""
    pg_password: str = ""
    pg_dbname: str = ""
    pg_schema: str = ""
    key: str = ""
    signing_key: str = ""  # AUDIT_LEDGER_SIGNING_KEY: signs the chain (`ledger.signing`)
    wrapping_key: str = ""  # AUDIT_LEDGER_WRAPPING_KEY: after a rotation (`ledger.key_epochs`)

    def library_env(self, key_check: bool = True) -> dict[str, str]:
        """The environment the eventsourcing Application and recorders are built from.

        Events are written through the hash-chaining recorders of `ledger.recorders`
        (selected with the library's APPLICATION_RECORDER_TOPIC), from the factories of
        `ledger.store_key`, which check at wiring time that the key, or the lack of one, opens
        the store; PostgreSQL's recorder and factory are in `ledger.postgres_store`, so that
        only a PostgreSQL store imports psycopg. Settings that could bypass either are pinned,
        so a stray variable in the process environment cannot.
        """
        recorders, factories = "ledger.recorders", "ledger.store_key"
        env: dict[str, str] = {"LEDGER_KEY_CHECK": "yes" if key_check else "no"}
        if self.kind == "sqlite":
            env.update(
                PERSISTENCE_MODULE=f"{factories}:SQLiteLedgerFactory",
                APPLICATION_RECORDER_TOPIC=f"{recorders}:ChainedSQLiteRecorder",
                SQLITE_DBNAME=self.sqlite_path,
                SQLITE_LOCK_TIMEOUT="30",
            )
        else:
            env.update(
                PERSISTENCE_MODULE="ledger.postgres_store:PostgresLedgerFactory",
                APPLICATION_RECORDER_TOPIC="ledger.postgres_store:ChainedPostgresRecorder",
                POSTGRES_ENABLE_DB_FUNCTIONS="no",  # inserts go through the chaining recorder
                POSTGRES_DBNAME=self.pg_dbname,
                POSTGRES_HOST=self.pg_host,
                POSTGRES_PORT=self.pg_port,
                POSTGRES_USER=self.pg_user,
                POSTGRES_PASSWORD=self.pg_password,
                POSTGRES_CONNECT_TIMEOUT="5",
                POSTGRES_LOCK_TIMEOUT="10",
                POSTGRES_POOL_SIZE="5",
                POSTGRES_MAX_OVERFLOW="10",
            )
            if self.pg_schema:
                env["POSTGRES_SCHEMA"] = self.pg_schema
        if self.key:
            env.update(CIPHER_TOPIC=AES_CIPHER_TOPIC, CIPHER_KEY=self.key)
        else:
            env.update(CIPHER_TOPIC="", CIPHER_KEY="")  # no key: never a cipher from elsewhere
        env["LEDGER_SIGNING_KEY"] = self.signing_key  # the chain's signer (`ledger.signing`)
        env["LEDGER_WRAPPING_KEY"] = self.wrapping_key  # the key epoch's (`ledger.key_epochs`)
        # The library looks for an application-prefixed variable first; pin those too.
        env.update({f"{LIBRARY_APP_PREFIX}_{k}": v for k, v in list(env.items())})
        return env

    def describe(self) -> str:
        """The store named for a person, never with a password."""
        if self.kind == "sqlite":
            return f"SQLite file {self.sqlite_path}"
        schema = f" (schema {self.pg_schema})" if self.pg_schema else ""
        return f"PostgreSQL database {self.pg_dbname} on {self.pg_host}:{self.pg_port}{schema}"


SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
"""A schema PostgreSQL takes unquoted: letters, digits and _, not starting with a digit, at
most 63 characters. The library writes the name into SQL as it is, so nothing else passes."""


def without_password(url: str) -> str:
    """The URL as it may be shown: any password (after user: or as ?password=) as ***."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        userinfo, at, host = rest.rpartition("@")
        if ":" in userinfo:
            rest = userinfo.split(":", 1)[0] + ":***" + at + host
    shown = scheme + sep + rest
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", shown)


def parse_url(url: str, key: str = "") -> StoreSettings:
    """The store's settings from its URL; a URL that cannot be used is said without its
    password."""
    try:
        return _parse_url(url, key)
    except SettingsError:
        raise
    except ValueError as e:  # the URL parser's own complaints: a port, brackets...
        raise SettingsError(f"AUDIT_LEDGER_URL {without_password(url)!r}: {e}") from None


def _parse_url(url: str, key: str = "") -> StoreSettings:
    parsed = urlparse(url)
    shown = without_password(url)
    if parsed.scheme == "sqlite":
        raw = unquote(parsed.path)
        if parsed.netloc:
            raise SettingsError(
                f"AUDIT_LEDGER_URL {shown!r}: write sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db"
            )
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            raise SettingsError(f"AUDIT_LEDGER_URL {shown!r}: no database file named")
        if path != ":memory:":
            path = str(Path(path).expanduser().resolve())
        return StoreSettings(url=url, kind="sqlite", sqlite_path=path, key=key)
    if parsed.scheme in ("postgresql", "postgres"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise SettingsError(f"AUDIT_LEDGER_URL {shown!r}: no database name after the host")
        query = parse_qs(parsed.query)
        schema = (query.get("schema") or [""])[0]
        if schema and not SCHEMA_NAME.fullmatch(schema):
            raise SettingsError(
                f"AUDIT_LEDGER_URL {shown!r}: the schema {schema!r} is not a plain name; use "
                "letters, digits and _ (not starting with a digit), at most 63 characters")
        return StoreSettings(
            url=url,
            kind="postgres",
            pg_host=parsed.hostname or "127.0.0.1",
            pg_port=str(parsed.port or 5432),
            pg_user=unquote(parsed.username or "postgres"),
            pg_password=unquote(parsed.password or ""),
            pg_dbname=dbname,
            pg_schema=schema,
            key=key,
        )
    raise SettingsError(
        f"AUDIT_LEDGER_URL {shown!r}: the scheme must be sqlite:// or postgresql://"
    )


def from_environment(url: str | None = None, key: str | None = None) -> StoreSettings:
    settings = parse_url(
        url or os.environ.get("AUDIT_LEDGER_URL") or DEFAULT_URL,
        key if key is not None else os.environ.get("AUDIT_LEDGER_KEY", ""),
    )
    return replace(settings, signing_key=signing_key_from_environment(),
                   wrapping_key=key_from_environment("AUDIT_LEDGER_WRAPPING_KEY", "wrapping"))


def signing_key_from_environment() -> str:
    """AUDIT_LEDGER_SIGNING_KEY, or the key in the file AUDIT_LEDGER_SIGNING_KEY_FILE names
    (kept out of the environment a process list or crash report may show); not both."""
    return key_from_environment("AUDIT_LEDGER_SIGNING_KEY", "signing")


def key_from_environment(variable: str, kind: str) -> str:
    """The key in `variable`, or in the file `variable`_FILE names; not both."""
    key = os.environ.get(variable, "")
    path = os.environ.get(f"{variable}_FILE", "").strip()
    if not path:
        return key
    if key.strip():
        raise SettingsError(f"give the {kind} key once: {variable} or {variable}_FILE, not both")
    return key_in_file(Path(path), f"{variable}_FILE")


def key_in_file(path: Path, named: str) -> str:
    """The key held in a file (surrounding spaces and newlines dropped); refused in words when
    the file cannot be read or is empty, never showing what it holds. `named` is how the
    person gave the file (an option or a variable)."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "not a text file"
        raise SettingsError(f"{named} {path}: cannot be read ({reason.lower()})") from None
    if not key:
        raise SettingsError(f"{named} {path}: the file is empty; put the key from "
                            "audit-ledger keygen in it")
    return key
