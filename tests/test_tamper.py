"""The hash chain, on both stores: rows changed by hand in the database are caught by `verify`.

Each test reaches the tables directly (sqlite3, or psycopg in the test's schema), as someone
with access to the database would, and then runs the installed console script.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from audit_ledger.wiring import Wiring
from ledger import commands as c
from ledger.application import AuditLedger
from ledger.chain import CHAIN_TABLE, GENESIS, link
from ledger.concerns import Concern
from ledger.importer import import_pack
from ledger.pack import parse_pack
from ledger.settings import parse_url

from .conftest import PG_BASE, CollidingSaves, run_cli


class Raw:
    """The store's two tables, the events and their chain, reached without the ledger."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            import sqlite3

            self.conn: Any = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
            self.events, self.nid, self.chain = "stored_events", "rowid", CHAIN_TABLE
        else:
            import psycopg

            schema = parse_qs(urlparse(url).query)["schema"][0]
            self.conn = psycopg.connect(PG_BASE, autocommit=True)
            self.events = f"{schema}.auditledger_events"
            self.nid, self.chain = "notification_id", f"{schema}.{CHAIN_TABLE}"

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        sql = sql.format(events=self.events, nid=self.nid, chain=self.chain)
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        cur = self.conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []

    def ids(self) -> list[int]:
        return [r[0] for r in self.run("SELECT {nid} FROM {events} ORDER BY {nid}")]

    def at(self, position: int) -> int:
        """The notification id of the event at a position (1 = the first stored)."""
        return self.ids()[position - 1]

    def event(self, position: int) -> tuple[Any, ...]:
        return self.run("SELECT {nid}, originator_id, originator_version, topic, state "
                        "FROM {events} WHERE {nid}=?", self.at(position))[0]

    def chain_rows(self) -> list[tuple[Any, ...]]:
        return self.run("SELECT position, notification_id, hash FROM {chain} ORDER BY position")

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def loaded(wiring: Wiring, store_url: str, mini_pack: dict[str, Any]) -> Iterator[Raw]:
    """The mini audit imported into a fresh store, and the store's tables at hand."""
    import_pack(wiring.app, parse_pack(mini_pack))
    wiring.follower.catch_up()
    raw = Raw(store_url)
    try:
        yield raw
    finally:
        raw.close()


def verify(url: str, *args: str) -> tuple[int, str, str]:
    result = run_cli("verify", *args, url=url)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def test_an_intact_store_verifies(loaded: Raw, store_url: str) -> None:
    count = len(loaded.ids())
    assert count > 20
    chain = loaded.chain_rows()
    assert [r[0] for r in chain] == list(range(1, count + 1))
    assert [r[1] for r in chain] == loaded.ids()
    code, out, err = verify(store_url)
    assert code == 0, err
    assert f"verified {count} events" in out and "intact" in out
    assert f"head position {count}, hash {chain[-1][2]}" in out
    data = json.loads(run_cli("verify", "--format", "json", url=store_url, check=True).stdout)
    assert data["intact"] and data["checked"] == count and data["head"]["hash"] == chain[-1][2]


def _edit_state_byte(raw: Raw) -> tuple[int, str]:
    nid, *_, state = raw.event(5)
    changed = bytes([state[0] ^ 1]) + bytes(state[1:])
    raw.run("UPDATE {events} SET state=? WHERE {nid}=?", changed, nid)
    return 5, "its content does not match its recorded hash"


def _edit_version(raw: Raw) -> tuple[int, str]:
    raw.run("UPDATE {events} SET originator_version=999 WHERE {nid}=?", raw.at(11))
    return 11, "its content does not match its recorded hash"


def _delete_row(raw: Raw) -> tuple[int, str]:
    nid = raw.at(7)
    raw.run("DELETE FROM {events} WHERE {nid}=?", nid)
    return 7, f"notification {nid}, recorded at this position, is missing from the log"


def _delete_last_row(raw: Raw) -> tuple[int, str]:
    count = len(raw.ids())
    raw.run("DELETE FROM {events} WHERE {nid}=?", raw.at(count))
    return count, "events were deleted"


def _forged_row(raw: Raw, like: int) -> tuple[Any, ...]:
    *_, topic, state = raw.event(like)
    forged = uuid.uuid4()
    return (forged.hex if raw.sqlite else forged, 1, topic, state)


def _insert_at_end(raw: Raw) -> tuple[int, str]:
    count = len(raw.ids())
    raw.run("INSERT INTO {events} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)", *_forged_row(raw, 3))
    return count + 1, "has no recorded hash: it was added outside the ledger"


def _insert_before_first(raw: Raw) -> tuple[int, str]:
    raw.run("INSERT INTO {events} ({nid}, originator_id, originator_version, topic, state) "
            "VALUES (0, ?, ?, ?, ?)", *_forged_row(raw, 3))
    return 1, "notification 0 is not in the chain"


def _insert_in_a_gap(raw: Raw) -> tuple[int, str]:
    # Make room between positions 8 and 9 by moving the tail up (as a forger would), then
    # put a forged event in the room.
    nid = raw.at(9)
    top = max(raw.ids())
    raw.run("UPDATE {events} SET {nid}={nid}+? WHERE {nid}>=?", top + 10, nid)
    raw.run("UPDATE {events} SET {nid}={nid}-? WHERE {nid}>?", top + 9, top)
    raw.run("INSERT INTO {events} ({nid}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)", nid, *_forged_row(raw, 4))
    return 9, "its content does not match its recorded hash"


def _swap_contents(raw: Raw) -> tuple[int, str]:
    a, b = raw.event(4), raw.event(9)
    raw.run("UPDATE {events} SET topic=?, state=? WHERE {nid}=?", b[3], b[4], a[0])
    raw.run("UPDATE {events} SET topic=?, state=? WHERE {nid}=?", a[3], a[4], b[0])
    return 4, "its content does not match its recorded hash"


def _reorder(raw: Raw) -> tuple[int, str]:
    a, b = raw.at(3), raw.at(6)
    raw.run("UPDATE {events} SET {nid}=-1 WHERE {nid}=?", a)
    raw.run("UPDATE {events} SET {nid}=? WHERE {nid}=?", a, b)
    raw.run("UPDATE {events} SET {nid}=? WHERE {nid}=-1", b)
    return 3, "its content does not match its recorded hash"


def _edit_recorded_hash(raw: Raw) -> tuple[int, str]:
    raw.run("UPDATE {chain} SET hash=? WHERE position=8", "0" * 64)
    return 8, "its content does not match its recorded hash"


def _delete_chain_record(raw: Raw) -> tuple[int, str]:
    raw.run("DELETE FROM {chain} WHERE position=6")
    return 6, "the chain has no record of this position"


TAMPERING: dict[str, Callable[[Raw], tuple[int, str]]] = {
    "edit a state byte": _edit_state_byte,
    "edit a version": _edit_version,
    "delete a row": _delete_row,
    "delete the last row": _delete_last_row,
    "insert a forged row at the end": _insert_at_end,
    "insert a forged row before the first": _insert_before_first,
    "insert a forged row in a gap": _insert_in_a_gap,
    "swap two rows' contents": _swap_contents,
    "reorder two rows": _reorder,
    "edit a recorded hash": _edit_recorded_hash,
    "delete a chain record": _delete_chain_record,
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_caught_at_the_first_bad_position(loaded: Raw, store_url: str,
                                                       how: str) -> None:
    position, why = TAMPERING[how](loaded)
    code, out, err = verify(store_url)
    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"the log was altered at position {position}: "), lines[0]
    assert why in lines[0], lines[0]
    assert "intact" not in out
    data = json.loads(run_cli("verify", "--format", "json", url=store_url).stdout)
    assert data["intact"] is False and data["bad_position"] == position
    refused = run_cli("export-digest", url=store_url)
    assert refused.returncode == 1 and "no digest was exported" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("how", ["delete the last row", "edit a recorded hash"])
def test_the_ledger_keeps_recording_after_tampering_and_verify_still_names_it(
        loaded: Raw, wiring: Wiring, store_url: str, how: str) -> None:
    if how == "edit a recorded hash":  # the chain's head itself, made into garbage
        count = len(loaded.ids())
        loaded.run("UPDATE {chain} SET hash='not a hash' WHERE position=?", count)
        position = count
    else:
        position, _ = TAMPERING[how](loaded)
    outcome = wiring.app.raise_concern(c.RaiseConcern(
        by="sch.aud", programme="mini-2026", case="K02", agency="school",
        summary="Attendance fell in the spring term.", occurred_on=date(2026, 3, 2)))
    assert outcome.changed
    code, _, err = verify(store_url)
    assert code == 1 and err.startswith(f"the log was altered at position {position}: "), err


def test_cutting_the_tail_is_caught_only_with_an_exported_digest(
        loaded: Raw, wiring: Wiring, store_url: str, tmp_path: Path) -> None:
    count = len(loaded.ids())
    digest_file = tmp_path / "digest.json"
    run_cli("export-digest", "-o", str(digest_file), url=store_url, check=True)
    digest = json.loads(digest_file.read_text())
    assert digest["position"] == digest["count"] == count
    assert digest["hash"] == loaded.chain_rows()[-1][2]
    assert {"position", "hash", "count", "exported_at"} <= set(digest)
    assert verify(store_url, "--digest", str(digest_file))[0] == 0

    # The log grows after the export: it still extends the digest.
    wiring.app.raise_concern(c.RaiseConcern(
        by="sch.aud", programme="mini-2026", case="K02", agency="school",
        summary="Attendance fell in the spring term.", occurred_on=date(2026, 3, 2)))
    code, out, _ = verify(store_url, "--digest", str(digest_file))
    assert code == 0 and "still extends the digest" in out

    # Someone removes the last three events and their chain records: the chain alone is
    # consistent, so only the digest kept outside can tell.
    for nid in loaded.ids()[-3:]:
        loaded.run("DELETE FROM {events} WHERE {nid}=?", nid)
        loaded.run("DELETE FROM {chain} WHERE notification_id=?", nid)
    code, out, err = verify(store_url)
    assert code == 0 and f"verified {count - 2} events" in out, err
    code, out, err = verify(store_url, "--digest", str(digest_file))
    assert code == 1
    warning, problem = err.strip().splitlines()  # this store is kept without a key
    assert warning.startswith(f"warning: the digest {digest_file} is not signed")
    assert problem == (f"the log was altered: the digest exported {digest['exported_at']} "
                       f"records {count} events but the log now has {count - 2}: events "
                       f"were removed from its end (positions {count - 1} to {count})")


def test_a_rewritten_chain_is_caught_only_with_an_exported_digest(
        loaded: Raw, store_url: str, tmp_path: Path) -> None:
    digest_file = tmp_path / "digest.json"
    run_cli("export-digest", "-o", str(digest_file), url=store_url, check=True)
    count = len(loaded.ids())
    # A forger who knows the algorithm edits an event and recomputes every later hash.
    nid, *_, state = loaded.event(10)
    loaded.run("UPDATE {events} SET state=? WHERE {nid}=?", bytes(state) + b" ", nid)
    previous = bytes.fromhex(loaded.chain_rows()[8][2])
    for position in range(10, count + 1):
        previous = link(previous, loaded.event(position))
        loaded.run("UPDATE {chain} SET hash=? WHERE position=?", previous.hex(), position)
    assert verify(store_url)[0] == 0
    code, _, err = verify(store_url, "--digest", str(digest_file))
    assert code == 1
    assert err.splitlines()[-1].startswith(
        f"the log was altered at or before position {count}: its hash there is "
        f"{previous.hex()} but the digest")


def test_a_digest_that_is_not_one_is_refused(loaded: Raw, store_url: str,
                                             tmp_path: Path) -> None:
    for text, why in [("{", "not valid JSON"), ("[]", "not a digest"),
                      (json.dumps({"kind": "audit-ledger log digest", "version": 1,
                                   "position": -1, "hash": "ab"}), "\"position\" must be")]:
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        result = run_cli("verify", "--digest", str(bad), url=store_url)
        assert result.returncode == 2 and why in result.stderr, result.stderr
        assert result.stderr.startswith(f"error: {bad}: ") and "Traceback" not in result.stderr


def test_an_empty_store_verifies_and_exports(wiring: Wiring, store_url: str,
                                            tmp_path: Path) -> None:
    code, out, err = verify(store_url)
    assert code == 0 and "verified 0 events" in out, err
    digest_file = tmp_path / "digest.json"
    run_cli("export-digest", "-o", str(digest_file), url=store_url, check=True)
    assert json.loads(digest_file.read_text())["hash"] == GENESIS.hex()
    assert verify(store_url, "--digest", str(digest_file))[0] == 0


def test_gaps_in_notification_ids_do_not_break_the_chain(loaded: Raw, wiring: Wiring,
                                                         store_url: str) -> None:
    # A transaction that inserts and rolls back: PostgreSQL's sequence keeps the ids it gave.
    before = loaded.ids()
    loaded.run("BEGIN")
    loaded.run("INSERT INTO {events} (originator_id, originator_version, topic, state) "
               "VALUES (?, ?, ?, ?)", *_forged_row(loaded, 3))
    loaded.run("ROLLBACK")
    assert loaded.ids() == before
    wiring.app.raise_concern(c.RaiseConcern(
        by="sch.aud", programme="mini-2026", case="K02", agency="school",
        summary="Attendance fell in the spring term.", occurred_on=date(2026, 3, 2)))
    after = loaded.ids()
    if not loaded.sqlite:
        assert after[-1] > before[-1] + 1, "the rolled-back insert left a gap"
    code, out, err = verify(store_url)
    assert code == 0 and f"verified {len(after)} events" in out, err
    assert [r[1] for r in loaded.chain_rows()] == after


def test_concurrent_writers_keep_one_chain(loaded: Raw, wiring: Wiring, store_url: str) -> None:
    """Four writers at once, each recording actions on one concern (their first saves made to
    collide, so conflicts are certain) and raising concerns of its own: one chain, no gap."""
    shared = wiring.fresh_views().concerns("mini-2026")[0]["ref"]
    writers, rounds = 4, 8
    colliding = CollidingSaves(wiring.app, threading.Barrier(writers))
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(rounds):
                wiring.app.record_concern_action(c.RecordConcernAction(
                    by="sch.mgr", programme="mini-2026", concern=shared,
                    action=f"Writer {n} step {i}.", occurred_on=date(2026, 3, 2)))
                wiring.app.raise_concern(c.RaiseConcern(
                    by="sch.aud", programme="mini-2026", case="K01", agency="school",
                    summary=f"Writer {n} note {i}.", occurred_on=date(2026, 3, 2)))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    before = len(loaded.ids())
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert colliding.conflicts >= writers - 1, "the writers never met a conflict"
    actions = [e for e in wiring.app.repository.event_store.get(
                   wiring.app.ids.concern_id("mini-2026", shared))
               if isinstance(e, Concern.ActionRecorded)]
    assert sorted(e.action for e in actions) == sorted(
        f"Writer {n} step {i}." for n in range(writers) for i in range(rounds))
    after = loaded.ids()
    assert len(after) == before + 2 * writers * rounds + 1  # + the concern's acknowledgement
    assert [r[1] for r in loaded.chain_rows()] == after
    code, out, err = verify(store_url)
    assert code == 0 and f"verified {len(after)} events" in out, err


def _stored_before_the_chain(store_url: str, mini_pack: dict[str, Any]) -> None:
    """The mini audit as the ledger stored it before it kept a chain: its events and case keys,
    and no chain table."""
    settings = parse_url(store_url)
    if settings.kind == "postgres":
        import psycopg

        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {settings.pg_schema}")
    ledger = AuditLedger(env=settings.library_env())
    try:
        import_pack(ledger, parse_pack(mini_pack))
    finally:
        ledger.close()
    raw = Raw(store_url)
    try:
        raw.run("DROP TABLE {chain}")
    finally:
        raw.close()


def test_a_store_written_before_the_chain_is_refused_until_adopted_explicitly(
        store_url: str, mini_pack: dict[str, Any]) -> None:
    _stored_before_the_chain(store_url, mini_pack)
    raw = Raw(store_url)
    try:
        count = len(raw.ids())
        # Nothing chains it silently: verify says the chain is missing, every write refuses.
        code, _, err = verify(store_url)
        assert code == 1 and "the hash chain is missing or empty beside stored events" in err
        with pytest.raises(Exception, match="event_chain"):
            raw.chain_rows()
        refused = run_cli("concern", "raise", "mini-2026", "K02", "--agency", "school",
                          "--by", "sch.aud", "--summary", "Attendance fell.", url=store_url)
        assert refused.returncode == 2 and "audit-ledger adopt-chain" in refused.stderr
        assert len(raw.ids()) == count
        # Only a quality lead adopts it, and the adoption is said and recorded.
        denied = run_cli("adopt-chain", "--by", "sch.aud", url=store_url)
        assert denied.returncode == 2 and "Traceback" not in denied.stderr
        adopted = run_cli("adopt-chain", "--by", "ql", url=store_url, check=True)
        assert f"adopted the log of {count} events" in adopted.stdout
        assert "recorded as adopted by ql (an event in the log" in adopted.stdout
        assert raw.run("SELECT position, adopted_by FROM {chain}_adoptions") == [(count, "ql")]
        code, out, err = verify(store_url)
        assert code == 0 and f"verified {count + 1} events" in out, err  # and the adoption's
        assert f"the chain was adopted at position {count} by ql on " in out
        assert "nothing shows whether they were changed before then" in out
        assert f"the adoption is recorded as the event at position {count + 1}" in out
        assert raw.event(count + 1)[3] == "audit-ledger:ChainAdopted"
        assert [r[1] for r in raw.chain_rows()] == raw.ids()
        again = run_cli("adopt-chain", "--by", "ql", url=store_url)
        assert again.returncode == 2 and "already has a hash chain" in again.stderr
        # The row verify prints is checked against the event the log keeps.
        raw.run("UPDATE {chain}_adoptions SET adopted_by='sc.mgr'")
        code, _, err = verify(store_url)
        assert code == 1 and err.strip() == (
            f"the log was altered at position {count + 1}: the chain's adoption recorded here "
            f"says position {count} by ql, but the row beside the chain says position {count} "
            "by sc.mgr: the row was changed outside the ledger")
        raw.run("DELETE FROM {chain}_adoptions")
        code, _, err = verify(store_url)
        assert code == 1 and err.strip() == (
            f"the log was altered at position {count + 1}: the chain's adoption recorded here "
            "has no row beside the chain: the row was removed outside the ledger")
        raw.run("INSERT INTO {chain}_adoptions VALUES (?, ?, ?)", count, "ql",
                "2026-12-01T00:00:00+00:00")
        assert verify(store_url)[0] == 0
        _edit_state_byte(raw)
        code, _, err = verify(store_url)
        assert code == 1 and "at position 5:" in err
    finally:
        raw.close()


def test_an_adoption_recorded_beside_the_chain_only_is_finished_as_an_event(
        store_url: str, mini_pack: dict[str, Any]) -> None:
    """Release 0.1 recorded an adoption only as a row beside the chain: `verify` says so, and
    `adopt-chain` run again records it in the log, keeping who adopted it and when."""
    _stored_before_the_chain(store_url, mini_pack)
    ledger = AuditLedger(env=parse_url(store_url).library_env())
    try:
        count, _ = ledger.recorder.adopt_chain("ql", "2026-11-30T09:00:00+00:00")  # type: ignore[attr-defined]
    finally:
        ledger.close()
    code, out, err = verify(store_url)
    assert code == 0 and f"verified {count} events" in out, err
    assert "the chain was adopted at position " f"{count} by ql on 30 November 2026" in out
    assert "the adoption is recorded only beside the chain, not in the log" in out
    finished = run_cli("adopt-chain", "--by", "ql", url=store_url, check=True)
    assert f"the adoption of the log at position {count} by ql is now recorded as an event " \
        "in the log too" in finished.stdout
    code, out, err = verify(store_url)
    assert code == 0 and f"verified {count + 1} events" in out, err
    assert f"the adoption is recorded as the event at position {count + 1}" in out
    data = json.loads(run_cli("verify", "--format", "json", url=store_url).stdout)
    assert data["adoptions"] == [{"position": count, "by": "ql",
                                  "at": "2026-11-30T09:00:00+00:00",
                                  "event_position": count + 1}]
    again = run_cli("adopt-chain", "--by", "ql", url=store_url)
    assert again.returncode == 2 and "already has a hash chain" in again.stderr
