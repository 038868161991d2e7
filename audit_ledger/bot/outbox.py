"""What to send to whom: feedback direct messages and concern alerts, and an interim courier.

`deliver_feedback` and `deliver_concern_alert` post one item's messages now. The courier that
`bot serve` runs is interim: it sends each unacknowledged feedback's messages once per run of
the process and remembers that only in memory. The worker of the next issue replaces it: it
follows the log with a tracking position and records each delivery as an event (with the
Slack channel and ts), so nothing is sent twice across restarts.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from ..projections.queries import NotInViews
from . import blocks as b
from .deliver import Posted, slack_error
from .services import BotServices

log = logging.getLogger(__name__)

Doc = dict[str, Any]


@dataclass(frozen=True)
class Outgoing:
    """One message for one Slack user."""

    slack_user: str
    text: str
    blocks: b.Blocks


def _programme(services: BotServices, pid: str) -> dict[str, Any] | None:
    try:
        return services.views.programme(pid)
    except NotInViews:
        return None


def feedback_outgoing(services: BotServices, doc: dict[str, Any]) -> list[Outgoing]:
    """The practitioner's message and their manager's copy (for those with a Slack user)."""
    programme = _programme(services, str(doc["programme"]))
    names = services.directory.name
    out: list[Outgoing] = []
    practitioner = str(doc["practitioner"])
    manager = str(doc.get("manager") or "")
    slack = services.directory.slack_user(practitioner)
    if slack:
        text, blocks = b.feedback_message(doc, programme, names, for_manager=False)
        out.append(Outgoing(slack, text, blocks))
    slack = services.directory.slack_user(manager) if manager and manager != practitioner else ""
    if slack:
        text, blocks = b.feedback_message(doc, programme, names, for_manager=True)
        out.append(Outgoing(slack, text, blocks))
    return out


def concern_outgoing(services: BotServices, doc: dict[str, Any]) -> list[Outgoing]:
    """The alert for each manager of the agency concerned (with a Slack user)."""
    programme = _programme(services, str(doc["programme"]))
    text, blocks = b.concern_message(doc, programme, services.directory.name)
    managers = [p for p in services.views.people()
                if "manager" in (p.get("roles") or []) and p.get("agency") == doc["agency"]]
    return [Outgoing(slack, text, blocks) for p in managers
            if (slack := services.directory.slack_user(p["person"]))]


def deliver_feedback(services: BotServices, programme: str, case: str, agency: str
                     ) -> list[Posted]:
    """Send one return's feedback to its practitioner (and the copy to their manager) now."""
    doc = services.fresh().feedback_item(programme, case, agency)
    if doc is None:
        raise LookupError(f"no feedback for {agency} on case {case!r} in {programme!r}")
    posted = [services.deliver.dm(o.slack_user, o.text, o.blocks)
              for o in feedback_outgoing(services, doc)]
    log.info("feedback sent: programme %s case %s agency %s, %d messages", programme, case,
             agency, len(posted))
    return posted


def deliver_concern_alert(services: BotServices, programme: str, ref: str) -> list[Posted]:
    """Send a concern's alert to the managers of the agency concerned now."""
    doc = services.fresh().concern(programme, ref)
    if doc is None:
        raise LookupError(f"no concern {ref!r} in {programme!r}")
    posted = [services.deliver.dm(o.slack_user, o.text, o.blocks)
              for o in concern_outgoing(services, doc)]
    log.info("concern alert sent: programme %s concern %s, %d messages", programme, ref,
             len(posted))
    return posted


def _permanent(e: Exception) -> bool:
    """Slack said no for a reason that waiting will not change (unknown user, bad channel)."""
    return (isinstance(e, SlackApiError) and e.response is not None
            and e.response.status_code == 200)


class FeedbackCourier:
    """Interim: each unacknowledged feedback's messages, sent once per run of this process."""

    def __init__(self, services: BotServices) -> None:
        self.s = services
        self.sent: set[str] = set()
        self.finished: set[str] = set()

    def run_once(self) -> int:
        views = self.s.fresh()
        count = 0
        for prog in views.programmes():
            for doc in views.feedback(prog["programme"]):
                key = f"{doc['programme']}/{doc['case']}/{doc['agency']}"
                if doc.get("acknowledged_by") or key in self.finished:
                    continue
                outgoing = feedback_outgoing(self.s, doc)
                for o in outgoing:
                    mark = f"{key}/{o.slack_user}"
                    if mark in self.sent:
                        continue
                    try:
                        self.s.deliver.dm(o.slack_user, o.text, o.blocks)
                    except Exception as e:  # noqa: BLE001 - sort out below, keep going
                        log.warning("feedback message for programme %s case %s agency %s not "
                                    "sent (%s)%s", doc["programme"], doc["case"], doc["agency"],
                                    slack_error(e),
                                    "; giving up for this run" if _permanent(e) else
                                    "; will try again")
                        if _permanent(e):
                            self.sent.add(mark)
                        continue
                    self.sent.add(mark)
                    count += 1
                if all(f"{key}/{o.slack_user}" in self.sent for o in outgoing):
                    self.finished.add(key)
        if count:
            log.info("courier: %d feedback messages sent", count)
        return count

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Keep the views folded and send new feedback until stopped; failures are waited out."""
        failures = 0
        while not stop.is_set():
            try:
                self.run_once()
                failures = 0
            except Exception as e:  # noqa: BLE001 - supervise: log the kind, wait, go on
                failures += 1
                log.warning("courier round failed (%s); trying again", type(e).__name__)
                stop.wait(min(10.0, 0.5 * 2 ** min(failures, 5)))
                continue
            stop.wait(interval)
