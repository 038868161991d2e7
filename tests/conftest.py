"""Every store-touching test runs on both stores: an SQLite file and a PostgreSQL schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import pytest
from eventsourcing.persistence import IntegrityError

from audit_ledger.wiring import Wiring, wire
from ledger.application import AuditLedger

PG_BASE = os.environ.get("AUDIT_LEDGER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3):
            return None
    except Exception as e:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(e).__name__}: {e}"


_PG_PROBLEM = _postgres_reachable()


def pytest_report_header() -> str:
    return f"PostgreSQL for tests: {PG_BASE} ({_PG_PROBLEM or 'reachable'})"


def _drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    if _PG_PROBLEM:
        if os.environ.get("AUDIT_LEDGER_TEST_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (AUDIT_LEDGER_TEST_POSTGRES is set) but "
                        f"{PG_BASE} is not reachable: {_PG_PROBLEM}")
        pytest.skip(f"no PostgreSQL reachable at {PG_BASE} ({_PG_PROBLEM}); set "
                    "AUDIT_LEDGER_TEST_POSTGRES=1 to make this a failure")
    with fresh_store("postgres", tmp_path) as url:
        yield url


@pytest.fixture
def wiring(store_url: str) -> Iterator[Wiring]:
    w = wire(store_url, "")
    try:
        yield w
    finally:
        w.close()


def demo_pack() -> dict[str, Any]:
    text = resources.files("ledger").joinpath("packs", "lontown-2009.json")
    return json.loads(text.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def demo_expected() -> dict[str, Any]:
    text = resources.files("ledger").joinpath("packs",
                                                          "lontown-2009-expected.json")
    return json.loads(text.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def console_script() -> str:
    """The installed `audit-ledger` console script, as a user runs it."""
    beside = Path(sys.executable).parent / "audit-ledger"
    found = str(beside) if beside.exists() else shutil.which("audit-ledger")
    assert found, "the audit-ledger console script is not installed"
    return found


def run_cli(*args: str, url: str, cwd: Path | None = None, key: str = "",
            check: bool = False, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = cli_env(url, key)
    result = subprocess.run([console_script(), *args], capture_output=True, text=True,
                            env=env, cwd=cwd, timeout=120, input=input_text)
    if check and result.returncode != 0:
        raise AssertionError(f"audit-ledger {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def mini_pack() -> dict[str, Any]:
    """A small audit: two cases, agencies that disagree, an area one agency left ungraded."""
    return {
        "programme": {"id": "mini-2026", "title": "Mini audit", "board": "Test Partnership",
                      "opened": "2026-01-05", "scale": "ofsted-ilacs", "consolidation": "worst"},
        "people": [
            {"id": "ql", "name": "Quinn Lead", "agency": "partnership", "roles": ["quality-lead"],
             "slack_user": "U0QL"},
            {"id": "mod", "name": "Morgan Mod", "agency": "partnership", "roles": ["moderator"]},
            {"id": "chair", "name": "Chris Chair", "agency": "partnership", "roles": ["board"]},
            {"id": "sc.mgr", "name": "Sam Manager", "agency": "social-care", "roles": ["manager"],
             "slack_user": "U0SCMGR"},
            {"id": "sc.sw", "name": "Sasha Worker", "agency": "social-care",
             "roles": ["practitioner"], "manager": "sc.mgr", "slack_user": "U0SCSW"},
            {"id": "sc.aud", "name": "Ash Auditor", "agency": "social-care", "roles": ["auditor"]},
            {"id": "sch.mgr", "name": "Pat Head", "agency": "school", "roles": ["manager"]},
            {"id": "sch.t", "name": "Toni Teacher", "agency": "school", "roles": ["practitioner"],
             "manager": "sch.mgr"},
            {"id": "sch.aud", "name": "Ali Auditor", "agency": "school", "roles": ["auditor"]},
        ],
        "cases": [
            {"ref": "K01", "category": "neglect", "age_band": "5-10", "gender": "male",
             "ethnicity": "White British", "agencies": ["social-care", "school"]},
            {"ref": "K02", "category": "emotional", "age_band": "11-15", "gender": "female",
             "ethnicity": "Black African", "agencies": ["social-care", "school"]},
        ],
        "returns": [
            {"case": "K01", "agency": "social-care", "auditor": "sc.aud", "practitioner": "sc.sw",
             "completed": "2026-02-01",
             "grades": {"2": 2, "3": 2, "4": 3, "5": 2, "6": 2, "7": 2, "8": 2, "overall": 2},
             "strengths": {"2": "Clear chronology kept."},
             "concerns": {"4": "Child not seen alone.", "7": "Supervision not recorded."}},
            {"case": "K01", "agency": "school", "auditor": "sch.aud", "practitioner": "sch.t",
             "completed": "2026-02-02",
             "grades": {"2": 3, "4": 2, "5": 2, "6": 4, "8": 2, "overall": 3},
             "concerns": {"6": "No school report to review conference."}},
            {"case": "K02", "agency": "social-care", "auditor": "sc.aud", "practitioner": "sc.sw",
             "completed": "2026-02-03",
             "grades": {"2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 2, "overall": 1},
             "strengths": {"5": "Plan focused on reducing risk."}},
            {"case": "K02", "agency": "school", "auditor": "sch.aud", "practitioner": "sch.t",
             "completed": "2026-02-03",
             "grades": {"2": 2, "3": 2, "5": 2, "6": 2, "8": 2, "overall": 2}},
        ],
        "concerns": [
            {"case": "K01", "agency": "school", "raised_by": "sch.aud",
             "summary": "School did not report to the review conference.", "child_at_risk": False},
        ],
        "recommendations": [{"number": 1, "text": "Schools must report to every review."}],
        "actions": [
            {"id": "A1.1", "recommendation": 1, "description": "Remind all designated teachers "
             "of the duty to report", "measure": "Every school confirms in writing",
             "owner": "sch.mgr", "due": "2026-06-30"},
        ],
    }


# ---- shared helpers: fresh stores, the log's head, a child's environment, colliding writers ---


@contextmanager
def fresh_store(kind: str, directory: Path) -> Iterator[str]:
    """The URL of a store nobody has used: a new SQLite file in `directory`, or a new
    PostgreSQL schema, dropped afterwards. For tests that need several stores in one test."""
    name = uuid.uuid4().hex[:12]
    if kind == "sqlite":
        yield f"sqlite:///{directory / f'ledger-{name}.db'}"
        return
    schema = f"t_{name}"
    try:
        yield f"{PG_BASE}?schema={schema}"
    finally:
        _drop_schema(schema)


def log_head(w: Wiring) -> int:
    """The log's head read from the recorder itself, not from the follower a test is checking."""
    return int(w.app.recorder.max_notification_id() or 0)


def cli_env(url: str, key: str = "", **extra: str) -> dict[str, str]:
    """The environment for a console-script child: this one's, less any store or Slack settings
    of the machine's, with the test's store (and key, and `extra` variables) set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env["AUDIT_LEDGER_URL"] = url
    if key:
        env["AUDIT_LEDGER_KEY"] = key
    env.update(extra)
    return env


class Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> Any: ...


class CollidingSaves:
    """Makes concurrent writers collide, and counts the collisions.

    The first save of each thread (or process) waits at `barrier` until every writer has loaded
    what it is about to save, so every writer saves the same version and all but one of those
    first saves must meet an optimistic-concurrency conflict, whatever the timing. Each
    IntegrityError a save raises (the ledger then loads again and retries) is counted in
    `conflicts`: proof that the conflict happened, not a hope that it might.
    """

    def __init__(self, app: AuditLedger, barrier: Barrier, timeout: float = 60) -> None:
        self.conflicts = 0
        self._lock = threading.Lock()
        self._waited: set[int] = set()
        save = app.save

        def colliding_save(*objects: Any, **kwargs: Any) -> Any:
            me = threading.get_ident()
            if me not in self._waited:
                self._waited.add(me)
                barrier.wait(timeout)  # a writer that never arrives breaks it: no hang
            try:
                return save(*objects, **kwargs)
            except IntegrityError:
                with self._lock:
                    self.conflicts += 1
                raise

        setattr(app, "save", colliding_save)  # noqa: B010 - an instance's method, replaced
