"""`audit-ledger history` told as a story: each step's day in the world, what happened, who did
it and the judgement after; no storage times, event class names, "by import" or JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .conftest import run_cli


def test_the_console_tells_a_case_history_as_a_story(tmp_path: Path,
                                                     mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'story.db'}"
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=url, check=True)
    told = run_cli("history", "mini-2026", "K01", "--area", "6", url=url, check=True).stdout
    lines = told.splitlines()
    assert lines[0].startswith("History of case K01 in mini-2026, Area 6 Review as it stood on ")
    assert "  1. Monday 5 January 2026: The case was selected for audit (as loaded from the " \
           "audit pack)." in lines
    assert "  3. Monday 2 February 2026: school's return was recorded by Ali Auditor. " \
           "Judgement now: 4 inadequate." in lines
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|[{\[]\"|by import", told)
    assert not re.search(r"\b(?:[A-Z][a-z]+){2,}\b", told)  # no ReturnRecorded and the like
