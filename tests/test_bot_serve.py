"""`audit-ledger bot serve` as a subprocess, configured only by the environment, talked to over
real HTTP on 127.0.0.1 with requests signed and shaped as Slack sends them, against a fake Slack:
refusing to start, and the whole flow of a practitioner's feedback. (What it promises of
/healthz, where it listens and --workers: test_bot_http.)"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from audit_ledger.wiring import wire

from .conftest import (
    BOT_TOKEN,
    SECRETS,
    SIGNING_SECRET,
    bot_env,
    free_port,
    post,
    run_cli,
    run_console,
    serving,
    signed_post,
    slack_env,
)
from .fake_slack import (
    FakeSlack,
    all_text,
    app_home_opened,
    block_actions,
    buttons,
    signed_headers,
    slash_command,
    text_values,
    view_submission,
)

PERSONAL = ("Sasha Worker", "Child not seen alone", "I did see")
"""Personal text the flow below carries; none of it may reach the bot's log."""


# ---- refusing to start -------------------------------------------------------------------------


def test_serve_refuses_without_credentials_saying_which(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    neither = run_console("bot", "serve", env=slack_env(url))
    assert neither.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in neither.stderr
    assert "SLACK_SIGNING_SECRET is not set" in neither.stderr
    no_secret = run_console("bot", "serve", env=slack_env(url, SLACK_BOT_TOKEN=BOT_TOKEN))
    assert no_secret.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in no_secret.stderr
    assert "SLACK_BOT_TOKEN" not in no_secret.stderr
    assert "Traceback" not in neither.stderr + no_secret.stderr

    socket_mode = run_console("bot", "socket", env=slack_env(url, SLACK_BOT_TOKEN=BOT_TOKEN))
    assert socket_mode.returncode == 2
    assert "SLACK_APP_TOKEN is not set" in socket_mode.stderr


def test_serve_refuses_a_wrong_token_plainly(tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = slack_env(f"sqlite:///{tmp_path / 'l.db'}", fake_slack,
                    SLACK_BOT_TOKEN="xoxb-not-the-one", SLACK_SIGNING_SECRET=SIGNING_SECRET)
    result = run_console("bot", "serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "xoxb-not-the-one" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert [c.method for c in fake_slack.calls] == ["auth.test"]


@pytest.mark.parametrize("command", [["bot", "serve"], ["bot", "socket"], ["worker"]])
def test_a_clock_that_is_not_a_date_is_refused(tmp_path: Path, fake_slack: FakeSlack,
                                               command: list[str]) -> None:
    env = bot_env(f"sqlite:///{tmp_path / 'l.db'}", fake_slack, SLACK_APP_TOKEN="xapp-1-fake",
                  AUDIT_LEDGER_CLOCK="next Tuesday")
    result = run_console(*command, env=env)
    assert result.returncode == 2
    assert result.stderr == ("error: AUDIT_LEDGER_CLOCK is not a date: write it as YYYY-MM-DD "
                             "(for example 2026-04-02), or unset it for today\n")
    assert fake_slack.calls == []  # refused before anything started


# ---- the whole flow --------------------------------------------------------------------------------


def _feedback_events(url: str) -> list[str]:
    w = wire(url, "")
    try:
        events = w.app.repository.event_store.get(w.app.ids.feedback_id("mini-2026", "K01", "social-care"))
        return [type(e).__name__ for e in events]
    finally:
        w.close()


def test_practitioner_acknowledges_and_responds_in_chat_exactly_once(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    fake = fake_slack
    with serving(store_url, fake, log_dir=tmp_path, secrets=SECRETS + PERSONAL) as base:
        # Requests not from Slack are refused: forged, unsigned, too old.
        body = slash_command("U0SCSW", "sasha", "my", fake.response_url())
        forged = signed_headers(body, "not-the-secret")
        assert post(base, body, forged)[0] == 401
        assert post(base, body, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
        stale = signed_headers(body, SIGNING_SECRET, timestamp=int(time.time()) - 6 * 60)
        assert post(base, body, stale)[0] == 401

        # The practitioner's feedback arrives by direct message, with its two buttons.
        sent = fake.wait_for("chat.postMessage", lambda c: c.body.get("channel") == "DU0SCSW"
                             and "case K01" in c.body.get("text", ""))[0]
        message = {"ts": sent.answer["ts"], "text": sent.body["text"],
                   "blocks": sent.body["blocks"]}
        shown = all_text(message["blocks"])
        assert shown.index("Good practice") < shown.index("Issues raised")
        assert "Child not seen alone." in shown
        press = buttons(message["blocks"])
        assert set(press) == {"feedback.acknowledge", "feedback.respond", "feedback.answer"}
        copy = fake.wait_for("chat.postMessage", lambda c: c.body.get("channel") == "DU0SCMGR"
                             and "K01" in c.body.get("text", ""))[0]
        assert set(buttons(copy.body["blocks"])) == {"feedback.seen"}

        # The manager presses Seen on his copy: his copy says so; hers keeps Acknowledge.
        his = {"ts": copy.answer["ts"], "text": copy.body["text"], "blocks": copy.body["blocks"]}
        seen = block_actions("U0SCMGR", "sam", his, "DU0SCMGR", buttons(his["blocks"])[
            "feedback.seen"], fake.response_url())
        assert signed_post(base, seen)[0] == 200
        seen_copy = fake.wait_for("chat.update", lambda c: c.body.get("ts") == his["ts"])[-1]
        assert buttons(seen_copy.body["blocks"]) == {}
        assert "Not yet acknowledged by Sasha Worker" in all_text(seen_copy.body["blocks"])
        still = fake.wait_for("chat.update", lambda c: c.body.get("ts") == message["ts"])[-1]
        assert "Seen by Sam Manager (manager)" in all_text(still.body["blocks"])
        assert "feedback.acknowledge" in buttons(still.body["blocks"])

        # /audit my, with every field Slack sends: answered at once, only to them.
        status, text = signed_post(base, body)
        assert status == 200
        answer = json.loads(text)
        assert answer["response_type"] == "ephemeral"
        assert "K01" in all_text(answer["blocks"])

        # Acknowledge (Slack rate-limits the first update): the message is updated in place.
        fake.fail_next(1, status=429, retry_after=1)
        ack_body = block_actions("U0SCSW", "sasha", message, "DU0SCSW",
                                 press["feedback.acknowledge"], fake.response_url())
        assert signed_post(base, ack_body)[0] == 200
        update = fake.wait_for("chat.update", lambda c: c.body.get("ts") == message["ts"]
                               and "Acknowledged by" in c.body.get("text", ""))[0]
        assert update.body["channel"] == "DU0SCSW"
        assert "Acknowledged by Sasha Worker on" in update.body["text"]
        assert "Acknowledged by Sasha Worker on" in all_text(update.body["blocks"])
        assert "feedback.acknowledge" not in buttons(update.body["blocks"])
        assert "feedback.respond" in buttons(update.body["blocks"])

        # Slack sends the same request again, and the person clicks the old button again.
        assert signed_post(base, ack_body, retry=1)[0] == 200
        again = block_actions("U0SCSW", "sasha", message, "DU0SCSW",
                              press["feedback.acknowledge"], fake.response_url())
        assert signed_post(base, again)[0] == 200

        # Respond opens a form with one box per issue.
        respond_body = block_actions("U0SCSW", "sasha", message, "DU0SCSW",
                                     press["feedback.respond"], fake.response_url())
        assert signed_post(base, respond_body)[0] == 200
        opened = fake.wait_for("views.open")[0]
        trigger = json.loads(unquote(respond_body[len("payload="):]))["trigger_id"]
        assert opened.body["trigger_id"] == trigger
        view = {**opened.body["view"], **{k: opened.answer["view"][k] for k in ("id", "hash")}}
        boxes = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
        assert boxes == ["issue-1", "issue-2"]

        # Wrong answers are shown in the form, box by box; nothing is recorded. An empty box
        # is no error (that issue can wait), but a form with nothing in it is.
        wrong = view_submission("U0SCSW", "sasha", view,
                                text_values({"issue-1": "  ", "issue-2": "x" * 3001}))
        status, text = signed_post(base, wrong)
        assert status == 200
        errors = json.loads(text)
        assert errors["response_action"] == "errors"
        assert set(errors["errors"]) == {"issue-2"}
        assert "3,000" in errors["errors"]["issue-2"]
        empty = view_submission("U0SCSW", "sasha", view,
                                text_values({"issue-1": " ", "issue-2": None}))
        errors = json.loads(signed_post(base, empty)[1])
        assert "Write at least one answer" in errors["errors"]["issue-1"]

        # Right answers: sent three times at once (a retry among them), recorded once.
        right = view_submission("U0SCSW", "sasha", view, text_values({
            "issue-1": "I did see the child alone on 3 February; my note of it was missing.",
            "issue-2": "Supervision is now recorded on the case file."}))
        results: list[tuple[int, str]] = []

        def send(retry: int | None) -> None:
            results.append(signed_post(base, right, retry=retry))

        threads = [threading.Thread(target=send, args=(r,)) for r in (None, None, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [s for s, _ in results] == [200, 200, 200]
        answered = fake.wait_for("chat.update", lambda c: c.body.get("ts") == message["ts"]
                                 and "Supervision is now recorded" in all_text(c.body["blocks"]))
        assert "feedback.respond" not in buttons(answered[-1].body["blocks"])

        # The Home tab, when opened, and again when Slack retries the event.
        home = app_home_opened("U0SCSW", "Ev0FLOW01")
        assert signed_post(base, home, content_type="application/json")[0] == 200
        assert signed_post(base, home, content_type="application/json", retry=1)[0] == 200
        fake.wait_for("views.publish", lambda c: c.body.get("user_id") == "U0SCSW")

    listed = json.loads(run_cli("feedback", "list", "mini-2026", "--person", "sc.sw", "--format",
                                "json", url=store_url, check=True).stdout)
    k01 = next(f for f in listed if f["case"] == "K01")
    assert k01["acknowledged_by"] == "sc.sw"
    assert set(k01["responses"]) == {"1", "2"}
    assert k01["responses"]["2"]["response"] == "Supervision is now recorded on the case file."
    text_list = run_cli("feedback", "list", "mini-2026", "--person", "sc.sw", url=store_url,
                        check=True).stdout
    assert "case K01  social-care  to sc.sw (manager sc.mgr)  acknowledged by sc.sw, seen by " \
           "sc.mgr; issues awaiting a response: none" in text_list
    events = _feedback_events(store_url)
    assert events.count("Acknowledged") == 1 and events.count("SeenByManager") == 1
    assert events.count("IssueResponded") == 2
