"""`audit-ledger bot socket` as a subprocess against a fake Slack: the Web API over HTTP and Socket
Mode over a WebSocket, both on 127.0.0.1. The app asks apps.connections.open for the socket's
address with its app-level token, connects, and answers the envelopes Slack sends it."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    BOT_TOKEN,
    console_script,
    run_cli,
    run_console,
    running_console,
    slack_env,
)
from .fake_slack import (
    FakeSlack,
    FakeSocketMode,
    all_text,
    app_home_opened,
    block_actions_payload,
    buttons,
    slash_fields,
)

APP_TOKEN = "xapp-1-A0AUDIT-1-fakeapptoken"


def test_socket_mode_answers_commands_buttons_and_events_and_runs_the_worker(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    socket_mode = FakeSocketMode().start()
    fake_slack.app_tokens.add(APP_TOKEN)
    fake_slack.socket_url = socket_mode.url
    env = slack_env(store_url, fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN)
    try:
        with running_console("bot", "socket", env=env, log_dir=tmp_path,
                             secrets=(BOT_TOKEN, APP_TOKEN)) as proc:
            socket_mode.connected()
            opened = fake_slack.calls_to("apps.connections.open")
            assert [c.token for c in opened] == [APP_TOKEN]
            assert "Connecting to Slack over Socket Mode" in proc.log()

            # /audit my: the answer comes back in the envelope's acknowledgement.
            said = socket_mode.ack(socket_mode.send("slash_commands", slash_fields(
                "U0SCSW", "sasha", "my", fake_slack.response_url())))
            assert said["payload"]["response_type"] == "ephemeral"
            assert "case *K01* (social-care)" in all_text(said["payload"]["blocks"])

            # The worker in the same process sends the practitioner their feedback ...
            sent = fake_slack.wait_for("chat.postMessage", lambda c: c.body.get(
                "channel") == "DU0SCSW" and "case K01" in c.body.get("text", ""))[0]
            message = {"ts": sent.answer["ts"], "text": sent.body["text"],
                       "blocks": sent.body["blocks"]}
            # ... and Acknowledge, pressed in Slack, arrives as an interactive envelope.
            press = block_actions_payload("U0SCSW", "sasha", message, "DU0SCSW",
                                          buttons(message["blocks"])["feedback.acknowledge"],
                                          fake_slack.response_url())
            socket_mode.ack(socket_mode.send("interactive", press))
            update = fake_slack.wait_for("chat.update",
                                         lambda c: c.body.get("ts") == message["ts"])[0]
            assert "Acknowledged by Sasha Worker on" in update.body["text"]

            # The Home tab, opened: an events_api envelope, acknowledged, then published.
            socket_mode.ack(socket_mode.send("events_api", json.loads(
                app_home_opened("U0SCSW", "Ev0SOCKET1"))))
            home = fake_slack.wait_for("views.publish",
                                       lambda c: c.body.get("user_id") == "U0SCSW")[0]
            assert "What is waiting for you, Sasha Worker" in all_text(home.body["view"]["blocks"])

            proc.proc.send_signal(signal.SIGINT)  # Ctrl-C
            assert proc.proc.wait(30) == 0, proc.log()
    finally:
        socket_mode.stop()
    listed = json.loads(run_cli("feedback", "list", "mini-2026", "--person", "sc.sw", "--format",
                                "json", url=store_url, check=True).stdout)
    assert next(f for f in listed if f["case"] == "K01")["acknowledged_by"] == "sc.sw"


def test_socket_mode_refuses_an_app_token_slack_refuses(tmp_path: Path,
                                                        fake_slack: FakeSlack) -> None:
    env = slack_env(f"sqlite:///{tmp_path / 'l.db'}", fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN,
                    SLACK_APP_TOKEN="xapp-1-not-the-one")
    result = run_console("bot", "socket", "--no-worker", env=env)
    assert result.returncode == 2, result.stderr
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in result.stderr
    assert "xapp-1-not-the-one" not in result.stderr and "Traceback" not in result.stderr
    wrong_kind = run_console("bot", "socket", env={**env, "SLACK_APP_TOKEN": BOT_TOKEN})
    assert wrong_kind.returncode == 2
    assert "SLACK_APP_TOKEN does not look like an app-level token" in wrong_kind.stderr


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_socket_mode_stops_when_started_as_a_background_job(
        tmp_path: Path, fake_slack: FakeSlack, stop_with: signal.Signals) -> None:
    """`nohup audit-ledger bot socket &` starts it with SIGINT ignored, and a service manager
    stops it with SIGTERM: either way it leaves at once, cleanly (exit 0, no traceback)."""
    socket_mode = FakeSocketMode().start()
    fake_slack.app_tokens.add(APP_TOKEN)
    fake_slack.socket_url = socket_mode.url
    env = slack_env(f"sqlite:///{tmp_path / 'l.db'}", fake_slack, SLACK_BOT_TOKEN=BOT_TOKEN,
                    SLACK_APP_TOKEN=APP_TOKEN)
    log = tmp_path / "socket.log"
    try:
        with open(log, "w") as err:
            proc = subprocess.Popen(
                [console_script(), "bot", "socket", "--no-worker"], env=env, text=True,
                stdout=subprocess.DEVNULL, stderr=err,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        try:
            socket_mode.connected()
            proc.send_signal(stop_with)
            assert proc.wait(30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        socket_mode.stop()
    text = log.read_text()
    assert "Traceback" not in text, text
    assert BOT_TOKEN not in text and APP_TOKEN not in text
