"""Sending each of the worker's messages once: the ledger asked before, the delivery recorded after.

Before posting, the ledger is asked whether the message was delivered (deliveries have
deterministic ids); right after Slack's answer the delivery is recorded (MessageDelivered, with
channel and ts). A message longer than Slack takes in one goes as several parts, each its own
delivery (`pages`, `subjects.part_purpose`); if Slack still refuses a part as too long, what is
left is split smaller and sent, never given up. Slack's other failures are sorted in two: "not
now" (429, 5xx, timeouts, lost connections, an unusable token) raises SlackUnavailable, and the
worker waits and tries the same message again; "never" (an unknown user or channel) is logged
and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError

from ledger.base import Act
from policies.subjects import part_purpose

from . import blocks as b
from .deliver import NotInstalled, Posted, slack_error
from .pages import MESSAGE_CHARS, parts, without_continuation
from .services import BotServices

log = logging.getLogger("bot.worker")  # the worker's log, whichever part of it speaks

Doc = dict[str, Any]

# Slack's answers that say "not now" rather than "never": wait and try the same message again.
TRANSIENT_CODES = {"ratelimited", "fatal_error", "internal_error", "service_unavailable",
                   "request_timeout", "invalid_auth", "not_authed", "token_revoked",
                   "token_expired", "account_inactive", "team_access_not_granted",
                   "missing_scope", "org_login_required", "ekm_access_denied"}
TOO_LONG_CODES = {"msg_blocks_too_long", "invalid_blocks", "too_many_blocks", "msg_too_long"}
"""Slack's answers that say a message is too big: split it smaller and send it again."""
SMALLEST = 2000
"""Characters of block text below which a refused part is not split further."""


def too_long(e: Exception) -> bool:
    return isinstance(e, SlackApiError) and e.response is not None and \
        str(e.response.get("error") or "") in TOO_LONG_CODES


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

    def __init__(self, services: BotServices, act: Callable[[], Act],
                 before: Callable[[], None] = lambda: None) -> None:
        self.s = services
        self.act = act
        self.before = before
        """Called before each message is posted or updated: the worker looks for new alerts
        there, so that no long piece of other work (a sweep, copies brought up to date after
        an acknowledgement) holds one back."""
        self._unrecorded: dict[tuple[str, str, str, str], Posted] = {}
        """Posted, but not yet recorded (the record failed): recorded next time, not posted."""

    def send(self, m: Message, channel: str = "") -> bool:
        """Post one message, in as many parts as it needs, unless the ledger says each was
        delivered; record each part right after Slack takes it. True when anything was sent."""
        sent = False
        budget = MESSAGE_CHARS
        number = 1
        pending = parts(m.text, m.blocks, budget)
        while pending:
            text, blocks = pending[0]
            part = replace(m, purpose=part_purpose(m.purpose, number), text=text, blocks=blocks)
            try:
                sent = self._send_one(part, channel) or sent
            except TooLong:
                if budget <= SMALLEST:
                    log.warning("%s for %s in %s: Slack refuses part %d even when small; sent "
                                "as plain text", m.purpose, m.subject, m.programme, number)
                    sent = self._send_one(replace(part, text=plain_text(blocks), blocks=[]),
                                          channel) or sent
                    pending, number = pending[1:], number + 1
                    continue
                budget //= 2
                rest = [blk for _, bl in pending for blk in without_continuation(bl)]
                pending = parts(m.text, rest, budget, first=number, total=0)
                continue
            pending, number = pending[1:], number + 1
        return sent

    def _send_one(self, m: Message, channel: str) -> bool:
        self.before()
        if m.key not in self._unrecorded and self.s.app.delivered(*m.key):
            return False
        posted = self._unrecorded.get(m.key)
        if posted is None:
            try:
                slack = self.s.deliver.in_team(self.s.team_of(m.programme))
                posted = (slack.post(channel, m.text, m.blocks) if channel else
                          slack.dm(m.slack_user, m.text, m.blocks))
            except NotInstalled as e:
                log.warning("%s for %s in %s not sent to %s: %s (link the partnership with "
                            "`partnership link-slack`, and install the app there)", m.purpose,
                            m.subject, m.programme, m.slack_user or m.recipient, e)
                return False
            except Exception as e:  # noqa: BLE001 - sorted below
                if too_long(e):
                    log.info("%s for %s in %s refused as too long (%s); splitting it smaller",
                             m.purpose, m.subject, m.programme, slack_error(e))
                    raise TooLong() from e
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

    def update(self, d: Doc, text: str, blocks: b.Blocks, note: str, record: bool = True
               ) -> bool:
        """A delivered copy (`d`, from the deliveries view) rewritten in place, and the update
        recorded under `note` (unless the caller records it once every part is rewritten);
        False when Slack refuses it for good. A refusal for size raises TooLong, for the caller
        to split smaller."""
        self.before()
        try:
            self.s.deliver.in_team(self.s.team_of(d["programme"])).update(d["channel"], d["ts"],
                                                                          text, blocks)
        except NotInstalled as e:
            log.warning("%s for %s in %s not updated: %s", d["purpose"], d["subject"],
                        d["programme"], e)
            return False
        except Exception as e:  # noqa: BLE001 - sorted below
            if too_long(e):
                raise TooLong() from e
            if transient(e):
                raise SlackUnavailable(e) from e
            log.warning("%s for %s in %s not updated: Slack says %s", d["purpose"],
                        d["subject"], d["programme"], slack_error(e))
            return False
        if record:
            self.noted(d, note)
        return True

    def noted(self, d: Doc, note: str) -> None:
        self.s.app.record_delivery_update(d["programme"], d["subject"], d["purpose"],
                                          d["recipient"], note, self.act())


class TooLong(Exception):
    """Slack refused a message as too long: split it smaller."""


def plain_text(blocks: b.Blocks) -> str:
    """The last resort for a small part Slack will not take as blocks: its words as text."""
    out: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if isinstance(x.get("text"), str) and x.get("type") != "plain_text":
                out.append(x["text"])
            for k, v in x.items():
                if k != "text" or not isinstance(v, str):
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(blocks)
    return "\n".join(out)
