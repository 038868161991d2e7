"""The README's single facts, end to end through the console script: what each prints, what is then stored.

Each test sets its store up in this process (the import is tested elsewhere), runs a story of
commands as a person would, and checks the store itself afterwards through a wiring of its own.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from audit_ledger.wiring import Wiring, wire
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.history import case_history
from projections.partitions import PARTITIONS
from projections.views import position_name

from .conftest import log_head, run_cli

PID = "mini-2026"


@pytest.fixture
def pack(mini_pack: dict[str, Any]) -> dict[str, Any]:
    """The mini audit with a second action (another owner, due sooner) and a second concern."""
    mini_pack["actions"].append({
        "id": "A1.2", "recommendation": 1, "description": "Check every review has a school report",
        "measure": "Quarterly dip sample", "owner": "sc.mgr", "due": "2026-03-31"})
    mini_pack["concerns"].append({
        "case": "K02", "agency": "social-care", "raised_by": "sc.aud",
        "summary": "Visits missed over the summer.", "child_at_risk": False,
        "raised_on": "2026-02-04"})
    return mini_pack


@pytest.fixture
def loaded(wiring: Wiring, pack: dict[str, Any]) -> Wiring:
    import_pack(wiring.app, parse_pack(pack), "import")
    wiring.follower.catch_up()
    return wiring


def _step(w: Wiring, case: str, event: str) -> dict[str, Any]:
    """The last step of that kind in the case's history, read from the log."""
    refs = [k["ref"] for k in w.views.concerns(PID) if k["case"] == case]
    steps = case_history(w.app, PID, case, None, None, refs)["steps"]
    return [s for s in steps if s["event"] == event][-1]  # type: ignore[no-any-return]


def test_grade_record_on_a_world_date(store_url: str, loaded: Wiring) -> None:
    head = log_head(loaded)
    denied = run_cli("grade", "record", PID, "K01", "--agency", "school", "--area", "3",
                     "--grade", "4", "--by", "sch.t", url=store_url)
    assert denied.returncode == 2 and "you need the role auditor" in denied.stderr
    assert log_head(loaded) == head  # refused: nothing written

    done = run_cli("grade", "record", PID, "K01", "--agency", "school", "--area", "3",
                   "--grade", "4", "--by", "sch.aud", "--on", "2026-02-10", url=store_url,
                   check=True)
    assert done.stdout == "area 3 graded 4 for school on case K01\n"
    assert log_head(loaded) == head + 1
    area3 = loaded.fresh_views().judgements(PID, "K01")["areas"]["3"]
    assert area3["grade"] == 4  # the worst of social care's 2 and the school's new 4
    assert {"agency": "school", "grade": 4} in area3["contributions"]
    step = _step(loaded, "K01", "AreaGraded")
    assert (step["by"], step["area"], step["grade"]) == ("sch.aud", "3", 4)
    assert step["occurred_on"] == "2026-02-10"  # the world's date, not the day it was typed

    shown = run_cli("case", PID, "K01", url=store_url, check=True).stdout
    assert "Area 3 Referral: 4 inadequate (worst of school 4, social-care 2)" in shown


def test_concern_action_close_and_the_open_list(store_url: str, loaded: Wiring) -> None:
    refs = {k["case"]: k["ref"] for k in loaded.views.concerns(PID)}
    school, social_care = refs["K01"], refs["K02"]
    both = run_cli("concern", "list", PID, "--open", url=store_url, check=True).stdout
    assert school in both and social_care in both

    acted = run_cli("concern", "action", PID, school, "--action",
                    "Head teacher sent the report to the chair", "--by", "sch.mgr",
                    "--on", "2026-02-12", url=store_url, check=True)
    assert acted.stdout == f"action recorded on concern {school}\n"
    closed = run_cli("concern", "close", PID, school, "--outcome", "Report now on file",
                     "--by", "sch.mgr", "--on", "2026-02-20", url=store_url, check=True)
    assert closed.stdout == f"concern {school} closed\n"

    still_open = run_cli("concern", "list", PID, "--open", url=store_url, check=True).stdout
    assert social_care in still_open and school not in still_open
    every = run_cli("concern", "list", PID, url=store_url, check=True).stdout
    assert f"{school}  case K01  school  raised 2026-02-02 by sch.aud  step 1  closed" in every

    held = loaded.fresh_views().concern(PID, school)
    assert held is not None and held["closed"] and held["outcome"] == "Report now on file"
    assert held["actions"] == [{"action": "Head teacher sent the report to the chair",
                                "by": "sch.mgr", "on": "2026-02-12"}]
    assert held["acknowledged_by"] == "sch.mgr"  # acting on a concern acknowledges it
    assert _step(loaded, "K01", "ConcernClosed")["occurred_on"] == "2026-02-20"
    other = loaded.views.concern(PID, social_care)
    assert other is not None and not other["closed"] and other["actions"] == []

    raised = run_cli("concern", "raise", PID, "K02", "--agency", "school", "--summary",
                     "No record of the child's views", "--by", "sch.aud", "--on", "2026-03-02",
                     url=store_url, check=True)
    assert raised.returncode == 0
    listed = run_cli("concern", "list", PID, "--open", url=store_url, check=True).stdout
    assert "case K02  school  raised 2026-03-02 by sch.aud" in listed


def test_action_replan_complete_and_the_filtered_lists(store_url: str, loaded: Wiring) -> None:
    def listed(*args: str) -> str:
        return run_cli("action", "list", PID, *args, url=store_url, check=True).stdout

    overdue = listed("--overdue", "--today", "2026-05-01")
    assert overdue.startswith("A1.2  rec 1  sc.mgr  due 2026-03-31  RAG -  OVERDUE 31 days")
    assert "A1.1" not in overdue  # due 2026-06-30: not overdue on 1 May
    owned = listed("--owner", "sc.mgr", "--today", "2026-05-01")
    assert "A1.2" in owned and "A1.1" not in owned

    replanned = run_cli("action", "replan", PID, "A1.2", "--reason",
                        "Dip sample moved to the summer term", "--due", "2026-07-31",
                        "--owner", "sch.mgr", "--by", "ql", "--on", "2026-04-20",
                        url=store_url, check=True)
    assert replanned.stdout == "action A1.2 replanned: owner sch.mgr, due 2026-07-31\n"
    assert listed("--overdue", "--today", "2026-05-01") == "No actions.\n"

    completed = run_cli("action", "complete", PID, "A1.1", "--evidence",
                        "All 40 schools confirmed in writing", "--by", "sch.mgr",
                        "--on", "2026-05-02", url=store_url, check=True)
    assert completed.stdout == "action A1.1 completed\n"
    rows = json.loads(listed("--owner", "sch.mgr", "--today", "2026-08-15", "--format", "json"))
    assert [(a["id"], a["completed"], a["overdue_days"]) for a in rows] == [
        ("A1.1", True, 0), ("A1.2", False, 15)]

    views = loaded.fresh_views()
    a11, a12 = views.action(PID, "A1.1"), views.action(PID, "A1.2")
    assert a11 is not None and a12 is not None
    assert (a11["completed_on"], a11["evidence"], a11["rag"]) == (
        "2026-05-02", "All 40 schools confirmed in writing", "green")
    assert (a12["owner"], a12["due"]) == ("sch.mgr", "2026-07-31")
    assert a12["replans"] == [{"from_due": "2026-03-31", "reason":
                               "Dip sample moved to the summer term", "by": "ql",
                               "on": "2026-04-20", "evidence_before": ""}]


def test_person_revoke_and_manager(store_url: str, loaded: Wiring) -> None:
    revoked = run_cli("person", "revoke", "sc.aud", "--role", "auditor", "--by", "ql",
                      url=store_url, check=True)
    assert revoked.stdout == "sc.aud no longer holds the auditor role\n"
    head = log_head(loaded)
    denied = run_cli("grade", "revise", PID, "K01", "--agency", "social-care", "--area", "4",
                     "--grade", "2", "--reason", "seen alone after all", "--by", "sc.aud",
                     url=store_url)
    assert denied.returncode == 2
    assert "sc.aud: to revise grade you need the role auditor" in denied.stderr
    assert log_head(loaded) == head

    moved = run_cli("person", "manager", "sch.t", "--manager", "sc.mgr", "--by", "ql",
                    url=store_url, check=True)
    assert moved.stdout == "sch.t's manager is now sc.mgr\n"
    unknown = run_cli("person", "manager", "sch.t", "--manager", "nobody", "--by", "ql",
                      url=store_url)
    assert unknown.returncode == 2 and "'nobody' is not in the directory" in unknown.stderr

    views = loaded.fresh_views()
    auditor, teacher = views.person("sc.aud"), views.person("sch.t")
    assert auditor is not None and auditor["roles"] == []
    assert teacher is not None and teacher["manager"] == "sc.mgr"
    assert loaded.views.judgements(PID, "K01")["areas"]["4"]["grade"] == 3  # unrevised


def test_url_and_key_given_as_options_win_over_the_environment(
        store_url: str, tmp_path: Path, pack: dict[str, Any]) -> None:
    key, other = AESCipher.create_key(num_bytes=32), AESCipher.create_key(num_bytes=32)
    decoy = f"sqlite:///{tmp_path / 'decoy.db'}"  # what AUDIT_LEDGER_URL names in each run
    pack_file = tmp_path / "mini.json"
    pack_file.write_text(json.dumps(pack))

    loaded = run_cli("--url", store_url, "--key", key, "import", str(pack_file),
                     url=decoy, key=other, check=True)
    assert loaded.stdout.startswith(f"imported into {PID}:")
    without = run_cli("--url", store_url, "case", PID, "K01", url=decoy, key=other)
    assert without.returncode == 2  # the environment's key does not open what --key wrote
    assert "AUDIT_LEDGER_KEY does not open this store" in without.stderr
    shown = json.loads(run_cli("--url", store_url, "--key", key, "case", PID, "K01",
                               "--format", "json", url=decoy, key=other, check=True).stdout)
    assert shown["areas"]["6"]["grade"] == 4

    assert not (tmp_path / "decoy.db").exists()  # the environment's store was never opened
    w = wire(store_url, key)
    try:
        assert w.fresh_views().programme(PID)["title"] == "Mini audit"
        assert len(w.views.concerns(PID)) == 2
    finally:
        w.close()


def test_rebuild_leaves_the_views_as_they_were_and_status_shows_the_position(
        store_url: str, loaded: Wiring) -> None:
    # One event stored but not yet folded, as when a process stops between the two.
    loaded.app.revise_grade(c.ReviseGrade(programme=PID, case="K01", agency="school", area="6",
                                          grade=3, reason="report found on file",
                                          by="sch.aud", occurred_on=date(2026, 2, 20)))
    head = log_head(loaded)
    behind = run_cli("projections", "status", url=store_url, check=True).stdout
    assert behind.startswith(f"log head {head}; views at {head - 1} (1 events behind) in ")

    loaded.follower.catch_up()
    folded = loaded.store.dump()  # the views as folding event by event left them
    position = loaded.follower.position()
    ref = loaded.views.concerns(PID)[0]["ref"]
    damaged = {**(loaded.views.concern(PID, ref) or {}), "closed": True}
    loaded.store.commit({("action", f"{PID}/A1.1"): None, ("concern", f"{PID}/{ref}"): damaged},
                        {position_name(p): position for p in PARTITIONS},
                        position)  # two documents spoilt by hand
    assert loaded.store.dump() != folded
    rebuilt = run_cli("projections", "rebuild", url=store_url, check=True)
    assert rebuilt.stdout == f"rebuilt the views from {head} events; now at {head} of {head}\n"
    assert loaded.store.dump() == folded
    assert loaded.views.judgements(PID, "K01")["areas"]["6"]["grade"] == 3

    status = json.loads(run_cli("projections", "status", "--format", "json", url=store_url,
                                check=True).stdout)
    assert status["head"] == head
    assert status["views"] and all(v == {"position": head, "behind": 0}
                                    for v in status["views"].values())
