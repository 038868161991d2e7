"""The console script imports only what its command needs, and --help still lists every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from audit_ledger.main import COMMANDS, cli
from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import parse_pack

from .conftest import REPOSITORY, cli_env, run_cli

SLACK_AND_FORMATS = ("slack_bolt", "slack_sdk", "uvicorn", "starlette", "matplotlib", "jinja2",
                     "bot")
LEDGER = ("ledger", "projections", "policies", "pydantic")

PROBE = """\
import atexit, sys
listing = sys.argv.pop()
atexit.register(lambda: open(listing, "w").write("\\n".join(sorted(sys.modules))))
from audit_ledger.main import main
main()
"""
"""What `audit-ledger ARGS` runs, with every module imported by its end written to a file."""


def _modules_after(tmp_path: Any, url: str, *args: str) -> tuple[set[str], str]:
    listing = tmp_path / "modules.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_LEDGER_", "SLACK_"))}
    env["AUDIT_LEDGER_URL"] = url
    done = subprocess.run([sys.executable, "-c", PROBE, *args, str(listing)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = set(listing.read_text().split())
    return found | {m.split(".")[0] for m in found}, done.stdout


def test_case_imports_neither_slack_nor_the_report_formats(
        store_url: str, tmp_path: Any, wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    import_pack(wiring.app, parse_pack(mini_pack), "import")
    modules, out = _modules_after(tmp_path, store_url, "case", "mini-2026", "K01")
    assert out.startswith("Case K01 in mini-2026\n")
    assert "audit_ledger.reading_commands" in modules
    assert not modules & {*SLACK_AND_FORMATS, "ledger.importer", "audit_ledger.bot_commands",
                          "audit_ledger.loading_commands"}
    # It reads the views: none of the ledger's command handlers or their models.
    assert not modules & {"ledger.application", "ledger.commands", "ledger.handlers", "pydantic"}
    if store_url.startswith("sqlite"):
        assert not modules & {"psycopg", "eventsourcing.postgres", "ledger.postgres_store"}
    else:
        assert "ledger.postgres_store" in modules


def test_keygen_imports_not_even_the_ledger(tmp_path: Any) -> None:
    modules, out = _modules_after(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", "keygen")
    assert len(out.strip()) == 44  # 32 bytes in base64
    assert not modules & {*SLACK_AND_FORMATS, *LEDGER}
    assert not (tmp_path / "unused.db").exists()


def test_help_lists_every_command_with_its_one_line_help(tmp_path: Any) -> None:
    shown = run_cli("--help", url=f"sqlite:///{tmp_path / 'unused.db'}", check=True).stdout
    listed = shown.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    assert names == sorted(COMMANDS)
    ctx = click.Context(cli)
    for line in listed:
        if not line.strip():
            continue
        name, summary = line.split(None, 1)
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name  # found where COMMANDS says
        words = command.get_short_help_str(limit=200)
        assert words and summary.rstrip(".") in words, (name, summary)


def test_each_report_format_imports_only_its_own_library(
        store_url: str, tmp_path: Any, wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    import_pack(wiring.app, parse_pack(mini_pack), "import")
    writers = {"weasyprint", "docx", "openpyxl"}
    modules, _ = _modules_after(tmp_path, store_url, "report", "mini-2026")
    assert not modules & {*writers, "matplotlib"}
    modules, _ = _modules_after(tmp_path, store_url, "report", "mini-2026", "--format", "xlsx",
                                "-o", str(tmp_path / "r.xlsx"))
    assert "openpyxl" in modules and not modules & {"weasyprint", "docx", "matplotlib"}


def test_openpyxl_only_for_the_commands_that_write_or_read_workbooks(
        tmp_path: Any, mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    pack = dict(mini_pack, returns=[r for r in mini_pack["returns"] if r["case"] != "K02"])
    (tmp_path / "pack.json").write_text(json.dumps(pack), encoding="utf-8")
    run_cli("import", str(tmp_path / "pack.json"), url=url, check=True)
    returns = tmp_path / "returns.csv"
    returns.write_text("case,agency,auditor,practitioner,completed,area,grade,strengths,concerns\n"
                       "K02,school,sch.aud,sch.t,2026-02-03,2,2,,\n", encoding="utf-8")
    modules, out = _modules_after(tmp_path, url, "import-returns", "mini-2026", str(returns),
                                  "--by", "sch.aud")
    assert out.endswith("1 returns, 1 feedback issued (2 events)\n")
    assert "openpyxl" not in modules
    modules, _ = _modules_after(tmp_path, url, "action", "list", "mini-2026")
    assert "openpyxl" not in modules
    modules, out = _modules_after(tmp_path, url, "action", "list", "mini-2026", "--format",
                                  "xlsx", "-o", str(tmp_path / "tracker.xlsx"))
    assert "openpyxl" in modules and out.startswith("wrote ")


def test_console_script_children_import_the_checkout_under_test(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Whatever checkout the environment was installed from (an editable install of another
    worktree, say), a child started with the tests' environment imports this one."""
    monkeypatch.delenv("PYTHONPATH", raising=False)
    done = subprocess.run(
        [sys.executable, "-c", "import ledger, bot; print(ledger.__file__); print(bot.__file__)"],
        env=cli_env(f"sqlite:///{tmp_path / 'unused.db'}"), cwd=tmp_path, capture_output=True,
        text=True, check=True, timeout=60)
    for imported in done.stdout.split():
        assert Path(imported).is_relative_to(REPOSITORY), (imported, REPOSITORY)
