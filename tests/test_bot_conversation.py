"""The direct message as a conversation, and linking without the shell: the Bolt app in this
process with the fake Slack over real HTTP (both stores), `bot serve` over real HTTP, and
`bot try` in the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse

from audit_ledger.wiring import Wiring, wire
from bot.app import build_app
from bot.services import BotServices
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import (
    SECRETS,
    bot_services,
    log_head,
    run_cli,
    run_console,
    serving,
    signed_post,
    slack_env,
)
from .fake_slack import (
    Call,
    FakeSlack,
    all_text,
    app_home_opened,
    block_actions,
    buttons,
    im_message,
    signed_headers,
    slash_command,
    view_submission,
)

SECRET = "conversation-signing-secret"
JSON = "application/json"


@dataclass
class Bot:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    bolt: App

    def send(self, body: str, content_type: str = "application/x-www-form-urlencoded",
             retry: int | None = None) -> BoltResponse:
        headers: dict[str, Any] = {k.lower(): [v] for k, v in
                                   signed_headers(body, SECRET, content_type=content_type).items()}
        if retry is not None:
            headers["x-slack-retry-num"] = [str(retry)]
        response = self.bolt.dispatch(BoltRequest(body=body, headers=headers))
        assert self.services.wait_idle(timeout=30)
        assert response.status == 200
        return response

    def write(self, user: str, text: str, event_id: str, retry: int | None = None,
              **event: Any) -> list[Call]:
        """Write to the bot in its Messages tab; what it posted back."""
        before = len(self.fake.calls_to("chat.postMessage"))
        self.send(im_message(user, text, event_id, **event), JSON, retry)
        return self.fake.calls_to("chat.postMessage")[before:]

    def press(self, user: str, message: Call, action_id: str) -> None:
        posted = {"ts": message.answer["ts"], "text": message.body["text"],
                  "blocks": message.body["blocks"]}
        self.send(block_actions(user, "someone", posted, message.body["channel"],
                                buttons(posted["blocks"])[action_id], self.fake.response_url()))

    def opened_view(self) -> dict[str, Any]:
        call = self.fake.calls_to("views.open")[-1]
        return {**call.body["view"], "id": call.answer["view"]["id"],
                "hash": call.answer["view"]["hash"]}

    def submit(self, user: str, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
        boxes = {block: {"answer": {"type": "plain_text_input", "value": text}}
                 for block, text in values.items()}
        response = self.send(view_submission(user, "someone", view, boxes))
        return json.loads(response.body) if response.body else {}


@pytest.fixture
def bot(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> Iterator[Bot]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(mini_pack), "import")
    w.follower.catch_up()
    services = bot_services(w, fake_slack)
    bolt = build_app(services, signing_secret=SECRET, client=services.deliver.client)
    try:
        yield Bot(w, fake_slack, services, bolt)
    finally:
        services.wait_idle()
        services.close()
        w.close()


def test_whatever_is_written_to_the_bot_gets_a_helpful_answer_never_silence(bot: Bot) -> None:
    head = log_head(bot.wiring)
    [reply] = bot.write("U0SCSW", "I saw the child alone, my note was missing", "Ev0DM01")
    assert reply.body["channel"] == "DU0SCSW"
    shown = all_text(reply.body["blocks"])
    assert shown.startswith("Hello Sasha. I can't take an answer typed here")
    assert "case *K01* (social-care)" in shown and "2 of 2 issues await an answer" in shown
    assert {"feedback.acknowledge", "feedback.respond"} <= set(buttons(reply.body["blocks"]))
    assert "Answer issues" in shown and "/audit help" in shown
    assert log_head(bot.wiring) == head  # a message is never taken as an answer

    # Slack sends the same event again: answered once.
    assert bot.write("U0SCSW", "I saw the child alone, my note was missing", "Ev0DM01",
                     retry=1) == []
    # Help, in the person's own words.
    [helped] = bot.write("U0SCSW", "Help!", "Ev0DM02")
    assert "What I can do" in all_text(helped.body["blocks"])
    assert "`/audit my`" in all_text(helped.body["blocks"])
    # Nothing waiting: said so, with where to look.
    [calm] = bot.write("U0QL", "morning", "Ev0DM03")
    assert "Hello Quinn. Nothing is waiting for you just now." in calm.body["text"]
    # The bot's own messages, edits and deletions get no answer: it never talks to itself.
    assert bot.write("U0SCSW", "Your audit feedback", "Ev0DM04", bot_id="B0AUDIT") == []
    assert bot.write("U0SCSW", "edited", "Ev0DM05", subtype="message_changed") == []
    assert len(bot.write("U0SCSW", "my note, attached", "Ev0DM06", subtype="file_share")) == 1

    # Answering from the list the reply holds opens the form for the waiting issues.
    bot.press("U0SCSW", reply, "feedback.respond")
    view = bot.opened_view()
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == \
        ["issue-1", "issue-2"]


def test_someone_unknown_asks_to_be_linked_and_the_quality_lead_approves(bot: Bot) -> None:
    [reply] = bot.write("U0TONI", "hello?", "Ev0DM11")
    assert "Ask your quality lead (Quinn Lead) to add your Slack user id `U0TONI`" in \
        reply.body["text"]
    assert set(buttons(reply.body["blocks"])) == {"link.ask"}
    slash = json.loads(bot.send(slash_command("U0TONI", "toni", "my",
                                              bot.fake.response_url())).body)
    assert "link.ask" in buttons(slash["blocks"])  # /audit offers it too, and the Home tab
    bot.send(app_home_opened("U0TONI", "Ev0HOME11"), JSON)
    home = bot.fake.calls_to("views.publish")[-1].body["view"]
    assert home["type"] == "home" and "link.ask" in buttons(home["blocks"])

    bot.press("U0TONI", reply, "link.ask")
    view = bot.opened_view()
    assert view["callback_id"] == "link.ask"
    head = log_head(bot.wiring)
    unknown = bot.submit("U0TONI", view, {"name": "Tony Teacher", "agency": ""})
    assert "I can't find anyone of that name" in unknown["errors"]["name"]
    linked_already = bot.submit("U0TONI", view, {"name": "Sasha Worker", "agency": ""})
    assert "errors" in linked_already  # her entry is linked already: not offered
    asked = bot.submit("U0TONI", view, {"name": "  toni   teacher ", "agency": "School"})
    assert "I have asked Quinn Lead to link you" in all_text(asked["view"]["blocks"])
    assert log_head(bot.wiring) == head  # asking records nothing
    request = bot.fake.calls_to("chat.postMessage")[-1]
    assert request.body["channel"] == "DU0QL"
    assert "<@U0TONI> asks to be linked to *Toni Teacher (sch.t, school)*" in \
        all_text(request.body["blocks"])
    assert set(buttons(request.body["blocks"])) == {"link.approve", "link.refuse"}
    assert "confirm" in buttons(request.body["blocks"])["link.refuse"]

    # Only a quality lead may approve.
    bot.press("U0SCMGR", request, "link.approve")
    assert "register person" in bot.fake.calls_to("response_url")[-1].body["text"]
    assert bot.services.fresh().person_by_slack("U0TONI") is None

    bot.press("U0QL", request, "link.approve")
    assert (bot.services.fresh().person_by_slack("U0TONI") or {}).get("person") == "sch.t"
    decided = bot.fake.calls_to("chat.update")[-1]
    assert decided.body["ts"] == request.answer["ts"] and buttons(decided.body["blocks"]) == {}
    assert "approved by Quinn Lead" in decided.body["text"]
    told = [p for p in bot.fake.calls_to("chat.postMessage") if p.body["channel"] == "DU0TONI"]
    assert "Quinn Lead has linked you to your entry in the audit's directory, as Toni " \
           "Teacher" in told[-1].body["text"]
    home = bot.fake.calls_to("views.publish")[-1].body
    assert home["user_id"] == "U0TONI" and "What is waiting for you, Toni Teacher" in \
        all_text(home["view"]["blocks"])
    [now] = bot.write("U0TONI", "what now", "Ev0DM12")
    assert "case *K01* (school)" in all_text(now.body["blocks"])


def test_a_refused_request_links_nobody_and_says_who_refused(bot: Bot) -> None:
    [reply] = bot.write("U0PAT", "hi", "Ev0DM21")
    bot.press("U0PAT", reply, "link.ask")
    bot.submit("U0PAT", bot.opened_view(), {"name": "Pat Head", "agency": ""})
    request = bot.fake.calls_to("chat.postMessage")[-1]
    head = log_head(bot.wiring)
    bot.press("U0QL", request, "link.refuse")
    assert log_head(bot.wiring) == head
    assert bot.services.fresh().person_by_slack("U0PAT") is None
    assert "refused by Quinn Lead" in bot.fake.calls_to("chat.update")[-1].body["text"]
    told = [p for p in bot.fake.calls_to("chat.postMessage") if p.body["channel"] == "DU0PAT"]
    assert "Quinn Lead did not link you to Pat Head" in told[-1].body["text"]


def test_a_message_to_bot_serve_over_http_is_answered(
        tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=url, check=True)
    written = "I saw the child alone on 3 February"
    with serving(url, fake_slack, "--no-worker", log_dir=tmp_path,
                 secrets=SECRETS + (written,)) as base:
        status, _ = signed_post(base, im_message("U0SCSW", written, "Ev0HTTP1"), JSON)
        assert status == 200
        reply = fake_slack.wait_for("chat.postMessage",
                                    lambda c: c.body.get("channel") == "DU0SCSW")[0]
        assert "I can't take an answer typed here" in reply.body["text"]


def test_bot_try_answers_what_is_typed_to_it(store_url: str, tmp_path: Path,
                                             mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    result = run_console("bot", "try", "--as", "sc.sw", env=slack_env(store_url),
                         input_text="hello, what do I need to do?\nquit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "> hello, what do I need to do?\n\n--- Message from the audit bot" in out
    assert "Hello Sasha. I can't take an answer typed here" in out
    assert "I didn't understand that" not in out
