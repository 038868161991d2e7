"""Partnerships as tenants: the same agency names and person ids in two partnerships are
different things, and the default partnership keeps every id of the release before."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import pytest

from audit_ledger.wiring import Wiring, wire
from ledger import commands as c
from ledger import ids
from ledger.base import NotFound
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack
from projections.queries import NotInViews

from .conftest import partnership_pack, run_cli

RELEASE_KEY = "dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE="
"""The key of tests/data's encrypted store of release 0.1 (a key for that fixture only)."""


def test_the_default_partnership_keeps_the_ids_of_the_release_before() -> None:
    # uuid5 of the natural key alone, as release 0.1 derived them (tests/data's stores hold them)
    namespace = UUID("5d0c1a52-6a3e-4f0e-9a59-2a7f1c3b0d11")
    assert ids.PUBLIC.person_id("m.police") == uuid5(namespace, "person/m.police")
    assert ids.PUBLIC.person_id("m.police", "default") == ids.PUBLIC.person_id("m.police")
    assert ids.PUBLIC.person_id("m.police", "northbridge") == uuid5(namespace,
                                                             "person/northbridge/m.police")
    assert ids.in_partnership("default", "police") == "police"
    assert ids.in_partnership("northbridge", "police") == "northbridge/police"


def _two(mini_pack: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return (partnership_pack(mini_pack, "northbridge", "Northbridge SCP", "U1"),
            partnership_pack(mini_pack, "southmoor", "Southmoor SCP", "U2"))


def test_the_same_person_id_and_agency_in_two_partnerships_are_two(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    north, south = _two(mini_pack)
    import_pack(wiring.app, parse_pack(north))
    import_pack(wiring.app, parse_pack(south))
    views = wiring.fresh_views()
    assert [p["partnership"] for p in views.partnerships()] == ["northbridge", "southmoor"]
    assert (views.partnership("northbridge") or {}).get("name") == "Northbridge SCP"
    a, b = views.person("sc.mgr", "northbridge"), views.person("sc.mgr", "southmoor")
    assert a is not None and b is not None
    assert (a["partnership"], a["slack_user"]) == ("northbridge", "U1SCMGR")
    assert (b["partnership"], b["slack_user"]) == ("southmoor", "U2SCMGR")
    assert views.person_by_slack("U2SCMGR") == b
    assert views.person("sc.mgr") is None  # nobody in the default partnership
    assert {p["person"] for p in views.people("northbridge")} == \
        {p["id"] for p in mini_pack["people"]}
    # Each partnership's school manager waits on their own partnership's concern and action.
    for partnership, other in (("northbridge", "southmoor"), ("southmoor", "northbridge")):
        me = views.person("sch.mgr", partnership)
        assert me is not None
        waiting = views.waiting(me)
        assert [k["programme"] for k in waiting["concerns"]] == [f"{partnership}-mini-2026"]
        assert [a["programme"] for a in waiting["actions"]] == [f"{partnership}-mini-2026"]
        teacher = views.person("sch.t", partnership)
        assert teacher is not None
        assert {f["programme"] for f in views.waiting(teacher)["feedback"]} == \
            {f"{partnership}-mini-2026"}
        assert views.programmes([partnership]) == [views.programme(f"{partnership}-mini-2026")]
        with pytest.raises(NotInViews) as refused:
            views.programme(f"{other}-mini-2026", [partnership])
        assert str(refused.value) == (f"no programme '{other}-mini-2026'; known: "
                                      f"{partnership}-mini-2026")


def test_by_resolves_inside_the_programmes_partnership(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    north, south = _two(mini_pack)
    south["people"][0]["id"] = "ql.south"  # southmoor's quality lead is not `ql`
    south["actions"] = []
    south["recommendations"] = []
    import_pack(wiring.app, parse_pack(north))
    import_pack(wiring.app, parse_pack(south))
    app = wiring.app
    done = app.add_recommendation(c.AddRecommendation(programme="northbridge-mini-2026",
                                                      number=2, text="More supervision.",
                                                      by="ql"))
    assert done.changed
    with pytest.raises(NotFound) as refused:
        app.add_recommendation(c.AddRecommendation(programme="southmoor-mini-2026", number=2,
                                                   text="More supervision.", by="ql"))
    assert "no person 'ql' in the directory of partnership southmoor" in str(refused.value)
    # A manager acts on their own partnership's concern only, though the agency is named alike.
    concern = wiring.fresh_views().concerns("southmoor-mini-2026")[0]
    app.acknowledge_concern(c.AcknowledgeConcern(programme="southmoor-mini-2026",
                                                 concern=concern["ref"], by="sch.mgr"))
    assert wiring.fresh_views().concerns("southmoor-mini-2026")[0]["acknowledged_by"] == "sch.mgr"
    assert not wiring.views.concerns("northbridge-mini-2026")[0]["acknowledged_by"]


def test_a_pack_may_not_take_another_partnerships_programme_or_rename_one(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    north, _ = _two(mini_pack)
    import_pack(wiring.app, parse_pack(north))
    head = wiring.app.recorder.max_notification_id()
    stolen = {**north, "partnership": {"id": "southmoor", "name": "Southmoor SCP"}}
    with pytest.raises(PackProblems) as refused:
        import_pack(wiring.app, parse_pack(stolen))
    assert any("is another partnership's programme" in p for p in refused.value.problems)
    renamed = {**north, "partnership": {"id": "northbridge", "name": "North Bridge"}}
    with pytest.raises(PackProblems) as refused:
        import_pack(wiring.app, parse_pack(renamed))
    assert refused.value.problems == ["partnership.name: the ledger has 'Northbridge SCP' for "
                                      "northbridge; this pack says 'North Bridge'"]
    unnamed = {**north, "partnership": {"id": "eastvale"}, "programme": {"id": "eastvale-1"}}
    with pytest.raises(PackProblems) as refused:
        import_pack(wiring.app, parse_pack(unnamed))
    assert refused.value.problems[0].startswith("partnership.name: partnership eastvale is not "
                                                "in the ledger yet")
    assert wiring.app.recorder.max_notification_id() == head
    # Naming only the id of a partnership the store holds is enough.
    again = {**north, "partnership": {"id": "northbridge"}}
    assert not import_pack(wiring.app, parse_pack(again)).changed


def test_partnership_and_directory_commands(store_url: str, tmp_path: Path,
                                            mini_pack: dict[str, Any]) -> None:
    url = store_url
    assert run_cli("partnership", "list", url=url, check=True).stdout.startswith(
        "No partnership yet")
    north, south = _two(mini_pack)
    for pack in (north, south):
        path = tmp_path / f"{pack['partnership']['id']}.json"
        path.write_text(json.dumps(pack))
        run_cli("import", str(path), url=url, check=True)
    listed = json.loads(run_cli("partnership", "list", "--format", "json", url=url,
                                check=True).stdout)
    assert [(p["partnership"], p["name"], p["programmes"], p["people"]) for p in listed] == [
        ("northbridge", "Northbridge SCP", 1, 9), ("southmoor", "Southmoor SCP", 1, 9)]

    refused = run_cli("person", "add", "sch.t2", "--agency", "school", "--by", "ql", url=url)
    assert refused.returncode == 2
    assert "--partnership: this store holds several partnerships (northbridge, southmoor)" \
        in refused.stderr
    assert "Traceback" not in refused.stderr
    run_cli("person", "add", "sch.t2", "--agency", "school", "--role", "practitioner",
            "--manager", "sch.mgr", "--slack-user", "U1SCMGR", "--by", "ql",
            "--partnership", "southmoor", url=url, check=True)
    south_people = json.loads(run_cli("person", "list", "--partnership", "southmoor",
                                      "--format", "json", url=url, check=True).stdout)
    north_people = json.loads(run_cli("person", "list", "--partnership", "northbridge",
                                      "--format", "json", url=url, check=True).stdout)
    assert "sch.t2" in {p["person"] for p in south_people}
    assert "sch.t2" not in {p["person"] for p in north_people}
    unknown = run_cli("person", "list", "--partnership", "eastvale", url=url)
    assert unknown.returncode == 2 and "no partnership 'eastvale'" in unknown.stderr

    added = run_cli("partnership", "add", "eastvale", "--name", "Eastvale SCP",
                    "--slack-team", "T0EAST", url=url, check=True)
    assert "eastvale (Eastvale SCP) registered" in added.stdout
    again = run_cli("partnership", "add", "eastvale", "--name", "Eastvale SCP",
                    "--slack-team", "T0EAST", url=url, check=True)
    assert "already registered" in again.stdout
    clash = run_cli("partnership", "add", "eastvale", "--name", "East Vale", url=url)
    assert clash.returncode == 2 and "already registered as 'Eastvale SCP'" in clash.stderr
    bad = run_cli("partnership", "add", "East Vale", "--name", "x", "--slack-team", "nope",
                  url=url)
    assert bad.returncode == 2 and "partnership" in bad.stderr and "slack_team" in bad.stderr
    nobody = run_cli("person", "add", "x", "--agency", "police", "--by", "ql",
                     "--partnership", "eastvale", url=url)
    assert nobody.returncode == 2
    assert "no person 'ql' in the directory of partnership eastvale" in nobody.stderr


@pytest.mark.parametrize("name,key", [("release-0.1", ""), ("release-0.1-key", RELEASE_KEY)])
def test_an_old_store_is_the_default_partnership_and_takes_another(
        name: str, key: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """A store of release 0.1 opens with everything in the default partnership; another
    partnership's audit is added beside it, nothing stored is rewritten, and it verifies."""
    data = Path(__file__).parent / "data"
    shutil.copy(data / f"{name}.db", tmp_path / f"{name}.db")
    url = f"sqlite:///{tmp_path / name}.db"
    expected = data / "expected" / name
    listed = json.loads(run_cli("partnership", "list", "--format", "json", url=url, key=key,
                                check=True).stdout)
    assert [(p["partnership"], p["programmes"]) for p in listed] == [("default", 1)]
    people = len(json.loads((expected / "people.json").read_text(encoding="utf-8")))
    assert listed[0]["people"] == people
    before = sqlite3.connect(tmp_path / f"{name}.db").execute(
        "SELECT * FROM stored_events ORDER BY rowid").fetchall()

    north, _ = _two(mini_pack)
    path = tmp_path / "north.json"
    path.write_text(json.dumps(north))
    run_cli("import", str(path), url=url, key=key, check=True)
    after = sqlite3.connect(tmp_path / f"{name}.db").execute(
        "SELECT * FROM stored_events ORDER BY rowid").fetchall()
    assert after[:len(before)] == before  # nothing stored is rewritten, only added to
    assert len(after) > len(before)
    assert json.loads(run_cli("verify", "--format", "json", url=url, key=key,
                              check=True).stdout)["intact"] is True
    for read, args in (("people.json", ["person", "list", "--partnership", "default",
                                        "--format", "json"]),
                       ("report.json", ["report", "lontown-2009", "--format", "json",
                                        "--today", "2010-03-15"])):
        assert run_cli(*args, url=url, key=key, check=True).stdout == \
            (expected / read).read_text(encoding="utf-8")
    assert [(p["partnership"], p["programmes"]) for p in json.loads(run_cli(
        "partnership", "list", "--format", "json", url=url, key=key, check=True).stdout)] == \
        [("default", 1), ("northbridge", 1)]


@pytest.mark.parametrize("sealed", [False, True])
def test_a_partnerships_directory_is_read_alike_with_and_without_a_key(
        store_url: str, mini_pack: dict[str, Any], sealed: bool) -> None:
    """Without a key a named partnership's people are read by their keys' prefix; with one
    (keys stored hashed) by filtering every person: the same people either way."""
    w = wire(store_url, base64.b64encode(b"k" * 32).decode() if sealed else "")
    try:
        assert w.store.hashes("person") is sealed
        north, south = _two(mini_pack)
        import_pack(w.app, parse_pack(north))
        import_pack(w.app, parse_pack(south))
        import_pack(w.app, parse_pack({**mini_pack, "programme": {"id": "home-2026"}}))
        views = w.fresh_views()
        everyone = views.everyone()
        for partnership in ("default", "northbridge", "southmoor"):
            assert views.people(partnership) == [p for p in everyone
                                                 if p["partnership"] == partnership]
            assert len(views.people(partnership)) == len(mini_pack["people"])
        assert views.people("north") == []  # a prefix of northbridge's, but none of its people
    finally:
        w.close()
