"""Identifiers kept out of what people type in Slack: the form shows the problem under the box."""

from __future__ import annotations

from bot.outbox import deliver_concern_alert
from ledger import commands as c
from ledger import ids

from .fake_slack import text_values
from .test_bot_app import TODAY, Bot, bot, posted  # noqa: F401 - the fixture, shared


def test_the_record_action_form_refuses_a_postcode_under_its_box(bot: Bot) -> None:  # noqa: F811
    bot.wiring.app.raise_concern(c.RaiseConcern(
        programme="mini-2026", case="K01", agency="social-care", by="sc.aud",
        summary="Child not seen for six weeks.", occurred_on=TODAY))
    concern = next(k for k in bot.services.fresh().concerns("mini-2026")
                   if k["agency"] == "social-care")
    deliver_concern_alert(bot.services, "mini-2026", concern["ref"])
    alert = posted(bot.fake.calls_to("chat.postMessage")[-1])
    assert bot.press("U0SCMGR", alert, "concern.record_action").status == 200
    view = bot.opened_view()
    refused = bot.submit("U0SCMGR", view, text_values(
        {"action": "Visited the family at their new address, LS11 5QT."}))
    assert refused["response_action"] == "errors" and set(refused["errors"]) == {"action"}
    assert "postcode" in refused["errors"]["action"]
    assert "LS11 5QT" not in refused["errors"]["action"]
    events = bot.events(ids.concern_id("mini-2026", concern["ref"]))
    assert "ActionRecorded" not in events
    ordinary = bot.submit("U0SCMGR", view, text_values(
        {"action": "Strategy meeting on 3 March 2026; Section 47 enquiry opened."}))
    assert ordinary["response_action"] == "update"
