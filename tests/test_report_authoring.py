"""The author's words are facts in the log: written from the pack or the command line, by a
quality lead, shown in the report; the demo reads as the analysis the 2009 board received."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .conftest import run_cli


def _json(*args: str, url: str) -> Any:
    return json.loads(run_cli(*args, "--format", "json", url=url, check=True).stdout)


def test_the_demo_report_reads_as_the_authored_analysis(store_url: str, tmp_path: Path) -> None:
    run_cli("demo", url=store_url, cwd=tmp_path, check=True)
    doc = _json("report", "lontown-2009", "--today", "2010-03-15", url=store_url)
    assert doc["author"]["name"] == "Jo Bloggs" and doc["author"]["on_words"] == "December 2009"
    assert all(a["summary"] for a in doc["areas"])
    assert any("core group working" in k.lower() for k in doc["key_findings"])
    assert "The key area of poor practice is core group working." in doc["conclusions"][0]
    core = next(t for t in doc["themes"] if t["theme"] == "core-group")
    tagged = {g["case_refs"][0] for a in doc["areas"] for g in a["concern_groups"]
              if g["theme"] == "core-group"}
    assert core["cases_with_concerns"] == len({c for c in core["case_refs"]} & tagged) > 0
    md = run_cli("report", "lontown-2009", "--today", "2010-03-15", url=store_url,
                 check=True).stdout
    body, appendix = md.split("## Appendix: the auditors' comments, area by area")
    assert body.count("\n- ") < 40, "the body is an analysis; the comments are in the appendix"
    assert "## Themes across the areas" in body and "### Core group working" in body
    assert "## How the audit was carried out" in body
    late = doc["process"]["returns"]["late"]
    assert doc["process"]["returns"]["due"] == "2009-07-31"
    assert late and all(r["completed"] > "2009-07-31" for r in late)
    assert (f"40 of the 40 agency returns expected were received; {len(late)} came in after "
            "the deadline of 31 July 2009, the latest 24 days late.") in body
    assert appendix.count("\n- ") > 100


def test_a_quality_lead_writes_the_report_from_the_command_line(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    before = _json("report", "mini-2026", url=store_url)
    assert before["key_findings"] and not before["conclusions_authored"]  # from the figures

    refused = run_cli("report", "write", "mini-2026", "--conclusions", "All well.",
                      "--by", "sch.aud", url=store_url)
    assert refused.returncode == 2 and "quality-lead" in refused.stderr
    head = _json("projections", "status", url=store_url)["head"]

    done = run_cli("report", "write", "mini-2026", "--author", "Quinn Lead", "--role",
                   "Quality lead", "--area", "6", "Reviews lacked the school's report.",
                   "--key-finding", "Schools must report to every review.",
                   "--conclusions", "One clear finding.\n\nAnd a second paragraph.",
                   "--by", "ql", "--on", "2026-07-01", url=store_url, check=True)
    assert "4 part(s) written" in done.stdout
    assert _json("projections", "status", url=store_url)["head"] > head
    theme = run_cli("report", "theme", "mini-2026", "school-reports", "--title",
                    "Schools at reviews", "--comment", "K01:6:concern:school", "--by", "ql",
                    url=store_url, check=True)
    assert "1 part(s) written" in theme.stdout
    again = run_cli("report", "theme", "mini-2026", "school-reports", "--title",
                    "Schools at reviews", "--comment", "K01:6:concern:school", "--by", "ql",
                    url=store_url, check=True)
    assert "already says that" in again.stdout

    doc = _json("report", "mini-2026", url=store_url)
    assert doc["author"] == {"name": "Quinn Lead", "role": "Quality lead", "on": "2026-07-01",
                             "on_words": "July 2026"}
    area6 = next(a for a in doc["areas"] if a["number"] == 6)
    assert area6["summary"] == "Reviews lacked the school's report."
    assert area6["themes"] == [{"theme": "school-reports", "title": "Schools at reviews",
                                "cases_with_strengths": 0, "cases_with_concerns": 1}]
    assert doc["key_findings"] == ["Schools must report to every review."]
    assert doc["conclusions"] == ["One clear finding.", "And a second paragraph."]
    assert doc["themes"][0]["case_refs"] == ["K01"] and doc["comments_in_appendix"]


def test_a_pack_s_report_section_is_checked_against_the_audit(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    bad = copy.deepcopy(mini_pack)
    bad["report"] = {"themes": [{"id": "reviews", "title": "Reviews", "comments": [
        {"case": "K09", "area": "6", "kind": "concern"},
        {"case": "K01", "area": "6", "kind": "concern", "agency": "police"}]}],
        "conclusions": "x"}
    pack = tmp_path / "bad.json"
    pack.write_text(json.dumps(bad))
    refused = run_cli("import", str(pack), url=store_url)
    assert refused.returncode == 2, refused.stderr
    assert "report.themes[0].comments[0].case: no case 'K09' in mini-2026" in refused.stderr
    assert "report.themes[0].comments[1].agency: 'police' is not involved in case K01" \
        in refused.stderr
    assert _json("projections", "status", url=store_url)["head"] == 0
    named = copy.deepcopy(mini_pack)
    named["report"] = {"conclusions": "The boy at 10 Downing St, SW1A 2AA, was seen alone."}
    pack.write_text(json.dumps(named))
    refused = run_cli("import", str(pack), url=store_url)
    assert refused.returncode == 2 and "report.conclusions: holds what looks like a postcode" \
        in refused.stderr, refused.stderr
    assert _json("projections", "status", url=store_url)["head"] == 0
