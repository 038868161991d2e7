"""Waking the alert lane when events arrive: told by PostgreSQL, else looking every poll.

The ledger's PostgreSQL recorder (the library's) sends NOTIFY on the events table's channel
in every insert's transaction, so PostgreSQL tells whoever LISTENs on it as each write commits
(whichever process wrote it). The lane listens on a connection of its own and still looks at
least every `poll` seconds, so a notification lost (the connection dropped, the server
restarted, a writer that does not notify) delays an alert by one poll at most (and by
`RECONNECT` seconds at most while it listens again). SQLite tells nobody: the lane looks every
poll.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from ledger.settings import StoreSettings

log = logging.getLogger("bot.worker")

RECONNECT = 5.0
"""Seconds between attempts to listen again after the listening connection was lost."""
SLICE = 0.25
"""The longest wait for a notification before looking whether the lane was stopped."""


class Wake(Protocol):
    def wait(self, timeout: float) -> bool:
        """Wait until told of new events or `timeout` seconds pass (or the lane is stopped);
        True when told."""
        ...

    def close(self) -> None: ...


class Polling:
    """No one tells: wait the poll out (or until stopped)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def wait(self, timeout: float) -> bool:
        self.stop.wait(timeout)
        return False

    def close(self) -> None:
        pass


class Listening:
    """LISTEN on the events table's channel, on a connection of its own."""

    def __init__(self, settings: StoreSettings, channel: str, stop: threading.Event) -> None:
        self.settings = settings
        self.channel = channel
        self.stop = stop
        self.conn: Any = None
        self._tried = 0.0
        self._said = False
        self._listen()

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        self._tried = time.monotonic()
        conn = None
        try:
            conn = self.settings.pg_connect()
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg.Error as e:
            if conn is not None:
                conn.close()
            if not self._said:
                log.warning("could not listen for new events (%s); looking every poll instead",
                            type(e).__name__)
                self._said = True
            return
        self.conn, self._said = conn, False

    def wait(self, timeout: float) -> bool:
        import psycopg

        if self.conn is None and time.monotonic() - self._tried >= RECONNECT:
            self._listen()
            if self.conn is not None:
                return True  # listening again: a look now covers whatever came meanwhile
        if self.conn is None:  # until listening again, a look at least every RECONNECT s
            self.stop.wait(min(timeout, RECONNECT))
            return False
        told = False
        deadline = time.monotonic() + timeout
        try:
            while not told and not self.stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                for _ in self.conn.notifies(timeout=min(left, SLICE), stop_after=1):
                    told = True
            if told:  # the others that came meanwhile: this look covers them too
                for _ in self.conn.notifies(timeout=0.0):
                    pass
        except psycopg.Error as e:
            log.warning("stopped listening for new events (%s); looking every poll until "
                        "listening again", type(e).__name__)
            self.close()
            self._tried = time.monotonic()
        return told

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.conn = None


def wake_for(settings: StoreSettings, recorder: Any, stop: threading.Event) -> Wake:
    """Listening on PostgreSQL (on the channel the recorder notifies), polling otherwise."""
    channel = getattr(recorder, "channel_name", None)
    if settings.kind == "postgres" and channel:
        return Listening(settings, str(channel), stop)
    return Polling(stop)
