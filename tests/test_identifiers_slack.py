"""Identifiers kept out of what people type in Slack: the form shows the problem under the box."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.outbox import deliver_concern_alert
from ledger import commands as c

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
    events = bot.events(bot.wiring.app.ids.concern_id("mini-2026", concern["ref"]))
    assert "ActionRecorded" not in events
    ordinary = bot.submit("U0SCMGR", view, text_values(
        {"action": "Strategy meeting on 3 March 2026; Section 47 enquiry opened."}))
    assert ordinary["response_action"] == "update"


def _raise_values(agency: str, summary: str, risk: str = "no") -> dict[str, Any]:
    def choice(value: str) -> dict[str, Any]:
        return {"choice": {"type": "static_select",
                           "selected_option": {"text": {"type": "plain_text", "text": value},
                                               "value": value}}}
    return {"agency": choice(agency), "risk": choice(risk), **text_values({"summary": summary})}


@pytest.mark.parametrize("summary, kind", [
    ("Child's NHS number 943 476 5919 was shared with the wrong school.", "an NHS number"),
    ("The family moved to LS11 5QT and the school was not told.", "a postcode"),
    ("Baby born on 2 November 2025 has not been seen by the health visitor.", "a date of birth"),
])
def test_the_raise_concern_form_refuses_identifiers_under_the_summary_box(
        bot: Bot, summary: str, kind: str) -> None:  # noqa: F811
    answer = bot.command("U0SCMGR", "concern mini-2026 K02")
    message = {"ts": "1700000001.000002", "text": answer["text"], "blocks": answer["blocks"]}
    assert bot.press("U0SCMGR", message, "concern.raise", ephemeral=True).status == 200
    view = bot.opened_view()
    assert view["callback_id"] == "concern.raise"
    before = bot.services.fresh().concerns("mini-2026")
    refused = bot.submit("U0SCMGR", view, _raise_values("school", summary))
    assert refused["response_action"] == "errors" and set(refused["errors"]) == {"summary"}
    assert kind in refused["errors"]["summary"]
    assert bot.services.fresh().concerns("mini-2026") == before, "nothing recorded"
    raised = bot.submit("U0SCMGR", view, _raise_values(
        "school", "Strategy meeting on 3 March 2026: no school report for the Section 47 "
        "enquiry.", "yes"))
    assert raised["response_action"] == "update"
    assert "MASH" in json.dumps(raised["view"])
    after = bot.services.fresh().concerns("mini-2026")
    [new] = [k for k in after if k not in before]
    assert (new["case"], new["agency"], new["raised_by"], new["child_at_risk"]) == (
        "K02", "school", "sc.mgr", True)


def test_raising_a_concern_from_slack_needs_the_role_and_a_case(bot: Bot) -> None:  # noqa: F811
    refused = bot.command("U0SCSW", "concern mini-2026 K02")
    assert "raise a concern" in refused["text"] and "practitioner" in refused["text"]
    unknown = bot.command("U0SCMGR", "concern mini-2026 K99")
    assert "K99" in unknown["text"]
