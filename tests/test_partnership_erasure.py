"""`partnership erase` is an event with the quality lead who authorised it and the order:
refused (nothing destroyed, nothing recorded) for anyone else, finished when re-run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit_ledger.wiring import wire
from ledger.partnership import Partnership

from .conftest import partnership_pack, run_cli
from .test_partnership_export import KEY
from .test_partnership_keys import TEXT, _texts

REASON = "Contract ended, board decision 2026-07"


def _partnership(url: str, partnership: str) -> Partnership | None:
    w = wire(url, KEY)
    try:
        return w.app.find(Partnership, w.app.ids.partnership_id(partnership))  # type: ignore[no-any-return]
    finally:
        w.close()


def _imported(url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> str:
    north = partnership_pack(mini_pack, "northbridge", "Northbridge SCP", "U1")
    (tmp_path / "north.json").write_text(json.dumps(north), encoding="utf-8")
    run_cli("import", str(tmp_path / "north.json"), url=url, key=KEY, check=True)
    return str(north["programme"]["id"])


def test_only_a_quality_lead_of_the_partnership_may_erase_it_and_nothing_changes_otherwise(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    programme = _imported(store_url, tmp_path, mini_pack)
    for by, said in (("sc.mgr", "quality-lead"), ("ghost", "no person 'ghost'")):
        refused = run_cli("partnership", "erase", "northbridge", "--by", by, "--reason", REASON,
                          "--yes", url=store_url, key=KEY)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    missing = run_cli("partnership", "erase", "northbridge", "--yes", "--reason", REASON,
                      url=store_url, key=KEY)
    assert missing.returncode == 2 and "--by" in missing.stderr
    named = run_cli("partnership", "erase", "northbridge", "--by", "ql", "--reason",
                    "Order about NHS 943 476 5919", "--yes", url=store_url, key=KEY)
    assert named.returncode == 2 and "reason" in named.stderr, named.stderr
    assert TEXT in _texts(store_url, programme)
    found = _partnership(store_url, "northbridge")
    assert found is not None and found.erased is None


def test_the_erasure_is_recorded_with_its_authoriser_and_reason_and_rerunning_says_so(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    programme = _imported(store_url, tmp_path, mini_pack)
    erased = run_cli("partnership", "erase", "northbridge", "--by", "ql", "--reason", REASON,
                     "--yes", url=store_url, key=KEY, check=True)
    assert "data key is destroyed" in erased.stdout
    found = _partnership(store_url, "northbridge")
    assert found is not None and found.erased is not None
    assert (found.erased["by"], found.erased["reason"]) == ("ql", REASON)
    assert TEXT not in _texts(store_url, programme)
    again = run_cli("partnership", "erase", "northbridge", "--by", "ql", "--reason", REASON,
                    "--yes", url=store_url, key=KEY, check=True)
    assert "already erased" in again.stdout and "by ql" in again.stdout
    verified = run_cli("verify", url=store_url, key=KEY)
    assert verified.returncode == 0, verified.stderr


def test_an_erasure_recorded_but_stopped_before_its_key_went_is_finished_when_run_again(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    programme = _imported(store_url, tmp_path, mini_pack)
    w = wire(store_url, KEY)
    try:  # the event saved, the process killed before the key was destroyed
        found = w.app.find(Partnership, w.app.ids.partnership_id("northbridge"))
        assert found is not None
        found.trigger_event(Partnership.TextErased, by="ql", occurred_on="2026-07-01", key="",
                            reason=REASON)
        w.app.save(found)
    finally:
        w.close()
    assert TEXT in _texts(store_url, programme)
    finished = run_cli("partnership", "erase", "northbridge", "--by", "ql", "--reason", REASON,
                       "--yes", url=store_url, key=KEY, check=True)
    assert "is now complete" in finished.stdout, finished.stdout
    assert TEXT not in _texts(store_url, programme)
