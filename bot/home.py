"""The Home tab: published when a person opens it, and again after each act that concerns them."""

from __future__ import annotations

import logging
from typing import Any

from .answers import shares
from .deliver import slack_error
from .handling import Handling, request_team
from .waiting import home_view_across

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

Doc = dict[str, Any]


class HomeTab:
    def __init__(self, handling: Handling) -> None:
        self.h = handling
        self.s = handling.s

    def publish(self, slack_user: str, page: int = 1, team: str = "") -> None:
        """Publish a page of a Slack user's Home tab in a workspace (the one token's, by
        default)."""
        try:
            self.s.fresh()
            people = self.s.directory.people(slack_user, team=team)
            view = home_view_across(shares(self.s, people),
                                    self.s.directory.how_to_get_linked(slack_user, team=team), page)
            if not people:  # with the button to ask to be linked, when someone can approve
                view["blocks"] = [view["blocks"][0],
                                  *self.s.directory.unknown_answer(slack_user, team=team)[1]]
            self.s.deliver.in_team(team).publish_home(slack_user, view)
        except Exception as e:  # noqa: BLE001 - a Home tab is refreshed next time it is opened
            log.warning("could not publish a Home tab (%s)", slack_error(e))

    def republish(self, partnership: str, *people: str) -> None:
        """Refresh the Home tabs of the people (of a partnership) an act concerns."""
        directory = self.s.directory.within(partnership)
        team = self.s.directory.team_of(partnership)  # its workspace ("": the one token's)
        for slack_user in {directory.slack_user(p) for p in people if p} - {""}:
            self.publish(slack_user, team=team)

    def opened(self, body: Doc, event: Doc) -> None:
        """Acknowledged when this returns; the Home tab is published after."""
        if event.get("tab", "home") == "home" and event.get("user"):
            self.s.listeners.submit(self._opened, body, str(event["user"]))
        else:
            self.h.handled(body)

    def _opened(self, body: Doc, slack_user: str) -> None:
        self.publish(slack_user, team=request_team(body))
        self.h.handled(body)

    def turn_page(self, ack: Any, body: Doc) -> None:
        """Previous or Next pressed on the Home tab: that page of it, published."""
        ack()
        action = (body.get("actions") or [{}])[0]
        try:
            page = int(action.get("value") or 1)
        except ValueError:
            page = 1
        user = str((body.get("user") or {}).get("id", ""))
        if user:
            self.s.listeners.submit(self.publish, user, page, request_team(body))
