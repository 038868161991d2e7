"""Identity at the doors that take files, and console identities bound to operating-system
accounts: `import` and `import-returns` need `--by` someone of the directory who holds the
import role and records only what they could do by hand; the first pack into an empty
directory brings its own quality lead, once; a person bound to an account is acted for at the
console only from it. Each refusal says who can help and writes nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from audit_ledger.shared import os_account
from audit_ledger.wiring import wire
from ledger import commands as c
from ledger.base import NotPermitted

from .conftest import Wiring, log_head, partnership_pack, run_cli

RETURNS = ("case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
           "K02,social-care,sc.aud,sc.sw,2026-02-03,2,3,,\n"
           "K02,social-care,sc.aud,sc.sw,2026-02-03,overall,3,,\n")


def head(url: str) -> int:
    w = wire(url, "")
    try:
        return log_head(w)
    finally:
        w.close()


def refused(url: str, *args: str) -> str:
    """The one problem a refused command names, the log's head unmoved."""
    before = head(url)
    result = run_cli(*args, url=url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert head(url) == before
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def without_a_return(pack: dict[str, Any]) -> dict[str, Any]:
    """The pack less social care's return on K02, which RETURNS then brings."""
    return dict(pack, returns=[r for r in pack["returns"]
                               if (r["case"], r["agency"]) != ("K02", "social-care")])


def written(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_an_import_needs_someone_who_may_make_it(store_url: str, tmp_path: Path,
                                                  mini_pack: dict[str, Any]) -> None:
    """After the first pack, every import that writes is made by an auditor or quality lead
    of the directory, and a file records only what its importer could do by hand."""
    mini_pack = without_a_return(mini_pack)
    run_cli("import", written(tmp_path, "mini.json", mini_pack), url=store_url, check=True)
    reaudit = copy.deepcopy(mini_pack)
    reaudit["programme"]["id"] = "mini-2027"
    pack = written(tmp_path, "reaudit.json", reaudit)

    said = refused(store_url, "import", pack)
    assert said.startswith("error: --by: the directory already has people in it")
    assert "its auditors and quality leads can import (ask ql)" in said
    said = refused(store_url, "import", pack, "--by", "ghost")
    assert said == ("error: --by ghost: nobody of that id is in the directory; its auditors "
                    "and quality leads can import (ask ql)")
    said = refused(store_url, "import", pack, "--by", "sc.sw")
    assert said == ("error: --by sc.sw: Only auditors and quality leads can import an audit "
                    "pack or a returns file. Your roles in the directory: practitioner. Ask a "
                    "quality lead: ql.")
    said = refused(store_url, "import", pack, "--by", "sc.aud")
    assert said == ("error: --by sc.aud: this file would open a programme or change its terms "
                    "(quality leads only), select cases for audit (moderators and quality leads "
                    "only), add a recommendation (quality leads only) and plan an action "
                    "(quality leads only), which your roles (auditor) do not allow (ask ql)")

    # A practitioner does not become a quality lead through a pack, whoever imports it but one.
    promoted = copy.deepcopy(mini_pack)
    next(p for p in promoted["people"] if p["id"] == "sc.sw")["roles"].append("quality-lead")
    grant = written(tmp_path, "grant.json", promoted)
    for by in ("sc.sw", "sc.aud"):
        refused(store_url, "import", grant, "--by", by)
    people = json.loads(run_cli("person", "list", "--format", "json", url=store_url,
                                check=True).stdout)
    assert next(p for p in people if p["person"] == "sc.sw")["roles"] == ["practitioner"]

    # Returns are their auditors' own acts: without --by, each return is recorded as by the
    # auditor it names (who must hold that role), as `import-returns PROGRAMME RETURNS.csv`
    # has always been written; a --by must still hold the import role; a file that writes
    # nothing needs nobody.
    returns = written(tmp_path, "returns.csv", RETURNS)
    said = refused(store_url, "import-returns", "mini-2026", returns, "--by", "sc.sw")
    assert said.startswith("error: --by sc.sw: Only auditors and quality leads can import")
    done = run_cli("import-returns", "mini-2026", returns, url=store_url, check=True)
    assert "imported into mini-2026: 1 returns, 1 feedback issued (2 events)" in done.stdout
    again = run_cli("import-returns", "mini-2026", returns, "--by", "sc.aud", url=store_url,
                    check=True)
    assert "nothing to import" in again.stdout
    history = json.loads(run_cli("history", "mini-2026", "K02", "--format", "json",
                                 url=store_url, check=True).stdout)
    recorders = [s["by"] for s in history["steps"] if s["event"] == "ReturnRecorded"]
    assert "sc.aud" in recorders and "import" not in recorders
    assert "imported into mini-2027" in run_cli("import", pack, "--by", "ql", url=store_url,
                                                check=True).stdout


def test_the_first_pack_brings_its_own_quality_lead_once(store_url: str, tmp_path: Path,
                                                         mini_pack: dict[str, Any]) -> None:
    leaderless = copy.deepcopy(mini_pack)
    leaderless["people"][0]["roles"] = ["moderator"]
    said = refused(store_url, "import", written(tmp_path, "leaderless.json", leaderless))
    assert said == ("error: people: the directory is empty, so this first pack must name its "
                    "quality lead (a person with the role quality-lead), who imports the files "
                    "after it")
    pack = written(tmp_path, "mini.json", mini_pack)
    said = refused(store_url, "import", pack, "--by", "sc.aud")
    assert said == ("error: --by sc.aud: the directory is empty, so its first pack is imported "
                    "without --by, or by a quality lead the pack names (ql)")
    run_cli("import", pack, "--by", "ql", url=store_url, check=True)

    # Once anybody is in the directory, a "first" pack of someone else's is refused ...
    other = copy.deepcopy(mini_pack)
    other["programme"]["id"] = "takeover-2026"
    other["people"].append({"id": "intruder", "name": "I. N. Truder", "agency": "partnership",
                            "roles": ["quality-lead"]})
    said = refused(store_url, "import", written(tmp_path, "takeover.json", other), "--by",
                   "intruder")
    assert said.startswith("error: --by intruder: nobody of that id is in the directory")
    # ... while another partnership's first pack brings its own directory.
    elsewhere = partnership_pack(mini_pack, "eastvale", "Eastvale Partnership", "U1")
    run_cli("import", written(tmp_path, "eastvale.json", elsewhere), url=store_url, check=True)
    said = refused(store_url, "import", written(tmp_path, "eastvale2.json", dict(
        elsewhere, programme={**elsewhere["programme"], "id": "eastvale-2027"})))
    assert "partnership eastvale's directory already has people in it" in said


def test_a_person_bound_to_an_account_acts_only_from_it(store_url: str, tmp_path: Path,
                                                        mini_pack: dict[str, Any]) -> None:
    me = os_account()
    run_cli("import", written(tmp_path, "mini.json", without_a_return(mini_pack)), url=store_url,
            check=True)
    said = run_cli("person", "link-os-user", "sc.aud", f"not-{me}", "--by", "ql",
                   url=store_url, check=True).stdout
    assert said.strip() == (f"sc.aud is now bound to the operating-system account not-{me}: at "
                            f"the console, --by sc.aud works only for commands run as not-{me}")
    said = refused(store_url, "concern", "raise", "mini-2026", "K02", "--agency", "school",
                   "--by", "sc.aud", "--summary", "Attendance fell and nobody asked why.")
    assert said == (f"error: sc.aud acts at the console only from the operating-system "
                    f"account not-{me}, and this command runs as {me}: sign in as not-{me}, or "
                    "ask a quality lead to change the binding (audit-ledger person "
                    "link-os-user) or undo it (audit-ledger person unlink-os-user)")
    said = refused(store_url, "import-returns", "mini-2026",
                   written(tmp_path, "returns.csv", RETURNS), "--by", "sc.aud")
    assert said.startswith(f"error: --by sc.aud: sc.aud acts at the console only from the "
                           f"operating-system account not-{me}")
    said = refused(store_url, "import-returns", "mini-2026", str(tmp_path / "returns.csv"))
    assert said.startswith(f"error: sc.aud: sc.aud acts at the console only from the "
                           f"operating-system account not-{me}")
    said = refused(store_url, "bot", "try", "--as", "sc.aud")
    assert f"only from the operating-system account not-{me}" in said
    # Only a quality lead binds; an unbound person is taken at their word, as before.
    said = refused(store_url, "person", "link-os-user", "sc.aud", me, "--by", "sch.aud")
    assert said.startswith("error: sch.aud: to register person you need the role quality-lead")
    run_cli("concern", "raise", "mini-2026", "K02", "--agency", "school", "--by", "sch.aud",
            "--summary", "Attendance fell and nobody asked why.", url=store_url, check=True)
    run_cli("person", "link-os-user", "ql", me, "--by", "ql", url=store_url, check=True)
    run_cli("person", "link-os-user", "sc.aud", me, "--by", "ql", url=store_url, check=True)
    run_cli("import-returns", "mini-2026", str(tmp_path / "returns.csv"), "--by", "sc.aud",
            url=store_url, check=True)


def test_each_binding_is_an_event_and_slack_is_not_bound_by_it(wiring: Wiring) -> None:
    """The binding is a fact in the log like every directory change; a door that proves who
    acts otherwise (Slack's signed requests: no console account) does not apply it."""
    from ledger.importer import import_pack
    from ledger.pack import parse_pack

    app = wiring.app
    app.console_user = "alice"
    pack = {"programme": {"id": "p-2026", "title": "P", "board": "B", "opened": "2026-01-05",
                          "scale": "ofsted-ilacs", "consolidation": "worst"},
            "people": [{"id": "ql", "name": "Q", "agency": "partnership",
                        "roles": ["quality-lead"]}],
            "cases": [], "returns": []}
    import_pack(app, parse_pack(pack), "import")
    app.link_os_user(c.LinkOsUser(person="ql", os_user="alice", by="ql"))
    topics = [n.topic for n in app.recorder.select_notifications(start=None, limit=100)]
    assert topics[-1] == "audit-ledger:OsUserLinked"
    app.console_user = "mallory"
    with pytest.raises(NotPermitted, match="only from the operating-system account alice"):
        app.link_os_user(c.LinkOsUser(person="ql", os_user="mallory", by="ql"))
    app.console_user = None  # the Slack door
    assert app.link_os_user(c.LinkOsUser(person="ql", os_user="bob", by="ql")).changed
