"""`bot serve` over real HTTP: a signed request whose body cannot be read gets 400 and one line
in the log, never a traceback; an unsigned one 401."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .conftest import (
    SIGNING_SECRET,
    answering,
    bot_env,
    free_port,
    post,
    run_cli,
    running_console,
    wait_until,
)
from .fake_slack import FakeSlack, signed_headers

FORM = "application/x-www-form-urlencoded"


def test_a_signed_payload_that_cannot_be_read_gets_400_and_one_log_line(
        tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack))
    run_cli("import", str(pack), url=url, check=True)
    port = free_port()
    unreadable = [("payload=" + quote("{not json"), FORM),
                  ("payload=" + quote("[1, 2]"), FORM),
                  ('{"type": "event_callback", "event": {"type": "app_home_', "application/json")]
    with running_console("bot", "serve", "--port", str(port), "--no-worker",
                         env=bot_env(url, fake_slack), log_dir=tmp_path) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answering(base, proc), "bot serve to answer /healthz", timeout=60)
        for body, kind in unreadable:
            status, said = post(base, body, signed_headers(body, SIGNING_SECRET,
                                                           content_type=kind))
            assert status == 400 and "cannot be read" in said
            assert post(base, body, {"Content-Type": kind})[0] == 401  # unsigned
            assert post(base, body, signed_headers(body, "another-secret",
                                                   content_type=kind))[0] == 401
        assert answering(base, proc)  # and it goes on answering
        logged = [line for line in proc.log().splitlines() if "cannot be read" in line]
    assert len(logged) == 3
    assert all("answered 400" in line for line in logged)
