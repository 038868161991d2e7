"""How the bot knows its views are behind the log, on both stores: the views' positions and
the log's head read in one statement, agreeing with the log's own read of its head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_ledger.wiring import Wiring
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.sqlite_views import SQLiteViewStore


def _read_together(w: Wiring) -> tuple[dict[str, int], int | None]:
    table: str = w.app.recorder.events_table_name  # type: ignore[attr-defined]
    return w.store.positions_and_head(table)


def test_behind_until_caught_up_and_again_after_a_new_event(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    import_pack(wiring.app, parse_pack(mini_pack))
    positions, head = _read_together(wiring)
    assert head == wiring.follower.head() > 0 and positions == wiring.store.positions()
    assert wiring.follower.is_behind()
    wiring.follower.catch_up()
    assert not wiring.follower.is_behind()
    assert _read_together(wiring) == (wiring.store.positions(), wiring.follower.head())
    wiring.app.record_feedback_seen(c.RecordFeedbackSeen(
        by="sc.mgr", programme="mini-2026", case="K01", agency="social-care"))
    assert _read_together(wiring)[1] == wiring.follower.head() == head + 1
    assert wiring.follower.is_behind()


def test_a_sqlite_file_without_the_log_says_to_ask_the_log(tmp_path: Path) -> None:
    store = SQLiteViewStore(str(tmp_path / "views-only.db"))
    try:
        assert store.positions_and_head("auditledger_events") == ({}, None)
    finally:
        store.close()
