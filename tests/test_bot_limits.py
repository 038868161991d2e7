"""Nothing cut, nothing refused for size: the largest realistic audit (14 agencies on a case,
60 actions, 8 issues of 1,500 characters with long answers) through every builder of what
people see, split as the bot sends it, checked against Slack's limits as the tests' fake Slack
applies them, for every word arriving and for no ISO date, class name or JSON shown."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot import alerts, answering, replies, waiting
from bot import modals as m
from bot.answers import Waiting
from bot.messages import concern_message, feedback_message
from bot.pages import parts
from bot.slash import page_of

from .fake_slack import all_text, block_text_length, blocks_refused

TODAY = date(2026, 7, 1)
PROGRAMME = {"programme": "big-2026", "title": "A large audit", "scale": "ofsted-2009",
             "areas": {str(n): f"Area title {n}" for n in range(2, 9)}}
AGENCIES = [f"agency-{n:02d}" for n in range(1, 15)]
AREAS = [str(n) for n in range(2, 9)]

EVENT_NAMES = ("CaseSelected", "ReturnRecorded", "AreaGraded", "GradeRevised",
               "JudgementModerated", "FeedbackIssued", "FeedbackAcknowledged", "IssueResponded",
               "ConcernRaised", "ConcernAcknowledged", "ConcernActionRecorded", "ConcernEscalated",
               "ConcernClosed", "CaseTextErased", "MessageDelivered", "ActionPlanned")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
JSON_SHAPE = re.compile(r"[{\[]\s*\"")


def names(person: str) -> str:
    return f"Person {person.split('.')[-1].title()}"


def long_text(n: int, length: int) -> str:
    """Distinct text of `length` characters in sentences, with markup characters to escape."""
    words = [f"w{n}x{i} & <b>" if i % 40 == 0 else f"w{n}x{i}" for i in range(length)]
    text = ""
    for i, w in enumerate(words):
        text += w + (". " if i % 12 == 11 else " ")
        if len(text) >= length:
            break
    return text[:length].strip()


def big_feedback(answered: bool) -> dict[str, Any]:
    issues = [{"number": n, "area": AREAS[(n - 1) % len(AREAS)], "text": long_text(n, 1500)}
              for n in range(1, 9)]
    responses = ({str(n): {"response": long_text(100 + n, 2900), "by": "p.sw"}
                  for n in range(1, 9)} if answered else {})
    return {"programme": "big-2026", "case": "B01", "agency": "agency-01",
            "practitioner": "p.sw", "manager": "p.mgr", "auditor": "p.aud",
            "grades": {**{a: 3 for a in AREAS}, "overall": 3},
            "good_practice": [{"area": a, "text": long_text(200 + int(a), 1500)} for a in AREAS],
            "issues": issues, "issued_on": "2026-02-01", "acknowledged_by": "p.sw",
            "acknowledged_at": "2026-02-03T14:05:00+00:00", "responses": responses}


def big_concern() -> dict[str, Any]:
    return {"programme": "big-2026", "ref": "B01-abc123", "case": "B01", "agency": "agency-03",
            "summary": long_text(300, 3000), "child_at_risk": True, "raised_by": "p.aud",
            "raised_on": "2026-02-01", "acknowledged_by": "p.mgr",
            "acknowledged_at": "2026-02-02T09:00:00+00:00", "closed": False, "outcome": "",
            "actions": [{"by": "p.mgr", "on": f"2026-02-{d:02d}", "action": long_text(400 + d, 2500)}
                        for d in range(2, 10)], "escalations": [], "step": 1}


def big_actions() -> list[dict[str, Any]]:
    return [{"programme": "big-2026", "id": f"A{n // 6 + 1}.{n % 6 + 1}", "recommendation": n // 6 + 1,
             "description": long_text(500 + n, 400 if n % 10 else 3500),
             "measure": "Audit shows it", "owner": f"p.owner{n % 7}",
             "due": (date(2010, 3, 31) + timedelta(days=40 * n)).isoformat(),
             "completed": False, "rag": "amber" if n % 3 else "", "progress": [],
             "ratified": True, "overdue_days": max(0, (TODAY - (date(2010, 3, 31) + timedelta(
                 days=40 * n))).days)} for n in range(60)]


def big_case() -> dict[str, Any]:
    def judgement(area: str) -> dict[str, Any]:
        return {"grade": 4, "rule": "worst",
                "contributions": [{"agency": a, "grade": 2 + i % 3} for i, a in enumerate(AGENCIES)],
                "moderation": {"on": "2026-03-01", "reason": long_text(600 + int(area), 1200)}
                if area in ("6", "7") else None}
    return {"programme": "big-2026", "case": "B01",
            "areas": {a: judgement(a) for a in AREAS}, "overall": judgement("8")}


def big_history() -> dict[str, Any]:
    steps: list[dict[str, Any]] = []

    def step(event: str, **fields: Any) -> None:
        at = datetime(2026, 2, 1, 9, 0) + timedelta(minutes=len(steps))
        steps.append({"position": len(steps) + 1, "recorded_at": at.isoformat() + "+00:00",
                      "occurred_on": "2026-02-01", "by": "import" if len(steps) < 5 else "p.aud",
                      "event": event, **fields})
    step("CaseSelected", category="neglect", agencies=AGENCIES)
    for agency in AGENCIES:
        step("ReturnRecorded", agency=agency, auditor="p.aud", practitioner="p.sw",
             completed="2026-02-01", grades={a: 3 for a in AREAS}, judgements={})
        for area in AREAS:
            step("AreaGraded", agency=agency, area=area, grade=3, judgements={area: 3})
    step("GradeRevised", agency="agency-02", area="4", grade=4, previous=3,
         reason=long_text(700, 2000), judgements={"4": 4})
    step("ConcernRaised", ref="B01-abc123", summary=long_text(701, 1500), child_at_risk=True,
         agency="agency-03", judgements={})
    return {"programme": "big-2026", "case": "B01", "area": None, "steps": steps}


def every_message() -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(what, text, blocks) of everything the bot builds from the largest data."""
    out: list[tuple[str, str, list[dict[str, Any]]]] = []
    for answered in (False, True):
        for manager in (False, True):
            out.append((f"feedback answered={answered} manager={manager}",
                        *feedback_message(big_feedback(answered), PROGRAMME, names,
                                          for_manager=manager)))
    out.append(("concern", *concern_message(big_concern(), PROGRAMME, names)))
    out.append(("concern channel", *concern_message(big_concern(), PROGRAMME, names,
                                                    channel=True)))
    out.append(("concern escalated", *alerts.concern_alert(
        big_concern(), PROGRAMME, names, step=3, reason="no plan agreed", can_act=False,
        stand_in=True)))
    out.append(("reminder", *alerts.feedback_reminder(big_feedback(False), PROGRAMME, names,
                                                     sent_on="2026-02-01")))
    acts = big_actions()
    out.append(("action reminder", *alerts.action_reminder(acts[5], PROGRAMME, names,
                                                           state="overdue", today=TODAY)))
    out.append(("digest", *alerts.overdue_digest(PROGRAMME, acts, names, week=TODAY)))
    plan = {"recommendations": [{"number": n, "status": "overdue", "actions": 6,
                                 "actions_open": 6, "actions_overdue": 6} for n in range(1, 11)],
            "outstanding_actions": acts}
    out.append(("progress", *replies.progress_answer(
        plan, PROGRAMME, {n: long_text(800 + n, 900) for n in range(1, 11)}, names)))
    out.append(("actions", *replies.actions_answer(PROGRAMME, acts, False, names,
                                                   lambda a: True)))
    out.append(("case", *replies.case_answer(big_case(), PROGRAMME)))
    out.append(("history", *replies.history_answer(big_history(), PROGRAMME, names)))
    w = Waiting(feedback=[big_feedback(False)] * 10, concerns=[big_concern()] * 10,
                actions=acts, team_feedback=[big_feedback(False)] * 20, team_actions=acts)
    out.append(("my", *waiting.my_answer({"person": "p.mgr", "name": "P"}, w, names)))
    out.append(("help", *replies.help_answer()))
    return out


@pytest.mark.parametrize("what,text,blocks", every_message(), ids=lambda x: x
                         if isinstance(x, str) and len(x) < 40 else "")
def test_every_message_reaches_slack_whole_in_parts_it_takes(
        what: str, text: str, blocks: list[dict[str, Any]]) -> None:
    sent = parts(text, blocks)
    for _, part in sent:
        assert blocks_refused("chat.postMessage", {"blocks": part}) == "", what
        assert len(part) <= 50 and block_text_length(part) <= 11000
    # Every word built arrives, in order (a section split is split between words).
    whole = " ".join(all_text(blocks).split())
    arrived = " ".join(" ".join(all_text(p).split()) for _, p in sent)
    for word in whole.split():
        assert word in arrived
    assert len(arrived) >= len(whole)
    # And as /audit answers them: a page at a time, each within the limits, with More.
    page, number = page_of(text, blocks, "q", 1), 1
    while True:
        assert blocks_refused("chat.postMessage", {"blocks": page[1]}) == ""
        more = [e for blk in page[1] if blk["type"] == "actions" for e in blk["elements"]
                if e["action_id"] == "answer.more"]
        if not more:
            break
        number += 1
        page = page_of(text, blocks, "q", number)
    assert number == len(parts(text, blocks)) or number >= 1


@pytest.mark.parametrize("what,text,blocks", every_message(), ids=lambda x: x
                         if isinstance(x, str) and len(x) < 40 else "")
def test_no_iso_date_class_name_or_json_in_what_people_see(
        what: str, text: str, blocks: list[dict[str, Any]]) -> None:
    for shown in [text] + [all_text(p) for _, p in parts(text, blocks)]:
        assert not ISO_DATE.search(shown), (what, ISO_DATE.search(shown))
        assert not JSON_SHAPE.search(shown), what
        for name in EVENT_NAMES:
            assert name not in shown, (what, name)
        assert "UTC" not in shown and "by import" not in shown


def test_home_tab_pages_hold_everything_within_slacks_view_limits() -> None:
    acts = big_actions()
    w = Waiting(feedback=[big_feedback(False)] * 10, concerns=[big_concern()] * 10,
                actions=acts, team_actions=acts)
    person = {"person": "p.mgr", "name": "P", "roles": ["manager"], "agency": "agency-03"}
    first = waiting.home_view(person, w, names)
    total = int(re.search(r"Page 1 of (\d+)", all_text(first["blocks"])).group(1))  # type: ignore[union-attr]
    seen = ""
    for n in range(1, total + 1):
        view = waiting.home_view(person, w, names, page=n)
        assert blocks_refused("views.publish", {"view": view}) == ""
        assert len(view["blocks"]) <= 100
        seen += all_text(view["blocks"])
    for a in acts:
        assert f"`{a['id']}`" in seen


def test_the_answers_form_keeps_long_earlier_answers_whole() -> None:
    doc = big_feedback(True)
    doc["responses"]["1"]["response"] = long_text(999, 4500)  # recorded from the console
    view = answering.answer_modal(doc, PROGRAMME, {"p": "big-2026"}, list(range(1, 9)), "p.sw")
    assert len(view["blocks"]) <= 100
    for blk in view["blocks"]:
        element = blk.get("element") or {}
        assert len(element.get("initial_value") or "") <= 3000
    box = next(blk for blk in view["blocks"] if blk.get("block_id") == "issue-1")
    assert "initial_value" not in box["element"]  # never pre-filled clipped ...
    answers, errors = answering.read_answers(doc, {}, list(range(1, 9)))  # ... so left empty,
    # it is kept as it was
    assert 1 not in answers and "issue-1" not in errors
    shown = " ".join(all_text(view["blocks"]).split())
    assert " ".join(doc["responses"]["1"]["response"].replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;").split()[-5:]) in shown


def test_every_form_built_from_the_largest_data_is_one_slack_opens() -> None:
    acts = big_actions()
    long_action = next(a for a in acts if len(a["description"]) > 3000)
    forms = {
        "answers": answering.answer_modal(big_feedback(True), PROGRAMME, {"p": "big-2026"},
                                          list(range(1, 9)), "p.sw"),
        "one answer": answering.answer_modal(big_feedback(False), PROGRAMME, {"p": "big-2026"},
                                             [3], "p.sw"),
        "concern action": m.concern_action_modal(big_concern(), {"p": "big-2026"},
                                                 {**PROGRAMME, "channel": "C0AUDIT"}),
        "update": m.action_update_modal(long_action, {"p": "big-2026"}),
        "complete": m.action_complete_modal(long_action, {"p": "big-2026"}),
    }
    for what, view in forms.items():
        assert blocks_refused("views.open", {"view": view}) == "", what
        shown = " ".join(all_text(view["blocks"]).split())
        assert ISO_DATE.search(shown) is None, what
        assert len(view["private_metadata"]) <= 3000 and len(view["title"]["text"]) <= 24
    # The long description and the concern's summary arrive whole, split between sections.
    description = " ".join(long_action["description"].replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;").split())
    assert description in " ".join(all_text(forms["update"]["blocks"]).split())
    summary = " ".join(big_concern()["summary"].replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;").split())
    assert summary in " ".join(all_text(forms["concern action"]["blocks"]).split())
