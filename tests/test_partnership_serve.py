"""Two partnerships in one store behind one `bot serve`, over real HTTP against the fake Slack:
both have an agency `police` and a manager `m.police`; a concern raised in one alerts only that
partnership's manager, its quality lead's `/audit progress` lists only its programme, and the
escalation and the weekly digest stay inside it."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from .conftest import partnership_pack, run_cli, serving, signed_post, wait_until, worker_caught_up
from .fake_slack import FakeSlack, all_text, slash_command

DIGEST_DAY = date(2026, 7, 6)
"""A Monday after the action's due date (2026-06-30) and well after the concern was raised:
its escalation falls due and the week's digest of overdue actions goes out."""


def _with_police(mini_pack: dict[str, Any]) -> dict[str, Any]:
    pack = copy.deepcopy(mini_pack)
    pack["people"] += [
        {"id": "m.police", "name": "Morgan Police", "agency": "police", "roles": ["manager"],
         "slack_user": "U0MPOLICE"},
        {"id": "aud.police", "name": "Avery Police", "agency": "police", "roles": ["auditor"]}]
    for p in pack["people"]:
        if p["id"] in ("mod", "chair"):
            p["slack_user"] = "U0" + p["id"].upper()
    pack["cases"][0]["agencies"].append("police")
    pack["concerns"] = []
    return pack


def _posts_to(fake: FakeSlack, user: str) -> list[str]:
    return [str(call.body.get("text", "")) + all_text(call.body.get("blocks") or [])
            for call in fake.calls_to("chat.postMessage") if call.body.get("channel") == "D" + user]


def _ask(base: str, fake: FakeSlack, user: str, text: str) -> str:
    status, body = signed_post(base, slash_command(user, "someone", text, fake.response_url()))
    assert status == 200
    answer = json.loads(body)
    return str(answer.get("text", "")) + all_text(answer.get("blocks") or [])


def test_a_concern_in_one_partnership_alerts_only_its_manager(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any], fake_slack: FakeSlack) -> None:
    url, fake = store_url, fake_slack
    north = partnership_pack(_with_police(mini_pack), "northbridge", "Northbridge SCP", "U1")
    south = partnership_pack(_with_police(mini_pack), "southmoor", "Southmoor SCP", "U2")
    for pack in (north, south):
        path = tmp_path / f"{pack['partnership']['id']}.json"
        path.write_text(json.dumps(pack))
        run_cli("import", str(path), url=url, check=True)

    with serving(url, fake, log_dir=tmp_path) as base:
        wait_until(lambda: worker_caught_up(base), "the worker to send the feedback")
        raised = run_cli("concern", "raise", "northbridge-mini-2026", "K01", "--agency", "police",
                         "--by", "aud.police", "--summary", "Strategy discussion not minuted.",
                         "--on", "2026-04-01", url=url, check=True)
        ref = raised.stdout.split()[1]
        wait_until(lambda: worker_caught_up(base), "the worker to alert the managers")
        wait_until(lambda: [t for t in _posts_to(fake, "U1MPOLICE") if ref in t],
                   "northbridge's police manager's alert")
        assert not [t for t in _posts_to(fake, "U2MPOLICE") if "Strategy discussion" in t]
        assert not any(ref in str(call.body) for call in fake.calls
                       if "U2" in json.dumps(call.body))

        # Each quality lead's progress is their own partnership's only.
        south_progress = _ask(base, fake, "U2QL", "progress")
        assert "southmoor-mini-2026" in south_progress
        assert "northbridge" not in south_progress
        refused = _ask(base, fake, "U2QL", "progress northbridge-mini-2026")
        assert "no programme 'northbridge-mini-2026'; known: southmoor-mini-2026" in refused
        assert "southmoor" not in _ask(base, fake, "U1QL", "progress")
        mine = _ask(base, fake, "U2MPOLICE", "my")
        assert ref not in mine and "Nothing is waiting for you" in mine
        assert ref in _ask(base, fake, "U1MPOLICE", "my")

    # Months later, unanswered: the concern climbs its own partnership's ladder, and each
    # quality lead's digest lists their own partnership's overdue action.
    before = len(fake.calls)
    with serving(url, fake, log_dir=tmp_path, AUDIT_LEDGER_CLOCK=DIGEST_DAY.isoformat()) as base:
        wait_until(lambda: [t for t in _posts_to(fake, "U1MOD") if ref in t],
                   "the escalation to northbridge's moderator")
        wait_until(lambda: len([c for c in fake.calls[before:] if c.method == "chat.postMessage"
                                and c.body.get("channel") in ("DU1QL", "DU2QL")
                                and "overdue" in str(c.body.get("text", "")).lower()]) >= 2,
                   "both quality leads' digests")
        wait_until(lambda: worker_caught_up(base), "the worker to finish")
    later = fake.calls[before:]
    for call in later:
        said = json.dumps(call.body)
        if "U2" in str(call.body.get("channel", "")):
            assert ref not in said and "northbridge" not in said, said
        if "U1" in str(call.body.get("channel", "")):
            assert "southmoor" not in said, said
    assert not [t for t in _posts_to(fake, "U2MOD") if ref in t]
    digests = {user: [t for t in _posts_to(fake, user) if "overdue" in t.lower()]
               for user in ("U1QL", "U2QL")}
    assert any("northbridge-mini-2026" in t or "Northbridge" in t for t in digests["U1QL"])
    assert any("southmoor-mini-2026" in t or "Southmoor" in t for t in digests["U2QL"])
