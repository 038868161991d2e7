"""Packs and returns files: all or nothing, every problem named, the same file twice changes nothing."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack
from ledger.returns_csv import import_returns
from projections.report_figures import report_data

from .conftest import demo_expected, demo_pack


def _import(w: Wiring, data: dict[str, Any]) -> Any:
    summary = import_pack(w.app, parse_pack(data))
    w.follower.catch_up()
    return summary


def test_demo_pack_reproduces_every_count_the_published_report_states(wiring: Wiring) -> None:
    _import(wiring, demo_pack())
    data = report_data(wiring.views, "lontown-2009", date(2009, 12, 1))
    expected = demo_expected()
    assert data["cases"] == 10
    counts = {str(a["number"]): a["counts"] for a in data["areas"]}
    assert counts == expected["areas"]
    assert data["overall"]["counts"] == expected["overall"]
    # The report's own sentences, checked against the consolidated judgements.
    assert counts["2"]["2"] + counts["2"]["3"] == 8 and counts["2"]["4"] == 2
    assert counts["3"]["4"] == 4 and counts["3"]["2"] + counts["3"]["3"] == 6
    assert [r["number"] for r in data["recommendations"]] == list(range(1, 9))
    assert sum(r["actions"] for r in data["recommendations"]) == 16
    concerns = wiring.views.concerns("lontown-2009")
    assert len(concerns) == 6 and sum(c["child_at_risk"] for c in concerns) == 3
    assert len(wiring.views.feedback("lontown-2009")) == 40


def test_importing_the_same_pack_again_changes_nothing(wiring: Wiring) -> None:
    first = _import(wiring, demo_pack())
    head = wiring.follower.head()
    again = _import(wiring, demo_pack())
    assert first.changed and not again.changed
    assert "nothing to import" in again.describe()
    assert wiring.follower.head() == head


def test_agencies_disagreeing_ilacs_scale_and_ungraded_areas(wiring: Wiring,
                                                              mini_pack: dict[str, Any]) -> None:
    _import(wiring, mini_pack)
    data = report_data(wiring.views, "mini-2026", date(2026, 7, 10))
    by_area = {a["number"]: a for a in data["areas"]}
    # Area 6: K01 social-care 2 vs school 4 -> 4; K02 both 2 -> 2.
    assert by_area[6]["counts"] == {"1": 0, "2": 1, "3": 0, "4": 1}
    # Area 3: school left it ungraded on both cases; social-care's grade stands alone.
    assert by_area[3]["counts"] == {"1": 0, "2": 2, "3": 0, "4": 0}
    # Area 7: only social-care graded; K01 2, K02 2.
    assert by_area[7]["graded_cases"] == 2
    # Overall: K01 worst(2,3)=3; K02 worst(1,2)=2.
    assert data["overall"]["counts"] == {"1": 0, "2": 1, "3": 1, "4": 0}
    assert data["outstanding_actions"] == [{"id": "A1.1", "owner": "sch.mgr",
                                            "due": "2026-06-30", "overdue_days": 10}]
    assert data["recommendations"][0]["status"] == "overdue"
    case = wiring.views.judgements("mini-2026", "K01")
    assert case["areas"]["6"]["contributions"] == [{"agency": "school", "grade": 4},
                                                   {"agency": "social-care", "grade": 2}]


def test_a_broken_pack_is_refused_whole_with_a_line_per_problem(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    bad = copy.deepcopy(mini_pack)
    bad["programme"]["scale"] = "ofsted-2009"     # whose outstanding is overall only
    bad["returns"][0]["grades"]["3"] = 1          # outstanding on an area
    bad["returns"][1]["agency"] = "police"        # not involved in the case
    bad["returns"][2]["practitioner"] = "nobody"  # unknown person
    bad["actions"][0]["owner"] = "ghost"          # unknown owner
    bad["people"][4]["manager"] = "sc.sw"         # manager without the role
    with pytest.raises(PackProblems) as caught:
        import_pack(wiring.app, parse_pack(bad))
    problems = caught.value.problems
    assert any(p.startswith("returns[0].grades.3:") for p in problems)
    assert any(p.startswith("returns[1].agency:") for p in problems)
    assert any(p.startswith("returns[2].practitioner:") for p in problems)
    assert any(p.startswith("actions[0].owner:") for p in problems)
    assert any(p.startswith("people[4].manager:") for p in problems)
    assert wiring.follower.head() == 0


def test_shape_problems_name_their_json_path(mini_pack: dict[str, Any]) -> None:
    bad = copy.deepcopy(mini_pack)
    bad["programme"]["id"] = "Mini 2026"
    bad["cases"][0]["agencies"] = []
    bad["returns"][0]["completed"] = "yesterday"
    bad["returns"][1]["grades"]["area9"] = 2
    bad["people"][0]["roles"] = ["boss"]
    bad["actions"][0]["colour"] = "red"
    with pytest.raises(PackProblems) as caught:
        parse_pack(bad)
    text = "\n".join(caught.value.problems)
    for where in ("programme.id", "cases[0].agencies", "returns[0].completed",
                  "returns[1].grades.area9", "people[0].roles[0]", "actions[0].colour"):
        assert where in text, where


def test_returns_csv_import_and_its_line_numbers(wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["returns"] = [r for r in pack["returns"] if r["case"] != "K02"]
    _import(wiring, pack)
    good = (
        "case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
        "K02,social-care,sc.aud,sc.sw,2026-02-03,1,,,\n"
        "K02,social-care,sc.aud,sc.sw,,2,3,,Late referral\n"
        "K02,social-care,sc.aud,sc.sw,,overall,3,,\n"
        "K02,school,sch.aud,sch.t,04/02/2026,2,2 good,Good records,\n"
    )
    summary = import_returns(wiring.app, "mini-2026", good, "sc.aud")
    assert summary.added["returns"] == 2
    wiring.follower.catch_up()
    assert wiring.views.judgements("mini-2026", "K02")["areas"]["2"]["grade"] == 3
    school = wiring.views.case("mini-2026", "K02")["returns"]["school"]
    assert school["completed"] == "2026-02-04"  # day first, as spreadsheets in England save it
    again = import_returns(wiring.app, "mini-2026", good, "sc.aud")
    assert not again.changed
    bad = (
        "case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
        "K01,social-care,sc.aud,sc.sw,2026-02-01,2,3,,\n"
        "K09,school,sch.aud,sch.t,2026-02-01,2,2,,\n"
        "K02,school,sch.aud,sch.t,2026-02-01,3,five,,\n"
        "K02,school,sch.aud,sch.t,2026-02-01,10,2,,\n"
    )
    head = wiring.follower.head()
    with pytest.raises(PackProblems) as caught:
        import_returns(wiring.app, "mini-2026", bad, "sc.aud")
    text = "\n".join(caught.value.problems)
    assert "line 4: grade 'five' is not a whole number" in text
    assert "line 5: area '10' is not allowed" in text
    assert wiring.follower.head() == head


def test_every_problem_of_a_returns_file_in_one_run(wiring: Wiring,
                                                    mini_pack: dict[str, Any]) -> None:
    """The header's, each line's and the ledger's problems together, in the file's order."""
    pack = copy.deepcopy(mini_pack)
    pack["returns"] = [r for r in pack["returns"] if r["case"] != "K02"]
    _import(wiring, pack)
    text = (
        "case,agency,auditor,practitioner,area,grade,strengths,concerns,colour\n"
        "K02,social-care,sc.aud,sc.sw,2,5,,,\n"
        "K09,school,sch.aud,sch.t,2,2,,,\n"
        "K02,school,sch.aud,sch.t,3,five,,,\n"
        "K02,school,sc.sw,sch.t,4,3,,,\n"
    )
    head = wiring.follower.head()
    with pytest.raises(PackProblems) as caught:
        import_returns(wiring.app, "mini-2026", text, "sc.aud")
    problems = caught.value.problems
    assert problems[0].startswith("line 1: missing column(s) completed"), problems
    assert problems[1].startswith("line 1: unknown column(s) colour"), problems
    assert problems[2].startswith("line 2 (case K02, social-care): grade for area 2: grade 5 "
                                  "is not on the ofsted-ilacs scale"), problems
    assert problems[3] == "line 3: no case 'K09' in mini-2026", problems
    assert problems[4].startswith("line 4: grade 'five' is not a whole number"), problems
    assert problems[5].startswith("line 5: auditor 'sc.sw' differs from line 4"), problems
    assert len(problems) == 6, problems
    assert wiring.follower.head() == head


def test_a_return_without_its_completion_date_is_refused(wiring: Wiring,
                                                         mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["returns"] = [r for r in pack["returns"] if r["case"] != "K02"]
    _import(wiring, pack)
    text = ("case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
            "K02,school,sch.aud,sch.t,,2,2,,\n"
            "K02,school,sch.aud,sch.t,,3,3,,\n")
    with pytest.raises(PackProblems) as caught:
        import_returns(wiring.app, "mini-2026", text, "sc.aud")
    assert caught.value.problems == [
        "line 2 (case K02, school): no completion date; write the day the return was completed "
        "(YYYY-MM-DD)"]


def test_returns_csv_refers_problems_to_lines(wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    _import(wiring, mini_pack)
    text = (
        "case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
        "K01,social-care,sc.aud,sc.sw,2026-02-01,2,4,,\n"
        "K09,school,sch.aud,sch.t,2026-02-01,2,2,,\n"
    )
    with pytest.raises(PackProblems) as caught:
        import_returns(wiring.app, "mini-2026", text, "sc.aud")
    problems = caught.value.problems
    assert any(p.startswith("line 2 (case K01, social-care): ") and "already in the ledger" in p
               for p in problems), problems
    assert any(p.startswith("line 3") and "K09" in p for p in problems), problems
    wrong_header = "case,agency,grade\nK01,school,2\n"
    with pytest.raises(PackProblems) as caught:
        import_returns(wiring.app, "mini-2026", wrong_header)
    assert caught.value.problems[0].startswith("line 1: missing column(s)")


def test_a_pack_s_shape_and_reference_problems_come_in_one_run(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    """A broken pack is fixed in one round: what cannot be read and what does not resolve are
    named together, in plain words, and nothing is stored."""
    from ledger.importer import import_pack_data

    bad = copy.deepcopy(mini_pack)
    bad["returns"][0]["completed"] = "yesterday"          # shape
    bad["concerns"] = [{"case": "K01", "agency": "school", "raised_by": "sch.aud",
                        "summary": ""}]                     # shape: blank text
    bad["programme"]["scale"] = "ofsted-2009"               # outstanding is overall only
    bad["returns"][1]["grades"]["3"] = 1                    # rule: outstanding for an area
    bad["actions"][0]["owner"] = "nobody"                   # reference
    bad["people"][0]["roles"] = ["boss"]                    # shape; that person set aside
    with pytest.raises(PackProblems) as caught:
        import_pack_data(wiring.app, bad)
    problems = caught.value.problems
    assert any(p.startswith("people[0].roles[0]: 'boss' is not allowed; allowed: ") for p in problems)
    assert "returns[0].completed: 'yesterday' is not a date; write it as YYYY-MM-DD" in problems
    assert "concerns[0].summary: must not be blank" in problems
    assert any(p.startswith("returns[1].grades.3: grade 1 (outstanding)") for p in problems)
    assert "actions[0].owner: 'nobody' is not in people" in problems
    # the person set aside raises no second problem where others name them
    assert not any(f"'{bad['people'][0]['id']}' is not in people" in p for p in problems), problems
    assert not any("should" in p or "String" in p or "Input" in p for p in problems), problems
    assert len(problems) == 5, problems
    assert wiring.follower.head() == 0


def test_returns_text_is_read_as_spreadsheets_save_it() -> None:
    from ledger.returns_csv import decode_csv

    header = "case;agency;auditor;practitioner;completed;area;grade;strengths;concerns\r\n"
    body = "K01;school;sch.aud;sch.t;01/02/2026;2;2;Caf\u00e9 \u2013 seen;\r\n"
    for data, how in [
        ((header + body).encode("utf-8-sig"), "read as UTF-8 text, values separated by semicolons"),
        ((header + body).encode("cp1252"), "read as Windows-1252 text, values separated by "
                                           "semicolons"),
        ((header.replace(";", ",") + body.replace(";", ",")).encode("utf-8"),
         "read as UTF-8 text, values separated by commas"),
    ]:
        source = decode_csv(data)
        assert source.describe() == how
        assert "Caf\u00e9 \u2013 seen" in source.text
    with pytest.raises(PackProblems) as caught:
        decode_csv((header + body).encode("utf-16"))
    assert caught.value.problems[0].startswith("UTF-16 text")
