"""The scale path: several `bot serve` processes, one `projections follow` and one `worker`,
all against one PostgreSQL, with events flowing end to end."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from .conftest import console_script, run_cli
from .fake_slack import all_text, block_actions, buttons, running, slash_command
from .test_bot_serve import SECRET, TOKEN, _env, _free_port, signed_post


@contextmanager
def process(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([console_script(), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        for secret in (TOKEN, SECRET):
            assert secret not in err


def _healthy(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if json.loads(r.read())["ok"] is True:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, "bot serve did not become healthy"
        time.sleep(0.1)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_servers_a_follower_and_a_worker_share_one_postgresql(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    with running() as fake, ExitStack() as stack:
        env = _env(store_url, fake, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
        bases = []
        for _ in range(2):
            port = _free_port()
            proc = stack.enter_context(process("bot", "serve", "--port", str(port),
                                               "--no-worker", env=env))
            bases.append((f"http://127.0.0.1:{port}", proc))
        stack.enter_context(process("projections", "follow", env=env))
        stack.enter_context(process("worker", env=env))
        for base, proc in bases:
            _healthy(base, proc)

        run_cli("import", str(pack), url=store_url, check=True)
        # The one worker delivers each feedback message once, whichever server is asked.
        sent = fake.wait_for("chat.postMessage", lambda c: c.body.get("channel") == "DU0SCSW"
                             and "case K01" in c.body.get("text", ""), timeout=10)[0]
        raised = run_cli("concern", "raise", "mini-2026", "K02", "--agency", "social-care",
                         "--summary", "Visits missed for six weeks", "--by", "sc.aud",
                         url=store_url, check=True)
        ref = raised.stdout.split()[1]
        fake.wait_for("chat.postMessage", lambda c: c.body.get("channel") == "DU0SCMGR"
                      and ref in c.body.get("text", ""), timeout=5)

        # The practitioner acknowledges through the first server ...
        (first, _), (second, _) = bases
        message = {"ts": sent.answer["ts"], "text": sent.body["text"],
                   "blocks": sent.body["blocks"]}
        press = buttons(message["blocks"])["feedback.acknowledge"]
        body = block_actions("U0SCSW", "sasha", message, "DU0SCSW", press, fake.response_url())
        assert signed_post(first, body)[0] == 200
        fake.wait_for("chat.update", lambda c: c.body.get("ts") == message["ts"], timeout=5)

        # ... and the second server, reading the views the follower keeps, knows it.
        def k01_line() -> str:
            status, text = signed_post(second, slash_command("U0SCSW", "sasha", "my",
                                                             fake.response_url()))
            assert status == 200
            lines = all_text(json.loads(text)["blocks"]).splitlines()
            return next(line for line in lines if "*K01* (social-care)" in line)

        deadline = time.monotonic() + 5
        while "not yet acknowledged" in k01_line():
            assert time.monotonic() < deadline, k01_line()
            time.sleep(0.2)
        assert "await" in k01_line()  # still waiting for answers to its issues
        listed = json.loads(run_cli("feedback", "list", "mini-2026", "--person", "sc.sw",
                                    "--format", "json", url=store_url, check=True).stdout)
        k01 = next(f for f in listed if f["case"] == "K01")
        assert k01["acknowledged_by"] == "sc.sw"
        # Nothing was sent twice although four processes follow the same log.
        posts = [c for c in fake.calls_to("chat.postMessage")
                 if c.body.get("channel") == "DU0SCSW" and "case K01" in c.body.get("text", "")]
        assert len(posts) == 1
        alerts = [c for c in fake.calls_to("chat.postMessage") if ref in c.body.get("text", "")]
        assert [c.body["channel"] for c in alerts] == ["DU0SCMGR"]
