"""The worker's daily digest, on both stores: one signed digest a day to a folder and to a Slack
channel (the fake Slack, over real HTTP), on a fixed clock the tests walk. Slack's copy is
checked with `verify --digest` and only the public key, and catches the log cut short after it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from audit_ledger.wiring import Wiring, wire
from bot.clock import FixedClock
from bot.digests import DailyDigest, file_for, posted_for, slack_poster
from bot.services import BotServices
from bot.worker import Worker
from ledger import commands as c
from ledger.digests import key_id
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import (
    BOT_TOKEN,
    CLOCK_DAY,
    bot_services,
    running_console,
    serving,
    slack_env,
    wait_until,
    worker_pack,
)
from .fake_slack import Call, FakeSlack
from .test_digests import _cut_after
from .test_signed_chain import SIGNING_KEY, cli
from .test_tamper import Raw

WITNESS = "C0WITNESS"


@dataclass
class Rig:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    clock: FixedClock
    daily: DailyDigest
    worker: Worker

    def round(self) -> None:
        """One worker round, and the digest it may have started, finished."""
        self.worker.tick()
        self.daily.wait()

    def posts(self) -> list[Call]:
        return [p for p in self.fake.calls_to("chat.postMessage")
                if p.body.get("channel") == WITNESS and p.answer.get("ok")]


def witnessed(call: Call) -> str:
    """The digest in a Slack message, as someone copying it from the channel would save it."""
    text = str(call.body["text"])
    return text[text.index("```\n") + 4:text.rindex("```")]


@pytest.fixture
def rig(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("AUDIT_LEDGER_SIGNING_KEY", SIGNING_KEY)
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    clock = FixedClock(CLOCK_DAY)
    services = bot_services(w, fake_slack, clock=clock)
    folder = tmp_path / "digests"
    folder.mkdir()
    daily = DailyDigest(w.app.recorder, getattr(w.app.recorder, "signer"), folder,  # noqa: B009
                        slack_poster(services.deliver.client), WITNESS, retry=0.0)
    try:
        yield Rig(w, fake_slack, services, clock, daily, Worker(services, daily=daily))
    finally:
        daily.wait()
        services.close()
        w.close()


def test_one_signed_digest_a_day_to_a_folder_and_slack_which_witnesses_it(
        rig: Rig, store_url: str, tmp_path: Path) -> None:
    public = cli(store_url, "public-key", AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY).stdout.strip()
    rig.round()
    first = file_for(rig.daily.folder, CLOCK_DAY)
    assert first.name == "2026-04-02.digest.json"
    (post,) = rig.posts()
    assert post.body["text"].startswith(
        f"Audit ledger digest for Thursday 2 April 2026 (signed with key id {key_id(public)}): the log "
        f"held {json.loads(first.read_text())['position']} events")
    assert witnessed(post) == first.read_text(encoding="utf-8")
    assert json.loads(posted_for(rig.daily.folder, CLOCK_DAY).read_text()) == \
        {"channel": WITNESS, "ts": post.answer["ts"]}
    rig.round()  # the same day again: nothing new
    assert len(rig.posts()) == 1 and sorted(p.name for p in rig.daily.folder.iterdir()) == \
        ["2026-04-02.digest.json", "2026-04-02.slack.json"]

    # The next day, after more events: the next digest.
    rig.wiring.app.raise_concern(c.RaiseConcern(
        programme="mini-2026", case="K01", agency="social-care", by="sc.aud",
        summary="Child not seen for six weeks.", occurred_on=CLOCK_DAY))
    rig.clock.day = CLOCK_DAY + timedelta(days=1)
    rig.round()
    second = file_for(rig.daily.folder, rig.clock.day)
    older, newer = (json.loads(p.read_text()) for p in (first, second))
    assert newer["position"] > older["position"]
    assert len(rig.posts()) == 2

    # Slack's copy, saved as a file, is checked with only the public key.
    from_slack = tmp_path / "from-slack.json"
    from_slack.write_text(witnessed(rig.posts()[-1]), encoding="utf-8")
    result = cli(store_url, "verify", "--digest", str(from_slack), "--public-key", public)
    assert result.returncode == 0, result.stderr

    # The administrator cuts the log back to the first day's head, signatures and all: the
    # store is consistent and signed, and the first digest still holds; Slack's second does not.
    raw = Raw(store_url)
    try:
        _cut_after(raw, older["position"])
    finally:
        raw.close()
    assert cli(store_url, "verify", "--digest", str(first), "--public-key", public).returncode == 0
    result = cli(store_url, "verify", "--digest", str(from_slack), "--public-key", public)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        f"records {newer['position']} events but the log now has {older['position']}: events "
        f"were removed from its end (positions {older['position'] + 1} to {newer['position']})")


def test_slack_refusing_the_message_is_logged_and_it_is_posted_later(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.fake.unknown_channels.add(WITNESS)
    with caplog.at_level(logging.INFO, logger="bot.digests"):
        rig.round()
    assert file_for(rig.daily.folder, CLOCK_DAY).exists()
    assert not posted_for(rig.daily.folder, CLOCK_DAY).exists() and not rig.posts()
    assert "the daily digest for 2026-04-02 failed (channel_not_found (HTTP 200))" in caplog.text
    rig.fake.unknown_channels.discard(WITNESS)
    rig.round()  # tried again (retry=0 here; 5 minutes by default), the file kept as it was
    (post,) = rig.posts()
    assert witnessed(post) == file_for(rig.daily.folder, CLOCK_DAY).read_text(encoding="utf-8")


def test_the_worker_publishes_the_day_once_across_a_restart(
        store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack,
        tmp_path: Path) -> None:
    w = wire(store_url, "")
    try:
        import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    finally:
        w.close()
    folder = tmp_path / "published" / "digests"  # made when missing
    env = slack_env(store_url, fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN,
                    AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY,
                    AUDIT_LEDGER_DIGEST_CHANNEL=WITNESS)
    with running_console("worker", "--digest-dir", str(folder), env=env, log_dir=tmp_path):
        fake_slack.wait_for("chat.postMessage", lambda c: c.body.get("channel") == WITNESS,
                            timeout=60)
        wait_until(lambda: posted_for(folder, CLOCK_DAY).exists(), "the day's post recorded")
    with running_console("worker", env={**env, "AUDIT_LEDGER_DIGEST_DIR": str(folder)},
                         log_dir=tmp_path) as again:
        wait_until(lambda: "the digest for 2026-04-02 was published already" in again.log(),
                   "the restarted worker to find the day published")
    assert len([c for c in fake_slack.calls_to("chat.postMessage")
                if c.body.get("channel") == WITNESS]) == 1
    result = cli(store_url, "verify", "--digest", str(file_for(folder, CLOCK_DAY)),
                 AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY)
    assert result.returncode == 0, result.stderr


def test_a_channel_without_a_folder_is_refused_before_the_worker_starts(
        wiring: Wiring, store_url: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = slack_env(store_url, fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN)
    result = cli(store_url, "worker", "--digest-channel", WITNESS, **env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: AUDIT_LEDGER_DIGEST_CHANNEL (--digest-channel) needs AUDIT_LEDGER_DIGEST_DIR "
        "(--digest-dir) too: the folder keeps each day's digest and records that the day's "
        "message was posted")
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    result = cli(store_url, "worker", "--digest-dir", str(blocked / "digests"), **env)
    assert result.returncode == 2 and result.stderr.startswith(
        f"error: AUDIT_LEDGER_DIGEST_DIR {blocked / 'digests'}: the folder cannot be made (")


def test_bot_serve_publishes_the_day_from_its_own_worker(
        store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack,
        tmp_path: Path) -> None:
    w = wire(store_url, "")
    try:
        import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    finally:
        w.close()
    folder = tmp_path / "digests"
    with serving(store_url, fake_slack, "--workers", "1", log_dir=tmp_path,
                 AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY, AUDIT_LEDGER_DIGEST_DIR=str(folder),
                 AUDIT_LEDGER_DIGEST_CHANNEL=WITNESS):
        wait_until(lambda: posted_for(folder, CLOCK_DAY).exists(), "the day's digest posted",
                   timeout=60)
    (post,) = [c for c in fake_slack.calls_to("chat.postMessage")
               if c.body.get("channel") == WITNESS]
    assert witnessed(post) == file_for(folder, CLOCK_DAY).read_text(encoding="utf-8")
    result = cli(store_url, "verify", "--digest", str(file_for(folder, CLOCK_DAY)),
                 AUDIT_LEDGER_SIGNING_KEY=SIGNING_KEY)
    assert result.returncode == 0, result.stderr
