"""The worker as people run it: `audit-ledger worker` killed with SIGKILL and restarted, and
`audit-ledger bot serve` with its in-process worker alerting a manager of a concern raised from
the shell. Both stores; Slack is the fake one, over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from audit_ledger.wiring import wire
from ledger import commands as c

from .conftest import console_script, run_cli
from .fake_slack import FakeSlack, running
from .test_bot_serve import serving
from .test_worker import PID, TOKEN, worker_pack

Doc = dict[str, Any]


class HoldingSlack(FakeSlack):
    """The fake Slack, made to hold the n-th chat.postMessage unanswered until released (it is
    then answered 500: that message never reached anyone)."""

    def __init__(self, hold_at: int) -> None:
        super().__init__((TOKEN,))
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
                self.release.wait(30)
                return 500, {"Content-Type": "application/json"}, b'{"ok":false}'
        return super().handle(path, headers, raw)


def _env(url: str, fake: FakeSlack) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env.update(AUDIT_LEDGER_URL=url, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN=TOKEN)
    return env


def _worker(url: str, fake: FakeSlack) -> subprocess.Popen[str]:
    return subprocess.Popen([console_script(), "worker"], env=_env(url, fake), text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _delivered(url: str) -> list[Doc]:
    w = wire(url, "")
    try:
        return [d for p in w.fresh_views().programmes()
                for d in w.views.deliveries(p["programme"])]
    finally:
        w.close()


def test_worker_killed_mid_run_and_restarted_loses_and_doubles_nothing(
        store_url: str, mini_pack: dict[str, Any]) -> None:
    w = wire(store_url, "")
    try:
        from ledger.importer import import_pack
        from ledger.pack import parse_pack

        import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
        refs = [w.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K02", agency="social-care", by="sc.aud",
            summary=f"Concern {i}: no visit recorded.")).message.split()[1] for i in range(6)]
    finally:
        w.close()
    # 4 feedback messages, then 2 for each concern (manager and channel): hold the 7th, mid-run.
    fake = HoldingSlack(hold_at=7)
    fake.start()
    assert fake.server is not None
    fake.server.handle_error = lambda *args: None  # type: ignore[method-assign]
    first = _worker(store_url, fake)
    try:
        assert fake.holding.wait(20), "the worker never got to the 7th message"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        fake.release.set()
        before = len(fake.calls_to("chat.postMessage"))
        assert before == 6  # six delivered and recorded, the seventh never answered

        second = _worker(store_url, fake)
        try:
            deadline = time.monotonic() + 20
            while len(fake.calls_to("chat.postMessage")) < 16:
                assert second.poll() is None, second.communicate()[1]
                assert time.monotonic() < deadline, fake.calls_to("chat.postMessage")
                time.sleep(0.05)
            time.sleep(0.5)  # anything more would be a double
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = second.communicate(timeout=10)
        assert second.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if first.poll() is None:
            first.kill()
        fake.release.set()
        fake.stop()

    posts = fake.calls_to("chat.postMessage")
    seen = Counter((p.body["channel"], p.body["text"]) for p in posts)
    assert [k for k, n in seen.items() if n > 1] == []  # nothing twice
    for ref in refs:  # nothing lost
        assert sum(1 for ch, text in seen if ch == "DU0SCMGR" and ref in text) == 1
        assert sum(1 for ch, text in seen if ch == "C0AUDIT" and ref in text) == 1
    feedback = [(ch, text) for ch, text in seen if "audit feedback" in text]
    assert sorted(ch for ch, _ in feedback) == ["DU0SCMGR", "DU0SCMGR", "DU0SCSW", "DU0SCSW"]
    # The ledger records exactly what reached Slack, with its channel and ts.
    recorded = sorted((d["channel"], d["ts"]) for d in _delivered(store_url))
    assert recorded == sorted((p.body["channel"], p.answer["ts"]) for p in posts)


def test_concern_raised_from_the_shell_reaches_the_manager_within_a_second_once(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    with running() as fake, serving(store_url, fake):
        # The worker in `bot serve` sends the feedback first; let it finish.
        fake.wait_for("chat.postMessage", lambda x: x.body.get("channel") == "DU0SCSW", count=2)
        quiet = time.monotonic()
        while time.monotonic() - quiet < 0.4:
            count = len(fake.calls)
            time.sleep(0.1)
            if len(fake.calls) != count:
                quiet = time.monotonic()

        raised = run_cli("concern", "raise", PID, "K02", "--agency", "social-care", "--by",
                         "sc.aud", "--summary", "Mother's new partner has a conviction for "
                         "violence; not yet assessed.", url=store_url, check=True)
        stored = time.monotonic()  # the concern was stored before the command returned
        ref = raised.stdout.split()[1]
        alert = fake.wait_for("chat.postMessage", lambda x: x.body.get("channel") == "DU0SCMGR"
                              and ref in x.body.get("text", ""), timeout=1.0)[0]
        assert alert.at - stored < 1.0
        time.sleep(0.5)
        alerts = [x for x in fake.calls_to("chat.postMessage") if ref in x.body.get("text", "")]
        assert [x.body["channel"] for x in alerts] == ["DU0SCMGR"]  # the right manager, once
