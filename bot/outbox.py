"""What to send to whom: feedback direct messages and concern alerts.

`deliver_feedback` and `deliver_concern_alert` post one item's messages now, recording
nothing (`bot try` and tests use them). What `bot serve` and `audit-ledger worker` send goes
through the worker (`worker`): it follows the log with a tracking position and records each
delivery as an event (with the Slack channel and ts), so nothing is sent twice across restarts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from . import blocks as b
from .deliver import Posted
from .messages import concern_message, feedback_message
from .pages import parts
from .services import BotServices

log = logging.getLogger(__name__)

Doc = dict[str, Any]


@dataclass(frozen=True)
class Outgoing:
    """One message for one Slack user."""

    slack_user: str
    text: str
    blocks: b.Blocks


def feedback_outgoing(services: BotServices, doc: dict[str, Any]) -> list[Outgoing]:
    """The practitioner's message and their manager's copy (for those with a Slack user), each
    in as many messages as it needs."""
    programme = services.programme(str(doc["programme"]))
    directory = services.directory.of(str(doc["programme"]))
    names = directory.name
    out: list[Outgoing] = []
    practitioner = str(doc["practitioner"])
    manager = str(doc.get("manager") or "")
    slack = directory.slack_user(practitioner)
    if slack:
        text, blocks = feedback_message(doc, programme, names, for_manager=False,
                                        zone=services.deliver.zone(slack))
        out += [Outgoing(slack, t, bl) for t, bl in parts(text, blocks)]
    slack = directory.slack_user(manager) if manager and manager != practitioner else ""
    if slack:
        text, blocks = feedback_message(doc, programme, names, for_manager=True,
                                        zone=services.deliver.zone(slack))
        out += [Outgoing(slack, t, bl) for t, bl in parts(text, blocks)]
    return out


def concern_outgoing(services: BotServices, doc: dict[str, Any]) -> list[Outgoing]:
    """The alert for each manager of the agency concerned (with a Slack user)."""
    programme = services.programme(str(doc["programme"]))
    directory = services.directory.of(str(doc["programme"]))
    managers = [p for p in directory.people()
                if "manager" in (p.get("roles") or []) and p.get("agency") == doc["agency"]]
    out: list[Outgoing] = []
    for p in managers:
        slack = directory.slack_user(p["person"])
        if slack:
            text, blocks = concern_message(doc, programme, directory.name,
                                           zone=services.deliver.zone(slack))
            out += [Outgoing(slack, t, bl) for t, bl in parts(text, blocks)]
    return out


def deliver_feedback(services: BotServices, programme: str, case: str, agency: str
                     ) -> list[Posted]:
    """Send one return's feedback to its practitioner (and the copy to their manager) now."""
    doc = services.fresh().feedback_item(programme, case, agency)
    if doc is None:
        raise LookupError(f"no feedback for {agency} on case {case!r} in {programme!r}")
    slack = services.deliver.in_team(services.team_of(programme))
    posted = [slack.dm(o.slack_user, o.text, o.blocks)
              for o in feedback_outgoing(services, doc)]
    log.info("feedback sent: programme %s case %s agency %s, %d messages", programme, case,
             agency, len(posted))
    return posted


def deliver_concern_alert(services: BotServices, programme: str, ref: str) -> list[Posted]:
    """Send a concern's alert to the managers of the agency concerned now."""
    doc = services.fresh().concern(programme, ref)
    if doc is None:
        raise LookupError(f"no concern {ref!r} in {programme!r}")
    slack = services.deliver.in_team(services.team_of(programme))
    posted = [slack.dm(o.slack_user, o.text, o.blocks)
              for o in concern_outgoing(services, doc)]
    log.info("concern alert sent: programme %s concern %s, %d messages", programme, ref,
             len(posted))
    return posted
