"""The report document: comments said once with their count, ties said as ties, small
counts hidden (and the one that would give them away), nothing verbatim when publishable."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import parse_pack
from projections.comments import Comment, grouped
from projections.report import markdown_report
from projections.report_document import Options, coverage, report_document

P = "mini-2026"
ON = date(2026, 7, 10)


def _document(wiring: Wiring, pack: dict[str, Any], **options: Any) -> dict[str, Any]:
    import_pack(wiring.app, parse_pack(pack))
    wiring.follower.catch_up()
    return report_document(wiring.views, P, Options(today=ON, **options))


def test_near_duplicate_comments_are_said_once_with_the_cases_that_made_them() -> None:
    made = [Comment("K01", "school", "5", "concern", "Core group did not meet regularly."),
            Comment("K02", "health", "5", "concern", "The core group did not meet regularly"),
            Comment("K02", "police", "5", "concern", "Core group did not meet regularly."),
            Comment("K03", "school", "5", "concern", "Minutes of core groups were not sent.")]
    groups = grouped(made, {("K03", "school", "5", "concern"): "core-group"})
    assert [(g["text"], g["cases"], g["agencies"]) for g in groups] == [
        ("Core group did not meet regularly.", 2, ["health", "police", "school"]),
        ("Minutes of core groups were not sent.", 1, ["school"])]
    assert groups[1]["theme"] == "core-group" and groups[0]["theme"] == ""


def test_a_small_count_is_hidden_and_so_is_the_one_that_would_give_it_away() -> None:
    cov = {"cases": 12, "gender": {"female": 6, "male": 6},
           "ethnicity": {"White British": 9, "Black African": 2, "Asian Pakistani": 1},
           "age_band": {"0-4": 7, "5-10": 3, "11-15": 2}, "category": {"neglect": 12},
           "agencies": {"school": 2}}
    fields = {f["field"]: {r["value"]: r["shown"] for r in f["rows"]}
              for f in coverage(cov, 5)["fields"]}
    assert fields["gender"] == {"female": "6", "male": "6"}
    assert fields["ethnicity"] == {"Asian Pakistani": "fewer than 5",
                                   "Black African": "fewer than 5", "White British": "9"}
    # Only one count (3) would be hidden of two below 5... both are; 7 stays.
    assert fields["age_band"] == {"0-4": "7", "11-15": "fewer than 5", "5-10": "fewer than 5"}
    one = {"cases": 10, "gender": {"female": 8, "male": 2}}
    shown = {r["value"]: r["shown"] for r in coverage(one, 5)["fields"][2]["rows"]}
    assert shown == {"female": "suppressed", "male": "fewer than 5"}  # 10 - 8 would tell
    assert coverage(one, 0)["fields"][2]["rows"][1]["shown"] == "2"
    assert fields["agencies"] == {"school": "2"}  # agencies are no one's demographics


def test_ties_for_weakest_area_are_named_as_ties(wiring: Wiring,
                                                 mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    k01_school = next(r for r in pack["returns"] if (r["case"], r["agency"]) == ("K01", "school"))
    k01_school["grades"]["3"] = 4  # area 3 now as weak as area 6: one of two cases each
    doc = _document(wiring, pack)
    weakest = [a["number"] for a in doc["areas"]
               if a["graded_cases"] and a["counts"]["4"] == max(
                   b["counts"]["4"] for b in doc["areas"])]
    assert len(weakest) > 1, "the small audit is meant to have a tie"
    line = doc["conclusions"][0]
    assert line.startswith("The weakest areas, tied, were ")
    assert all(f"area {n} (" in line for n in weakest)
    assert not doc["conclusions_authored"]


def test_publishable_leaves_out_verbatim_comments_and_case_references(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    doc = _document(wiring, copy.deepcopy(mini_pack), publishable=True)
    text = markdown_report(doc)
    for r in mini_pack["returns"]:
        for said in [*r.get("strengths", {}).values(), *r.get("concerns", {}).values()]:
            assert said not in text and said not in str(doc)
    for case in mini_pack["cases"]:
        assert case["ref"] not in text
    assert all(not g["case_refs"] for a in doc["areas"] for g in a["concern_groups"])
    made = sum(1 for r in mini_pack["returns"] for a in r.get("concerns", {}) if a != "overall")
    assert sum(g["cases"] for a in doc["areas"] for g in a["concern_groups"]) == made
