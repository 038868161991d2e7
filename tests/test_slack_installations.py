"""The app's installations (one per workspace) and the OAuth flow's states, kept in the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from eventsourcing.cryptography import AESCipher
from slack_sdk.oauth.installation_store import Installation

from bot.installations import Installations
from ledger.settings import parse_url

from .fake_slack import CLIENT_ID


def installation(team: str, token: str, name: str = "", at: float = 1_700_000_000.0
                 ) -> Installation:
    return Installation(app_id="A0AUDIT", team_id=team, team_name=name or f"Workspace {team}",
                        bot_token=token, bot_id="B0AUDIT", bot_user_id="U0AUDITBOT",
                        bot_scopes="commands,chat:write", user_id="U0INSTALLER",
                        installed_at=at)


def test_one_installation_per_workspace_the_newest_kept(store_url: str) -> None:
    store = Installations(parse_url(store_url), CLIENT_ID)
    try:
        assert store.bot_token("T0NORTH") == ""
        store.save(installation("T0NORTH", "xoxb-north-1", "Northbridge"))
        store.save(installation("T0SOUTH", "xoxb-south-1", "Southmere", at=1_700_000_100.0))
        store.save(installation("T0NORTH", "xoxb-north-2", "Northbridge", at=1_700_000_200.0))
        assert store.bot_token("T0NORTH") == "xoxb-north-2"
        assert store.bot_token("T0SOUTH") == "xoxb-south-1"
        bot = store.find_bot(enterprise_id=None, team_id="T0SOUTH")
        assert bot is not None and (bot.bot_user_id, bot.bot_scopes) == \
            ("U0AUDITBOT", ["commands", "chat:write"])
        found = store.find_installation(enterprise_id=None, team_id="T0NORTH")
        assert found is not None and found.installed_at == 1_700_000_200.0
        assert store.find_installation(enterprise_id=None, team_id="T0NORTH",
                                       user_id="U0SOMEONE") is None
        assert store.teams() == [("T0SOUTH", "Southmere"), ("T0NORTH", "Northbridge")]

        # Another process (another connection) sees the same, and another app (client id) not.
        other = Installations(parse_url(store_url), CLIENT_ID)
        stranger = Installations(parse_url(store_url), "9999.0000")
        try:
            assert other.bot_token("T0SOUTH") == "xoxb-south-1"
            assert stranger.bot_token("T0SOUTH") == ""
        finally:
            other.close()
            stranger.close()

        store.delete_all(enterprise_id=None, team_id="T0SOUTH")  # the app uninstalled
        assert store.bot_token("T0SOUTH") == ""
        assert store.bot_token("T0NORTH") == "xoxb-north-2"
    finally:
        store.close()


def test_a_rotated_bot_token_replaces_the_old_one(store_url: str) -> None:
    store = Installations(parse_url(store_url), CLIENT_ID)
    try:
        store.save(installation("T0NORTH", "xoxe.xoxb-old"))
        bot = store.find_bot(enterprise_id=None, team_id="T0NORTH")
        assert bot is not None
        bot.bot_token = "xoxe.xoxb-new"
        store.save_bot(bot)
        assert store.bot_token("T0NORTH") == "xoxe.xoxb-new"
    finally:
        store.close()


def test_tokens_are_sealed_with_the_store_key(tmp_path: Path) -> None:
    path = f"{tmp_path}/ledger.db"
    key = AESCipher.create_key(num_bytes=32)
    store = Installations(parse_url(f"sqlite:///{path}", key), CLIENT_ID)
    try:
        store.save(installation("T0NORTH", "xoxb-north-secret", "Northbridge"))
        assert store.bot_token("T0NORTH") == "xoxb-north-secret"
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        raw = b"".join(bytes(r[0]) for r in db.execute("SELECT installation FROM "
                                                         "slack_installations"))
    assert raw and b"xoxb-north-secret" not in raw and b"Northbridge" not in raw

    plain_path = f"{tmp_path}/plain.db"
    plain = Installations(parse_url(f"sqlite:///{plain_path}"), CLIENT_ID)
    try:
        plain.save(installation("T0NORTH", "xoxb-north-secret"))
    finally:
        plain.close()
    with sqlite3.connect(plain_path) as db:  # the check above can fail: without a key it shows
        raw = b"".join(bytes(r[0]) for r in db.execute("SELECT installation FROM "
                                                         "slack_installations"))
    assert b"xoxb-north-secret" in raw


def test_a_state_is_good_once_and_only_while_fresh(store_url: str) -> None:
    store = Installations(parse_url(store_url), CLIENT_ID)
    stale = Installations(parse_url(store_url), CLIENT_ID, state_lifetime=-1)
    try:
        state = store.issue()
        other = store.issue()
        assert state != other and len(state) >= 24
        assert stale.consume(state)  # any process sharing the store may take it back
        assert not store.consume(state)  # but only once
        assert not store.consume("made-up-state") and not store.consume("")
        assert store.consume(other)
        expired = stale.issue()
        assert not store.consume(expired)
    finally:
        store.close()
        stale.close()
