"""The worker as people run it: `audit-ledger worker` killed with SIGKILL and restarted, a second
`audit-ledger worker` standing by and taking over when the first dies, and `audit-ledger bot
serve` with its in-process worker alerting a manager of a concern raised from the shell. Both
stores; every process on the fixed day; Slack is the fake one, over real HTTP."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from audit_ledger.wiring import Wiring, wire
from bot.worker import TRACKING_NAME
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import (
    BOT_TOKEN,
    CLOCK_DAY,
    deliveries,
    run_cli,
    running_console,
    serving,
    slack_env,
    wait_until,
    worker_caught_up,
    worker_pack,
)
from .fake_slack import Call, FakeSlack

Doc = dict[str, Any]
PID = "mini-2026"


class HoldingSlack(FakeSlack):
    """The fake Slack, made to hold the n-th chat.postMessage unanswered until released (it is
    then answered 500: that message never reached anyone)."""

    def __init__(self, hold_at: int) -> None:
        super().__init__((BOT_TOKEN,))
        self.hold_at = hold_at
        self.posts_seen = 0
        self.holding = threading.Event()
        self.release = threading.Event()

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Doc, bytes]:
        if path.endswith("/chat.postMessage"):
            with self.lock:
                self.posts_seen += 1
                seen = self.posts_seen
            if seen == self.hold_at:
                self.holding.set()
                self.release.wait(60)
                return 500, {"Content-Type": "application/json"}, b'{"ok":false}'
        return super().handle(path, headers, raw)


@contextmanager
def audit_with_concerns(url: str, mini_pack: dict[str, Any], *summaries: str
                        ) -> Iterator[tuple[Wiring, list[str]]]:
    """The worker's audit in the store, and a concern raised for each summary (on the fixed
    day); yields the wiring, kept open to read the store, and the concerns' references."""
    w = wire(url, "")
    try:
        import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
        yield w, [raise_concern(w, summary) for summary in summaries]
    finally:
        w.close()


def raise_concern(w: Wiring, summary: str) -> str:
    return w.app.raise_concern(c.RaiseConcern(
        programme=PID, case="K02", agency="social-care", by="sc.aud", summary=summary,
        occurred_on=CLOCK_DAY)).message.split()[1]


def caught_up(w: Wiring) -> bool:
    """Whether the worker has handled every event stored so far (read from the store)."""
    head = w.follower.head()
    return head > 0 and w.store.positions().get(TRACKING_NAME, 0) == head


def posted(fake: FakeSlack) -> list[Call]:
    return [p for p in fake.calls_to("chat.postMessage") if p.answer.get("ok")]


def assert_each_once_and_recorded(fake: FakeSlack, url: str, refs: list[str]) -> None:
    """Every message reached Slack once, none was lost, and the ledger records exactly what
    reached Slack, with its channel and ts."""
    posts = posted(fake)
    seen = Counter((p.body["channel"], p.body["text"]) for p in posts)
    assert [k for k, n in seen.items() if n > 1] == []  # nothing twice
    for ref in refs:  # nothing lost
        assert sum(1 for ch, text in seen if ch == "DU0SCMGR" and ref in text) == 1
        assert sum(1 for ch, text in seen if ch == "C0AUDIT" and ref in text) == 1
    feedback = [(ch, text) for ch, text in seen if "audit feedback" in text]
    assert sorted(ch for ch, _ in feedback) == ["DU0SCMGR", "DU0SCMGR", "DU0SCSW", "DU0SCSW"]
    recorded = sorted((d["channel"], d["ts"]) for d in deliveries(url))
    assert recorded == sorted((p.body["channel"], p.answer["ts"]) for p in posts)


def test_worker_killed_mid_run_and_restarted_loses_and_doubles_nothing(
        store_url: str, mini_pack: dict[str, Any], tmp_path: Path) -> None:
    summaries = [f"Concern {i}: no visit recorded." for i in range(6)]
    # 4 feedback messages, then 2 for each concern (manager and channel): hold the 7th, mid-run.
    fake = HoldingSlack(hold_at=7)
    fake.start()
    assert fake.server is not None
    fake.server.handle_error = lambda *args: None  # type: ignore[method-assign]
    env = slack_env(store_url, fake, SLACK_BOT_TOKEN=BOT_TOKEN)
    try:
        with audit_with_concerns(store_url, mini_pack, *summaries) as (w, refs):
            with running_console("worker", env=env, log_dir=tmp_path) as first:
                assert fake.holding.wait(60), "the worker never got to the 7th message"
                first.proc.send_signal(signal.SIGKILL)
                first.proc.wait(30)
            fake.release.set()
            assert len(posted(fake)) == 6  # six delivered and recorded, the seventh never answered

            with running_console("worker", env=env, log_dir=tmp_path) as second:
                wait_until(lambda: len(posted(fake)) >= 16 and caught_up(w),
                           "the restarted worker to send the rest")
                second.proc.send_signal(signal.SIGTERM)
                assert second.proc.wait(30) == 0, second.log()
            assert len(posted(fake)) == 16
    finally:
        fake.release.set()
        fake.stop()
    assert_each_once_and_recorded(fake, store_url, refs)


def test_a_second_worker_stands_by_and_takes_over_when_the_first_dies(
        store_url: str, mini_pack: dict[str, Any], tmp_path: Path, fake_slack: FakeSlack) -> None:
    """README: only one worker works on a store at a time; a second one waits and takes over if
    the first stops."""
    env = slack_env(store_url, fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN)
    with audit_with_concerns(store_url, mini_pack) as (w, refs), \
            running_console("worker", env=env, log_dir=tmp_path) as first:
        wait_until(lambda: caught_up(w), "the first worker to send the feedback")
        with running_console("worker", env=env, log_dir=tmp_path) as second:
            wait_until(lambda: "another worker is running on this store; standing by"
                       in second.log(), "the second worker to stand by")
            refs.append(raise_concern(w, "Raised while the first worker works."))
            wait_until(lambda: caught_up(w), "the first worker to alert")
            assert f"concern/{refs[0]}" in first.log() and refs[0] not in second.log()
            assert "worker taking over" not in second.log()

            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(30)
            wait_until(lambda: "worker taking over" in second.log(),
                       "the second worker to take over")
            refs.append(raise_concern(w, "Raised after the first worker died."))
            wait_until(lambda: caught_up(w), "the second worker to alert")
            assert f"concern/{refs[1]}" in second.log() and refs[1] not in first.log()
            second.proc.send_signal(signal.SIGTERM)
            assert second.proc.wait(30) == 0, second.log()
    assert_each_once_and_recorded(fake_slack, store_url, refs)


def test_concern_raised_from_the_shell_reaches_the_manager_once(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    with serving(store_url, fake_slack, log_dir=tmp_path) as base:
        # The worker in `bot serve` sends the feedback first; /healthz says when it is done.
        wait_until(lambda: worker_caught_up(base), "the worker to send the feedback")
        raised = run_cli("concern", "raise", PID, "K02", "--agency", "social-care", "--by",
                         "sc.aud", "--on", CLOCK_DAY.isoformat(), "--summary",
                         "Mother's new partner has a conviction for violence; not yet assessed.",
                         url=store_url, check=True)
        ref = raised.stdout.split()[1]
        fake_slack.wait_for("chat.postMessage", lambda x: x.body.get("channel") == "DU0SCMGR"
                            and ref in x.body.get("text", ""))
        wait_until(lambda: worker_caught_up(base), "the worker to handle the concern")
        alerts = [x for x in fake_slack.calls_to("chat.postMessage")
                  if ref in x.body.get("text", "")]
        assert [x.body["channel"] for x in alerts] == ["DU0SCMGR"]  # the right manager, once
