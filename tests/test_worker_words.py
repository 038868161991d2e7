"""What the worker sends people, whole and private, on both stores against the fake Slack over
real HTTP: a 12-15k-character feedback reaches its practitioner in full though Slack refuses
such a message in one; a refusal for size is split smaller, never final; the programme's
channel is told that an action was recorded, not what it was; an erasure reaches every copy."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from audit_ledger.wiring import Wiring, wire
from bot.clock import FixedClock
from bot.services import BotServices
from bot.worker import Worker
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack

from .conftest import CLOCK_DAY, bot_services, worker_pack
from .fake_slack import Call, FakeSlack, all_text, buttons

PID = "mini-2026"
VOCABULARY = ("the plan was reviewed but the child was not seen alone and the core group did "
              "not meet within ten working days so the risks at home were not reassessed after "
              "the incident reported by school").split()
AREAS = ["2", "3", "4", "5", "6", "7", "8", "overall"]


def prose(seed: int, length: int) -> str:
    """Plain sentences of `length` characters, distinct for each seed (a marker word leads each
    sentence), and free of anything an identifier check would take for a name or number."""
    out, n = "", 0
    while len(out) < length:
        n += 1
        words = [VOCABULARY[(seed * 7 + n * 3 + i) % len(VOCABULARY)] for i in range(14)]
        out += f"Point{'abcdefghij'[seed % 10]}{'abcdefghij'[n % 10]}{'abcdefghij'[n // 10 % 10]} " \
            + " ".join(words) + ". "
    return out[:length].rsplit(" ", 1)[0] + "."


@dataclass
class Rig:
    wiring: Wiring
    fake: FakeSlack
    services: BotServices
    worker: Worker

    def posts(self, channel: str) -> list[Call]:
        return [p for p in self.fake.calls_to("chat.postMessage") if p.answer.get("ok")
                and p.body.get("channel") == channel]

    def tick(self) -> None:
        self.worker.tick()


def long_pack(mini_pack: dict[str, Any]) -> dict[str, Any]:
    """The worker's mini audit, K01's social-care return raising eight issues of 1,500
    characters (with good practice), so its feedback is 12-15k characters."""
    pack = copy.deepcopy(worker_pack(mini_pack))
    ret = next(r for r in pack["returns"] if r["case"] == "K01" and r["agency"] == "social-care")
    ret["concerns"] = {a: prose(i, 1500) for i, a in enumerate(AREAS)}
    ret["strengths"] = {"2": prose(20, 600)}
    return pack


@pytest.fixture
def rig(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> Iterator[Rig]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(long_pack(mini_pack)), "import")
    services = bot_services(w, fake_slack, clock=FixedClock(CLOCK_DAY))
    try:
        yield Rig(w, fake_slack, services, Worker(services))
    finally:
        services.close()
        w.close()


def words_of(text: str) -> str:
    return " ".join(text.replace("&amp;", "&").split())


def k01_parts(posts: list[Call]) -> list[Call]:
    return [p for p in posts if "case K01 (social-care)" in p.body["text"]]


def test_a_long_feedback_reaches_its_practitioner_whole_and_every_part_is_kept_up_to_date(
        rig: Rig) -> None:
    issues = [prose(i, 1500) for i in range(len(AREAS))]
    rig.tick()
    sent = k01_parts(rig.posts("DU0SCSW"))
    shown = words_of(" ".join(all_text(p.body["blocks"]) for p in sent))
    assert 12000 <= len(shown) and len(sent) >= 2
    for text in issues:
        assert words_of(text) in shown  # whole, in one section or across two
    # No message Slack was sent for it was refused, and the buttons come last.
    refused = [x for x in rig.fake.calls_to("chat.postMessage") if not x.answer.get("ok")]
    assert refused == []
    assert set(buttons(sent[-1].body["blocks"])) >= {"feedback.acknowledge", "feedback.respond"}
    assert [set(buttons(p.body["blocks"])) for p in sent[:-1]] == [{"feedback.answer"}] * (
        len(sent) - 1)  # the parts before hold only their issues' own Answer buttons
    assert "Continued: part 2 of" in all_text(sent[1].body["blocks"])
    # The worker records each part where it landed.
    recorded = {(d["purpose"], d["ts"]) for d in rig.services.views.deliveries(PID)
                if d["subject"] == "feedback/K01/social-care" and d["recipient"] == "sc.sw"}
    assert recorded == {("feedback" if n == 0 else f"feedback part {n + 1}", p.answer["ts"])
                        for n, p in enumerate(sent)}

    # Acknowledged and answered: every part is brought up to date in place.
    rig.wiring.app.acknowledge_feedback(c.AcknowledgeFeedback(
        programme=PID, case="K01", agency="social-care", by="sc.sw", occurred_on=CLOCK_DAY))
    rig.tick()
    updated = {u.body["ts"] for u in rig.fake.calls_to("chat.update")
               if u.body["channel"] == "DU0SCSW"}
    assert {p.answer["ts"] for p in sent} <= updated
    last = [u for u in rig.fake.calls_to("chat.update") if u.body["ts"] == sent[-1].answer["ts"]]
    assert "Acknowledged by Sasha Worker on" in all_text(last[-1].body["blocks"])


def test_a_message_slack_refuses_as_too_long_is_split_smaller_and_sent(rig: Rig) -> None:
    rig.fake.text_limit = 5000  # a Slack stricter than the one reported
    rig.tick()
    refused = [x for x in rig.fake.calls_to("chat.postMessage")
               if x.answer.get("error") == "msg_blocks_too_long"]
    assert refused  # Slack said no at first ...
    sent = k01_parts(rig.posts("DU0SCSW"))
    shown = words_of(" ".join(all_text(p.body["blocks"]) for p in sent))
    for i in range(len(AREAS)):
        assert words_of(prose(i, 1500)) in shown  # ... and still every word arrived
    purposes = sorted(d["purpose"] for d in rig.services.views.deliveries(PID)
                      if d["subject"] == "feedback/K01/social-care" and d["recipient"] == "sc.sw")
    assert len(purposes) == len(sent) >= 3


def test_the_channel_is_told_an_action_was_recorded_not_what_it_was(rig: Rig) -> None:
    outcome = rig.wiring.app.raise_concern(c.RaiseConcern(
        programme=PID, case="K01", agency="social-care", by="sc.aud",
        summary="Core group did not meet.", child_at_risk=False, occurred_on=CLOCK_DAY))
    ref = outcome.message.split()[1]
    rig.tick()
    channel = [p for p in rig.posts("C0AUDIT") if ref in p.body["text"]]
    manager = [p for p in rig.posts("DU0SCMGR") if ref in p.body["text"]]
    assert len(channel) == 1 and len(manager) == 1
    typed = "Spoke to the team manager at home about the family's housing."
    rig.wiring.app.record_concern_action(c.RecordConcernAction(
        programme=PID, concern=ref, action=typed, by="sc.mgr", occurred_on=CLOCK_DAY))
    rig.tick()

    def latest(ts: str) -> str:
        return all_text([u for u in rig.fake.calls_to("chat.update")
                         if u.body["ts"] == ts][-1].body["blocks"])
    in_channel = latest(channel[0].answer["ts"])
    assert "Action recorded by Sam Manager* on Thursday 2 April 2026." in in_channel
    assert "housing" not in in_channel and "not in this channel" in in_channel
    assert typed in latest(manager[0].answer["ts"]).replace("&#x27;", "'")


def test_erasure_reaches_every_slack_copy_the_worker_recorded(rig: Rig) -> None:
    outcome = rig.wiring.app.raise_concern(c.RaiseConcern(
        programme=PID, case="K01", agency="school", by="sch.aud",
        summary="School did not report to the review conference.", occurred_on=CLOCK_DAY))
    ref = outcome.message.split()[1]
    rig.tick()
    copies = {(p.body["channel"], p.answer["ts"]): p for p in rig.fake.calls_to("chat.postMessage")
              if p.answer.get("ok") and ("case K01" in p.body["text"] or ref in p.body["text"])}
    assert len(copies) >= 4  # feedback in parts to the worker and her manager, alerts, channel
    rig.wiring.app.erase_case_text(c.EraseCaseText(
        programme=PID, case="K01", by="ql", reason="ICO order 2026-114", occurred_on=CLOCK_DAY),
        [ref])
    rig.tick()  # the views keep the text sealed with the destroyed key: no refold needed
    latest: dict[tuple[str, str], Call] = {}
    for u in rig.fake.calls_to("chat.update"):
        latest[(u.body["channel"], u.body["ts"])] = u
    assert set(copies) <= set(latest)
    for place in copies:
        text = all_text(latest[place].body["blocks"])
        assert "review conference" not in text and not re.search(r"Point[a-j]{3}", text)
    assert "[erased]" in all_text([b for u in latest.values() for b in u.body["blocks"]])


def test_a_programme_may_let_its_channel_show_what_was_done(
        store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    pack = worker_pack(mini_pack)
    pack["programme"]["channel_detail"] = "text"
    w = wire(store_url, "")
    try:
        import_pack(w.app, parse_pack(pack), "import")
        again = import_pack(w.app, parse_pack(pack), "import")  # the same file: no change
        assert not again.changed
        services = bot_services(w, fake_slack, clock=FixedClock(CLOCK_DAY))
        worker = Worker(services)
        ref = w.app.raise_concern(c.RaiseConcern(
            programme=PID, case="K01", agency="social-care", by="sc.aud",
            summary="Core group did not meet.", occurred_on=CLOCK_DAY)).message.split()[1]
        worker.tick()
        w.app.record_concern_action(c.RecordConcernAction(
            programme=PID, concern=ref, action="Core group booked for Monday.", by="sc.mgr",
            occurred_on=CLOCK_DAY))
        worker.tick()
        channel = [u for u in fake_slack.calls_to("chat.update")
                   if u.body["channel"] == "C0AUDIT"]
        assert "Core group booked for Monday." in all_text(channel[-1].body["blocks"])
        services.close()
    finally:
        w.close()
    with pytest.raises(PackProblems) as refused:
        parse_pack({**pack, "programme": {**pack["programme"], "channel_detail": "everything"}})
    assert "programme.channel_detail" in str(refused.value)


def test_an_update_slack_refuses_as_too_long_is_split_smaller_and_rewritten_whole(
        rig: Rig) -> None:
    rig.tick()
    sent = k01_parts(rig.posts("DU0SCSW"))
    rig.fake.text_limit = 5000  # Slack turns stricter before the update
    rig.wiring.app.acknowledge_feedback(c.AcknowledgeFeedback(
        programme=PID, case="K01", agency="social-care", by="sc.sw", occurred_on=CLOCK_DAY))
    rig.tick()
    assert [u for u in rig.fake.calls_to("chat.update", ok_only=True)
            if u.answer.get("error") == "msg_blocks_too_long"]  # refused at first ...
    latest: dict[str, str] = {p.answer["ts"]: all_text(p.body["blocks"]) for p in sent}
    for u in rig.fake.calls_to("chat.update"):
        if u.answer.get("ok") and u.body["channel"] == "DU0SCSW":
            latest[u.body["ts"]] = all_text(u.body["blocks"])
    for p in rig.posts("DU0SCSW"):  # parts posted when the copy needed more
        if p.answer["ts"] not in latest and "case K01" in p.body["text"]:
            latest[p.answer["ts"]] = all_text(p.body["blocks"])
    shown = words_of(" ".join(latest.values()))
    for i in range(len(AREAS)):
        assert words_of(prose(i, 1500)) in shown  # ... then every word, in smaller parts
    assert "Acknowledged by Sasha Worker on" in shown
    parts_now = [d for d in rig.services.views.deliveries(PID)
                 if d["subject"] == "feedback/K01/social-care" and d["recipient"] == "sc.sw"]
    assert len(parts_now) > len(sent)
    assert all(any(n.startswith("FeedbackAcknowledged") for n in d.get("notes") or [])
               for d in parts_now if d["ts"] in {p.answer["ts"] for p in sent})
