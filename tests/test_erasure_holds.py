"""Erasure that holds, on both stores: the views keep personal text sealed with the case's key,
so an erasure needs no refold; an erase killed at any step leaves no readable text and is
reported as pending (with its case) by `projections status` and `verify` until it is run
again; `verify --views` names the first view document that the log does not give."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from audit_ledger.wiring import wire
from ledger.case_audit import CaseAudit
from ledger.handlers.erasure import ERASE_STOP
from ledger.handlers.shared import act_of

from .conftest import PG_BASE, cli_env, console_script, run_cli

PID = "mini-2026"
KEY = "q1V0b2m3ZkZ5c2JxQ0hYd0pQeVVvT2JqUmxkN1ZzSk0="
SUMMARY = "School did not report to the review conference."  # K01's concern, in mini_pack
STRENGTH = "Clear chronology kept."  # K01's social-care return
REASON = "ICO order 2026-201 (chair of the partnership)"


def _imported(mini_pack: dict[str, Any], tmp_path: Path, url: str, key: str) -> None:
    pack = tmp_path / "pack.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=url, key=key, check=True)


def _erase(url: str, key: str, stop: str = "") -> subprocess.CompletedProcess[str]:
    extra = {ERASE_STOP: stop} if stop else {}
    return subprocess.run([console_script(), "erase", PID, "K01", "--by", "ql", "--reason",
                           REASON], capture_output=True, text=True, timeout=120,
                          env=cli_env(url, key, **extra))


def _status(url: str, key: str) -> tuple[str, list[dict[str, Any]]]:
    text = run_cli("projections", "status", url=url, key=key, check=True).stdout
    data = json.loads(run_cli("projections", "status", "--format", "json", url=url, key=key,
                              check=True).stdout)
    return text, data["erasures_pending"]


def _shown(url: str, key: str) -> str:
    """What people read of the programme: its concerns, the report, K01's history."""
    return "".join(run_cli(*args, url=url, key=key, check=True).stdout for args in (
        ("concern", "list", PID), ("report", PID, "--today", "2026-04-01", "--suppress", "0"),
        ("history", PID, "K01")))


@pytest.mark.parametrize("key", ["", KEY], ids=["no-key", "key"])
def test_an_erase_killed_between_its_steps_is_pending_until_run_again(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], key: str) -> None:
    _imported(mini_pack, tmp_path, store_url, key)
    assert SUMMARY in _shown(store_url, key)

    killed = _erase(store_url, key, stop="destroyed")  # key destroyed, erasure not recorded
    assert killed.returncode == -9, killed.stderr
    shown = _shown(store_url, key)
    assert SUMMARY not in shown and STRENGTH not in shown  # unreadable at once: no refold
    assert "[erased]" in shown
    text, pending = _status(store_url, key)
    assert [(p["programme"], p["case"], p["state"]) for p in pending] == [
        (PID, "K01", "key destroyed, not recorded")]
    assert ("erasure of case K01 in mini-2026 is pending: its key was destroyed on "
            in text)
    assert "run audit-ledger erase mini-2026 K01 again to finish it" in text
    verified = run_cli("verify", url=store_url, key=key)  # the key table against the log
    assert verified.returncode == 1, verified.stdout
    assert "case K01 in mini-2026: its key was destroyed" in verified.stderr
    assert "run audit-ledger erase again" in verified.stderr

    again = _erase(store_url, key)
    assert again.returncode == 0, again.stderr
    assert "K01's personal text is erased" in again.stdout
    text, pending = _status(store_url, key)
    assert pending == [] and "pending" not in text
    verified = run_cli("verify", "--format", "json", url=store_url, key=key, check=True)
    assert json.loads(verified.stdout)["erasures_pending"] == []
    history = json.loads(run_cli("history", PID, "K01", "--format", "json", url=store_url,
                                 key=key, check=True).stdout)
    assert [s["event"] for s in history["steps"]].count("CaseTextErased") == 1


def test_an_erase_killed_after_its_last_step_is_complete(store_url: str, tmp_path: Path,
                                                         mini_pack: dict[str, Any]) -> None:
    _imported(mini_pack, tmp_path, store_url, "")
    killed = _erase(store_url, "", stop="recorded")
    assert killed.returncode == -9, killed.stderr
    assert SUMMARY not in _shown(store_url, "")
    assert _status(store_url, "")[1] == []
    again = _erase(store_url, "")
    assert again.returncode == 0 and "already erased on" in again.stdout


def test_an_erasure_recorded_with_its_key_kept_is_pending_and_finished_by_erase(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """The other half, as the previous release's `erase` could leave it (it recorded first
    and destroyed the key second): reported, its text still readable, finished by erase."""
    _imported(mini_pack, tmp_path, store_url, "")
    w = wire(store_url, "")
    try:
        from ledger.commands import EraseCaseText

        cmd = EraseCaseText.model_validate({"programme": PID, "case": "K01", "by": "ql",
                                            "reason": REASON})
        case = w.app.case(PID, "K01")
        case.record(CaseAudit.TextErased, act_of(cmd), reason=cmd.reason)
        w.app.save(case)
        position = int(w.app.recorder.max_notification_id() or 0)
    finally:
        w.close()
    text, pending = _status(store_url, "")
    assert [(p["case"], p["state"], p["when"]) for p in pending] == [
        ("K01", "recorded, key not destroyed", str(position))]
    assert (f"erasure of case K01 in mini-2026 is pending: it is recorded (position "
            f"{position}) but the case's key is not destroyed, so its text can still be read"
            in text)
    finished = _erase(store_url, "")
    assert finished.returncode == 0 and "is now complete: its key is destroyed" in \
        finished.stdout
    assert _status(store_url, "")[1] == []
    assert SUMMARY not in _shown(store_url, "")


def _edit_view(url: str, view: str, key: str, change: Any) -> None:
    """Change one stored (unencrypted) view document by hand, as its administrator could."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url[len("sqlite:///"):]) as db:
            (raw,) = db.execute("SELECT doc FROM view_docs WHERE view=? AND key=?",
                                (view, key)).fetchone()
            db.execute("UPDATE view_docs SET doc=? WHERE view=? AND key=?",
                       (json.dumps(change(json.loads(raw))).encode(), view, key))
        return
    import psycopg

    schema = parse_qs(urlparse(url).query)["schema"][0]
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        row = conn.execute(f"SELECT doc FROM {schema}.view_docs WHERE view=%s AND key=%s",
                           (view, key)).fetchone()
        assert row is not None
        raw = row[0]
        conn.execute(f"UPDATE {schema}.view_docs SET doc=%s WHERE view=%s AND key=%s",
                     (json.dumps(change(json.loads(bytes(raw)))).encode(), view, key))


def test_verify_views_names_a_view_document_edited_by_hand(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(mini_pack, tmp_path, store_url, "")
    clean = run_cli("verify", "--views", url=store_url, check=True).stdout
    assert "the views match the log folded afresh" in clean

    def graded_2(doc: dict[str, Any]) -> dict[str, Any]:
        assert doc["judgements"]["6"]["grade"] == 4
        doc["judgements"]["6"]["grade"] = 2
        return doc

    _edit_view(store_url, "case", f"{PID}/K01", graded_2)
    served = json.loads(run_cli("case", PID, "K01", "--format", "json", url=store_url,
                                check=True).stdout)
    assert served["areas"]["6"]["grade"] == 2  # what `case` serves, believing the view

    head = json.loads(run_cli("projections", "status", "--format", "json", url=store_url,
                              check=True).stdout)["head"]
    plain = run_cli("verify", url=store_url)  # the chain covers the log, not the views
    assert plain.returncode == 0, plain.stderr
    caught = run_cli("verify", "--views", url=store_url)
    assert caught.returncode == 1, caught.stdout
    assert caught.stderr == (
        f"the stored views differ from the log folded afresh (to position {head}): view case, "
        f"key {PID}/K01: field judgements.6.grade is 2 in the stored view but 4 folded from "
        "the log\n")
    data = json.loads(run_cli("verify", "--views", "--format", "json", url=store_url).stdout)
    assert data["views"]["intact"] is False
    assert "judgements.6.grade" in data["views"]["difference"]

    run_cli("projections", "rebuild", url=store_url, check=True)  # folded again: put right
    assert run_cli("verify", "--views", url=store_url).returncode == 0


def _swap_views(url: str, view: str, one: str, other: str) -> None:
    """Swap two stored view documents' bytes, as someone with the database but no key could
    (`one` and `other`: the keys as stored; with keyed ids, hashes the attacker cannot tie to
    a case, but may swap all the same)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url[len("sqlite:///"):]) as db:
            docs = {k: d for k, d in db.execute(
                "SELECT key, doc FROM view_docs WHERE view=? AND key IN (?, ?)",
                (view, one, other))}
            for key, doc in ((one, docs[other]), (other, docs[one])):
                db.execute("UPDATE view_docs SET doc=? WHERE view=? AND key=?", (doc, view, key))
        return
    import psycopg

    schema = parse_qs(urlparse(url).query)["schema"][0]
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        docs = {k: bytes(d) for k, d in conn.execute(
            f"SELECT key, doc FROM {schema}.view_docs WHERE view=%s AND key IN (%s, %s)",
            (view, one, other))}
        for key, doc in ((one, docs[other]), (other, docs[one])):
            conn.execute(f"UPDATE {schema}.view_docs SET doc=%s WHERE view=%s AND key=%s",
                         (doc, view, key))


def test_verify_views_names_encrypted_view_documents_swapped_between_cases(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _imported(mini_pack, tmp_path, store_url, KEY)
    assert run_cli("verify", "--views", url=store_url, key=KEY).returncode == 0
    w = wire(store_url, KEY)
    try:  # where the two cases' documents are stored (keyed hashes: ids are keyed here)
        assert w.store.names_hidden
        one, other = (w.store.stored_key("case", f"{PID}/{ref}") for ref in ("K01", "K02"))
    finally:
        w.close()
    assert PID not in one + other
    _swap_views(store_url, "case", one, other)
    caught = run_cli("verify", "--views", url=store_url, key=KEY)
    assert caught.returncode == 1, caught.stdout
    assert caught.stderr.startswith("the stored views differ from the log folded afresh")
    assert f"view case, key {PID}/K01" in caught.stderr or "view case: the stored documents " \
        "could not be read" in caught.stderr, caught.stderr
    assert "Traceback" not in caught.stderr
