"""What people see, read as they would read it: the bundled Lontown audit served by the Bolt app
and its worker against the fake Slack, every message, answer, form and Home tab collected and
read for an ISO date, a class name, JSON, UTC or "by import" (none may appear), and for dates
said the British way."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from slack_bolt import BoltRequest

from audit_ledger.wiring import wire
from bot.app import build_app
from bot.clock import FixedClock
from bot.worker import Worker
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import bot_services, demo_pack
from .fake_slack import FakeSlack, all_text, block_actions, buttons, signed_headers, slash_command

SECRET = "seen-signing-secret"
SPRING = date(2010, 3, 15)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ISO_TIME = re.compile(r"\d{2}:\d{2}:\d{2}")
JSON_SHAPE = re.compile(r"[{\[]\s*\"|\"\s*:\s*[\"{\[\d]")
CLASS_NAME = re.compile(r"\b(?:[A-Z][a-z]+){2,}\b")
"""Two or more capitalised words run together: ReturnRecorded, FeedbackIssued, NotInViews."""
BRITISH_DAY = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) "
                         r"\d{1,2} (?:January|February|March|April|May|June|July|August|"
                         r"September|October|November|December) \d{4}\b")


def test_no_iso_date_class_name_or_json_in_anything_a_person_sees(
        tmp_path: Path, fake_slack: FakeSlack) -> None:
    w = wire(f"sqlite:///{tmp_path / 'seen.db'}", "")
    pack = demo_pack()
    pack["programme"]["channel"] = "C0LSCB"
    import_pack(w.app, parse_pack(pack), "import")
    services = bot_services(w, fake_slack, clock=FixedClock(SPRING))
    bolt = build_app(services, signing_secret=SECRET, client=services.deliver.client)
    answers: list[dict[str, Any]] = []

    def send(body: str, kind: str = "application/x-www-form-urlencoded") -> Any:
        headers: dict[str, str | Sequence[str]] = {
            k.lower(): [v] for k, v in signed_headers(body, SECRET, content_type=kind).items()}
        response = bolt.dispatch(BoltRequest(body=body, headers=headers))
        assert services.wait_idle(timeout=60)
        return response

    def ask(user: str, text: str) -> dict[str, Any]:
        answer = json.loads(send(slash_command(user, "someone", text,
                                               fake_slack.response_url())).body)
        answers.append(answer)
        return answer  # type: ignore[no-any-return]

    try:
        clock = FixedClock(SPRING)
        services.clock = clock
        worker = Worker(services, clock)
        worker.tick()  # every practitioner's feedback, their managers' copies, concern alerts
        clock.day = date(2010, 3, 31)  # unacknowledged concerns climb the ladder
        worker.tick()
        assert any("Escalated to you" in c.body["text"]
                   for c in fake_slack.calls_to("chat.postMessage"))
        for user, text in [("U0QABENNET", "progress"), ("U0QABENNET", "actions"),
                           ("U0QABENNET", "actions overdue"), ("U0QABENNET", "case c01"),
                           ("U0QABENNET", "history C01"), ("U0QABENNET", "history C01 2"),
                           ("U0TMKHAN", "my"), ("U0TJONES", "my"), ("U0CHAIRFOR", "history C01"),
                           ("U0TJONES", "case C01"), ("U0NOBODY", "my"), ("U0TJONES", "help"),
                           ("U0QABENNET", "case C99"), ("U0QABENNET", "history C01 9")]:
            ask(user, text)
        # Presses: a practitioner acknowledges her feedback; the form to answer it opens; a
        # manager opens the form to record an action; an owner's action form opens.
        dm = next(c for c in fake_slack.calls_to("chat.postMessage")
                  if c.body["channel"] == "DU0TJONES")
        message = {"ts": dm.answer["ts"], "text": dm.body["text"], "blocks": dm.body["blocks"]}
        for action_id in ("feedback.acknowledge", "feedback.respond"):
            found = buttons(message["blocks"]).get(action_id)
            if found:
                send(block_actions("U0TJONES", "t", message, "DU0TJONES", found,
                                   fake_slack.response_url()))
        mine = ask("U0TMKHAN", "my")
        listed = {"ts": "1.1", "text": mine["text"], "blocks": mine["blocks"]}
        for action_id in ("concern.record_action", "action.update", "action.complete",
                          "feedback.acknowledge"):
            found = buttons(listed["blocks"]).get(action_id)
            if found:
                send(block_actions("U0TMKHAN", "k", listed, "D0CHANNEL", found,
                                   fake_slack.response_url(), ephemeral=True))
        worker.tick()
        from .fake_slack import app_home_opened

        send(app_home_opened("U0TMKHAN", "Ev0SEEN1"), "application/json")
        send(app_home_opened("U0QABENNET", "Ev0SEEN2"), "application/json")
    finally:
        services.wait_idle()
        services.close()
        w.close()

    seen: list[tuple[str, str]] = []
    for call in fake_slack.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral",
                           "response_url"):
            seen.append((call.method, str(call.body.get("text") or "")))
            seen.append((call.method, all_text(call.body.get("blocks") or [])))
        elif call.method in ("views.open", "views.publish", "views.update"):
            seen.append((call.method, all_text((call.body.get("view") or {}).get("blocks")
                                               or [])))
    for answer in answers:
        seen.append(("answer", str(answer.get("text") or "")))
        seen.append(("answer", all_text(answer.get("blocks") or [])))
    methods = {m for m, _ in seen}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish",
            "answer"} <= methods, methods
    assert len(seen) > 100
    assert any("was recorded by" in t for m, t in seen if m == "answer")  # a story was told
    for method, text in seen:
        for pattern in (ISO_DATE, ISO_TIME, JSON_SHAPE, CLASS_NAME):
            hit = pattern.search(text)
            assert hit is None, f"{method}: {hit.group()!r} in {text[:300]!r}"
        assert "UTC" not in text and "by import" not in text, (method, text[:300])
    everything = "\n".join(t for _, t in seen)
    assert BRITISH_DAY.search(everything)
    assert re.search(r"overdue (by \d+ days?|since [A-Z][a-z]+ \d{4})", everything)
