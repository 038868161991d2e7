"""End to end through the installed console script, as a person or a cron job runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policies.scales import AREAS

from .conftest import demo_expected, run_cli


def test_demo_then_report_case_and_history(store_url: str, tmp_path: Path) -> None:
    first = run_cli("demo", url=store_url, cwd=tmp_path, check=True)
    assert "imported into lontown-2009" in first.stdout
    assert "Area 2 History of involvement: Adequate or good in eight of the ten" in first.stdout
    again = run_cli("demo", url=store_url, cwd=tmp_path, check=True)
    assert "already in" in again.stdout

    report = json.loads(run_cli("report", "lontown-2009", "--format", "json",
                                url=store_url, check=True).stdout)
    expected = demo_expected()
    assert {str(a["number"]): a["counts"] for a in report["areas"]} == expected["areas"]
    assert set(report) >= {"programme", "cases", "areas", "overall", "recommendations",
                           "outstanding_actions"}

    md = run_cli("report", "lontown-2009", url=store_url, check=True).stdout
    assert md.startswith("**OFFICIAL-SENSITIVE**\n\n# ")
    assert "## 5. Recommendations" in md and "## 6. Action plan" in md

    case = json.loads(run_cli("case", "lontown-2009", "C01", "--format", "json",
                              url=store_url, check=True).stdout)
    assert case["case"] == "C01" and case["areas"]["2"]["grade"] == 4
    assert case["areas"]["2"]["rule"] == "worst"
    assert "1" not in case["areas"]

    history = json.loads(run_cli("history", "lontown-2009", "C01", "--format", "json",
                                 url=store_url, check=True).stdout)
    assert history["steps"][0]["event"] == "CaseSelected"
    assert history["state"] == case


def test_history_as_of_shows_the_judgement_as_it_stood(store_url: str, tmp_path: Path,
                                                       mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    before = json.loads(run_cli("history", "mini-2026", "K01", "--format", "json",
                                url=store_url, check=True).stdout)
    moment = before["steps"][-1]["recorded_at"]
    run_cli("grade", "revise", "mini-2026", "K01", "--agency", "school", "--area", "6",
            "--grade", "3", "--reason", "report found on file", "--by", "sch.aud",
            url=store_url, check=True)
    now = json.loads(run_cli("case", "mini-2026", "K01", "--format", "json",
                             url=store_url, check=True).stdout)
    assert now["areas"]["6"]["grade"] == 3
    then = json.loads(run_cli("history", "mini-2026", "K01", "--as-of", moment, "--format",
                              "json", url=store_url, check=True).stdout)
    assert then["state"]["areas"]["6"]["grade"] == 4
    area = json.loads(run_cli("history", "mini-2026", "K01", "--area", "6", "--format", "json",
                              url=store_url, check=True).stdout)
    assert [s["event"] for s in area["steps"]] == ["CaseSelected", "ReturnRecorded",
                                                   "ReturnRecorded", "GradeRevised"]
    assert [s["judgement"]["grade"] for s in area["steps"][1:]] == [2, 4, 3]
    assert area["steps"][-1]["reason"] == "report found on file"


def test_bad_input_exits_2_names_the_problem_and_writes_nothing(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    broken = dict(mini_pack)
    broken["returns"] = [dict(mini_pack["returns"][0], agency="police")]
    pack = tmp_path / "broken.json"
    pack.write_text(json.dumps(broken))
    result = run_cli("import", str(pack), url=store_url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "returns[0].agency: 'police' is not involved in case K01" in result.stderr
    status = json.loads(run_cli("projections", "status", "--format", "json",
                                url=store_url, check=True).stdout)
    assert status["head"] == 0

    not_json = tmp_path / "not.json"
    not_json.write_text("{\"programme\": ")
    result = run_cli("import", str(not_json), url=store_url)
    assert result.returncode == 2 and "not valid JSON" in result.stderr

    good = tmp_path / "mini.json"
    good.write_text(json.dumps(mini_pack))
    run_cli("import", str(good), url=store_url, check=True)
    head = json.loads(run_cli("projections", "status", "--format", "json",
                              url=store_url, check=True).stdout)["head"]
    for args, needle in [
        (("grade", "moderate", "mini-2026", "K01", "--area", "6", "--grade", "3", "--reason",
          "x", "--by", "sch.t"), "need the role moderator"),
        (("grade", "revise", "mini-2026", "K01", "--agency", "school", "--area", "6",
          "--grade", "5", "--reason", "x", "--by", "sch.aud"), "not on the ofsted-ilacs scale"),
        (("concern", "raise", "mini-2026", "K99", "--agency", "school", "--summary", "x",
          "--by", "sch.aud"), "no case 'K99'"),
        (("case", "mini-2026", "K99"), "no case 'K99'"),
        (("report", "nope"), "no programme 'nope'"),
        (("history", "mini-2026", "K01", "--as-of", "last tuesday"), "not an ISO-8601"),
        (("action", "update", "mini-2026", "A1.1", "--rag", "amber", "--note", "",
          "--by", "sch.mgr"), "note"),
    ]:
        result = run_cli(*args, url=store_url)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    after = json.loads(run_cli("projections", "status", "--format", "json",
                               url=store_url, check=True).stdout)["head"]
    assert after == head


def test_single_facts_from_the_shell(store_url: str, tmp_path: Path,
                                     mini_pack: dict[str, Any]) -> None:
    good = tmp_path / "mini.json"
    good.write_text(json.dumps(mini_pack))
    run_cli("import", str(good), url=store_url, check=True)
    raised = run_cli("concern", "raise", "mini-2026", "K02", "--agency", "social-care",
                     "--summary", "Missed visits", "--child-at-risk", "--by", "sc.aud",
                     url=store_url, check=True)
    assert "contact the children's services front door" in raised.stdout
    listed = json.loads(run_cli("concern", "list", "mini-2026", "--format", "json",
                                url=store_url, check=True).stdout)
    ref = next(k["ref"] for k in listed if k["summary"] == "Missed visits")
    run_cli("concern", "acknowledge", "mini-2026", ref, "--by", "sc.mgr", url=store_url,
            check=True)
    run_cli("feedback", "acknowledge", "mini-2026", "K01", "--agency", "school", "--by",
            "sch.t", url=store_url, check=True)
    run_cli("feedback", "respond", "mini-2026", "K01", "--agency", "school", "--issue", "1",
            "--response", "Report now sent to every review", "--by", "sch.t", url=store_url,
            check=True)
    run_cli("recommendation", "add", "mini-2026", "--number", "2", "--text",
            "Supervision must be recorded", "--by", "ql", url=store_url, check=True)
    run_cli("action", "plan", "mini-2026", "A2.1", "--recommendation", "2", "--description",
            "Audit supervision records quarterly", "--measure", "Quarterly audit report",
            "--owner", "sc.mgr", "--due", "2026-09-30", "--by", "ql", url=store_url, check=True)
    run_cli("action", "ratify", "mini-2026", "A2.1", "--by", "chair", url=store_url, check=True)
    run_cli("action", "update", "mini-2026", "A2.1", "--rag", "green", "--note", "On track",
            "--by", "sc.mgr", url=store_url, check=True)
    fb = json.loads(run_cli("feedback", "list", "mini-2026", "--person", "sch.t", "--format",
                            "json", url=store_url, check=True).stdout)
    k01 = next(f for f in fb if f["case"] == "K01")
    assert k01["acknowledged_by"] == "sch.t" and "1" in k01["responses"]
    actions = json.loads(run_cli("action", "list", "mini-2026", "--format", "json",
                                 "--today", "2026-07-01", url=store_url, check=True).stdout)
    a21 = next(a for a in actions if a["id"] == "A2.1")
    assert a21["rag"] == "green" and a21["ratified"] and a21["overdue_days"] == 0
    recs = json.loads(run_cli("recommendation", "list", "mini-2026", "--format", "json",
                              "--today", "2026-10-01", url=store_url, check=True).stdout)
    rec2 = next(r for r in recs if r["number"] == 2)
    assert rec2["status"] == "overdue" and rec2["actions"] == ["A2.1"] and rec2["overdue"] == 1
    said = run_cli("recommendation", "list", "mini-2026", "--today", "2026-07-01",
                   url=store_url, check=True).stdout
    assert "2  in progress  (1 action, 0 complete, 0 overdue)" in said
    assert "Supervision must be recorded" in said


def test_rebuild_reproduces_the_views_byte_for_byte(store_url: str, tmp_path: Path) -> None:
    from audit_ledger.wiring import wire

    run_cli("demo", url=store_url, cwd=tmp_path, check=True)
    run_cli("grade", "moderate", "lontown-2009", "C01", "--area", "2", "--grade", "3",
            "--reason", "agreed at moderation", "--by", "cpcm.reid", url=store_url, check=True)
    w = wire(store_url, "")
    try:
        assert w.follower.status().behind == 0  # every command left the views up to date
        before = w.store.dump()
        rebuilt = json.loads(run_cli("projections", "rebuild", "--format", "json",
                                     url=store_url, check=True).stdout)
        assert rebuilt["position"] == rebuilt["head"]
        assert w.store.dump() == before
    finally:
        w.close()


def test_reaudit_compared_with_its_baseline(store_url: str, tmp_path: Path,
                                            mini_pack: dict[str, Any]) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(mini_pack))
    reaudit = json.loads(json.dumps(mini_pack))
    reaudit["programme"].update(id="mini-2026-reaudit", baseline="mini-2026",
                                opened="2026-08-01", areas={**AREAS, "7": "Supervision"})
    for r in reaudit["returns"]:
        r["completed"] = "2026-08-10"
        if r["case"] == "K01" and r["agency"] == "school":
            r["grades"]["6"] = 2  # the review area improved
    for a in reaudit["actions"]:
        a["due"] = "2026-12-31"
    again = tmp_path / "reaudit.json"
    again.write_text(json.dumps(reaudit))
    run_cli("import", str(base), url=store_url, check=True)
    run_cli("import", str(again), "--by", "ql", url=store_url, check=True)
    data = json.loads(run_cli("report", "mini-2026-reaudit", "--compare", "mini-2026",
                              "--format", "json", url=store_url, check=True).stdout)
    area6 = next(a for a in data["comparison"]["areas"] if a["area"] == "6")
    assert area6["baseline"]["counts"] == {"1": 0, "2": 1, "3": 0, "4": 1}
    assert area6["reaudit"]["counts"] == {"1": 0, "2": 2, "3": 0, "4": 0}
    assert area6["change_good_or_better"] == 0.5 and area6["change_inadequate"] == -0.5
    md = run_cli("report", "mini-2026-reaudit", "--compare", "mini-2026", url=store_url,
                 check=True).stdout
    assert "| Review | 1 of 2 -> 2 of 2 | 1 of 2 -> 0 of 2 |" in md
    assert "Area 7 is 'Supervision' here but 'Management and supervision' in mini-2026" in md
    page = run_cli("report", "mini-2026-reaudit", "--compare", "mini-2026", "--format", "html",
                   url=store_url, check=True).stdout
    assert "<td>1 of 2 -&gt; 2 of 2</td><td>1 of 2 -&gt; 0 of 2</td>" in page
    missing = run_cli("report", "mini-2026-reaudit", "--compare", "nope", url=store_url)
    assert missing.returncode == 2 and "no programme 'nope'" in missing.stderr


def test_people_directory_from_the_shell(store_url: str, tmp_path: Path,
                                          mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    run_cli("person", "add", "hv.new", "--agency", "health-visiting", "--role", "practitioner",
            "--by", "ql", url=store_url, check=True)
    denied = run_cli("person", "add", "x.y", "--agency", "school", "--by", "sch.t",
                     url=store_url)
    assert denied.returncode == 2 and "need the role quality-lead" in denied.stderr
    taken = run_cli("person", "link-slack", "hv.new", "--slack-user", "U0SCSW", "--by", "ql",
                    url=store_url)
    assert taken.returncode == 2 and "already linked to sc.sw" in taken.stderr
    run_cli("person", "link-slack", "hv.new", "--slack-user", "U0HVNEW", "--by", "ql",
            url=store_url, check=True)
    run_cli("person", "grant", "hv.new", "--role", "auditor", "--by", "ql", url=store_url,
            check=True)
    people = json.loads(run_cli("person", "list", "--format", "json", url=store_url,
                                check=True).stdout)
    new = next(p for p in people if p["person"] == "hv.new")
    assert new["roles"] == ["practitioner", "auditor"] and new["slack_user"] == "U0HVNEW"


def test_history_weaves_in_feedback_and_concerns(store_url: str, tmp_path: Path,
                                                 mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    run_cli("feedback", "acknowledge", "mini-2026", "K01", "--agency", "school", "--by",
            "sch.t", url=store_url, check=True)
    run_cli("feedback", "respond", "mini-2026", "K01", "--agency", "school", "--issue", "1",
            "--response", "Report sent", "--by", "sch.t", url=store_url, check=True)
    data = json.loads(run_cli("history", "mini-2026", "K01", "--format", "json",
                              url=store_url, check=True).stdout)
    names = [s["event"] for s in data["steps"]]
    assert names[0] == "CaseSelected"
    assert names.count("FeedbackIssued") == 2 and "ConcernRaised" in names
    assert names[-2:] == ["FeedbackAcknowledged", "IssueResponded"]
    assert data["steps"][-1]["by"] == "sch.t" and data["steps"][-1]["issue"] == 1
    assert [s["position"] for s in data["steps"]] == list(range(1, len(names) + 1))


def test_import_returns_from_the_shell(store_url: str, tmp_path: Path,
                                       mini_pack: dict[str, Any]) -> None:
    pack = dict(mini_pack, returns=[r for r in mini_pack["returns"] if r["case"] != "K02"])
    (tmp_path / "mini.json").write_text(json.dumps(pack))
    run_cli("import", str(tmp_path / "mini.json"), url=store_url, check=True)
    csv_file = tmp_path / "returns.csv"
    # As Excel's plain "CSV" saves it in many locales: Windows-1252, semicolons, day first.
    csv_file.write_bytes(
        "case;agency;auditor;practitioner;completed;area;grade;strengths;concerns\r\n"
        "K02;social-care;sc.aud;sc.sw;03/02/2026;2;3;;Referral late \u2013 four days\r\n"
        "K02;social-care;sc.aud;sc.sw;03/02/2026;overall;3;Caf\u00e9 meeting held;\r\n"
        .encode("cp1252"))
    first = run_cli("import-returns", "mini-2026", str(csv_file), "--by", "sc.aud",
                    url=store_url, check=True)
    assert first.stdout.splitlines() == [
        "returns.csv: read as Windows-1252 text, values separated by semicolons",
        "imported into mini-2026: 1 returns, 1 feedback issued (2 events)"]
    again = run_cli("import-returns", "mini-2026", str(csv_file), url=store_url, check=True)
    assert "nothing to import" in again.stdout
    shown = json.loads(run_cli("case", "mini-2026", "K02", "--format", "json", url=store_url,
                               check=True).stdout)
    assert shown["areas"]["2"]["grade"] == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
                   "K02,school,sch.aud,sch.t,2026-02-03,2,seven,,\n")
    result = run_cli("import-returns", "mini-2026", str(bad), "--by", "sc.aud", url=store_url)
    assert result.returncode == 2 and "line 2: grade 'seven' is not a whole number" in result.stderr
