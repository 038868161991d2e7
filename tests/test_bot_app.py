"""The Bolt app in this process, on both stores: signed requests dispatched as Slack sends them,
the Web API answered by the fake Slack over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from slack_bolt import App, BoltRequest, BoltResponse

from audit_ledger.wiring import Wiring, wire
from bot import blocks as b
from bot.app import build_app
from bot.outbox import deliver_concern_alert, deliver_feedback
from bot.services import BotServices
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import bot_services
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

SECRET = "in-process-signing-secret"
TODAY = date(2026, 7, 1)
"""The bot's day here: the day after the mini audit's action A1.1 was due."""


@dataclass
class Bot:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    bolt: App

    def send(self, body: str, content_type: str = "application/x-www-form-urlencoded",
             retry: int | None = None, settle: bool = True) -> BoltResponse:
        """Dispatch a signed request; with `settle`, wait until the work after its ack is done."""
        headers: dict[str, Any] = {k.lower(): [v] for k, v in
                                   signed_headers(body, SECRET, content_type=content_type).items()}
        if retry is not None:
            headers["x-slack-retry-num"] = [str(retry)]
        response = self.bolt.dispatch(BoltRequest(body=body, headers=headers))
        if settle:
            assert self.services.wait_idle(timeout=30)
        return response

    def command(self, user: str, text: str, settle: bool = True) -> dict[str, Any]:
        response = self.send(slash_command(user, "someone", text, self.fake.response_url()),
                             settle=settle)
        assert response.status == 200
        return json.loads(response.body)  # type: ignore[no-any-return]

    def press(self, user: str, message: dict[str, Any], action_id: str, channel: str = "",
              ephemeral: bool = False) -> BoltResponse:
        action = buttons(message["blocks"])[action_id]
        body = block_actions(user, "someone", message, channel or "D" + user, action,
                             self.fake.response_url(), ephemeral=ephemeral)
        return self.send(body)

    def opened_view(self) -> dict[str, Any]:
        call = self.fake.calls_to("views.open")[-1]
        return {**call.body["view"], "id": call.answer["view"]["id"],
                "hash": call.answer["view"]["hash"]}

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any],
               retry: int | None = None) -> dict[str, Any]:
        response = self.send(view_submission(user, "someone", view, values), retry=retry)
        assert response.status == 200
        return json.loads(response.body) if response.body else {}

    def events(self, aggregate_id: Any) -> list[str]:
        return [type(e).__name__ for e in
                self.wiring.app.repository.event_store.get(aggregate_id)]


@pytest.fixture
def bot(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> Iterator[Bot]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(mini_pack), "import")
    w.follower.catch_up()
    services = bot_services(w, fake_slack, TODAY)
    bolt = build_app(services, signing_secret=SECRET, client=services.deliver.client)
    try:
        yield Bot(w, fake_slack, services, bolt)
    finally:
        services.wait_idle()
        services.close()
        w.close()


def posted(call: Any) -> dict[str, Any]:
    return {"ts": call.answer["ts"], "text": call.body["text"], "blocks": call.body["blocks"]}


def test_audit_answers_within_each_persons_role(bot: Bot) -> None:
    helped = bot.command("U0SCSW", "help")
    assert helped["response_type"] == "ephemeral"
    assert "/audit history [PROGRAMME] CASE [AREA]" in all_text(helped["blocks"])
    unknown = all_text(bot.command("U0SCSW", "frobnicate")["blocks"])
    assert "I don't know “frobnicate”" in unknown and "/audit my" in unknown

    mine = bot.command("U0SCSW", "my")
    assert "case *K01* (social-care)" in all_text(mine["blocks"])
    assert {"feedback.acknowledge", "feedback.respond"} <= set(buttons(mine["blocks"]))

    progress = all_text(bot.command("U0SCSW", "progress")["blocks"])  # the only programme
    assert "Schools must report to every review." in progress
    overdue = bot.command("U0QL", "actions overdue")
    assert "overdue by 1 day*" in all_text(overdue["blocks"])  # A1.1 was due 30 June
    assert "action.update" in buttons(overdue["blocks"])  # a quality lead may update it
    assert "action.update" not in buttons(bot.command("U0SCSW", "actions")["blocks"])

    denied = all_text(bot.command("U0SCSW", "history mini-2026 K01 6")["blocks"])
    assert "Only auditors, moderators and quality leads can see how a case's judgements were " \
           "reached. Your roles in the directory: practitioner." in denied
    assert "Only auditors, board members, managers, moderators and quality leads" in \
        all_text(bot.command("U0SCSW", "case mini-2026 K01")["blocks"])
    history = all_text(bot.command("U0QL", "history mini-2026 K01 6")["blocks"])
    assert "*Monday 2 February 2026*: school's return was recorded by Ali Auditor.\n" \
        "_Judgement now:_ 4 inadequate" in history
    case = all_text(bot.command("U0SCMGR", "case mini-2026 K01")["blocks"])
    assert "Area 6 Review: *4 inadequate* (the weakest grade of school 4, social-care 2)" in case
    assert "There is no case “K99” in Mini audit. Its cases: K01, K02." in all_text(
        bot.command("U0QL", "case mini-2026 K99")["blocks"])
    # The programme may be left out when there is only one, and a case named in any case.
    assert all_text(bot.command("U0SCMGR", "case k01")["blocks"]) == case
    assert "History of case K01, Area 6 Review" in all_text(
        bot.command("U0QL", "history Mini-2026 k01 6")["blocks"])
    assert "not an area" in all_text(bot.command("U0QL", "history K01 9")["blocks"])
    assert "not an area" in all_text(bot.command("U0QL", "history mini-2026 K01 12")["blocks"])

    stranger = all_text(bot.command("U0NOBODY", "my")["blocks"])
    assert "Ask your quality lead (Quinn Lead) to add your Slack user id `U0NOBODY`" in stranger

    import_pack(bot.wiring.app, parse_pack({"programme": {"id": "other-2027", "title": "Other",
                                                          "opened": "2027-01-04"}}), "ql")
    which = all_text(bot.command("U0SCSW", "progress")["blocks"])
    assert "Which programme?" in which and "`mini-2026`" in which and "`other-2027`" in which


def test_concern_alert_acknowledged_and_acted_on_once(bot: Bot) -> None:
    outcome = bot.wiring.app.raise_concern(c.RaiseConcern(
        programme="mini-2026", case="K01", agency="social-care", by="sc.aud",
        summary="Child not seen for six weeks.", child_at_risk=True, occurred_on=TODAY))
    assert outcome.changed
    concern = next(k for k in bot.services.fresh().concerns("mini-2026")
                   if k["agency"] == "social-care")
    deliver_concern_alert(bot.services, "mini-2026", concern["ref"])
    alert = posted(bot.fake.calls_to("chat.postMessage")[-1])
    assert bot.fake.calls_to("chat.postMessage")[-1].body["channel"] == "DU0SCMGR"
    assert "MASH" in alert["blocks"][0]["text"]["text"] and "999" in alert["blocks"][0]["text"]["text"]
    assert alert["text"].startswith("A child may be at risk now")
    assert set(buttons(alert["blocks"])) == {"concern.acknowledge", "concern.record_action"}

    # A practitioner cannot acknowledge a concern; the manager can, once, however often pressed.
    assert bot.press("U0SCSW", alert, "concern.acknowledge", channel="DU0SCMGR").status == 200
    refused = bot.fake.calls_to("response_url")[-1].body
    assert refused["response_type"] == "ephemeral" and not refused["replace_original"]
    assert refused["text"] == ("Only board members, managers and quality leads can acknowledge "
                               "a concern. Your roles in the directory: practitioner. If that "
                               "is wrong, ask your quality lead (Quinn Lead).")
    for _ in range(2):
        assert bot.press("U0SCMGR", alert, "concern.acknowledge").status == 200
    updated = [u for u in bot.fake.calls_to("chat.update") if u.body["ts"] == alert["ts"]]
    assert updated and "Acknowledged by Sam Manager on" in updated[-1].body["text"]
    assert set(buttons(updated[-1].body["blocks"])) == {"concern.record_action"}

    assert bot.press("U0SCMGR", alert, "concern.record_action").status == 200
    view = bot.opened_view()
    empty = bot.submit("U0SCMGR", view, text_values({"action": "   "}))
    assert empty["response_action"] == "errors" and "action" in empty["errors"]
    values = text_values({"action": "Visited the same day; the child was seen alone."})
    assert bot.submit("U0SCMGR", view, values)["response_action"] == "update"
    assert bot.submit("U0SCMGR", view, values, retry=1) == {}
    assert bot.submit("U0SCMGR", view, values) ["response_action"] == "update"
    events = bot.events(bot.wiring.app.ids.concern_id("mini-2026", concern["ref"]))
    assert events.count("Acknowledged") == 1 and events.count("ActionRecorded") == 1
    last = [u for u in bot.fake.calls_to("chat.update") if u.body["ts"] == alert["ts"]][-1]
    assert "Visited the same day" in all_text(last.body["blocks"])


def test_action_owner_records_progress_then_completion(bot: Bot) -> None:
    bot.wiring.app.plan_action(c.PlanAction(
        programme="mini-2026", action="A1.2", recommendation=1, owner="sc.mgr", by="ql",
        description="Brief every social work team on reporting to reviews",
        measure="Briefing notes from each team", due=date(2026, 9, 30), occurred_on=TODAY))
    mine = bot.command("U0SCMGR", "my")
    answer = {"ts": "1700000001.000001", "text": mine["text"], "blocks": mine["blocks"]}
    assert bot.press("U0SCMGR", answer, "action.update", ephemeral=True).status == 200
    view = bot.opened_view()
    assert view["callback_id"] == "action.update"

    def rag(value: str | None) -> dict[str, Any]:
        option = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
        return {"rag": {"choice": {"type": "static_select", "selected_option": option}}}

    half = bot.submit("U0SCMGR", view, {**rag("amber"), **text_values({"note": ""})})
    assert half["response_action"] == "errors" and set(half["errors"]) == {"note"}
    nothing = bot.submit("U0SCMGR", view, {**rag(None), **text_values({"note": None})})
    assert set(nothing["errors"]) == {"rag", "note"}
    progress = bot.submit("U0SCMGR", view, {**rag("amber"),
                                            **text_values({"note": "Four of six teams briefed"})})
    assert progress["response_action"] == "update"
    assert bot.submit("U0SCMGR", view, {**rag("amber"), **text_values(
        {"note": "Four of six teams briefed"})})["response_action"] == "update"

    # The list the form was opened from is replaced in place, its buttons as they now stand.
    replaced = [r for r in bot.fake.calls_to("response_url") if r.body.get("replace_original")]
    assert replaced and "Action A1.2: progress recorded (amber)." in replaced[-1].body["text"]

    assert bot.press("U0SCMGR", answer, "action.complete", ephemeral=True).status == 200
    view = bot.opened_view()
    assert view["callback_id"] == "action.complete"
    done = bot.submit("U0SCMGR", view, text_values(
        {"evidence": "Briefing notes from all six teams, filed 30 June."}))
    assert done["response_action"] == "update"
    action = bot.services.fresh().action("mini-2026", "A1.2")
    assert action is not None and action["completed"] and action["rag"] == "green"
    assert [p["note"] for p in action["progress"]] == ["Four of six teams briefed"]

    # Someone else's action: the button is refused, plainly.
    assert bot.press("U0SCSW", answer, "action.update", ephemeral=True).status == 200
    told = bot.fake.calls_to("response_url")[-1]
    assert "owned by Sam Manager" in told.body["text"]
    # Each act refreshed the owner's Home tab.
    assert any(p.body["user_id"] == "U0SCMGR" for p in bot.fake.calls_to("views.publish"))


def test_home_tab_shows_what_waits_and_a_retried_event_publishes_once(bot: Bot) -> None:
    assert bot.send(app_home_opened("U0SCMGR", "Ev0HOME01"), "application/json").status == 200
    assert bot.send(app_home_opened("U0SCMGR", "Ev0HOME01"), "application/json",
                    retry=1).status == 200
    published = bot.fake.calls_to("views.publish")
    assert len(published) == 1
    home = published[0].body["view"]
    assert home["type"] == "home"
    text = all_text(home["blocks"])
    assert "Your team" in text and "Sasha Worker: case *K01*" in text

    assert bot.send(app_home_opened("U0NOBODY", "Ev0HOME02"), "application/json").status == 200
    assert "`U0NOBODY`" in all_text(bot.fake.calls_to("views.publish")[-1].body["view"]["blocks"])


def test_feedback_survives_rate_limits_and_server_errors(tmp_path: Path,
                                                        mini_pack: dict[str, Any],
                                                        fake_slack: FakeSlack) -> None:
    w = wire(f"sqlite:///{tmp_path / 'l.db'}", "")
    import_pack(w.app, parse_pack(mini_pack), "import")
    fake = fake_slack
    services = bot_services(w, fake)
    try:
        fake.fail_next(1, status=429, retry_after=1)
        fake.fail_next(1, status=500)
        sent = deliver_feedback(services, "mini-2026", "K02", "social-care")
        assert [p.channel for p in sent] == ["DU0SCSW", "DU0SCMGR"]
        assert [c.status for c in fake.calls][:3] == [429, 500, 200]
        assert len(fake.calls_to("chat.postMessage")) == 2
    finally:
        services.close()
        w.close()


def test_request_identity_and_payload_helpers_agree() -> None:
    from bot.handling import request_identity

    go = b.button("Go", "x", "v")
    message: dict[str, Any] = {"ts": "1.2", "text": "t", "blocks": [b.actions("blk", go)]}
    body = block_actions("U1", "u", message, "D1", go,
                         "http://x/", action_ts="9.9")
    payload = json.loads(unquote(body[len("payload="):]))
    assert request_identity(payload) == "action:U1:9.9"


def test_slow_answer_is_acknowledged_first_then_sent(bot: Bot,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer not ready within the budget: Slack gets a holding reply while the answer is
    still being worked out, and the answer follows through the command's response_url."""
    from bot import handling, slash

    real = slash.answer
    release = threading.Event()

    def slow(*args: Any) -> Any:
        assert release.wait(30), "the holding reply never came"
        return real(*args)

    monkeypatch.setattr(handling, "ACK_BUDGET", 0.2)
    monkeypatch.setattr(slash, "answer", slow)
    held = bot.command("U0SCSW", "my", settle=False)  # answered while `slow` still waits
    assert held == {"response_type": "ephemeral", "text": "Looking that up, one moment…"}
    assert bot.fake.calls_to("response_url") == []
    release.set()
    later = bot.fake.wait_for("response_url")[-1].body
    assert later["response_type"] == "ephemeral" and "K01" in all_text(later["blocks"])


def test_a_press_on_a_list_replaces_the_list_and_a_refused_press_changes_nothing(
        bot: Bot) -> None:
    mine = bot.command("U0SCSW", "my")
    answer = {"ts": "1700000001.000002", "text": mine["text"], "blocks": mine["blocks"]}
    assert bot.press("U0SCSW", answer, "feedback.acknowledge", ephemeral=True).status == 200
    replaced = bot.fake.calls_to("response_url")[-1].body
    assert replaced["replace_original"] is True and replaced["response_type"] == "ephemeral"
    assert "Thank you: acknowledged." in all_text(replaced["blocks"])
    # The list as it now stands: the first feedback's Acknowledge is gone, the other's stays.
    acks = [e for blk in replaced["blocks"] if blk["type"] == "actions"
            for e in blk["elements"] if e["action_id"] == "feedback.acknowledge"]
    before = [e for blk in mine["blocks"] if blk["type"] == "actions"
              for e in blk["elements"] if e["action_id"] == "feedback.acknowledge"]
    assert len(acks) == len(before) - 1

    # A press someone may not make: told to them alone, and no message or Home tab changes.
    deliver_feedback(bot.services, "mini-2026", "K02", "social-care")
    sent = [c for c in bot.fake.calls_to("chat.postMessage") if c.body["channel"] == "DU0SCSW"]
    message = posted(sent[-1])
    updates, homes = len(bot.fake.calls_to("chat.update")), len(bot.fake.calls_to("views.publish"))
    assert bot.press("U0QL", message, "feedback.acknowledge", channel="DU0SCSW").status == 200
    told = bot.fake.calls_to("response_url")[-1].body
    assert told["response_type"] == "ephemeral" and not told["replace_original"]
    assert "Only managers and practitioners can acknowledge feedback" in told["text"]
    assert len(bot.fake.calls_to("chat.update")) == updates
    assert len(bot.fake.calls_to("views.publish")) == homes


def test_a_long_answer_comes_a_page_at_a_time_and_the_home_tab_in_pages(bot: Bot) -> None:
    words = " ".join(["Brief every social work team on reporting to reviews"] * 8)
    for n in range(2, 62):
        bot.wiring.app.plan_action(c.PlanAction(
            programme="mini-2026", action=f"A1.{n}", recommendation=1, owner="sc.mgr", by="ql",
            description=f"{words} (part {n})", measure="Briefing notes from each team",
            due=date(2026, 9, 30), occurred_on=TODAY))
    first = bot.command("U0SCMGR", "actions")
    more = buttons(first["blocks"]).get("answer.more")
    assert more is not None and first["text"].endswith(")")  # "(page 1 of N)"
    pages = int(first["text"].rsplit(" of ", 1)[1].rstrip(")"))
    shown = all_text(first["blocks"])
    page = {"ts": "1700000002.000001", "text": first["text"], "blocks": first["blocks"]}
    for n in range(2, pages + 1):
        assert bot.press("U0SCMGR", page, "answer.more", ephemeral=True).status == 200
        answer = bot.fake.calls_to("response_url")[-1].body
        assert answer["replace_original"] is False and f"Page {n} of {pages}" in all_text(
            answer["blocks"])
        shown += all_text(answer["blocks"])
        page = {"ts": f"1700000002.00000{n}", "text": answer["text"],
                "blocks": answer["blocks"]}
    assert "answer.more" not in buttons(page["blocks"])  # the last page
    for n in range(2, 62):  # every action, whole, across the pages
        assert f"(part {n})" in shown

    # The Home tab: Next page publishes the next page, everything within Slack's limits.
    assert bot.send(app_home_opened("U0SCMGR", "Ev0PAGES1"), "application/json").status == 200
    home = bot.fake.calls_to("views.publish")[-1].body["view"]
    assert "Page 1 of" in all_text(home["blocks"])
    following = {"ts": "0", "text": "", "blocks": home["blocks"]}
    assert bot.press("U0SCMGR", following, "home.page").status == 200
    second = bot.fake.calls_to("views.publish")[-1].body["view"]
    assert "Page 2 of" in all_text(second["blocks"])
    assert "home.page" in buttons(second["blocks"])
