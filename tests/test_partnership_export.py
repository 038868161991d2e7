"""`partnership export P -o FILE`: one partnership's events, as stored, in a file that
verifies on its own (`partnership verify-export FILE`), holding none of another's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from audit_ledger.wiring import wire
from ledger.ids import PUBLIC, IdScheme
from ledger.partnership_export import verify_export

from .conftest import log_head, partnership_pack, run_cli

KEY = base64.b64encode(b"partnership-export-test-key-32b!").decode()


def _aggregates(pack: dict[str, Any], partnership: str, scheme: IdScheme) -> set[str]:
    """The ids of a pack's programme, people, cases, recommendations and actions, as a store
    naming its records by `scheme` names them."""
    programme = pack["programme"]["id"]
    found = {scheme.programme_id(programme)}
    found |= {scheme.person_id(p["id"], partnership) for p in pack["people"]}
    found |= {scheme.case_id(programme, c["ref"]) for c in pack["cases"]}
    found |= {scheme.recommendation_id(programme, r["number"]) for r in pack["recommendations"]}
    found |= {scheme.action_id(programme, a["id"]) for a in pack["actions"]}
    if partnership != "default":
        found.add(scheme.partnership_id(partnership))
    return {UUID(str(u)).hex for u in found}


def _exported(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["format"] == "audit-ledger partnership export v1"
    assert set(lines[-1]) == {"head"}
    return lines[1:-1]


def _three_partnerships(tmp_path: Path, url: str, key: str,
                        mini_pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    packs = {"default": mini_pack,
             "northbridge": partnership_pack(mini_pack, "northbridge", "Northbridge SCP", "U1"),
             "southmoor": partnership_pack(mini_pack, "southmoor", "Southmoor SCP", "U2")}
    for name, pack in packs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(pack), encoding="utf-8")
        run_cli("import", str(tmp_path / f"{name}.json"), url=url, key=key, check=True)
    return packs


@pytest.mark.parametrize("key", ["", KEY], ids=["plain", "encrypted"])
def test_each_partnership_exports_its_own_events_and_none_of_another(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], key: str) -> None:
    packs = _three_partnerships(tmp_path, store_url, key, mini_pack)
    exported: dict[str, list[dict[str, Any]]] = {}
    for name in packs:
        out = tmp_path / f"{name}.jsonl"
        done = run_cli("partnership", "export", name, "-o", str(out), url=store_url, key=key,
                       check=True)
        assert f"to {out}" in done.stdout
        exported[name] = _exported(out)
        checked = run_cli("partnership", "verify-export", str(out), url="sqlite:///nowhere/x.db")
        assert checked.returncode == 0, checked.stderr
        assert f"verified {len(exported[name])} events of partnership {name}" in checked.stdout

    w = wire(store_url, key or None)
    try:
        total, scheme = log_head(w), w.app.ids
    finally:
        w.close()
    assert scheme.name == ("keyed" if key else "public")
    for name, pack in packs.items():
        mine = {e["originator_id"] for e in exported[name]}
        assert _aggregates(pack, name, scheme) <= mine
        if key:  # named with the key: no id a dictionary of names would make
            assert not mine & _aggregates(pack, name, PUBLIC), name
        for other, other_pack in packs.items():
            if other != name:
                assert not mine & _aggregates(other_pack, other, scheme), (name, other)
    # every event of the store is in exactly one export, in the store's order
    positions = [e["position"] for events in exported.values() for e in events]
    assert sorted(positions) == list(range(1, total + 1))
    for events in exported.values():
        assert [e["position"] for e in events] == sorted(e["position"] for e in events)

    north = tmp_path / "northbridge.jsonl"
    states = [base64.b64decode(e["state"]) for e in exported["northbridge"]]
    assert not any(b"southmoor" in s for s in states)
    if key:  # stored encrypted: exported encrypted, nobody's name or text in clear
        text = north.read_text(encoding="utf-8")
        assert not any(b"Quinn Lead" in s or b"Northbridge" in s for s in states)
        assert "Quinn" not in text and "Chronology" not in text
    else:  # stored plain with sealed case text: the names as stored, the text still sealed
        assert any(b"Quinn Lead" in s for s in states)
        assert not any(b"Clear chronology kept." in s for s in states)


def test_a_flipped_byte_is_reported_at_its_line(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    _three_partnerships(tmp_path, store_url, "", mini_pack)
    out = tmp_path / "north.jsonl"
    run_cli("partnership", "export", "northbridge", "-o", str(out), url=store_url, check=True)
    original = out.read_bytes()
    lines = original.split(b"\n")[:-1]
    assert verify_export(iter(lines)).intact
    head = verify_export(iter(lines)).head

    for number in sorted({1, 2, len(lines) // 2, len(lines) - 1, len(lines)}):
        line = lines[number - 1]
        for at in (len(line) // 3, len(line) - 5):
            changed = bytearray(line)
            changed[at] ^= 0x01
            verdict = verify_export(iter([*lines[:number - 1], bytes(changed), *lines[number:]]))
            assert verdict.line == number, (number, at, verdict)
            assert verdict.problem and verdict.problem.startswith(f"line {number}: ")

    # the console script says so too, exit 1, naming the line
    middle = len(lines) // 2
    changed = bytearray(original)
    changed[sum(len(x) + 1 for x in lines[:middle - 1]) + len(lines[middle - 1]) // 2] ^= 0x04
    out.write_bytes(bytes(changed))
    refused = run_cli("partnership", "verify-export", str(out), url=store_url)
    assert refused.returncode == 1
    assert f"line {middle}: " in refused.stderr and "Traceback" not in refused.stderr

    # a line taken out: the next line's hash no longer follows
    out.write_bytes(b"".join(x + b"\n" for i, x in enumerate(lines, start=1) if i != 3))
    assert verify_export(out.read_bytes().split(b"\n")[:-1]).line == 3
    # cut short: no head
    assert verify_export(iter(lines[:-1])).problem == (
        f"line {len(lines)}: the file ends without its head: it was cut short")
    # the head given at export must match
    out.write_bytes(original)
    wrong = run_cli("partnership", "verify-export", str(out), "--head", "0" * 64, url=store_url)
    assert wrong.returncode == 1 and "not the file that was exported" in wrong.stderr
    right = run_cli("partnership", "verify-export", str(out), "--head", head, url=store_url)
    assert right.returncode == 0, right.stderr


def test_an_unknown_partnership_is_refused_and_nothing_written(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    north = partnership_pack(mini_pack, "northbridge", "Northbridge SCP", "U1")
    (tmp_path / "north.json").write_text(json.dumps(north), encoding="utf-8")
    run_cli("import", str(tmp_path / "north.json"), url=store_url, check=True)
    out = tmp_path / "x.jsonl"
    refused = run_cli("partnership", "export", "eastfield", "-o", str(out), url=store_url)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: partnership 'eastfield' is not in this store (it holds: northbridge); "
        "audit-ledger partnership list shows them")
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
