"""Serving many workspaces: `bot serve` with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, each
workspace installing the app through Slack's OAuth flow (the install page, Slack's Allow, the
redirect back), over real HTTP on 127.0.0.1 against the fake Slack, and each answered with the
bot token of its own installation."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPResponse
from pathlib import Path

from bot.installations import Installations
from ledger.settings import parse_url

from .conftest import (
    SIGNING_SECRET,
    Running,
    answering,
    free_port,
    run_console,
    running_console,
    signed_post,
    slack_env,
    wait_until,
)
from .fake_slack import CLIENT_ID, CLIENT_SECRET, FakeSlack, app_home_opened, running

OAUTH = {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
         "SLACK_SIGNING_SECRET": SIGNING_SECRET}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def get(url: str, cookie: str = "") -> tuple[int, dict[str, list[str]], str]:
    """GET without following redirects: status, headers (lower-case names), body."""
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        response: HTTPResponse = opener.open(request, timeout=30)
    except urllib.error.HTTPError as e:
        response = e  # type: ignore[assignment]
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return response.status, headers, response.read().decode()


@contextmanager
def serving_workspaces(url: str, fake: FakeSlack, log_dir: Path,
                       logs: list[Running] | None = None) -> Iterator[str]:
    """`bot serve` for every workspace that installs the app; its process is added to `logs`
    (for reading its log) when given."""
    port = free_port()
    env = {**slack_env(url, fake), **OAUTH}
    with running_console("bot", "serve", "--port", str(port), env=env, log_dir=log_dir,
                         secrets=(CLIENT_SECRET, SIGNING_SECRET)) as proc:
        base = f"http://127.0.0.1:{port}"
        if logs is not None:
            logs.append(proc)
        wait_until(lambda: answering(base, proc), "bot serve to answer /healthz", timeout=60)
        fake.redirect_url = base + "/slack/oauth_redirect"
        yield base


def app_uninstalled(team: str) -> str:
    """The event Slack sends when a workspace removes the app."""
    return json.dumps({
        "token": "fake-verification-token", "team_id": team, "api_app_id": "A0AUDIT",
        "event": {"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"},
        "type": "event_callback", "event_id": f"Ev0UNINSTALL{team}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": "U0AUDITBOT",
                            "is_bot": True, "is_enterprise_install": False}]})


def install(base: str, team: str) -> tuple[int, str]:
    """A workspace's administrator installs the app: the install page (its state cookie), Slack's
    page with Allow pressed, and the redirect back to the app with Slack's code."""
    status, headers, page = get(base + "/slack/install")
    assert status == 200, page
    cookie = headers["set-cookie"][0].split(";")[0]
    assert cookie.startswith("slack-app-oauth-state=")
    link = re.search(r'href="([^"]+/oauth/v2/authorize\?[^"]+)"', page)
    assert link, page
    status, headers, _ = get(link.group(1).replace("&amp;", "&") + f"&team={team}")
    assert status == 302
    back = headers["location"][0]
    assert back.startswith(base + "/slack/oauth_redirect?code=")
    status, _, page = get(back, cookie)
    return status, page


def test_each_workspace_installs_the_app_and_is_answered_with_its_own_token(
        store_url: str, tmp_path: Path) -> None:
    with running(tokens=()) as fake:
        fake.workspace("T0NORTH", "Northbridge")
        fake.workspace("T0SOUTH", "Southmere")
        with serving_workspaces(store_url, fake, tmp_path) as base:
            # Before any install nothing can be answered in a workspace: no token to answer with.
            status, _ = signed_post(base, app_home_opened("U0QL", "Ev0NOPE", team="T0NORTH"),
                                    content_type="application/json")
            assert fake.calls_to("views.publish") == []

            status, page = install(base, "T0NORTH")
            assert status == 200 and "Thank you" in page, page
            status, page = install(base, "T0SOUTH")
            assert status == 200, page
            assert [(i["client_id"], i["scope"]) for i in fake.installs] == \
                [(CLIENT_ID, "commands,chat:write,im:write,users:read")] * 2

            store = Installations(parse_url(store_url), CLIENT_ID)
            try:
                north, south = store.bot_token("T0NORTH"), store.bot_token("T0SOUTH")
                assert store.teams() == [("T0NORTH", "Northbridge"), ("T0SOUTH", "Southmere")]
            finally:
                store.close()
            assert north.startswith("xoxb-t0north-") and south.startswith("xoxb-t0south-")
            assert fake.teams[north] == "T0NORTH" and fake.teams[south] == "T0SOUTH"

            # Each workspace's request is answered through its own installation's token.
            for team, event in (("T0NORTH", "Ev0N1"), ("T0SOUTH", "Ev0S1")):
                status, _ = signed_post(base, app_home_opened("U0QL", event, team=team),
                                        content_type="application/json")
                assert status == 200
            published = fake.wait_for("views.publish", count=2)
            assert sorted(c.token for c in published) == sorted([north, south])
            assert {c.answer["view"]["team_id"] for c in published} == {"T0NORTH", "T0SOUTH"}

            # Southmere uninstalls the app: its installation is forgotten, Northbridge's kept.
            status, _ = signed_post(base, app_uninstalled("T0SOUTH"),
                                    content_type="application/json")
            assert status == 200
            store = Installations(parse_url(store_url), CLIENT_ID)
            try:
                wait_until(lambda: store.bot_token("T0SOUTH") == "", "the uninstall to be kept")
                assert store.bot_token("T0NORTH") == north
            finally:
                store.close()


def test_an_install_that_did_not_start_here_is_refused(store_url: str, tmp_path: Path) -> None:
    with running(tokens=()) as fake, serving_workspaces(store_url, fake, tmp_path) as base:
        status, headers, page = get(base + "/slack/install")
        cookie = headers["set-cookie"][0].split(";")[0]
        state = cookie.split("=", 1)[1]
        fake.codes["code-forged"] = "T0FAKE"
        # A state this app never issued, even with a matching cookie: refused, nothing stored.
        status, _, page = get(base + "/slack/oauth_redirect?code=code-forged&state=forged",
                              "slack-app-oauth-state=forged")
        assert status == 401 and "xoxb" not in page
        # The right state but no cookie from the browser that began: refused.
        status, _, page = get(base + f"/slack/oauth_redirect?code=code-forged&state={state}")
        assert status == 400
        assert fake.calls_to("oauth.v2.access") == []
        store = Installations(parse_url(store_url), CLIENT_ID)
        try:
            assert store.teams() == []
        finally:
            store.close()


def test_serving_many_workspaces_says_what_is_missing_and_refuses_both_modes(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    no_secret = run_console("bot", "serve", env=slack_env(url, SLACK_CLIENT_ID=CLIENT_ID))
    assert no_secret.returncode == 2
    assert "SLACK_CLIENT_SECRET is not set" in no_secret.stderr
    assert "SLACK_SIGNING_SECRET is not set" in no_secret.stderr
    assert "SLACK_BOT_TOKEN" not in no_secret.stderr
    both_set = {**slack_env(url, SLACK_BOT_TOKEN="xoxb-one"), **OAUTH}
    both = run_console("bot", "serve", env=both_set)
    assert both.returncode == 2
    assert both.stderr.startswith("error: SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set")
    assert CLIENT_SECRET not in both.stderr and "xoxb-one" not in both.stderr
    worker = run_console("worker", env=both_set)
    assert worker.returncode == 2 and "are both set" in worker.stderr
    assert "Traceback" not in no_secret.stderr + both.stderr + worker.stderr
