"""`/audit`: answered in the ack when ready within the budget, else a holding reply and the answer later.

An answer longer than one message is sent a page at a time, each page ending with a **More**
button that asks for the next: nothing is cut.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from . import blocks as b
from .answers import answer
from .deliver import slack_error
from .handling import SORRY, Handling, budget_left, button_ref, request_team
from .replies import MORE, page_of

__all__ = ["MORE", "SlashCommand", "page_of"]

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

Doc = dict[str, Any]

class SlashCommand:
    def __init__(self, handling: Handling) -> None:
        self.s = handling.s

    def command(self, ack: Any, body: Doc, respond: Any, context: Any = None) -> None:
        user = body.get("user_id", "")
        query = body.get("text") or ""
        future = self.s.work.submit(self.paged, user, query, 1, request_team(body))
        try:
            text, blocks = future.result(timeout=max(0.0, budget_left(context)))
        except FutureTimeout:
            ack(response_type="ephemeral", text="Looking that up, one moment…")
            self.s.listeners.submit(self.answer_later, future, respond)
            return
        except Exception as e:  # noqa: BLE001 - say sorry, never a stack trace
            log.error("/audit failed (%s)", type(e).__name__)
            text, blocks = b.say(SORRY)
        ack(response_type="ephemeral", text=text, blocks=blocks)

    def answer_later(self, future: Future[Any], respond: Any) -> None:
        """After a holding reply: the answer, when ready, through the command's response_url."""
        try:
            text, blocks = future.result()
        except Exception as e:  # noqa: BLE001
            log.error("/audit failed (%s)", type(e).__name__)
            text, blocks = b.say(SORRY)
        try:
            respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
        except Exception as e:  # noqa: BLE001 - the person asks again; say why in a word
            log.warning("could not send the /audit answer (%s)", slack_error(e))

    def paged(self, slack_user: str, query: str, number: int, team: str
              ) -> tuple[str, b.Blocks]:
        """A page of the answer to `/audit QUERY` from a Slack user in workspace `team`."""
        return page_of(*answer(self.s, slack_user, query, team), query, number)

    def more(self, ack: Any, body: Doc, respond: Any) -> None:
        """More pressed: the next page of the same question, answered afresh."""
        ack()
        self.s.listeners.submit(self._more, body, respond)

    def _more(self, body: Doc, respond: Any) -> None:
        ref = button_ref((body.get("actions") or [{}])[0])
        user = str((body.get("user") or {}).get("id", ""))
        try:
            number = int(ref.get("n") or 2)
            text, blocks = self.paged(user, str(ref.get("q") or ""), number, request_team(body))
        except Exception as e:  # noqa: BLE001 - say sorry, never a stack trace
            log.error("/audit more failed (%s)", type(e).__name__)
            text, blocks = b.say(SORRY)
        try:
            respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
        except Exception as e:  # noqa: BLE001
            log.warning("could not send the next page (%s)", slack_error(e))
