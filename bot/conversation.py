"""The direct message as a conversation: whatever someone types to the bot gets an answer.

Slack sends each message typed in the app's Messages tab as a `message` event (channel type
`im`). The bot cannot take an answer to feedback or a concern from free text (it would not know
which issue it answers, and it would bypass the checks a form makes), so it says so, then shows
what is waiting for that person, with the buttons to act on each, and how to ask for more.
Someone the directory does not know is told how to be linked, with a button to ask. Messages
from bots (the app's own among them), edits and deletions get no answer, so the bot never
talks to itself.
"""

from __future__ import annotations

import logging
from typing import Any

from projections.queries import partnership_of

from . import blocks as b
from . import replies, waiting
from .answers import waiting_for
from .deliver import slack_error
from .handling import Handling, request_team
from .pages import parts
from .services import BotServices

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

Doc = dict[str, Any]

PEOPLES_WORDS = {None, "", "file_share", "thread_broadcast"}
"""Message subtypes a person wrote (plain, with a file, a thread reply also sent to the
channel); edits, deletions, joins and bots' messages get no answer."""
HELP_WORDS = {"help", "?", "commands", "what can you do"}
THANKS_WORDS = {"thanks", "thank you", "ok", "okay", "cheers", "ta"}
NOT_AN_ANSWER = ("I can't take an answer typed here: each answer belongs to one issue, so "
                 "please use the *Answer* button on that issue in your feedback message, or "
                 "*Answer issues* below. What you type in its form is kept as a draft if you "
                 "are interrupted.")


def _first_name(person: Doc) -> str:
    name = str(person.get("name") or person["person"])
    return name.split()[0] if name.split() else name


def dm_reply(services: BotServices, slack_user: str, text: str, team: str | None
             ) -> tuple[str, b.Blocks]:
    """The bot's answer to a message typed to it (in workspace `team`): never silence."""
    services.fresh()
    person = services.directory.person(slack_user, team=team)
    if person is None:
        return services.directory.unknown_answer(slack_user, team=team)
    said = " ".join(text.casefold().split()).strip(" .!")
    if said in HELP_WORDS or said.startswith("/audit"):
        return replies.help_answer(
            f"Hello {_first_name(person)}. Here is what I can do; type any of these in a message "
            "box, here or anywhere in Slack.")
    w = waiting_for(services.views, person, services.today())
    mine, blocks = waiting.my_answer(person, w,
                                     services.directory.within(partnership_of(person)).name)
    hello = f"Hello {_first_name(person)}."
    if said in THANKS_WORDS:
        intro = f"You're welcome, {_first_name(person)}."
    elif w.empty():
        intro = f"{hello} Nothing is waiting for you just now."
    else:
        intro = hello + (f" {NOT_AN_ANSWER}" if w.feedback else "") + \
            " Here is what is waiting for you, with a button for each thing to do."
    footer = b.context("Type `/audit help` for everything I can do; your Home tab (the app's "
                       "Home) always shows what is waiting.")
    plain = intro.replace("*", "")
    if w.empty():
        return plain, [b.section(intro), footer]
    return f"{plain} {mine}", [b.section(intro), *blocks, footer]


class Conversation:
    """The `message` listener for the app's direct messages."""

    def __init__(self, handling: Handling) -> None:
        self.h = handling
        self.s = handling.s

    def message(self, body: Doc, event: Doc) -> None:
        """Acknowledged when this returns; the answer is posted after."""
        if event.get("channel_type") != "im" or event.get("subtype") not in PEOPLES_WORDS \
                or event.get("bot_id") or not event.get("user"):
            self.h.handled(body)
            return
        self.s.listeners.submit(self._answer, body, event)

    def _answer(self, body: Doc, event: Doc) -> None:
        try:
            team = request_team(body)
            text, blocks = dm_reply(self.s, str(event["user"]), str(event.get("text") or ""),
                                    team)
            slack = self.s.deliver.in_team(team)
            channel = str(event.get("channel") or "") or slack.dm_channel(str(event["user"]))
            for part_text, part_blocks in parts(text, blocks):
                slack.post(channel, part_text, part_blocks)
        except Exception as e:  # noqa: BLE001 - the person writes again; say why in a word
            log.warning("could not answer a direct message (%s)", slack_error(e))
        finally:
            self.h.handled(body)
