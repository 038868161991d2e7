"""The daily digest: the worker publishes one signed digest a day outside the database.

A digest proves nothing against whoever can rewrite the place it is kept. So the worker
writes one a day to a folder (one file a day, on storage the database's administrators do
not control) and, when a channel is set, posts it to Slack, whose own history then keeps each
day's digest under Slack's timestamp: a witness nobody with the database can edit. Each is the
same signed file `export-digest` writes (docs/digest-format.md), taken after the whole log
verifies with this ledger's key, so `verify --digest` checks any of them later.

It runs in its own thread, started from the worker's daily hook, so alerts never wait for the
log to be verified. It keeps its own account of the day in the folder: the day's file, and,
once the message is posted, the day's `.slack.json` (channel and ts) beside it; so a restart
the same day neither writes nor posts again. Failures (a full disk, Slack refusing) are
logged and tried again after `retry` seconds; they never stop the worker.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder
from slack_sdk import WebClient

from ledger.digests import digest_document, digest_text, key_id
from ledger.signing import ChainSigner
from ledger.verification import verify_log

from .deliver import Posted, slack_error
from .words import day as said_day

log = logging.getLogger(__name__)

RETRY = 300.0
"""Seconds before a day whose digest could not be written or posted is tried again."""


def file_for(folder: Path, day: date) -> Path:
    return folder / f"{day.isoformat()}.digest.json"


def posted_for(folder: Path, day: date) -> Path:
    return folder / f"{day.isoformat()}.slack.json"


def message_text(day: date, text: str, signer: ChainSigner | None) -> str:
    """The day's Slack message: what it is, and the digest itself, to be copied into a file."""
    digest = json.loads(text)
    whose = f"signed with key id {key_id(signer.public)}" if signer is not None else \
        "not signed: no key is set"
    return (f"Audit ledger digest for {said_day(day)} ({whose}): the log held "
            f"{digest['position']} events, hash {digest['hash']}. Slack keeps this message "
            "where the ledger's administrators cannot change it; to check the log against it, "
            "save the part below as a file and run audit-ledger verify --digest FILE."
            f"\n```\n{text}```")


@dataclass
class DailyDigest:
    """The worker's daily hook: one digest a day to `folder`, and to `channel` when set."""

    recorder: ApplicationRecorder
    signer: ChainSigner | None
    folder: Path
    post: Callable[[str, str], Posted] | None = None  # (channel, text): Slack's chat.postMessage
    channel: str = ""
    retry: float = RETRY
    _done: date | None = field(default=None, init=False)
    _next_try: float = field(default=0.0, init=False)
    _running: threading.Thread | None = field(default=None, init=False)

    def __call__(self, day: date) -> None:
        """Start the day's publishing when it is not done, running or waiting to retry."""
        if day == self._done or time.monotonic() < self._next_try or \
                (self._running is not None and self._running.is_alive()):
            return
        self._running = threading.Thread(target=self._publish, args=(day,),
                                         name="daily-digest", daemon=True)
        self._running.start()

    def wait(self, timeout: float = 60.0) -> None:
        """Until the publishing started last has finished (for tests and shutting down)."""
        if self._running is not None:
            self._running.join(timeout)

    def _publish(self, day: date) -> None:
        try:
            done = self.publish(day)
        except Exception as e:  # noqa: BLE001 - never the worker's end: logged, tried again
            log.warning("the daily digest for %s failed (%s); trying again in %.0f s",
                        day.isoformat(), slack_error(e), self.retry)
            done = False
        if done:
            self._done = day
        else:
            self._next_try = time.monotonic() + self.retry

    def publish(self, day: date) -> bool:
        """Write the day's digest (unless written already) and post it (unless posted);
        whether both are done."""
        path = file_for(self.folder, day)
        already = path.exists()
        if not already:
            public = self.signer.private.public_key() if self.signer is not None else None
            verdict = verify_log(self.recorder, public_key=public)
            if verdict.problem:
                log.warning("no digest for %s: the log does not verify (%s)", day.isoformat(),
                            verdict.problem)
                return False
            exported = datetime.now(UTC).isoformat(timespec="seconds")
            _write_new(path, digest_text(digest_document(verdict, self.signer, exported)))
            log.info("wrote the digest for %s to %s: position %d", day.isoformat(), path,
                     verdict.head.position)
        if self.channel and self.post is not None and not posted_for(self.folder, day).exists():
            text = path.read_text(encoding="utf-8")
            posted = self.post(self.channel, message_text(day, text, self.signer))
            _write_new(posted_for(self.folder, day),
                       json.dumps({"channel": posted.channel, "ts": posted.ts}) + "\n")
            log.info("posted the digest for %s to Slack channel %s (ts %s)", day.isoformat(),
                     posted.channel, posted.ts)
        elif already:
            log.info("the digest for %s was published already", day.isoformat())
        return True


def _write_new(path: Path, text: str) -> None:
    """Write a file whole or not at all: a reader never finds half a digest."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def slack_poster(client: WebClient) -> Callable[[str, str], Posted]:
    """chat.postMessage of plain text (links and media not unfurled) through the bot's client."""
    def post(channel: str, text: str) -> Posted:
        resp = client.chat_postMessage(channel=channel, text=text, unfurl_links=False,
                                       unfurl_media=False)
        return Posted(str(resp["channel"]), str(resp["ts"]))
    return post
