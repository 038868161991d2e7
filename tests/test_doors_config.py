"""The store's settings played by an attacker or a slip of the keyboard: a password never
echoed, a schema name never written into SQL unless it is a plain name, and the key kept off
the command line with --key-file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.settings import SettingsError, parse_url, without_password

from .conftest import cli_env, console_script, run_cli

PASSWORD = "S3cret-pw"
BAD_URLS = [
    f"postgresql://alice:{PASSWORD}@127.0.0.1:notaport/db",
    f"postgresql://alice:{PASSWORD}@127.0.0.1:99999/db",
    f"postgresql://alice:{PASSWORD}@[::1/db",
    f"postgresql://alice:{PASSWORD}@127.0.0.1:5432/",
    f"mysql://alice:{PASSWORD}@127.0.0.1/db",
    f"postgresql://alice:{PASSWORD}/with@slash@127.0.0.1/db?schema=bad-name",
    f"postgresql://alice@127.0.0.1/db?password={PASSWORD}&schema=1x",
    f"sqlite://alice:{PASSWORD}@host/ledger.db",
]
BAD_SCHEMAS = ["x;drop table y", "x y", "1abc", "a" * 64, 'x"', "ledger.events", "é"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_an_unusable_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(SettingsError) as refused:
        parse_url(url)
    said = str(refused.value)
    assert PASSWORD not in said and "***" in said and said.startswith("AUDIT_LEDGER_URL '")


def test_the_console_refuses_a_bad_url_in_one_line_without_its_password() -> None:
    for url in BAD_URLS:
        result = run_cli("projections", "status", url=url)
        assert result.returncode == 2, (url, result.stderr)
        assert PASSWORD not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("schema", BAD_SCHEMAS)
def test_a_schema_that_is_not_a_plain_name_is_refused(schema: str) -> None:
    from urllib.parse import quote

    with pytest.raises(SettingsError, match="is not a plain name"):
        parse_url(f"postgresql://postgres@127.0.0.1:5432/postgres?schema={quote(schema)}")


def test_plain_schemas_and_passwords_still_work() -> None:
    s = parse_url(f"postgresql://alice:{PASSWORD}@db.local:6543/audit?schema=North_2026")
    assert (s.pg_user, s.pg_password, s.pg_schema, s.pg_port) == ("alice", PASSWORD,
                                                                  "North_2026", "6543")
    assert PASSWORD not in s.describe()
    assert without_password("postgresql://alice@h/db") == "postgresql://alice@h/db"


def test_the_key_from_a_file_opens_the_store_and_stays_off_the_command_line(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    key = run_cli("keygen", url=url, check=True).stdout.strip()
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n", encoding="utf-8")  # as `keygen > key` leaves it
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    imported = run_cli("--key-file", str(key_file), "import", str(pack), url=url, check=True)
    assert key not in imported.stdout + imported.stderr

    # The store was written with the key: the key itself opens it, no key is refused.
    read = run_cli("case", "mini-2026", "K01", "--format", "json", url=url, key=key, check=True)
    assert json.loads(read.stdout)["case"] == "K01"
    assert run_cli("case", "mini-2026", "K01", url=url).returncode == 2

    by_env = subprocess.run([console_script(), "case", "mini-2026", "K01"], text=True,
                            capture_output=True, timeout=120,
                            env=cli_env(url, AUDIT_LEDGER_KEY_FILE=str(key_file)))
    assert by_env.returncode == 0, by_env.stderr

    both = run_cli("--key-file", str(key_file), "case", "mini-2026", "K01", url=url, key=key)
    assert both.returncode == 2 and "not both" in both.stderr and key not in both.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    for path, said in ((empty, "the file is empty"), (tmp_path / "missing", "cannot be read")):
        result = run_cli("--key-file", str(path), "case", "mini-2026", "K01", url=url)
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
