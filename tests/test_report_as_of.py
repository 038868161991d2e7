"""The report as it stood: `--as-of` counts what had happened in the world by a day, and a
published version reads byte for byte the same after later events, in every format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import fresh_store, run_cli

P = "lontown-2009"
LATER = [  # (what, recorded now but happened on the day given)
    ("action", "update", P, "A1.1", "--rag", "amber", "--note", "Two of four teams briefed.",
     "--by", "tm.khan", "--on", "2010-02-01"),
    ("action", "complete", P, "A1.1", "--evidence", "Minutes of all four team meetings.",
     "--by", "tm.khan", "--on", "2010-05-20"),
    ("grade", "moderate", P, "C03", "--area", "3", "--grade", "3", "--reason",
     "Agreed at moderation: the delay was mitigated by the school.", "--by", "cpcm.reid",
     "--on", "2010-04-02"),
]
DAY = "2010-03-15"


def _json(*args: str, url: str) -> Any:
    return json.loads(run_cli(*args, "--format", "json", url=url, check=True).stdout)


def _demo(url: str, tmp_path: Path, happened: list[tuple[str, ...]]) -> str:
    run_cli("demo", url=url, cwd=tmp_path, check=True)
    for args in happened:
        run_cli(*args, url=url, check=True)
    return url


def test_as_of_a_day_is_the_store_replayed_only_up_to_that_day(store_url: str,
                                                                tmp_path: Path) -> None:
    everything = _demo(store_url, tmp_path, LATER)
    kind = "sqlite" if store_url.startswith("sqlite") else "postgres"
    with fresh_store(kind, tmp_path) as other:
        _as_of_matches_a_replay(everything, _demo(other, tmp_path, [a for a in LATER
                                                                    if a[-1] <= DAY]))


def _as_of_matches_a_replay(everything: str, by_then: str) -> None:
    then = _json("report", P, "--as-of", DAY, url=everything)
    replayed = _json("report", P, "--today", DAY, url=by_then)
    assert then["as_of"] and not replayed["as_of"]
    assert {**then, "as_of": None} == {**replayed, "as_of": None}
    a11 = next(a for a in then["actions"] if a["id"] == "A1.1")
    assert (a11["status"], a11["rag"], a11["completed_on"]) == ("overdue by 43 days", "amber", "")
    now = _json("report", P, "--today", DAY, url=everything)  # --today moves only overdue days
    assert next(a for a in now["actions"] if a["id"] == "A1.1")["status"] == "complete"
    area3 = next(a for a in then["areas"] if a["number"] == 3)
    assert area3["counts"]["4"] == 4  # the moderation of April is not yet there
    md = run_cli("report", P, "--as-of", DAY, url=everything, check=True).stdout
    assert "Figures as they stood on 15 March 2010." in md

    history = _json("history", P, "C03", "--area", "3", "--as-of", "2010-03-31", url=everything)
    assert history["as_of_means"] == "happened by"
    assert "JudgementModerated" not in {s["event"] for s in history["steps"]}
    said = run_cli("history", P, "C03", "--as-of", "2010-03-31", url=everything,
                   check=True).stdout
    assert "as of 31 March 2010: what had happened in the world by that day" in said


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_a_published_version_is_byte_identical_after_a_later_moderation(
        tmp_path: Path, fmt: str) -> None:
    url = _demo(f"sqlite:///{tmp_path / 'published.db'}", tmp_path, LATER[:1])
    refused = run_cli("report", "publish", P, "--by", "tm.khan", url=url)
    assert refused.returncode == 2 and "quality-lead" in refused.stderr
    done = run_cli("report", "publish", P, "--by", "qa.bennett", "--on", "2010-03-15",
                   "--marking", "OFFICIAL-SENSITIVE", url=url, check=True)
    assert "published version 1 of the report of lontown-2009" in done.stdout
    first = run_cli("report", P, "--published", "1", "--format", fmt, url=url, check=True)
    for args in LATER[1:]:
        run_cli(*args, url=url, check=True)
    again = run_cli("report", P, "--published", "1", "--format", fmt, url=url, check=True)
    assert again.stdout == first.stdout and again.stderr == ""
    doc = _json("report", P, "--published", "1", url=url)
    sha = doc["published"].pop("sha256")
    assert sha in done.stdout and doc["published"]["version"] == 1
    area3 = next(a for a in doc["areas"] if a["number"] == 3)
    assert area3["counts"]["4"] == 4
    current = _json("report", P, "--today", "2010-06-01", url=url)
    assert current["last_published"]["version"] == 1
    assert "area 3 (Referral) adequate 3 -> 4, inadequate 4 -> 3" in \
        current["last_published"]["changes"]
    assert "1 more judgement(s) moderated" in current["last_published"]["changes"]
    if fmt == "md":  # the process section gives each correction with its reason
        md = run_cli("report", P, url=url, check=True).stdout
        assert ("- Moderated (case C03, area 3, 2 April 2010): to 3; Agreed at moderation: "
                "the delay was mitigated by the school.") in md
        public = run_cli("report", P, "--publishable", url=url, check=True).stdout
        assert "- Moderated (area 3, 2 April 2010): to 3." in public
        assert "mitigated" not in public and "C03" not in public
    missing = run_cli("report", P, "--published", "2", url=url)
    assert missing.returncode == 2 and "no published version 2" in missing.stderr
