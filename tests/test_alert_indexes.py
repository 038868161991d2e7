"""A concern's alert reads whom it reaches from the alert directory (one indexed read), kept by
the views as the directory changes; the directory itself is never read for an alert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from audit_ledger.wiring import Wiring, wire
from bot.clock import FixedClock
from bot.worker import Worker
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack
from policies.escalation import DEFAULT_LADDER, alert_recipients, recipients
from projections.queries import partnership_of
from projections.store import ViewStore

from .conftest import CLOCK_DAY, bot_services, partnership_pack, worker_pack
from .fake_slack import FakeSlack

PID = "mini-2026"
AGENCIES = ("social-care", "school", "csc-leadership", "partnership", "health")


def _check_every_agency_and_step(w: Wiring) -> int:
    """For every partnership, agency and step: who is alerted, worked out from the alert
    directory's two documents, is who the whole directory says. Returns the checks made."""
    from bot.directory import Directory

    views = w.fresh_views()
    directory = Directory(views)
    checks = 0
    for partnership in {partnership_of(p) for p in views.everyone()}:
        everyone = views.people(partnership)
        for agency in AGENCIES:
            for step in (s.number for s in DEFAULT_LADDER):
                # As the worker alerts: at a later step, those its escalation recorded.
                chosen = recipients(step, agency, everyone) if step > 1 else None
                concern = {"agency": agency, "raised_by": "",
                           "escalations": [{"step": step, "to": chosen}] if chosen else []}
                indexed = directory.within(partnership).for_concern(concern).people()
                assert recipients(step, agency, indexed) == recipients(step, agency, everyone)
                assert alert_recipients(step, agency, indexed, chosen) == \
                    alert_recipients(step, agency, everyone, chosen)
                checks += 1
    return checks


def test_the_alert_directory_follows_every_change_to_the_directory(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    w = wiring
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    import_pack(w.app, parse_pack(partnership_pack(worker_pack(mini_pack), "east", "East",
                                                   "UE")), "import")
    assert _check_every_agency_and_step(w) == 2 * len(AGENCIES) * len(DEFAULT_LADDER)

    app = w.app
    steps = [
        # a second manager for social-care, not yet on Slack; then linked
        lambda: app.register_person(c.RegisterPerson(
            person="sc.mgr2", name="Robin Manager", agency="social-care", roles=["manager"],
            by="ql")),
        lambda: app.link_slack_user(c.LinkSlackUser(person="sc.mgr2", slack_user="U0SCMGR2",
                                                    by="ql")),
        # the first one stops managing: step 1 goes to the second only
        lambda: app.revoke_role(c.ChangeRole(person="sc.mgr", role="manager", by="ql")),
        # a head of service above the second manager: step 2 reaches them
        lambda: app.assign_manager(c.AssignManager(person="sc.mgr2", manager="sc.head",
                                                   by="ql")),
        # the school's manager joins Slack; a moderator and a second quality lead appear
        lambda: app.link_slack_user(c.LinkSlackUser(person="sch.mgr", slack_user="U0SCHMGR",
                                                    by="ql")),
        lambda: app.grant_role(c.ChangeRole(person="mod", role="quality-lead", by="ql")),
        lambda: app.revoke_role(c.ChangeRole(person="chair", role="board", by="ql")),
        # East's social-care manager leaves the role: East's quality lead stands in there
        lambda: app.revoke_role(c.ChangeRole(person="sc.mgr", role="manager", by="ql",
                                             partnership="east")),
    ]
    for step in steps:
        assert step().changed
        _check_every_agency_and_step(w)

    # Folded afresh from the log, the alert directory is the same.
    before = [d for d in w.store.dump() if d[0].startswith("alert_")]
    w.follower.rebuild()
    assert [d for d in w.store.dump() if d[0].startswith("alert_")] == before
    assert {d[0] for d in before} == {"alert_agency", "alert_partnership"}


class Reads:
    """The view store's reads, by view, for a while."""

    def __init__(self, store: ViewStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.views: list[tuple[str, str]] = []
        self.on = False
        for name in ("get", "scan"):
            original = getattr(store, name)

            def read(view: str, key: str = "", _original: Any = original, _name: str = name
                     ) -> Any:
                if self.on:
                    self.views.append((_name, view))
                return _original(view, key)

            monkeypatch.setattr(store, name, read)
        get_many = store.get_many

        def read_many(keys: list[tuple[str, str]]) -> Any:
            if self.on:
                self.views += [("get_many", v) for v, _ in keys]
            return get_many(keys)

        monkeypatch.setattr(store, "get_many", read_many)


@pytest.fixture
def worker_rig(store_url: str, mini_pack: dict[str, Any], fake_slack: FakeSlack
               ) -> Iterator[tuple[Wiring, Worker]]:
    w = wire(store_url, "")
    import_pack(w.app, parse_pack(worker_pack(mini_pack)), "import")
    services = bot_services(w, fake_slack, clock=FixedClock(CLOCK_DAY))
    try:
        yield w, Worker(services)
    finally:
        services.close()
        w.close()


def test_a_concern_alert_reads_the_alert_directory_not_the_directory(
        worker_rig: tuple[Wiring, Worker], fake_slack: FakeSlack,
        monkeypatch: pytest.MonkeyPatch) -> None:
    w, worker = worker_rig
    worker.tick()  # the backlog (feedback) and the first sweep
    reads = Reads(w.store, monkeypatch)
    ref = w.app.raise_concern(c.RaiseConcern(
        programme=PID, case="K01", agency="social-care", by="sc.aud",
        summary="Nobody saw the child alone.", occurred_on=CLOCK_DAY)).message.split()[1]
    teller_alert = worker.teller.alert_concern
    seen: list[tuple[str, str]] = []

    def alerting(programme: str, concern: str, step: int) -> None:
        reads.on = True
        try:
            teller_alert(programme, concern, step)
        finally:
            reads.on = False
            seen.extend(reads.views)

    monkeypatch.setattr(worker.teller, "alert_concern", alerting)
    worker.react()
    posted = [p for p in fake_slack.calls_to("chat.postMessage") if ref in p.body["text"]]
    assert {p.body["channel"] for p in posted} == {"DU0SCMGR", "C0AUDIT"}
    assert "Raised by Ash Auditor" in str(posted[0].body["blocks"])  # the raiser's name read
    read_views = {v for _, v in seen}
    assert {"alert_agency", "alert_partnership", "concern", "programme"} <= read_views
    assert not [r for r in seen if r[0] == "scan"]  # no directory, nor anything else, listed
    # people are read by key only: the one the concern names (its raiser), no one else
    assert [r for r in seen if r[1] == "person"] == [("get_many", "person")]
