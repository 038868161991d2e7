"""`audit-ledger bot try`: the real app against the local stand-in for Slack, driven by piped input,
on the fixed day (AUDIT_LEDGER_CLOCK)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import CLOCK_DAY, run_cli, run_console, slack_env

SESSION = """\
press 1
press 2

Supervision is now recorded on the case file.
I saw the child alone on 3 February; my note was missing.
press 1
/audit my
/audit actions
/audit history mini-2026 K01
home
quit
"""


def test_try_in_the_terminal_acknowledge_and_answer(store_url: str, tmp_path: Path,
                                                    mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    result = run_console("bot", "try", "--as", "sc.sw", env=slack_env(store_url),
                         input_text=SESSION)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "You are Sasha Worker (sc.sw: practitioner, social-care)." in out
    # The feedback already sent to them, with numbered buttons.
    assert "YOUR AUDIT FEEDBACK: CASE K01" in out
    assert "[1 Acknowledge]   [2 Respond]" in out
    # press 1: the message is updated in place.
    assert "The message above was updated" in out
    assert "✓ Acknowledged by Sasha Worker on" in out
    # press 2: the form asks for each answer; an empty one is refused, then asked again.
    assert "=== Respond to feedback" in out
    assert "Please fix:\n  ! Your answer to issue 1: Please write an answer" in out
    assert "Thank you. Your answers are now part of the audit record." in out
    assert "That button is gone" in out
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


def test_try_refuses_someone_not_in_the_directory(tmp_path: Path) -> None:
    result = run_console("bot", "try", "--as", "nobody",
                         env=slack_env(f"sqlite:///{tmp_path / 'l.db'}"))
    assert result.returncode == 2
    assert "no person 'nobody' in the directory; the directory is empty: load an audit first" \
        in result.stderr
