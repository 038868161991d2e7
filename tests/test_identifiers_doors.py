"""Identifiers kept out of free text at every door: a pack, a returns file, the shell, Slack."""

from __future__ import annotations

import copy
import json
import re
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
                        ("cases[1].age_band", "exact age")]:
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
    refused = run_cli("import-returns", "mini-2026", str(returns), url=store_url, check=False)
    assert refused.returncode == 2, refused.stderr
    assert re.search(r"line \d", refused.stderr) and "concerns.overall" in refused.stderr
    assert "a phone number" in refused.stderr and "123456" not in refused.stderr
    assert "Traceback" not in refused.stderr
    case = run_cli("case", "mini-2026", "K02", "--format", "json", url=store_url, check=True)
    assert json.loads(case.stdout)["areas"] == {}, "a refused file wrote a return"
