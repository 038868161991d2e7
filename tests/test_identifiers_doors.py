"""Identifiers kept out of free text at every door: a pack, a returns file, the shell, Slack."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack

from .conftest import log_head, run_cli

NHS = "943 476 5919"  # the NHS's own example number: a valid check digit


def _refused(w: Wiring, data: dict[str, Any]) -> list[str]:
    head = log_head(w)
    with pytest.raises(PackProblems) as caught:
        import_pack(w.app, parse_pack(data))
    assert log_head(w) == head, "a refused pack wrote something"
    return caught.value.problems


def test_a_pack_with_identifiers_is_refused_whole_naming_each_field(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["concerns"][0]["summary"] = f"Child (NHS {NHS}) not reported to conference."
    pack["returns"][0]["concerns"]["4"] = "Child not seen alone at home, LS11 5QT."
    pack["returns"][1]["strengths"] = {"2": "DOB 12/03/2019 checked against school records."}
    pack["returns"][2]["strengths"]["5"] = "Sasha Worker kept a clear plan."  # the case's own
    pack["actions"][0]["measure"] = "Each school replies to ql@example.org"
    pack["cases"][0]["ref"] = "9434765919"
    pack["cases"][1]["age_band"] = "3 years 2 months"
    pack["cases"][1]["ethnicity"] = "White British (mother on 07911 123456)"
    for r in pack["returns"]:
        r["case"] = "9434765919" if r["case"] == "K01" else r["case"]
    pack["concerns"][0]["case"] = "9434765919"
    problems = _refused(wiring, pack)
    text = "\n".join(problems)
    for where, kind in [("concerns[0].summary", "an NHS number"),
                        ("returns[0].concerns.4", "a postcode"),
                        ("returns[1].strengths.2", "a date of birth"),
                        ("returns[2].strengths.5", "a person's name"),
                        ("actions[0].measure", "an email address"),
                        ("cases[0].ref", "looks like an NHS number"),
                        ("cases[1].age_band", "exact age"),
                        ("cases[1].ethnicity", "a phone number")]:
        assert any(p.startswith(where) and kind in p for p in problems), (where, text)
    assert "9434765919" not in text.replace("'9434765919'", ""), "only the reference is quoted"
    assert "LS11 5QT" not in text and "12/03/2019" not in text


def test_ordinary_audit_text_in_a_pack_passes(wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["concerns"][0]["summary"] = ("Section 47 enquiry: the strategy meeting on 3 March 2026 "
                                      "did not include the school.")
    pack["returns"][0]["concerns"]["4"] = "S47 strategy discussion held 12/01/2026; child seen."
    pack["programme"]["sample"] = {"age_bands": ["0-4", "5-10", "11-15", "16-17"]}
    summary = import_pack(wiring.app, parse_pack(pack))
    assert summary.added["concerns"] == 1 and summary.added["cases"] == 2


def test_age_bands_come_from_the_programmes_own_list(wiring: Wiring,
                                                     mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["programme"]["sample"] = {"age_bands": ["0-9", "10-17"]}
    problems = _refused(wiring, pack)
    assert problems == [
        "cases[0].age_band: '5-10' is not one of the programme's age bands; choose one of: "
        "0-9, 10-17",
        "cases[1].age_band: '11-15' is not one of the programme's age bands; choose one of: "
        "0-9, 10-17"]


def test_a_returns_file_with_identifiers_is_refused_naming_line_and_field(
        tmp_path: Path, store_url: str, mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["returns"] = [r for r in pack["returns"] if r["case"] != "K02"]
    pack_file = tmp_path / "pack.json"
    pack_file.write_text(json.dumps(pack), encoding="utf-8")
    run_cli("import", str(pack_file), url=store_url)
    returns = tmp_path / "returns.csv"
    returns.write_text(
        "case,agency,auditor,practitioner,area,grade,strengths,concerns,completed\n"
        "K02,social-care,sc.aud,sc.sw,2,3,,Late referral,2026-02-03\n"
        "K02,social-care,sc.aud,sc.sw,overall,3,,Mother on 07911 123456,2026-02-03\n",
        encoding="utf-8")
    refused = run_cli("import-returns", "mini-2026", str(returns), "--by", "sc.aud",
                      url=store_url, check=False)
    assert refused.returncode == 2, refused.stderr
    assert "line 3 (case K02, social-care): overall concerns: " in refused.stderr
    assert "a phone number" in refused.stderr and "123456" not in refused.stderr
    assert "Traceback" not in refused.stderr
    case = run_cli("case", "mini-2026", "K02", "--format", "json", url=store_url, check=True)
    assert json.loads(case.stdout)["areas"] == {}, "a refused file wrote a return"


# ---- the shell ----------------------------------------------------------------------------


def _overrides(w: Wiring) -> list[Any]:
    from ledger.overrides import IdentifierOverride

    notes = w.app.recorder.select_notifications(1, 10_000)
    events = [w.app.mapper.to_domain_event(n) for n in notes]
    return [e for e in events if isinstance(e, IdentifierOverride.Created)]


@pytest.mark.parametrize("summary, kind", [
    (f"Child's NHS number is {NHS}; not seen alone.", "an NHS number"),
    ("Family now at M1 1AE; school not told.", "a postcode"),
    ("Baby (DOB 02/11/2025) not seen for six weeks.", "a date of birth"),
])
def test_a_concern_raised_from_the_shell_with_an_identifier_is_refused(
        tmp_path: Path, store_url: str, mini_pack: dict[str, Any], summary: str,
        kind: str) -> None:
    pack_file = tmp_path / "pack.json"
    pack_file.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack_file), url=store_url, check=True)
    raised = run_cli("concern", "raise", "mini-2026", "K02", "--agency", "school", "--by",
                     "sch.aud", "--summary", summary, url=store_url)
    assert raised.returncode == 2, raised.stdout + raised.stderr
    assert f"error: summary: holds what looks like {kind}" in raised.stderr
    assert "ask a quality lead" in raised.stderr and "Traceback" not in raised.stderr
    listed = run_cli("concern", "list", "mini-2026", "--format", "json", url=store_url,
                     check=True)
    assert [k["case"] for k in json.loads(listed.stdout)] == ["K01"], "nothing new recorded"


def test_a_quality_lead_may_let_it_through_with_a_reason_which_is_recorded(
        tmp_path: Path, store_url: str, mini_pack: dict[str, Any]) -> None:
    pack_file = tmp_path / "pack.json"
    pack_file.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack_file), url=store_url, check=True)
    summary = "Sibling's school is at LS11 5QT and was never told of the plan."
    base = ("concern", "raise", "mini-2026", "K02", "--agency", "school", "--by", "sch.aud",
            "--summary", summary)
    not_lead = run_cli(*base, "--allow-identifiers", "the school must be named",
                       url=store_url)
    assert not_lead.returncode == 2
    assert "sch.aud: only a quality lead may allow" in not_lead.stderr
    allowed = run_cli(*base, "--allow-identifiers", "the school's own postcode, not the family's",
                      "--allowed-by", "ql", url=store_url)
    assert allowed.returncode == 0, allowed.stderr
    listed = run_cli("identifiers", "allowed", "mini-2026", "--on", url=store_url)
    assert listed.returncode == 2  # (no such option: the listing takes none but --format)
    listed = run_cli("identifiers", "allowed", "mini-2026", url=store_url, check=True)
    assert listed.stdout.endswith(": case K02, summary (text of sch.aud): a postcode; allowed by "
                                  "ql: the school's own postcode, not the family's\n")
    assert not re.search(r"\d{4}-\d{2}-\d{2}", listed.stdout)
    [row] = json.loads(run_cli("identifiers", "allowed", "mini-2026", "--format", "json",
                               url=store_url, check=True).stdout)
    assert (row["allowed_by"], row["text_of"], row["kinds"]) == ("ql", "sch.aud", ["a postcode"])
    from audit_ledger.wiring import wire

    w = wire(store_url, "")
    try:
        [override] = _overrides(w)
        assert (override.by, override.act_of, override.field, override.kinds, override.reason) == (
            "ql", "sch.aud", "summary", ["a postcode"], "the school's own postcode, not the family's")
        assert override.programme == "mini-2026" and override.case == "K02"
    finally:
        w.close()


def test_every_free_text_command_is_checked(wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    from datetime import date

    from ledger import commands as c
    from ledger.base import Rejected

    import_pack(wiring.app, parse_pack(mini_pack))
    day = date(2026, 3, 1)
    phone = "call 07911 123456"
    refused: list[tuple[Callable[[Any], Any], c.Command, str]] = [
        (wiring.app.grade_area, c.GradeArea(programme="mini-2026", case="K02", agency="school",
                                            area="4", grade=3, by="sch.aud", occurred_on=day,
                                            concern=f"Mother said {phone}"), "concern"),
        (wiring.app.revise_grade, c.ReviseGrade(programme="mini-2026", case="K01",
                                                agency="school", area="2", grade=2,
                                                by="sch.aud", occurred_on=day,
                                                reason="Toni Teacher showed the file"), "reason"),
        (wiring.app.respond_to_issue, c.RespondToIssue(
            programme="mini-2026", case="K01", agency="school", issue=1, by="sch.t",
            occurred_on=day, response="Report sent to mum@example.com"), "response"),
        (wiring.app.record_action_progress, c.RecordActionProgress(
            programme="mini-2026", action="A1.1", rag="amber", by="sch.mgr", occurred_on=day,
            note=f"School office will {phone}"), "note"),
        (wiring.app.add_recommendation, c.AddRecommendation(
            programme="mini-2026", number=2, by="ql", occurred_on=day,
            text=f"Always record the NHS number ({NHS})"), "text"),
    ]
    head = log_head(wiring)
    for method, cmd, field in refused:
        with pytest.raises(Rejected) as caught:
            method(cmd)
        assert caught.value.problems[0].startswith(f"{field}: holds what looks like"), field
    assert log_head(wiring) == head
    ordinary = c.RecordActionProgress(
        programme="mini-2026", action="A1.1", rag="amber", by="sch.mgr", occurred_on=day,
        note="Designated teachers briefed at the meeting on 3 March 2026; Section 47 guide sent.")
    assert wiring.app.record_action_progress(ordinary).changed


def test_a_quality_lead_may_import_a_file_with_identifiers_giving_a_reason(
        wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    pack = copy.deepcopy(mini_pack)
    pack["recommendations"][0]["text"] = "Schools must report to every review; ask on 020 7946 0018."
    refused = _refused(wiring, pack)
    assert refused[-1].startswith("what identifies a child or family is kept out of free text")
    with pytest.raises(PackProblems) as caught:
        import_pack(wiring.app, parse_pack(pack), "sch.aud", allow_identifiers="a helpline")
    assert caught.value.problems == [
        "--by sch.aud: only a quality lead may allow text that holds what identifies a child "
        "or family",
        "--by sch.aud: the directory is empty, so its first pack is imported without --by, or "
        "by a quality lead the pack names (ql)"]
    summary = import_pack(wiring.app, parse_pack(pack), "ql",
                          allow_identifiers="the partnership's own helpline, published")
    assert summary.added["texts allowed by a quality lead"] == 1
    [override] = _overrides(wiring)
    assert (override.by, override.field, override.kinds, override.reason) == (
        "ql", "recommendation 1", ["a phone number"], "the partnership's own helpline, published")
    again = import_pack(wiring.app, parse_pack(pack), "ql", allow_identifiers="again")
    assert not again.changed and len(_overrides(wiring)) == 1


def test_a_filled_workbook_with_identifiers_is_refused_naming_the_cell(tmp_path: Path) -> None:
    from datetime import date

    from .test_returns_workbook import EXAMPLE, PID, POLICE_N03, fill, template

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    run_cli("import", str(EXAMPLE), url=url, check=True)
    areas = dict(POLICE_N03)
    grade, strengths, _ = areas["2"]
    areas["2"] = (grade, strengths, "Call-outs to NB3 7QT were not linked to the child.")
    filled = fill(template(url, "police", tmp_path / "police.xlsx"), tmp_path / "filled.xlsx",
                  auditor="pol.gray", practitioner="pol.frye", completed=date(2026, 3, 16),
                  areas=areas)
    refused = run_cli("import-returns", PID, str(filled), "--by", "pol.gray", url=url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert re.search(r"N03.*F\d+.*a postcode", refused.stderr), refused.stderr
    assert "NB3 7QT" not in refused.stderr
    shown = json.loads(run_cli("case", PID, "N03", "--format", "json", url=url,
                               check=True).stdout)
    assert all(c["agency"] != "police" for c in shown["overall"]["contributions"])


def test_a_draft_answer_holding_an_identifier_is_not_kept(wiring: Wiring,
                                                          mini_pack: dict[str, Any]) -> None:
    from ledger import commands as c
    from ledger.base import Rejected

    import_pack(wiring.app, parse_pack(mini_pack))
    mine: dict[str, Any] = {"programme": "mini-2026", "case": "K01", "agency": "social-care",
                            "by": "sc.sw", "issue": 1}
    head = log_head(wiring)
    with pytest.raises(Rejected) as caught:
        wiring.app.draft_answer(c.DraftAnswer(text="Saw him at NB3 7QT on", **mine))
    assert caught.value.problems[0].startswith("draft: holds what looks like a postcode")
    assert log_head(wiring) == head
    assert wiring.app.draft_answer(c.DraftAnswer(text="Saw him alone on 3 Feb", **mine)).changed
