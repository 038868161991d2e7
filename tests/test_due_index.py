"""The due index: an item is found on the day it falls due (not the day before), moves when a
delivery or an escalation moves its day, and is not found once settled; the sweep reads only
what it lists. On both stores, on the fixed calendar of Easter 2026."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from audit_ledger.wiring import Wiring, wire
from bot.clock import FixedClock
from bot.worker import Worker
from ledger import commands as c
from ledger.base import Act
from ledger.importer import import_pack
from ledger.pack import parse_pack
from policies.subjects import (
    CONCERN_ALERT,
    FEEDBACK,
    action_purpose,
    action_subject,
    concern_subject,
    feedback_reminder_purpose,
    feedback_subject,
)
from projections.due_dates import due_by

from .conftest import CLOCK_DAY, bot_services, worker_pack
from .fake_slack import FakeSlack

PID = "mini-2026"


def found(w: Wiring, day: date) -> set[str]:
    """What the sweep would check on `day`: the items the due index lists up to it."""
    w.follower.catch_up()
    return set(due_by(w.store, day).get(PID, {}))


def deliver(w: Wiring, subject: str, purpose: str, recipient: str, on: date) -> None:
    assert w.app.record_delivery(PID, subject, purpose, recipient, "U0X", "D0X", "1.0",
                                 Act("audit-ledger-worker", on.isoformat())).changed


@pytest.fixture
def mini(wiring: Wiring, mini_pack: dict[str, Any]) -> Wiring:
    import_pack(wiring.app, parse_pack(worker_pack(mini_pack)), "import")
    return wiring


def test_a_concern_falls_due_after_its_steps_deadline_and_leaves_when_acknowledged(
        mini: Wiring) -> None:
    w = mini
    ref = w.app.raise_concern(c.RaiseConcern(
        programme=PID, case="K01", agency="social-care", by="sc.aud", summary="Not seen.",
        occurred_on=CLOCK_DAY)).message.split()[1]
    item = f"concern/{PID}/{ref}"
    # Raised Thursday 2 April; Good Friday and Easter Monday are not working days, so step 1's
    # two working days are 7 and 8 April: due on the 9th.
    assert item not in found(w, date(2026, 4, 8))
    assert item in found(w, date(2026, 4, 9))
    # Its managers first told on Tuesday 7 April: step 1 starts then, due on Friday 10th.
    deliver(w, concern_subject(ref), CONCERN_ALERT, "sc.mgr", date(2026, 4, 7))
    assert item not in found(w, date(2026, 4, 9))
    assert item in found(w, date(2026, 4, 10))
    # Escalated to step 2 on the 10th: five working days (13-17 April), due on the 18th.
    assert w.app.escalate_concern(PID, ref, 2, ["sc.head"], "late",
                                  Act("audit-ledger-worker", "2026-04-10")).changed
    assert item not in found(w, date(2026, 4, 17))
    assert item in found(w, date(2026, 4, 18))
    # Acknowledged: settled, never found again.
    w.app.acknowledge_concern(c.AcknowledgeConcern(programme=PID, concern=ref, by="sc.mgr",
                                                   occurred_on=date(2026, 4, 14)))
    assert item not in found(w, date(2030, 1, 1))
    assert not w.store.get("due_item", item)


def test_feedback_reminders_and_action_reminders_fall_due_and_settle(mini: Wiring) -> None:
    w = mini
    k01 = f"feedback/{PID}/K01/social-care"
    action, digest = f"action/{PID}/A1.1", f"digest/{PID}"
    assert k01 not in found(w, date(2030, 1, 1))  # not delivered: no reminder can fall due
    deliver(w, feedback_subject("K01", "social-care"), FEEDBACK, "sc.sw", CLOCK_DAY)
    # Five working days after 2 April (Easter between): Monday 13 April.
    assert k01 not in found(w, date(2026, 4, 12))
    assert k01 in found(w, date(2026, 4, 13))
    deliver(w, feedback_subject("K01", "social-care"), feedback_reminder_purpose(1), "sc.sw",
            date(2026, 4, 13))
    assert k01 not in found(w, date(2026, 4, 19))  # the second after ten: Monday 20 April
    assert k01 in found(w, date(2026, 4, 20))
    w.app.acknowledge_feedback(c.AcknowledgeFeedback(
        programme=PID, case="K01", agency="social-care", by="sc.sw",
        occurred_on=date(2026, 4, 14)))
    assert k01 not in found(w, date(2030, 1, 1))

    # A1.1, due 30 June: due soon from 16 June, overdue (and in the digest) from 1 July.
    assert action not in found(w, date(2026, 6, 15))
    assert found(w, date(2026, 6, 16)) >= {action}
    assert digest not in found(w, date(2026, 6, 30))
    deliver(w, action_subject("A1.1"), action_purpose("due soon", "2026-06-30"), "sch.mgr",
            date(2026, 6, 16))
    assert action not in found(w, date(2026, 6, 30))
    assert found(w, date(2026, 7, 1)) >= {action, digest}
    # Replanned to September: its reminders start again from the new date.
    assert w.app.replan_action(c.ReplanAction(
        programme=PID, action="A1.1", by="ql", reason="Schools closed for summer",
        due=date(2026, 9, 30), occurred_on=date(2026, 6, 20))).changed
    assert not found(w, date(2026, 9, 15)) & {action, digest}
    assert action in found(w, date(2026, 9, 16))
    assert w.app.complete_action(c.CompleteAction(
        programme=PID, action="A1.1", by="ql", evidence="Every school confirmed",
        occurred_on=date(2026, 9, 1))).changed
    assert not found(w, date(2030, 1, 1)) & {action, digest}

    # What is left is what the log says: folded afresh, the index is the same.
    before = [d for d in w.store.dump() if d[0].startswith("due")]
    w.follower.rebuild()
    assert [d for d in w.store.dump() if d[0].startswith("due")] == before


@pytest.fixture
def worker(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack
           ) -> Iterator[tuple[Wiring, Worker, FixedClock]]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    clock = FixedClock(CLOCK_DAY)
    services = bot_services(w, fake_slack, clock=clock)
    try:
        yield w, Worker(services), clock
    finally:
        services.close()
        w.close()


def test_the_sweep_reads_only_what_falls_due(worker: tuple[Wiring, Worker, FixedClock],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    w, worker_, clock = worker
    refs = [w.app.raise_concern(c.RaiseConcern(
        programme=PID, case="K01", agency="social-care", by="sc.aud", summary=f"Concern {i}.",
        occurred_on=CLOCK_DAY)).message.split()[1] for i in range(3)]
    worker_.tick()  # alerted, feedback sent, the first sweep (nothing due yet)
    w.app.acknowledge_concern(c.AcknowledgeConcern(programme=PID, concern=refs[0],
                                                   by="sc.mgr", occurred_on=CLOCK_DAY))
    worker_.tick()
    read: list[tuple[str, str]] = []
    get_many, scan = w.store.get_many, w.store.scan

    def reading_many(keys: list[tuple[str, str]]) -> Any:
        read.extend(keys)
        return get_many(keys)

    def scanning(view: str, prefix: str = "") -> Any:
        read.append((view, prefix + "*"))
        return scan(view, prefix)

    monkeypatch.setattr(w.store, "get_many", reading_many)
    monkeypatch.setattr(w.store, "scan", scanning)
    clock.day = date(2026, 4, 9)  # step 1's deadline (8 April) passed for the two left open
    worker_.tick()
    concern_reads = {k for v, k in read if v == "concern"}
    assert concern_reads == {f"{PID}/{refs[1]}", f"{PID}/{refs[2]}"}  # not the settled one
    assert not [r for r in read if r[0] in ("person", "feedback", "action", "case")
                and r[1].endswith("*")]  # nothing listed whole
    for ref in refs[1:]:
        assert w.views.concern(PID, ref)["step"] == 2  # type: ignore[index]
    assert w.views.concern(PID, refs[0])["step"] == 1  # type: ignore[index]
    # Escalated: each is filed under its new step's day, not found again today.
    assert not {f"concern/{PID}/{r}" for r in refs} & found(w, date(2026, 4, 9))
