"""Linking without the shell: someone Slack knows but the directory does not asks to be linked,
and their partnership's quality lead approves or refuses with a button.

The request names the directory entry the person says is theirs (found by their name, among
the entries not yet linked to Slack); the quality lead sees who asks (their Slack mention)
and decides. Approval is recorded as the quality lead linking that entry to that Slack user
(`person link-slack`, the same fact as from the shell, with the press's key); a refusal
records nothing and tells the person who refused, so they know whom to ask.
"""

from __future__ import annotations

import logging
from typing import Any

from ledger import commands as c
from ledger.ids import DEFAULT_PARTNERSHIP
from projections.queries import partnership_of

from . import blocks as b
from . import modals as m
from .acts import carry_out
from .deliver import slack_error
from .handling import Handling, button_ref, press_key, request_team
from .home import HomeTab
from .services import BotServices

log = logging.getLogger("bot.app")  # the app's log, whichever listener speaks

Doc = dict[str, Any]

NAME_BLOCK = "name"
AGENCY_BLOCK = "agency"


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


def ask_modal() -> Doc:
    blocks = [
        b.section("Say who you are, as your partnership's audit knows you. Your quality lead will "
                  "see your request, with your Slack name, and approve or refuse it."),
        m._text_input(NAME_BLOCK, "Your full name", placeholder="As in the audit's directory",
                      multiline=False),
        m._text_input(AGENCY_BLOCK, "Your agency", optional=True,
                      placeholder="For example social-care, school, police", multiline=False),
    ]
    return m._modal(b.LINK_ASK, "Ask to be linked", "Ask", blocks, {})


def find_entry(services: BotServices, name: str, agency: str, team: str
               ) -> tuple[Doc | None, str]:
    """The one directory entry, not yet linked to Slack, with this name (and agency, if given),
    among the partnerships answered in the asker's workspace `team`; else why not, in words."""
    wanted, where = _plain(name), _plain(agency)
    linked = services.directory.partnerships_in(team)
    found = [p for p in services.views.everyone()
             if partnership_of(p) in linked
             and _plain(str(p.get("name") or "")) == wanted and not p.get("slack_user")
             and (not where or where in _plain(str(p.get("agency") or "")))]
    if len(found) == 1:
        return found[0], ""
    if found:
        return None, ("More than one person has that name: please give your agency too.")
    # (Found among every partnership's entries: the request goes to the quality leads of the
    # partnership whose entry it is, and only they may approve it.)
    return None, ("I can't find anyone of that name waiting to be linked. Check how it is "
                  "spelt in the audit, or ask your quality lead.")


def request_message(person: Doc, slack_user: str) -> tuple[str, b.Blocks]:
    """The quality lead's copy of a request, with Approve and Refuse."""
    who = f"{person.get('name') or person['person']} ({person['person']}, " \
          f"{person.get('agency') or 'no agency'})"
    text = f"Slack user {slack_user} asks to be linked to {b.escape(who)} in the audit's directory."
    ref = b.value(p=person["person"], s=partnership_of(person), u=slack_user)
    refuse = b.button("Refuse", b.LINK_REFUSE, ref, "danger")
    refuse["confirm"] = {"title": b.plain("Refuse this request?", 100),
                         "text": b.plain("They will be told that you refused it.", 300),
                         "confirm": b.plain("Refuse", 30), "deny": b.plain("Keep it", 30)}
    blocks: b.Blocks = [
        b.header("Someone asks to be linked"),
        b.section(f"<@{slack_user}> asks to be linked to *{b.escape(who)}* in the audit's "
                  "directory. Approve only if this Slack account is theirs: once linked, it "
                  "sees and answers their feedback, concerns and actions."),
        b.actions(f"link|{person['person']}|{slack_user}",
                  b.button("Approve", b.LINK_APPROVE, ref, "primary"), refuse),
    ]
    return text, blocks


def decided_message(person: Doc, slack_user: str, words: str) -> tuple[str, b.Blocks]:
    who = f"{person.get('name') or person['person']} ({person['person']})"
    text = f"Request from Slack user {slack_user} to be linked to {b.escape(who)}: {b.escape(words)}"
    return text, [b.section(f"<@{slack_user}> asked to be linked to *{b.escape(who)}*: "
                            f"{b.escape(words)}")]


class Linking:
    """The listeners: Ask to be linked (button and form), Approve and Refuse."""

    def __init__(self, handling: Handling, home: HomeTab) -> None:
        self.h = handling
        self.s = handling.s
        self.home = home

    def open_ask(self, body: Doc, respond: Any) -> None:
        user = (body.get("user") or {}).get("id", "")
        self.s.fresh()
        known = self.s.directory.person(user, team=request_team(body))
        if known is not None:
            self.h.tell(body, f"You are already linked, as {known.get('name') or known['person']}.",
                        respond)
        else:
            try:
                self.h.slack(body).open_modal(body["trigger_id"], ask_modal())
            except Exception as e:  # noqa: BLE001
                log.warning("could not open the linking form (%s)", slack_error(e))
                self.h.tell(body, "I couldn't open the form in time. Please press the button "
                                  "again.", respond)
        self.h.handled(body)

    def submit_ask(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        user = (body.get("user") or {}).get("id", "")
        values = (view.get("state") or {}).get("values") or {}
        name = (m._text(values, NAME_BLOCK) or "").strip()
        agency = (m._text(values, AGENCY_BLOCK) or "").strip()
        self.s.fresh()
        if not name:
            ack(response_action="errors", errors={NAME_BLOCK: "Please give your full name."})
            return
        person, why = find_entry(self.s, name, agency, request_team(body))
        leads = self.s.directory.quality_leads_on_slack(person)
        if person is not None and not leads:
            why = ("No quality lead can be reached in Slack to approve it; please ask your "
                   "quality lead in person.")
        if person is None or why:
            ack(response_action="errors", errors={NAME_BLOCK: why})
            return
        asked = " or ".join(q.get("name") or q["person"] for q in leads[:3])
        ack(response_action="update", view=m.done_view(
            "Request sent", f"Thank you. I have asked {asked} to link you. I will tell you "
                            "here as soon as they answer."))
        self.s.listeners.submit(self._send_request, body, person, user, leads)

    def _send_request(self, body: Doc, person: Doc, user: str, leads: list[Doc]) -> None:
        text, blocks = request_message(person, user)
        for lead in leads:
            try:
                partnership = partnership_of(lead)
                slack = self.s.directory.within(partnership).slack_user(lead["person"])
                self.s.deliver.in_team(self.s.directory.team_of(partnership)).dm(slack, text,
                                                                                blocks)
            except Exception as e:  # noqa: BLE001 - the other leads are still asked
                log.warning("could not send a linking request (%s)", slack_error(e))
        log.info("linking request sent to %d quality leads", len(leads))
        self.h.handled(body)

    def decide(self, body: Doc, respond: Any) -> None:
        """Approve or Refuse, pressed by a quality lead of the entry's partnership."""
        action = body["actions"][0]
        ref = button_ref(action)
        partnership = str(ref.get("s") or DEFAULT_PARTNERSHIP)
        user = (body.get("user") or {}).get("id", "")
        self.s.fresh()
        lead = self.s.directory.person(user, partnership, team=request_team(body))
        if lead is None:
            self.h.tell(body, "Only a quality lead of that person's partnership can answer this "
                              "request.", respond)
            self.h.handled(body)
            return
        person = self.s.views.person(str(ref.get("p", "")), partnership)
        slack_user = str(ref.get("u", ""))
        if person is None or not slack_user:
            self.h.tell(body, "I can't find that directory entry any more.", respond)
            self.h.handled(body)
            return
        lead_name = lead.get("name") or lead["person"]
        approve = action.get("action_id") == b.LINK_APPROVE
        taken = self.s.directory.person(slack_user, partnership, team=None)
        if approve and taken is not None and taken["person"] != person["person"]:
            self.h.tell(body, f"That Slack user is already linked to "
                              f"{taken.get('name') or taken['person']}.", respond)
            self.h.handled(body)
            return
        if not approve and taken is not None and taken["person"] == person["person"]:
            self.h.tell(body, f"{person.get('name') or person['person']} is already linked to "
                              "that Slack user: another quality lead approved it.", respond)
            self.h.handled(body)
            return
        if approve:
            done = carry_out(self.s, c.LinkSlackUser, "link_slack_user", by=lead["person"],
                             person=person["person"], slack_user=slack_user, key=press_key(body),
                             partnership=partnership)
            if not done.ok:
                self.h.tell(body, done.message, respond)
                self.h.handled(body)
                return
            words = f"approved by {lead_name}."
            told = (f"{lead_name} has linked you to your entry in the audit's directory, as "
                    f"{person.get('name') or person['person']}. Type `/audit my`, or write to "
                    "me here, to see what is waiting for you.")
        else:
            if "quality-lead" not in (lead.get("roles") or []):
                self.h.tell(body, "Only a quality lead can refuse a request to be linked.",
                            respond)
                self.h.handled(body)
                return
            words = f"refused by {lead_name}."
            told = (f"{lead_name} did not link you to {person.get('name') or person['person']} "
                    "in the audit's directory. If you think that is wrong, please speak to them.")
        self.h.update(*self.h.message_place(body),
                      lambda: decided_message(person, slack_user, words), team=request_team(body))
        team = self.s.directory.team_of(partnership)  # the asker's: the entry's partnership's
        try:
            self.s.deliver.in_team(team).dm(slack_user, b.escape(told), b.say(told)[1])
        except Exception as e:  # noqa: BLE001 - the decision stands; they will see it next time
            log.warning("could not tell the person who asked (%s)", slack_error(e))
        if approve:
            self.home.publish(slack_user, team=team)
        self.h.handled(body)
