"""Each partnership's data key wraps its cases' keys: destroying it (`partnership erase`)
erases every sealed text of that partnership, and nothing of another, with the log untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit_ledger.wiring import wire
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import partnership_pack, run_cli
from .test_partnership_export import KEY

TEXT = "Clear chronology kept."
ORDER = ("--by", "ql", "--reason", "Contract ended, board decision 2026-07")


def _texts(url: str, programme: str) -> str:
    """Everything the ledger reads back from a case's events, as one string."""
    w = wire(url, KEY)
    try:
        events = w.app.recorder.select_events(w.app.ids.case_id(programme, "K01"))
        return repr([vars(w.app.mapper.to_domain_event(e)) for e in events])
    finally:
        w.close()


@pytest.mark.parametrize("older_case_keys", [False, True], ids=["new", "older-keys"])
def test_destroying_a_partnerships_key_erases_its_text_only_and_the_log_verifies(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], older_case_keys: bool) -> None:
    north = partnership_pack(mini_pack, "northbridge", "Northbridge SCP", "U1")
    south = partnership_pack(mini_pack, "southmoor", "Southmoor SCP", "U2")
    if older_case_keys:  # case keys wrapped with the store's key, as before partnership keys
        w = wire(store_url, KEY)
        try:
            assert w.app.mapper.keys is not None  # type: ignore[attr-defined]
            w.app.mapper.keys.partnerships = None  # type: ignore[attr-defined]
            import_pack(w.app, parse_pack(north))
        finally:
            w.close()
    else:
        (tmp_path / "north.json").write_text(json.dumps(north), encoding="utf-8")
        run_cli("import", str(tmp_path / "north.json"), url=store_url, key=KEY, check=True)
    (tmp_path / "south.json").write_text(json.dumps(south), encoding="utf-8")
    run_cli("import", str(tmp_path / "south.json"), url=store_url, key=KEY, check=True)
    assert TEXT in _texts(store_url, north["programme"]["id"])

    unsure = run_cli("partnership", "erase", "northbridge", *ORDER, url=store_url, key=KEY)
    assert unsure.returncode == 2 and "--yes" in unsure.stderr
    assert TEXT in _texts(store_url, north["programme"]["id"])
    erased = run_cli("partnership", "erase", "northbridge", *ORDER, "--yes", url=store_url,
                     key=KEY, check=True)
    assert "data key is destroyed" in erased.stdout

    assert TEXT not in _texts(store_url, north["programme"]["id"])
    assert "[erased]" in _texts(store_url, north["programme"]["id"])
    assert TEXT in _texts(store_url, south["programme"]["id"])
    verified = run_cli("verify", url=store_url, key=KEY)
    assert verified.returncode == 0, verified.stderr
    refused = run_cli("concern", "raise", north["programme"]["id"], "K01", "--agency", "school",
                      "--by", "sch.aud", "--summary", "Another worry.", url=store_url, key=KEY)
    assert refused.returncode == 2 and "erased" in refused.stderr, refused.stderr
    raised = run_cli("concern", "raise", south["programme"]["id"], "K01", "--agency", "school",
                     "--by", "sch.aud", "--summary", "Another worry.", url=store_url, key=KEY)
    assert raised.returncode == 0, raised.stderr
    unknown = run_cli("partnership", "erase", "eastfield", *ORDER, "--yes", url=store_url,
                      key=KEY)
    assert unknown.returncode == 2 and "not in this store" in unknown.stderr
