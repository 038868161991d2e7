"""What `audit-ledger bot serve` promises over HTTP on 127.0.0.1, the process run as people run it
against a fake Slack: /healthz and its positions, 503 while the store is unreachable, PORT and
--host, and --workers (several answering processes, one alert worker)."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.handling import SORRY

from .conftest import (
    answering,
    bot_env,
    free_port,
    healthz,
    run_cli,
    running_console,
    serving,
    signed_post,
    wait_until,
    worker_caught_up,
)
from .fake_slack import FakeSlack, all_text, slash_command

HOLDING = "Looking that up, one moment…"


# ---- /healthz ------------------------------------------------------------------------------------


def test_healthz_shows_the_log_head_and_the_worker_position(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    """/healthz says where the log, the views and the worker are; the worker's position reaches
    the log's head once it has handled everything, and only a `bot serve` running the worker
    shows one."""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    with serving(store_url, fake_slack, log_dir=tmp_path) as base:
        status, said = healthz(base)
        assert status == 200 and said == {"ok": True, "log_head": 0, "views_position": 0,
                                          "worker_position": 0}
        run_cli("import", str(pack), url=store_url, check=True)
        def caught_up_with_the_import() -> dict[str, Any] | None:
            said = worker_caught_up(base)
            return said if said and said["log_head"] else None

        caught_up = wait_until(caught_up_with_the_import, "the worker to reach the log's head")
        assert caught_up["ok"] is True and caught_up["log_head"] > 0
        assert 0 <= caught_up["views_position"] <= caught_up["log_head"]
        # By then it has sent the feedback, each message once.
        feedback = [c.body["channel"] for c in fake_slack.calls_to("chat.postMessage")
                    if "audit feedback" in c.body["text"]]
        assert sorted(feedback) == ["DU0SCMGR", "DU0SCMGR", "DU0SCSW", "DU0SCSW"]
    with serving(store_url, fake_slack, "--no-worker", log_dir=tmp_path) as base:
        status, said = healthz(base)
        assert status == 200 and set(said) == {"ok", "log_head", "views_position"}


class Cuttable:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL, which the test cuts (every connection
    dropped, new ones refused) and restores: the store becomes unreachable, then back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.cuts = 0

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self.listener is not None
        with self.lock:
            self._close(self.listener)  # shut down first: a bare close leaves it listening
            self.cuts += 1
            for s in self.open:
                self._close(s)
            self.open.clear()

    @staticmethod
    def _close(s: socket.socket) -> None:
        try:
            s.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
        except OSError:
            pass
        s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            with self.lock:
                cuts = self.cuts
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return  # cut
            with self.lock:
                if self.cuts != cuts:  # accepted just as it was cut: drop it too
                    self._close(client)
                    self._close(upstream)
                    return
                self.open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)  # SQLite has no server
def test_healthz_answers_503_while_the_store_is_unreachable(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    """README: /healthz answers 200 while the store is reachable, 503 otherwise. (An SQLite
    store is a file the process holds open: there is no server to lose.)"""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    parts = urlsplit(store_url)
    proxy = Cuttable((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.restore()
    through = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    with serving(through, fake_slack, log_dir=tmp_path) as base:
        status, said = healthz(base)
        assert status == 200 and said["ok"] is True
        proxy.cut()

        def unhealthy() -> tuple[int, dict[str, Any]] | None:
            answer = healthz(base)
            return answer if answer[0] != 200 else None

        status, said = wait_until(unhealthy, "/healthz to notice the store is gone")
        assert status == 503
        assert said["ok"] is False and said["problem"] in ("OperationalError", "PoolTimeout")
        # A slash command meanwhile gets words back (sorry, or a holding reply), never a trace.
        body = slash_command("U0SCSW", "sasha", "my", fake_slack.response_url())
        answered, text = signed_post(base, body)
        assert answered == 200 and json.loads(text)["text"] in (SORRY, HOLDING)
        proxy.restore()
        # The store is back: so is /healthz, and so are the answers.
        wait_until(lambda: healthz(base)[0] == 200, "/healthz to recover", timeout=120)

        def answered_from_the_store() -> bool:
            reply = json.loads(signed_post(base, slash_command(
                "U0SCSW", "sasha", "my", fake_slack.response_url()))[1])
            return "K01" in all_text(reply.get("blocks") or [])

        wait_until(answered_from_the_store, "an answer from the store", timeout=120)
    proxy.cut()


# ---- where it listens ------------------------------------------------------------------------------


def refused(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=10).close()
    except urllib.error.URLError as e:
        return isinstance(e.reason, ConnectionRefusedError)
    return False


def test_port_from_the_environment_and_the_host_from_host(tmp_path: Path,
                                                          fake_slack: FakeSlack) -> None:
    """`bot serve` listens on PORT (no --port), on 127.0.0.1 only unless --host says where."""
    env = bot_env(f"sqlite:///{tmp_path / 'l.db'}", fake_slack)
    port = free_port()
    with running_console("bot", "serve", "--no-worker", env={**env, "PORT": str(port)},
                         log_dir=tmp_path) as proc:
        wait_until(lambda: answering(f"http://127.0.0.1:{port}", proc), "bot serve on PORT")
        assert refused(f"http://127.0.0.2:{port}")  # another loopback address: not listened on
        assert f"Serving the Slack app on http://127.0.0.1:{port}/slack/events" in proc.log()
    port = free_port("127.0.0.2")
    with running_console("bot", "serve", "--no-worker", "--host", "127.0.0.2",
                         env={**env, "PORT": str(port)}, log_dir=tmp_path) as proc:
        wait_until(lambda: answering(f"http://127.0.0.2:{port}", proc), "bot serve on --host")
        assert refused(f"http://127.0.0.1:{port}")
        assert f"Serving the Slack app on http://127.0.0.2:{port}/slack/events" in proc.log()


# ---- several answering processes ---------------------------------------------------------------------


def children(pid: int) -> set[int]:
    """The processes `pid` started (Linux: /proc/PID/task/*/children)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def answering_processes(pid: int) -> set[int]:
    """The serving processes uvicorn's supervisor started for `bot serve --workers N` (each a
    fresh Python, started with multiprocessing's spawn)."""
    found = set()
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):  # gone, or going, since listed
            continue
        if b"spawn_main" in cmdline:
            found.add(child)
    return found


def test_serve_with_two_answering_processes_and_one_worker(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    """`--workers 2`: two processes answer on the one port (one that dies is started again);
    the alert worker runs once, in the parent, so each message is sent once."""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=store_url, check=True)
    port = free_port()
    env = bot_env(store_url, fake_slack)
    base = f"http://127.0.0.1:{port}"
    with running_console("bot", "serve", "--port", str(port), "--workers", "2", env=env,
                         log_dir=tmp_path) as proc:
        wait_until(lambda: answering(base, proc), "bot serve to answer",
                   timeout=60)  # as `serving` waits: two spawned Pythons start on a busy host
        assert "2 serving processes; with the alert and reminder worker" in proc.log()

        def two_answering(without: int = 0) -> set[int] | None:
            found = answering_processes(proc.proc.pid)
            return found if len(found) == 2 and without not in found else None

        first = wait_until(two_answering, "two answering processes")

        def ask() -> dict[str, Any]:
            status, text = signed_post(base, slash_command("U0SCSW", "sasha", "my",
                                                           fake_slack.response_url()))
            assert status == 200
            return json.loads(text)  # type: ignore[no-any-return]

        for _ in range(6):
            assert "K01" in all_text(ask()["blocks"])
        wait_until(lambda: worker_caught_up(base), "the worker to reach the log's head")

        # One answering process dies: the other answers, and the supervisor starts another.
        gone = min(first)
        os.kill(gone, signal.SIGKILL)
        again = wait_until(lambda: two_answering(without=gone), "the supervisor to start another")
        assert len(again - first) == 1
        wait_until(lambda: answering(base, proc), "bot serve to answer again")
        assert "K01" in all_text(ask()["blocks"])
    feedback = [c.body["channel"] for c in fake_slack.calls_to("chat.postMessage")
                if "audit feedback" in c.body["text"]]
    assert sorted(feedback) == ["DU0SCMGR", "DU0SCMGR", "DU0SCSW", "DU0SCSW"]  # once each
