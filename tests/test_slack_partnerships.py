"""Partnerships in Slack: a request's workspace (team) and user name the person within the
partnerships linked to that workspace. Several partnerships may share one workspace; one real
person may serve several, and then `/audit my` and the Home tab show each partnership's items
under its name, and nothing of a partnership they are not registered in (or that is linked to
another workspace). Over real HTTP on 127.0.0.1, `bot serve` against the fake Slack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Running, run_cli, serving, signed_post
from .fake_slack import (
    TEAM_ID,
    FakeSlack,
    all_text,
    app_home_opened,
    running,
    slash_command,
)
from .test_bot_workspaces import install, serving_workspaces

BOTH = "U0BOTH"
"""One real police manager's Slack user, registered as `m.police` in every partnership below."""


def partnership_pack(partnership: str | None, name: str, team: str | None, programme: str,
                     summary: str, manager_slack: str = BOTH) -> dict[str, Any]:
    """A partnership's audit (the default partnership's, without `partnership`) with an
    agency `police`, its manager `m.police` and an open concern for police: the same agency
    name and person id in every partnership."""
    section: dict[str, Any] = {"id": partnership, "name": name}
    if team:
        section["slack_team"] = team
    return {
        **({"partnership": section} if partnership else {}),
        "programme": {"id": programme, "title": f"{name} audit", "board": name,
                      "opened": "2026-01-05", "scale": "ofsted-ilacs"},
        "people": [
            {"id": "ql", "name": f"Lead of {partnership}", "agency": "partnership",
             "roles": ["quality-lead"]},
            {"id": "m.police", "name": "Morgan Police", "agency": "police",
             "roles": ["manager"], "slack_user": manager_slack},
            {"id": "aud", "name": f"Auditor of {partnership}", "agency": "police",
             "roles": ["auditor"]},
        ],
        "cases": [{"ref": "K01", "category": "neglect", "age_band": "5-10", "gender": "male",
                   "ethnicity": "White British", "agencies": ["police"]}],
        "concerns": [{"case": "K01", "agency": "police", "raised_by": "aud",
                      "summary": summary, "child_at_risk": False}],
    }


NORTH = ("northbridge", "Northbridge Safeguarding Partnership", "north-2026", "North worry")
SOUTH = ("southmere", "Southmere Safeguarding Partnership", "south-2026", "South worry")
WEST = ("westvale", "Westvale Safeguarding Partnership", "west-2026", "West worry")


def load(url: str, tmp_path: Path, *packs: dict[str, Any]) -> None:
    for i, pack in enumerate(packs):
        path = tmp_path / f"pack-{i}.json"
        path.write_text(json.dumps(pack))
        run_cli("import", str(path), url=url, check=True)


def my(base: str, fake: FakeSlack, user: str, team: str) -> str:
    status, text = signed_post(base, slash_command(user, "morgan", "my", fake.response_url(),
                                                   team=team))
    assert status == 200, text
    return all_text(json.loads(text)["blocks"])


def test_one_person_in_two_partnerships_of_one_workspace_sees_each_under_its_name(
        store_url: str, tmp_path: Path, fake_slack: FakeSlack) -> None:
    load(store_url, tmp_path,
         partnership_pack(NORTH[0], NORTH[1], TEAM_ID, NORTH[2], NORTH[3]),
         partnership_pack(SOUTH[0], SOUTH[1], TEAM_ID, SOUTH[2], SOUTH[3]),
         partnership_pack(WEST[0], WEST[1], "T0WEST", WEST[2], WEST[3]),
         partnership_pack(None, "", None, "home-2026", "Home worry", "U0HOME"))
    with serving(store_url, fake_slack, "--no-worker", log_dir=tmp_path) as base:
        shown = my(base, fake_slack, BOTH, TEAM_ID)
        assert NORTH[1] in shown and SOUTH[1] in shown
        assert shown.index(NORTH[1]) < shown.index(NORTH[3]) < shown.index(SOUTH[1]) \
            < shown.index(SOUTH[3])
        assert WEST[1] not in shown and WEST[3] not in shown

        # The same Slack user from the other workspace is Westvale's manager only.
        shown = my(base, fake_slack, BOTH, "T0WEST")
        assert WEST[3] in shown
        assert not any(word in shown for word in (NORTH[1], NORTH[3], SOUTH[1], SOUTH[3]))

        # The Home tab: each partnership under its name, nothing of Westvale.
        assert signed_post(base, app_home_opened(BOTH, "Ev0HOMEBOTH"),
                           content_type="application/json")[0] == 200
        home = fake_slack.wait_for("views.publish", lambda c: c.body.get("user_id") == BOTH)[0]
        blocks = home.body["view"]["blocks"]
        headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
        assert headers[1:] == [NORTH[1], SOUTH[1]]
        text = all_text(blocks)
        assert NORTH[3] in text and SOUTH[3] in text and WEST[3] not in text

        # Someone from a workspace no partnership is linked to is nobody here.
        shown = my(base, fake_slack, BOTH, "T0ELSEWHERE")
        assert "can't find you" in shown
        assert not any(word in shown for word in (NORTH[3], SOUTH[3], WEST[3], "Lead of"))

        # The default partnership, linked to no workspace, is the bot token's workspace's:
        # answered there, and not to the same Slack user coming from another workspace.
        assert "Home worry" in my(base, fake_slack, "U0HOME", TEAM_ID)
        assert "Home worry" not in my(base, fake_slack, BOTH, TEAM_ID)
        shown = my(base, fake_slack, "U0HOME", "T0WEST")
        assert "can't find you" in shown and "Home worry" not in shown


def test_link_slack_links_a_partnership_to_its_workspace(store_url: str, tmp_path: Path
                                                         ) -> None:
    load(store_url, tmp_path, partnership_pack(NORTH[0], NORTH[1], None, NORTH[2], NORTH[3]))
    done = run_cli("partnership", "link-slack", NORTH[0], "--slack-team", "T0NORTH",
                   url=store_url, check=True)
    assert "T0NORTH" in done.stdout
    listed = json.loads(run_cli("partnership", "list", "--format", "json", url=store_url,
                                check=True).stdout)
    assert [(p["partnership"], p["slack_team"]) for p in listed] == [(NORTH[0], "T0NORTH")]
    again = run_cli("partnership", "link-slack", NORTH[0], "--slack-team", "T0NORTH",
                    url=store_url, check=True)
    assert "already" in again.stdout

    for args, said in (
            ((NORTH[0], "--slack-team", "not-a-team"), "a Slack workspace (team) id such as"),
            (("nowhere", "--slack-team", "T0NORTH"), "nowhere")):
        refused = run_cli("partnership", "link-slack", *args, url=store_url)
        assert refused.returncode == 2, refused.stdout
        assert said in refused.stderr and "Traceback" not in refused.stderr
    listed = json.loads(run_cli("partnership", "list", "--format", "json", url=store_url,
                                check=True).stdout)
    assert [(p["partnership"], p["slack_team"]) for p in listed] == [(NORTH[0], "T0NORTH")]

    # Linked elsewhere, then answered only from there.
    run_cli("partnership", "link-slack", NORTH[0], "--slack-team", "T0MOVED", url=store_url,
            check=True)
    listed = json.loads(run_cli("partnership", "list", "--format", "json", url=store_url,
                                check=True).stdout)
    assert listed[0]["slack_team"] == "T0MOVED"


def test_each_partnership_in_its_own_workspace_is_alerted_there_only(
        store_url: str, tmp_path: Path) -> None:
    north = partnership_pack(NORTH[0], NORTH[1], "T0NORTH", NORTH[2], NORTH[3], "U0NPOL")
    south = partnership_pack(SOUTH[0], SOUTH[1], "T0SOUTH", SOUTH[2], SOUTH[3], "U0SPOL")
    south["concerns"] = []
    unlinked = partnership_pack(WEST[0], WEST[1], None, WEST[2], WEST[3], "U0WPOL")
    logs: list[Running] = []
    with running(tokens=()) as fake:
        fake.workspace("T0NORTH", "Northbridge")
        fake.workspace("T0SOUTH", "Southmere")
        with serving_workspaces(store_url, fake, tmp_path, logs) as base:
            assert install(base, "T0NORTH")[0] == 200
            assert install(base, "T0SOUTH")[0] == 200
            north_token = next(t for t, team in fake.teams.items() if team == "T0NORTH")
            south_token = next(t for t, team in fake.teams.items() if team == "T0SOUTH")
            load(store_url, tmp_path, unlinked, north, south)
            # The north concern's alert goes to north's manager, through north's installation.
            alert = fake.wait_for("chat.postMessage",
                                  lambda c: NORTH[3] in all_text(c.body.get("blocks") or []))[0]
            assert alert.token == north_token and alert.body["channel"] == "DU0NPOL"
            # A south concern raised now reaches south's manager only, through south's token.
            run_cli("concern", "raise", SOUTH[2], "K01", "--agency", "police", "--by", "aud",
                    "--summary", "Another south worry", url=store_url, check=True)
            alert = fake.wait_for("chat.postMessage", lambda c: "Another south worry" in
                                  all_text(c.body.get("blocks") or []))[0]
            assert alert.token == south_token and alert.body["channel"] == "DU0SPOL"
            sent = fake.calls_to("chat.postMessage")
            assert {(c.token, c.body["channel"]) for c in sent} == \
                {(north_token, "DU0NPOL"), (south_token, "DU0SPOL")}
            # Each manager asks in their own workspace and sees their own partnership only.
            shown = my(base, fake, "U0SPOL", "T0SOUTH")
            assert "Another south worry" in shown and NORTH[3] not in shown
            shown = my(base, fake, "U0NPOL", "T0SOUTH")  # north's manager, in south's workspace
            assert "can't find you" in shown and NORTH[3] not in shown
            # Serving many workspaces, a partnership linked to none is reached in none: its
            # alert is not sent (nobody could say where), and the log says why.
            assert "U0WPOL" not in str([c.body for c in fake.calls])
            assert "not installed in workspace (none linked)" in logs[0].log()
            assert "can't find you" in my(base, fake, "U0WPOL", "T0NORTH")
