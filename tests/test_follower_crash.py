"""A follower killed with SIGKILL while catching up, then started again: nothing lost, nothing doubled.

Real processes on both stores. The demo audit is imported and a few hundred single
commands are added without folding any of it. Follower processes with a small batch
are then killed part of the way through the log: once from outside while busy, and
three times by themselves inside the commit of one batch (after moving the position
within the transaction, just before COMMIT, just after it). `audit-ledger projections
follow` then finishes the job. The views must be byte for byte what a rebuild makes,
and their counts what the case documents and the commands themselves say.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from audit_ledger.wiring import Wiring
from ledger import commands as c
from ledger.base import LedgerError
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import cli_env, console_script, demo_pack, log_head

P = "lontown-2009"
COMMANDS = 400
BATCH = 5

FOLLOWER = """
import os, signal, sys, time
from audit_ledger.wiring import wire
from projections.follower import Follower

url, batch, die_at, how = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
w = wire(url, "")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def moves_position(sql):
    return sql.lstrip().startswith(("INSERT", "UPDATE")) and "view_positions" in sql


class Dying:
    # The view store's connection, armed to die at one point of one commit.
    armed = False

    def __init__(self, conn):
        self.conn = conn

    def __getattr__(self, name):
        return getattr(self.conn, name)

    def execute(self, sql, *args, **kwargs):
        if self.armed and how == "before-commit" and sql == "COMMIT":
            die()
        result = self.conn.execute(sql, *args, **kwargs)
        if self.armed and ((how == "after-commit" and sql == "COMMIT")
                           or (how == "mid" and moves_position(sql))):
            die()
        return result

    def transaction(self, *args, **kwargs):
        return Transaction(self, self.conn.transaction(*args, **kwargs))


class Transaction:
    def __init__(self, conn, inner):
        self.conn, self.inner = conn, inner

    def __enter__(self):
        return self.inner.__enter__()

    def __exit__(self, *exc):
        if self.conn.armed and how == "before-commit" and exc[0] is None:
            die()
        result = self.inner.__exit__(*exc)
        if self.conn.armed and how == "after-commit" and exc[0] is None:
            die()
        return result


w.store.conn = Dying(w.store.conn)
commit = w.store.commit


def commit_or_die(changes, expected, new):
    w.store.conn.armed = how != "never" and new >= die_at
    commit(changes, expected, new)


w.store.commit = commit_or_die
follower = Follower(w.app, w.store, batch=batch)
while True:
    follower.catch_up()
    time.sleep(0.01)
"""


def _add_commands(w: Wiring, pack: dict[str, Any]) -> Counter[str]:
    """A few hundred single facts that move judgements, counts and lists; what each added."""
    rng = random.Random(2009)
    done: Counter[str] = Counter()
    returns = [r for r in pack["returns"] if r["grades"].get("overall") != 1]
    grades = {(r["case"], r["agency"]): dict(r["grades"]) for r in returns}
    actions = [a["id"] for a in pack["actions"]]
    issues = [(r["case"], r["agency"], r["practitioner"], n) for r in pack["returns"]
              for n in range(1, len(r.get("concerns", {})) + 1)]
    for i in range(COMMANDS):
        kind = rng.choice(["revise", "revise", "moderate", "progress", "respond"])
        try:
            if kind == "revise":
                r = rng.choice(returns)
                mine = grades[(r["case"], r["agency"])]
                area = rng.choice(sorted(a for a in mine if a != "overall"))
                grade = 3 if mine[area] == 4 else 4
                w.app.revise_grade(c.ReviseGrade(
                    by=r["auditor"], programme=P, case=r["case"], agency=r["agency"], area=area,
                    grade=grade, reason=f"second look ({i})"))
                mine[area] = grade
            elif kind == "moderate":
                w.app.moderate_judgement(c.ModerateJudgement(
                    by="cpcm.reid", programme=P, case=rng.choice(pack["cases"])["ref"],
                    area=rng.choice("2345678"), grade=rng.choice([2, 3, 4]),
                    reason=f"moderation panel ({i})"))
            elif kind == "progress":
                action = rng.choice(actions)
                w.app.record_action_progress(c.RecordActionProgress(
                    by="qa.bennett", programme=P, action=action,
                    rag=rng.choice(["red", "amber", "green"]), note=f"update {i}"))
                done[f"progress {action}"] += 1
            else:
                case, agency, practitioner, n = rng.choice(issues)
                w.app.respond_to_issue(c.RespondToIssue(
                    by=practitioner, programme=P, case=case, agency=agency, issue=n,
                    response=f"response {i}"))
                done[f"responses {case}/{agency}/{n}"] = 1
        except LedgerError as e:  # every command above is one the ledger allows
            raise AssertionError(f"command {i} ({kind}) refused: {e}") from e
        done[kind] += 1
    return done


def _start(args: list[str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=cli_env(url), stdout=out, stderr=out)


def _wait_for(w: Wiring, proc: subprocess.Popen[bytes], log: Path, position: int,
              timeout: float = 120.0) -> int:
    """Poll the views' position until it reaches `position`; the position seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen = w.follower.position()
        if seen >= position:
            return seen
        assert proc.poll() is None, f"follower died:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"follower stuck at {seen}:\n{log.read_text()}"
        time.sleep(0.002)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _counted_by_hand(w: Wiring) -> dict[str, Any]:
    """The summary and coverage, counted again from the case documents."""
    cases = w.views.cases(P)
    areas: dict[str, dict[str, int]] = {}
    coverage: dict[str, Any] = {"cases": len(cases), "category": {}, "age_band": {},
                                "gender": {}, "ethnicity": {}, "agencies": {}}
    for case in cases:
        for area, judgement in case["judgements"].items():
            counts = areas.setdefault(area, {})
            counts[str(judgement["grade"])] = counts.get(str(judgement["grade"]), 0) + 1
        for field in ("category", "age_band", "gender", "ethnicity"):
            value = case[field] or "not recorded"
            coverage[field][value] = coverage[field].get(value, 0) + 1
        for agency in case["agencies"]:
            coverage["agencies"][agency] = coverage["agencies"].get(agency, 0) + 1
    return {"summary": {"cases": len(cases), "areas": areas}, "coverage": coverage}


def test_a_follower_killed_mid_catch_up_loses_and_doubles_nothing(
        wiring: Wiring, store_url: str, tmp_path: Path) -> None:
    w = wiring
    pack = demo_pack()
    import_pack(w.app, parse_pack(pack))
    imported = log_head(w)
    done = _add_commands(w, pack)
    head = log_head(w)
    # Each command stores at least its own fact; the last answer to a feedback also stores the
    # practitioner's acknowledgement, so the log may hold a few more than COMMANDS.
    assert head >= imported + COMMANDS and w.follower.position() == 0
    log = tmp_path / "follower.log"

    # A follower with a small batch, killed from outside part of the way through the log.
    proc = _start([sys.executable, "-c", FOLLOWER, store_url, str(BATCH), "0", "never"],
                  store_url, log)
    try:
        _wait_for(w, proc, log, head // 5)
    finally:
        _kill(proc)
    reached = [w.follower.position()]
    assert 0 < reached[0] < head

    # Others that kill themselves in the commit of the batch that reaches die_at: after
    # moving the position inside the transaction, just before COMMIT, just after it.
    for n, how in enumerate(("mid", "before-commit", "after-commit"), start=2):
        die_at = head * n // 5
        proc = _start([sys.executable, "-c", FOLLOWER, store_url, str(BATCH), str(die_at), how],
                      store_url, log)
        try:
            assert proc.wait(timeout=120) == -signal.SIGKILL, log.read_text()
        finally:
            if proc.poll() is None:
                _kill(proc)
        position = w.follower.position()
        if how == "after-commit":
            assert die_at <= position < die_at + BATCH, (how, die_at, position)
        else:
            assert die_at - BATCH <= position < die_at, (how, die_at, position)
        reached.append(position)
    assert reached == sorted(reached) and reached[-1] < head, reached

    # Then the console script's own follower, to the head of the log.
    proc = _start([console_script(), "projections", "follow", "--interval", "0.05"], store_url,
                  log)
    try:
        _wait_for(w, proc, log, head)
    finally:
        _kill(proc)
    assert w.follower.position() == head
    assert w.follower.catch_up() == 0

    followed = w.store.dump()
    by_hand = _counted_by_hand(w)
    assert w.views.summary(P) == by_hand["summary"]
    assert w.views.coverage(P) == by_hand["coverage"]
    assert by_hand["summary"]["cases"] == len(pack["cases"])

    # Lists that each command appends to hold exactly one entry per command.
    for action in w.views.actions(P):
        assert len(action["progress"]) == done[f"progress {action['id']}"], action["id"]
    responses = sum(len(f["responses"]) for f in w.views.feedback(P))
    assert responses == sum(n for k, n in done.items() if k.startswith("responses "))
    moderated = sum(len(case["moderations"]) for case in w.views.cases(P))
    assert 0 < moderated <= done["moderate"]

    assert w.follower.rebuild() == head
    rebuilt = w.store.dump()
    assert [(v, k) for v, k, _ in followed] == [(v, k) for v, k, _ in rebuilt]
    for (view, key, doc), (_, _, again) in zip(followed, rebuilt, strict=True):
        assert doc == again, (view, key, doc, again)
    assert followed == rebuilt
