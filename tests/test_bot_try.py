"""`audit-ledger bot try`: the real app against the local stand-in for Slack, driven by piped input,
on the fixed day (AUDIT_LEDGER_CLOCK)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import CLOCK_DAY, run_cli, run_console, slack_env

SESSION = """\
press 4
I saw the child alone on 3 February; my note was missing.
cancel
press 7
Supervision is now recorded on the case file.
press 10

/audit my
/audit actions
/audit history mini-2026 K01
home
quit
"""


def test_try_in_the_terminal_answer_one_issue_at_a_time(store_url: str, tmp_path: Path,
                                                        mini_pack: dict[str, Any]) -> None:
    """Answer several, interrupted after the first box: kept as a draft; issue 2 answered on
    its own; issue 1 finished later from the draft; answering both acknowledges."""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    result = run_console("bot", "try", "--as", "sc.sw", env=slack_env(store_url),
                         input_text=SESSION)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "You are Sasha Worker (sc.sw: practitioner, social-care)." in out
    # The feedback already sent to them: each issue with its own button, numbered.
    assert "YOUR AUDIT FEEDBACK: CASE K01" in out
    assert "Issues raised (2) · 0 of 2 answered" in out
    assert "Supervision not recorded.\n   [2 Answer]\n" in out
    assert "[3 Acknowledge]   [4 Answer several]" in out
    # press 4, one box typed, then closed: what was typed is kept as a draft.
    assert "=== Answer issues" in out
    assert "kept as a draft for next time)" in out
    assert "_Your draft answer is saved, not sent yet._" not in out  # mrkdwn shown as text
    assert "Your draft answer is saved, not sent yet." in out
    assert "[6 Finish answer]" in out and "[7 Answer]" in out
    # press 7: issue 2 on its own; the message says how many are answered.
    assert "=== Answer issue 2" in out
    assert "1 answer recorded; 1 of 2 issues answered" in out
    assert "Issues raised (2) · 1 of 2 answered" in out
    # press 10: issue 1's form starts from the draft; Enter sends it.
    assert "(Restored from your draft, not sent yet.)" in out
    assert "[now: I saw the child alone on 3 February; my note was missing.; Enter keeps it]" \
        in out
    assert "Every issue is answered, so your feedback is acknowledged too." in out
    assert "✓ Acknowledged by Sasha Worker on" in out
    assert "case *K02*" not in out and "case K02 (social-care) in mini-2026" in out
    # On the fixed day (2 April 2026) the action due on 30 June is open, not overdue.
    assert CLOCK_DAY.isoformat() == "2026-04-02"
    assert "Owner Pat Head · due on 30 June 2026 · open" in out
    assert "Only auditors, moderators and quality leads can see how a case's judgements" in out
    assert "--- Your Home tab" in out

    listed = json.loads(run_cli("feedback", "list", "mini-2026", "--person", "sc.sw", "--format",
                                "json", url=store_url, check=True).stdout)
    k01 = next(f for f in listed if f["case"] == "K01")
    assert k01["acknowledged_by"] == "sc.sw"
    assert k01["responses"]["1"]["response"] == \
        "I saw the child alone on 3 February; my note was missing."
    assert k01["responses"]["2"]["response"] == "Supervision is now recorded on the case file."
    assert "drafts" not in k01


def test_try_refuses_someone_not_in_the_directory(tmp_path: Path) -> None:
    result = run_console("bot", "try", "--as", "nobody",
                         env=slack_env(f"sqlite:///{tmp_path / 'l.db'}"))
    assert result.returncode == 2
    assert "no person 'nobody' in the directory; the directory is empty: load an audit first" \
        in result.stderr


def test_try_the_managers_seen_leaves_the_practitioners_acknowledge(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """The manager presses Seen on his copy; her own session still has Acknowledge, and says
    that he has seen it."""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    his = run_console("bot", "try", "--as", "sc.mgr", env=slack_env(store_url),
                      input_text="press 1\nquit\n")
    assert his.returncode == 0, his.stderr
    assert "Press Seen to record that you have read this copy. It does not acknowledge the " \
           "feedback for Sasha Worker: only they can." in his.stdout
    assert "[1 Seen]" in his.stdout
    assert "recorded that you have seen this copy. Only Sasha Worker can acknowledge" in \
        his.stdout
    assert "Not yet acknowledged by Sasha Worker" in his.stdout

    hers = run_console("bot", "try", "--as", "sc.sw", env=slack_env(store_url),
                       input_text="quit\n")
    assert hers.returncode == 0, hers.stderr
    k01 = hers.stdout[hers.stdout.index("YOUR AUDIT FEEDBACK: CASE K01"):]
    k01 = k01[:k01.index("-" * 20)]
    assert "Seen by Sam Manager (manager)" in k01 and "Acknowledge]" in k01
    listed = json.loads(run_cli("feedback", "list", "mini-2026", "--person", "sc.sw", "--format",
                                "json", url=store_url, check=True).stdout)
    k01_doc = next(f for f in listed if f["case"] == "K01")
    assert k01_doc["acknowledged_by"] == "" and k01_doc["seen_by"] == "sc.mgr"
