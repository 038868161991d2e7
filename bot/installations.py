"""Where the app's installations live when it serves many workspaces: beside the events.

When one deployment serves partnerships that each have their own Slack workspace, each
workspace installs the app through Slack's OAuth flow and gets its own bot token. Bolt asks
an installation store (slack_sdk's `InstallationStore`) for the token of the workspace a
request came from, and the worker asks it for the token of the workspace a partnership is
linked to. This is that store, and the OAuth flow's one-time `state` store, kept as two small
tables in the ledger's own database (SQLite file or PostgreSQL), so there is nothing else to
back up, and every serving process and the worker see the same installations.

slack_sdk's own SQLite store keeps tokens in the clear and its SQLAlchemy store would bring a
second database layer for two tables; this one uses the connections the ledger already uses,
and seals each installation (its bot token with it) with the store's key when one is set, as
the events are sealed.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from ledger.settings import StoreSettings
from projections.store import SETUP_LOCK

log = logging.getLogger(__name__)

STATE_LIFETIME = 600
"""Seconds an install link stays good: from opening the install page to coming back from Slack."""

SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS slack_installations (client_id TEXT NOT NULL, enterprise_id "
    "TEXT NOT NULL, team_id TEXT NOT NULL, installed_at REAL NOT NULL, installation BLOB NOT "
    "NULL, PRIMARY KEY (client_id, enterprise_id, team_id)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS slack_oauth_states (state TEXT PRIMARY KEY, expires_at REAL "
    "NOT NULL) WITHOUT ROWID",
)


class Installations(InstallationStore, OAuthStateStore):
    """The app's installations, one per workspace (the newest replaces the one before), and
    the OAuth flow's states, each good once and for STATE_LIFETIME seconds.

    Only bot tokens are asked for (the app requests no user scopes), so an installation and
    its bot are the same row.
    """

    def __init__(self, settings: StoreSettings, client_id: str,
                 state_lifetime: float = STATE_LIFETIME) -> None:
        self.client_id = client_id
        self.state_lifetime = state_lifetime
        self.settings = settings
        self.cipher = (AESCipher(Environment(env={"CIPHER_KEY": settings.key}))
                       if settings.key else None)
        self.lock = threading.RLock()
        self._conn: Any = None
        self.postgres = settings.kind == "postgres"
        schema = settings.pg_schema if self.postgres else ""
        self.installations_table = f"{schema}.slack_installations" if schema else \
            "slack_installations"
        self.states_table = f"{schema}.slack_oauth_states" if schema else "slack_oauth_states"
        self.mark = "%s" if self.postgres else "?"
        self._create_tables()

    @property
    def logger(self) -> logging.Logger:
        return log

    # ---- connections ---------------------------------------------------------------------------

    def _connect(self) -> Any:
        s = self.settings
        if self.postgres:
            import psycopg

            return psycopg.connect(host=s.pg_host, port=int(s.pg_port), user=s.pg_user,
                                   password=s.pg_password or None, dbname=s.pg_dbname,
                                   autocommit=True, connect_timeout=5)
        conn = sqlite3.connect(s.sqlite_path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def _db(self) -> Iterator[Any]:
        """The connection (made again if PostgreSQL dropped it), one caller at a time."""
        with self.lock:
            if self._conn is None or (self.postgres and (self._conn.closed or self._conn.broken)):
                self._conn = self._connect()
            yield self._conn

    def _sql(self, statement: str) -> str:
        return statement.replace("{installations}", self.installations_table) \
            .replace("{states}", self.states_table).replace("?", self.mark)

    def _create_tables(self) -> None:
        with self._db() as db:
            if not self.postgres:
                for statement in SQLITE_SCHEMA:
                    db.execute(statement)
                return
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
                if self.settings.pg_schema:
                    db.execute(f"CREATE SCHEMA IF NOT EXISTS {self.settings.pg_schema}")
                db.execute(self._sql(
                    "CREATE TABLE IF NOT EXISTS {installations} (client_id TEXT NOT NULL, "
                    "enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, installed_at DOUBLE "
                    "PRECISION NOT NULL, installation BYTEA NOT NULL, PRIMARY KEY (client_id, "
                    "enterprise_id, team_id))"))
                db.execute(self._sql(
                    "CREATE TABLE IF NOT EXISTS {states} (state TEXT PRIMARY KEY, expires_at "
                    "DOUBLE PRECISION NOT NULL)"))

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ---- sealing ---------------------------------------------------------------------------------

    def _seal(self, installation: Installation) -> bytes:
        raw = json.dumps(installation.to_dict_for_copying(), sort_keys=True,
                         default=_timestamp).encode()
        return self.cipher.encrypt(raw) if self.cipher else raw

    def _open(self, stored: bytes) -> Installation:
        raw = bytes(stored)
        if self.cipher:
            raw = self.cipher.decrypt(raw)
        return Installation(**json.loads(raw))

    # ---- installations ---------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        enterprise = installation.enterprise_id or ""
        team = "" if installation.is_enterprise_install else installation.team_id or ""
        with self._db() as db:
            db.execute(self._sql(
                "INSERT INTO {installations} (client_id, enterprise_id, team_id, installed_at, "
                "installation) VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id, enterprise_id, "
                "team_id) DO UPDATE SET installed_at=excluded.installed_at, "
                "installation=excluded.installation"),
                (self.client_id, enterprise, team, float(installation.installed_at),
                 self._seal(installation)))
        log.info("the app was installed in workspace %s", team or enterprise)

    def save_bot(self, bot: Bot) -> None:
        """A bot's refreshed token (token rotation): kept in its installation."""
        found = self.find_installation(enterprise_id=bot.enterprise_id, team_id=bot.team_id,
                                       is_enterprise_install=bot.is_enterprise_install)
        if found is None:
            return
        found.bot_token = bot.bot_token
        found.bot_refresh_token = bot.bot_refresh_token
        found.bot_token_expires_at = bot.bot_token_expires_at
        self.save(found)

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                          user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        team = "" if is_enterprise_install or team_id is None else team_id
        with self._db() as db:
            row = db.execute(self._sql(
                "SELECT installation FROM {installations} WHERE client_id=? AND enterprise_id=? "
                "AND team_id=?"), (self.client_id, enterprise_id or "", team)).fetchone()
        if row is None:
            return None
        installation = self._open(row[0])
        if user_id is not None and installation.user_id != user_id:
            return None
        return installation

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        found = self.find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                       is_enterprise_install=is_enterprise_install)
        return found.to_bot() if found is not None and found.bot_token else None

    def bot_token(self, team_id: str) -> str:
        """The bot token of a workspace's installation, or "" when the app is not installed there."""
        bot = self.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else ""

    def teams(self) -> list[tuple[str, str]]:
        """(team id, workspace name) of every installation, oldest first."""
        with self._db() as db:
            rows = db.execute(self._sql(
                "SELECT installation FROM {installations} WHERE client_id=? ORDER BY "
                "installed_at"), (self.client_id,)).fetchall()
        found = [self._open(r[0]) for r in rows]
        return [(i.team_id or "", i.team_name or "") for i in found]

    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        if user_id is not None:  # a user's token revoked: the app has none to forget
            return
        with self._db() as db:
            db.execute(self._sql(
                "DELETE FROM {installations} WHERE client_id=? AND enterprise_id=? AND "
                "team_id=?"), (self.client_id, enterprise_id or "", team_id or ""))
        log.info("the app was uninstalled from workspace %s", team_id or enterprise_id)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    # ---- OAuth states ------------------------------------------------------------------------------

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        now = time.time()
        with self._db() as db:
            db.execute(self._sql("DELETE FROM {states} WHERE expires_at < ?"),
                       (now - STATE_LIFETIME,))
            db.execute(self._sql("INSERT INTO {states} (state, expires_at) VALUES (?, ?)"),
                       (state, now + self.state_lifetime))
        return state

    def consume(self, state: str) -> bool:
        """True once for a state issued here and not yet expired; it is gone after."""
        if not state:
            return False
        with self._db() as db:
            row = db.execute(self._sql("DELETE FROM {states} WHERE state=? RETURNING "
                                       "expires_at"), (state,)).fetchone()
        return row is not None and float(row[0]) >= time.time()


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot store {type(value).__name__}")
