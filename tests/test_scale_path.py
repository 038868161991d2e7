"""The scale path: several `bot serve` processes, one `projections follow` and one `worker`,
all against one PostgreSQL, with events flowing end to end."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    CLOCK_DAY,
    answering,
    bot_env,
    free_port,
    run_cli,
    running_console,
    signed_post,
    wait_until,
)
from .fake_slack import FakeSlack, all_text, block_actions, buttons, slash_command


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_servers_a_follower_and_a_worker_share_one_postgresql(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    fake = fake_slack
    with ExitStack() as stack:
        env = bot_env(store_url, fake)
        bases = []
        for _ in range(2):
            port = free_port()
            proc = stack.enter_context(running_console("bot", "serve", "--port", str(port),
                                                       "--no-worker", env=env, log_dir=tmp_path))
            bases.append((f"http://127.0.0.1:{port}", proc))
        stack.enter_context(running_console("projections", "follow", env=env, log_dir=tmp_path))
        stack.enter_context(running_console("worker", env=env, log_dir=tmp_path))
        wait_until(lambda: all(answering(base, proc) for base, proc in bases),
                   "both servers to answer /healthz", timeout=60)

        run_cli("import", str(pack), url=store_url, check=True)
        # The one worker delivers each feedback message once, whichever server is asked.
        sent = fake.wait_for("chat.postMessage", lambda c: c.body.get("channel") == "DU0SCSW"
                             and "case K01" in c.body.get("text", ""), timeout=30)[0]
        raised = run_cli("concern", "raise", "mini-2026", "K02", "--agency", "social-care",
                         "--summary", "Visits missed for six weeks", "--by", "sc.aud",
                         "--on", CLOCK_DAY.isoformat(), url=store_url, check=True)
        ref = raised.stdout.split()[1]
        fake.wait_for("chat.postMessage", lambda c: c.body.get("channel") == "DU0SCMGR"
                      and ref in c.body.get("text", ""), timeout=30)

        # The practitioner acknowledges through the first server ...
        (first, _), (second, _) = bases
        message = {"ts": sent.answer["ts"], "text": sent.body["text"],
                   "blocks": sent.body["blocks"]}
        press = buttons(message["blocks"])["feedback.acknowledge"]
        body = block_actions("U0SCSW", "sasha", message, "DU0SCSW", press, fake.response_url())
        assert signed_post(first, body)[0] == 200
        fake.wait_for("chat.update", lambda c: c.body.get("ts") == message["ts"], timeout=30)

        # ... and the second server, reading the views the follower keeps, knows it.
        def k01_line() -> str:
            status, text = signed_post(second, slash_command("U0SCSW", "sasha", "my",
                                                             fake.response_url()))
            assert status == 200
            lines = all_text(json.loads(text)["blocks"]).splitlines()
            return next(line for line in lines if "*K01* (social-care)" in line)

        def acknowledged_line() -> str:
            line = k01_line()
            return line if "not yet acknowledged" not in line else ""

        line = wait_until(acknowledged_line, "the second server to see the acknowledgement")
        assert "await" in line  # still waiting for answers to its issues
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
