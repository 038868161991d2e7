"""Bindings of console identities to operating-system accounts, seen and undone: `person list`
shows each binding by account name, and `person unlink-os-user` undoes one by a recorded event,
by a quality lead only; refusals say who can help and write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit_ledger.shared import os_account
from audit_ledger.wiring import wire

from .conftest import run_cli
from .test_import_identity import refused, written


def _listed(url: str) -> dict[str, str]:
    """Each person's line of `person list`."""
    out = run_cli("person", "list", url=url, check=True).stdout
    return {line.split("  ")[0]: line for line in out.splitlines()}


def test_bindings_are_listed_by_name_and_undone_by_a_quality_lead(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    me = os_account()
    run_cli("import", written(tmp_path, "mini.json", mini_pack), url=store_url, check=True)
    before = json.loads(run_cli("person", "list", "--format", "json", url=store_url,
                                check=True).stdout)
    assert all("os_user" not in p for p in before)  # unbound: listed as before
    assert all("os account" not in line for line in _listed(store_url).values())

    run_cli("person", "link-os-user", "sc.aud", "not-a-user-here", "--by", "ql",
            url=store_url, check=True)
    run_cli("person", "link-os-user", "mod", me, "--by", "ql", url=store_url, check=True)
    listed = _listed(store_url)
    assert listed["sc.aud"].endswith("  os account not-a-user-here (no such account on this "
                                     "machine)")
    import pwd
    uid = pwd.getpwnam(me).pw_uid
    assert listed["mod"].endswith(f"  os account {me} (uid {uid})")
    assert "os account" not in listed["ql"]
    people = {p["person"]: p for p in json.loads(run_cli(
        "person", "list", "--format", "json", url=store_url, check=True).stdout)}
    assert people["sc.aud"]["os_user"] == "not-a-user-here" and "os_user" not in people["ql"]

    # sc.aud cannot act from here; who can help is named, and only a quality lead may undo it.
    said = refused(store_url, "concern", "raise", "mini-2026", "K02", "--agency", "school",
                   "--by", "sc.aud", "--summary", "Attendance fell and nobody asked why.")
    assert "ask a quality lead to change the binding (audit-ledger person link-os-user) or " \
        "undo it (audit-ledger person unlink-os-user)" in said
    said = refused(store_url, "person", "unlink-os-user", "sc.aud", "--by", "sch.aud")
    assert said.startswith("error: sch.aud: to register person you need the role quality-lead")
    said = refused(store_url, "person", "unlink-os-user", "sc.aud", "--by", "sc.aud")
    assert "only from the operating-system account not-a-user-here" in said
    said = refused(store_url, "person", "unlink-os-user", "nobody", "--by", "ql")
    assert "nobody" in said

    undone = run_cli("person", "unlink-os-user", "sc.aud", "--by", "ql", url=store_url,
                     check=True).stdout
    assert undone.strip() == ("sc.aud is no longer bound to the operating-system account "
                              "not-a-user-here: at the console, --by sc.aud is taken at its "
                              "word again, from any account")
    again = run_cli("person", "unlink-os-user", "sc.aud", "--by", "ql", url=store_url,
                    check=True).stdout
    assert "sc.aud is not bound to an operating-system account" in again
    assert "os account" not in _listed(store_url)["sc.aud"]
    run_cli("concern", "raise", "mini-2026", "K02", "--agency", "school", "--by", "sc.aud",
            "--summary", "Attendance fell and nobody asked why.", url=store_url, check=True)

    w = wire(store_url, "")
    try:
        topics = [n.topic for n in w.app.recorder.select_notifications(start=None, limit=500)]
    finally:
        w.close()
    assert topics.count("audit-ledger:OsUserUnlinked") == 1  # recorded, once
    assert run_cli("verify", url=store_url).returncode == 0
