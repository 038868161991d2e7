"""Sending each of the worker's messages once: the ledger asked before, the delivery recorded after.

Before posting, the ledger is asked whether the message was delivered (deliveries have
deterministic ids); right after Slack's answer the delivery is recorded (MessageDelivered, with
channel and ts). Slack's failures are sorted in two: "not now" (429, 5xx, timeouts, lost
connections, an unusable token) raises SlackUnavailable, and the worker waits and tries the same
message again; "never" (an unknown user or channel, blocks refused) is logged and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from ledger.base import Act

from . import blocks as b
from .deliver import Posted, slack_error
from .services import BotServices

log = logging.getLogger("bot.worker")  # the worker's log, whichever part of it speaks

Doc = dict[str, Any]

# Slack's answers that say "not now" rather than "never": wait and try the same message again.
TRANSIENT_CODES = {"ratelimited", "fatal_error", "internal_error", "service_unavailable",
                   "request_timeout", "invalid_auth", "not_authed", "token_revoked",
                   "token_expired", "account_inactive", "team_access_not_granted",
                   "missing_scope", "org_login_required", "ekm_access_denied"}


class SlackUnavailable(Exception):
    """Slack could not take a message now; the worker waits and tries the same one again."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(slack_error(cause))
        self.cause = cause
        self.retry_after = retry_after(cause)


def retry_after(e: Exception) -> float:
    if isinstance(e, SlackApiError) and e.response is not None:
        for k, v in (e.response.headers or {}).items():
            if k.lower() == "retry-after":
                value = v[0] if isinstance(v, list) else v
                try:
                    return max(0.0, float(value))
                except (TypeError, ValueError):
                    return 0.0
    return 0.0


def transient(e: Exception) -> bool:
    """True when waiting may help (rate limits, server errors, timeouts, lost connections, an
    unusable token); False when Slack said this message can never go (unknown user or channel,
    blocks refused)."""
    if isinstance(e, SlackApiError):
        response = e.response
        if response is None or response.status_code != 200:
            return True
        return str(response.get("error") or "") in TRANSIENT_CODES
    return True


@dataclass(frozen=True)
class Message:
    programme: str
    subject: str
    purpose: str
    recipient: str  # a person id, or "channel:<channel>"
    slack_user: str  # "" for a channel
    text: str
    blocks: b.Blocks

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.programme, self.subject, self.purpose, self.recipient)


class Courier:
    """Posts and updates the worker's messages, each recorded in the ledger as it lands."""

    def __init__(self, services: BotServices, act: Callable[[], Act]) -> None:
        self.s = services
        self.act = act
        self._unrecorded: dict[tuple[str, str, str, str], Posted] = {}
        """Posted, but not yet recorded (the record failed): recorded next time, not posted."""

    def send(self, m: Message, channel: str = "") -> bool:
        """Post one message unless the ledger says it was delivered; record it right after."""
        if m.key not in self._unrecorded and self.s.app.delivered(*m.key):
            return False
        posted = self._unrecorded.get(m.key)
        if posted is None:
            try:
                posted = (self.s.deliver.post(channel, m.text, m.blocks) if channel else
                          self.s.deliver.dm(m.slack_user, m.text, m.blocks))
            except Exception as e:  # noqa: BLE001 - sorted below
                if transient(e):
                    raise SlackUnavailable(e) from e
                log.warning("%s for %s in %s not sent to %s: Slack says %s; not trying again",
                            m.purpose, m.subject, m.programme, m.slack_user or m.recipient,
                            slack_error(e))
                return False
            self._unrecorded[m.key] = posted
        self.s.app.record_delivery(*m.key, slack_user=m.slack_user, channel=posted.channel,
                                   ts=posted.ts, act=self.act())
        del self._unrecorded[m.key]
        log.info("%s for %s in %s sent to %s", m.purpose, m.subject, m.programme,
                 m.slack_user or m.recipient)
        return True

    def update(self, d: Doc, text: str, blocks: b.Blocks, note: str) -> bool:
        """A delivered copy (`d`, from the deliveries view) rewritten in place, and the update
        recorded under `note`; False when Slack refuses it for good."""
        try:
            self.s.deliver.update(d["channel"], d["ts"], text, blocks)
        except Exception as e:  # noqa: BLE001 - sorted below
            if transient(e):
                raise SlackUnavailable(e) from e
            log.warning("%s for %s in %s not updated: Slack says %s", d["purpose"],
                        d["subject"], d["programme"], slack_error(e))
            return False
        self.s.app.record_delivery_update(d["programme"], d["subject"], d["purpose"],
                                          d["recipient"], note, self.act())
        return True
