"""Every store-touching test runs on both stores: an SQLite file and a PostgreSQL schema."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

import click
import pytest
from eventsourcing.persistence import IntegrityError
from hypothesis import settings

from audit_ledger.wiring import Wiring, wire
from ledger.application import AuditLedger

REPOSITORY = Path(__file__).resolve().parent.parent
"""The checkout under test."""

# Hypothesis's default deadline (200 ms an example) is a timing assertion: an example that pays
# a process's one-time start (compiling the identifier patterns, say) on a busy machine, or in
# the first test a pytest-xdist worker runs, fails as "flaky" though nothing is wrong. Five
# seconds still names an example that hangs; tests that set their own deadline keep it.
settings.register_profile("suite", deadline=timedelta(seconds=5))
settings.load_profile("suite")

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


def sqlite_copy(source: Path, target: Path) -> str:
    """The URL of a store of its own at `target`: a copy of the SQLite store at `source`, made
    through SQLite's backup (whole, whatever its journal still holds)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


class Templates:
    """SQLite stores built once a session (once a worker) and copied for each test that starts
    from them: the copy is a fresh store, nobody else's, without paying again for the commands
    that built it. Each template is built by `build(url)` the first time it is asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def copy(self, name: str, build: Callable[[str], object], target: Path) -> str:
        template = self.folder / f"{name}.db"
        if not template.exists():
            building = self.folder / f"{name}-building.db"
            build(f"sqlite:///{building}")
            # Copied (with its WAL, were one left) rather than renamed; a build that failed
            # leaves no template behind.
            sqlite_copy(building, template)
        return sqlite_copy(template, target)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


def in_process(url: str, *args: str) -> str:
    """What a command prints, run by the console script's own group in this process: the same
    code as the console script, without starting an interpreter (for setting up and reading;
    tests of the console script itself run it with `run_cli`)."""
    from click.testing import CliRunner

    result = CliRunner().invoke(console_group(), ["--url", url, "--key", "", *args])
    assert result.exit_code == 0, f"audit-ledger {' '.join(args)}: {result.output}"
    return result.stdout


def console_group() -> click.Group:
    """The click group behind the installed console script, wherever its module keeps it."""
    (script,) = entry_points(group="console_scripts", name="audit-ledger")
    module = __import__(script.module, fromlist=["_"])
    groups = [g for g in vars(module).values() if isinstance(g, click.Group)]
    return max(groups, key=lambda g: len(g.commands))


def log_head(w: Wiring) -> int:
    """The log's head read from the recorder itself, not from the follower a test is checking."""
    return int(w.app.recorder.max_notification_id() or 0)


def cli_env(url: str, key: str = "", **extra: str) -> dict[str, str]:
    """The environment for a console-script child: this one's, less any store or Slack settings
    of the machine's, with the test's store (and key, and `extra` variables) set. The checkout
    under test comes first on the child's path: the installed script would otherwise import
    whatever checkout the environment was installed from (an editable install of another)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPOSITORY), env.get("PYTHONPATH", "")) if p)
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


# ---- Slack, the bot and the worker ------------------------------------------------------------
# Shared by the bot's and the worker's tests: one Slack setup, one environment for the console
# script's Slack commands, one fixed day, and waiting on conditions rather than sleeping.
# (Imported here, beside what uses them, to keep this part of the file in one piece.)

import copy  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date  # noqa: E402
from typing import TypeVar  # noqa: E402

from bot.clock import Clock, FixedClock  # noqa: E402
from bot.deliver import Deliverer, make_client  # noqa: E402
from bot.directory import Directory  # noqa: E402
from bot.services import BotServices  # noqa: E402

from .fake_slack import FakeSlack, signed_headers  # noqa: E402
from .fake_slack import running as fake_slack_running  # noqa: E402

BOT_TOKEN = "xoxb-fake-bot-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLOCK_DAY = date(2026, 4, 2)
"""The day every bot, worker and `bot try` under test takes as today (AUDIT_LEDGER_CLOCK in a
subprocess): a Thursday before Easter, after the mini audit's returns and before its action is
due, so which reminders and escalations fire never depends on the day the tests run."""
SECRETS = (BOT_TOKEN, SIGNING_SECRET)

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll `condition` until it gives something true, and return that; fail naming `what` if
    the deadline passes first. The deadline only bounds a hang: nothing is timed."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last saw {found!r}")
        time.sleep(0.02)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def slack_env(url: str, fake: FakeSlack | None = None, *, day: date | None = CLOCK_DAY,
              **extra: str) -> dict[str, str]:
    """The environment of a console-script Slack command: the store, the fake Slack's Web API,
    the fixed day, and `extra` (tokens, PORT); nothing inherited from the caller's own."""
    env = cli_env(url)
    if fake is not None:
        env["SLACK_API_URL"] = fake.api_url
    if day is not None:
        env["AUDIT_LEDGER_CLOCK"] = day.isoformat()
    env.update(extra)
    return env


def bot_env(url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    """`slack_env` with the bot token and the signing secret the fake Slack knows."""
    return {**slack_env(url, fake, SLACK_BOT_TOKEN=BOT_TOKEN,
                        SLACK_SIGNING_SECRET=SIGNING_SECRET), **extra}


def run_console(*args: str, env: dict[str, str], input_text: str | None = None
                ) -> subprocess.CompletedProcess[str]:
    """The console script run to its end with this environment."""
    return subprocess.run([console_script(), *args], capture_output=True, text=True, env=env,
                          timeout=120, input=input_text)


@dataclass
class Running:
    """A console-script process left running; its log (stderr) goes to a file, so a chatty
    process never blocks on a full pipe."""

    proc: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextmanager
def running_console(*args: str, env: dict[str, str], log_dir: Path,
                    secrets: tuple[str, ...] = SECRETS) -> Iterator[Running]:
    """Start the console script; at the end stop it (SIGTERM, then SIGKILL) and check that its
    log holds no token, secret or personal text (`secrets`) and no traceback."""
    log_path = log_dir / f"{args[0]}-{uuid.uuid4().hex[:8]}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([console_script(), *args], env=env, text=True,
                                stdout=subprocess.DEVNULL, stderr=log)
    running = Running(proc, log_path)
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    text = running.log()
    for secret in secrets:
        assert secret not in text, f"{secret!r} in the log of {' '.join(args)}"
    assert "Traceback" not in text, text


def healthz(base: str) -> tuple[int, dict[str, Any]]:
    """GET /healthz: its status and what it says."""
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def answering(base: str, proc: Running) -> bool:
    """Whether `bot serve` answers /healthz yet (and has not exited)."""
    assert proc.alive(), f"bot serve exited {proc.proc.returncode}: {proc.log()}"
    try:
        return healthz(base)[0] == 200
    except OSError:
        return False


@contextmanager
def serving(url: str, fake: FakeSlack, *options: str, log_dir: Path,
            secrets: tuple[str, ...] = SECRETS, **extra: str) -> Iterator[str]:
    """`audit-ledger bot serve` on a free port of 127.0.0.1 against the fake Slack, once it
    answers /healthz; yields its base URL."""
    port = free_port()
    with running_console("bot", "serve", "--port", str(port), *options,
                         env=bot_env(url, fake, **extra), log_dir=log_dir,
                         secrets=secrets) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answering(base, proc), "bot serve to answer /healthz", timeout=60)
        yield base


def worker_caught_up(base: str) -> dict[str, Any] | None:
    """/healthz once the worker in `bot serve` has handled every event stored so far."""
    status, said = healthz(base)
    return said if status == 200 and said["worker_position"] == said["log_head"] else None


def post(base: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(base + "/slack/events", data=body.encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def signed_post(base: str, body: str, content_type: str = "application/x-www-form-urlencoded",
                retry: int | None = None) -> tuple[int, str]:
    """A request to the app signed with the signing secret, as Slack sends it (a retry with
    X-Slack-Retry-Num)."""
    headers = signed_headers(body, SIGNING_SECRET, content_type=content_type)
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return post(base, body, headers)


def bot_services(w: Wiring, fake: FakeSlack, day: date = CLOCK_DAY,
                 clock: Clock | None = None) -> BotServices:
    """The bot's services in this process, talking to the fake Slack over HTTP, on a fixed day
    (or on `clock`, for a test that walks the calendar)."""
    return BotServices(app=w.app, views=w.views, follower=w.follower,
                       deliver=Deliverer(make_client(BOT_TOKEN, fake.api_url)),
                       directory=Directory(w.views), clock=clock or FixedClock(day))


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The fake Slack's Web API on 127.0.0.1, accepting BOT_TOKEN."""
    with fake_slack_running((BOT_TOKEN,)) as fake:
        yield fake


def worker_pack(mini_pack: dict[str, Any]) -> dict[str, Any]:
    """The mini audit with a head of service above the social-care manager, a board member and
    the quality lead on Slack, a programme channel, and no concern of its own."""
    pack = copy.deepcopy(mini_pack)
    pack["programme"]["channel"] = "C0AUDIT"
    pack["people"].append({"id": "sc.head", "name": "Hana Head", "agency": "csc-leadership",
                           "roles": ["manager"], "slack_user": "U0SCHEAD"})
    for p in pack["people"]:
        if p["id"] == "sc.mgr":
            p["manager"] = "sc.head"
        if p["id"] == "chair":
            p["slack_user"] = "U0CHAIR"
    pack["concerns"] = []
    return pack


def deliveries(url: str) -> list[dict[str, Any]]:
    """Every delivery the ledger records, read afresh from the store at `url`."""
    w = wire(url, "")
    try:
        return [d for p in w.fresh_views().programmes()
                for d in w.views.deliveries(p["programme"])]
    finally:
        w.close()


def partnership_pack(pack: dict[str, Any], partnership: str, name: str,
                     slack_prefix: str) -> dict[str, Any]:
    """`pack` as another partnership's audit: the same agency names and person ids, its own
    programme id, its own people's Slack users (`slack_prefix` in place of U0)."""
    out = copy.deepcopy(pack)
    out["partnership"] = {"id": partnership, "name": name}
    out["programme"]["id"] = f"{partnership}-{out['programme']['id']}"
    for p in out["people"]:
        if p.get("slack_user"):
            p["slack_user"] = slack_prefix + p["slack_user"][2:]
    return out
