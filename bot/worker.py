"""The alert, escalation and reminder worker.

It follows the event log from its own tracking position (`worker`, kept beside the views'
positions in the same database) and carries out what `policies.escalation` decides:

- a concern raised: alert the agency's managers by direct message, and the programme's channel;
- a concern escalated: alert the step's recipients;
- feedback issued: the practitioner's direct message and their manager's copy;
- a concern or feedback acknowledged, answered, acted on or closed: every delivered copy is
  updated in place (chat.update at the recorded channel and ts);
- on each tick, by the injected clock: concerns past their step's deadline are escalated (the
  escalation recorded in the ledger, its alert sent as a reaction to that event), feedback
  unacknowledged for N working days is reminded, actions due within 14 days or overdue are
  reminded to their owners (once per state), and a weekly digest of overdue actions goes to the
  quality leads.

Every message is sent at least once and never twice: before posting, the ledger is asked whether
it was delivered (deliveries have deterministic ids); right after Slack's answer the delivery
is recorded (MessageDelivered, with channel and ts). Only a process that dies between Slack's
answer and that record sends the message again when it restarts. When Slack is unavailable
(429, 5xx, timeouts, beyond the client's own retries) the worker stops where it is, waits
(Retry-After, or backing off) and carries on from the same event: nothing is skipped.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError

from ledger.base import Act
from ledger.concerns import Concern
from ledger.feedback import Feedback
from ledger.settings import StoreSettings
from policies import permissions
from policies.escalation import (
    action_reminder,
    alert_recipients,
    digest_week,
    escalation_due,
    feedback_reminder_number,
    ladder_from,
    recipients,
    step_started,
)
from projections.queries import NotInViews, action_status
from projections.store import PositionMoved

from . import alerts
from . import blocks as b
from .deliver import Posted, slack_error
from .services import BotServices

log = logging.getLogger(__name__)

Doc = dict[str, Any]

TRACKING_NAME = "worker"
WORKER = "audit-ledger-worker"
"""Who the worker's records name as having acted (`by`)."""

POLL = 0.05
BATCH = 200
RECHECK = 60.0
"""Seconds after which the time-based checks run again even when nothing else changed."""

CONCERN_ALERT = "concern-alert"
FEEDBACK = "feedback"
DIGEST = "overdue-digest"
CHANNEL = "channel:"

ACKNOWLEDGED_AND_ANSWERED = {Concern.Acknowledged.TOPIC, Concern.ActionRecorded.TOPIC,
                             Concern.Closed.TOPIC, Feedback.Acknowledged.TOPIC,
                             Feedback.IssueResponded.TOPIC}
TOPICS = {Concern.Created.TOPIC, Concern.Escalated.TOPIC, Feedback.Created.TOPIC,
          *ACKNOWLEDGED_AND_ANSWERED}

# Slack's answers that say "not now" rather than "never": wait and try the same message again.
TRANSIENT_CODES = {"ratelimited", "fatal_error", "internal_error", "service_unavailable",
                   "request_timeout", "invalid_auth", "not_authed", "token_revoked",
                   "token_expired", "account_inactive", "team_access_not_granted",
                   "missing_scope", "org_login_required", "ekm_access_denied"}


# ---- names of what was sent ---------------------------------------------------------------------


def concern_subject(ref: str) -> str:
    return f"concern/{ref}"


def concern_purpose(step: int) -> str:
    return CONCERN_ALERT if step <= 1 else f"concern-step-{step}"


def feedback_subject(case: str, agency: str) -> str:
    return f"feedback/{case}/{agency}"


def feedback_reminder_purpose(number: int) -> str:
    return f"feedback-reminder-{number}"


def action_subject(action: str) -> str:
    return f"action/{action}"


def action_purpose(state: str, due: str) -> str:
    return f"action-{state.replace(' ', '-')}-{due}"


def digest_subject(week: date) -> str:
    return f"digest/{week.isoformat()}"


# ---- time ----------------------------------------------------------------------------------------


class Clock(Protocol):
    """Where the worker's time comes from: injected, so tests walk it through days."""

    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """The real time; the day is the day in England (the working-day calendar's)."""

    zone = ZoneInfo("Europe/London")

    def now(self) -> datetime:
        return datetime.now(tz=UTC)

    def today(self) -> date:
        return datetime.now(tz=self.zone).date()


# ---- one worker at a time -----------------------------------------------------------------------


class Lease(Protocol):
    def hold(self) -> bool: ...

    def release(self) -> None: ...


class FileLease:
    """SQLite: an exclusive lock on a file beside the database, let go when the process ends."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def hold(self) -> bool:
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class PostgresLease:
    """PostgreSQL: a session advisory lock (one per schema), let go when the connection ends."""

    CHECK_EVERY = 5.0

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        digest = hashlib.sha256(f"audit-ledger-worker/{settings.pg_schema}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.conn: Any = None
        self.checked = 0.0

    def hold(self) -> bool:
        import psycopg

        if self.conn is not None:
            if time.monotonic() - self.checked < self.CHECK_EVERY:
                return True
            try:
                self.conn.execute("SELECT 1")
                self.checked = time.monotonic()
                return True
            except psycopg.Error:
                self.release()
        s = self.settings
        try:
            conn = psycopg.connect(host=s.pg_host, port=int(s.pg_port), user=s.pg_user,
                                   password=s.pg_password or None, dbname=s.pg_dbname,
                                   autocommit=True, connect_timeout=5)
        except psycopg.Error:
            return False
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if not row or not row[0]:
            conn.close()
            return False
        self.conn, self.checked = conn, time.monotonic()
        return True

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.conn = None


def lease_for(settings: StoreSettings) -> Lease:
    if settings.kind == "sqlite":
        return FileLease(settings.sqlite_path + ".worker-lock")
    return PostgresLease(settings)


# ---- failures --------------------------------------------------------------------------------------


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


# ---- the worker ---------------------------------------------------------------------------------------


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


class Worker:
    """Follows the log and does what the policies decide; run by `bot serve` or on its own."""

    def __init__(self, services: BotServices, clock: Clock | None = None, *,
                 poll: float = POLL, batch: int = BATCH, recheck: float = RECHECK,
                 lease: Lease | None = None) -> None:
        self.s = services
        self.clock: Clock = clock or SystemClock()
        self.poll = poll
        self.batch = batch
        self.recheck = recheck
        self.lease = lease
        self.stop = threading.Event()
        self._unrecorded: dict[tuple[str, str, str, str], Posted] = {}
        self._checked_day: date | None = None
        self._checked_at = 0.0
        self._dirty = True
        self._standing_by = False

    # ---- where we are ---------------------------------------------------------------------

    def position(self) -> int:
        return self.s.follower.store.positions().get(TRACKING_NAME, 0)

    def head(self) -> int:
        return self.s.follower.head()

    def act(self) -> Act:
        return Act(WORKER, self.clock.today().isoformat())

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Tick every `poll` seconds until stopped. Failures are waited out, never fatal: Slack's
        Retry-After is honoured, other failures back off up to 30 s."""
        if stop is not None:
            self.stop = stop
        failures = 0
        log.info("worker started at position %d", self.position_or_zero())
        try:
            while not self.stop.is_set():
                if self.lease is not None and not self.lease.hold():
                    if not self._standing_by:
                        log.warning("another worker is running on this store; standing by")
                        self._standing_by = True
                    self.stop.wait(1.0)
                    continue
                if self._standing_by:
                    log.info("worker taking over")
                    self._standing_by = False
                try:
                    self.tick()
                    failures = 0
                except SlackUnavailable as e:
                    failures += 1
                    wait = e.retry_after or min(30.0, 0.1 * 2 ** min(failures, 9))
                    log.warning("Slack unavailable (%s); trying the same message again in "
                                "%.1f s", e, wait)
                    self.stop.wait(wait)
                    continue
                except Exception as e:  # noqa: BLE001 - supervise: log the kind, wait, go on
                    failures += 1
                    wait = min(30.0, 0.1 * 2 ** min(failures, 9))
                    log.warning("worker round failed (%s); trying again in %.1f s",
                                type(e).__name__, wait)
                    self.stop.wait(wait)
                    continue
                self.stop.wait(self.poll)
        finally:
            if self.lease is not None:
                self.lease.release()

    def position_or_zero(self) -> int:
        try:
            return self.position()
        except Exception:  # noqa: BLE001 - only for the first log line
            return 0

    def tick(self) -> int:
        """One round: react to new events, then the time-based checks (when the day changed,
        something happened, or `recheck` seconds passed), then react to what they recorded.
        Returns how many events were read."""
        read = self.react()
        if self._checks_due():
            self.check_time()
            read += self.react()
        return read

    def _checks_due(self) -> bool:
        today = self.clock.today()
        return (self._dirty or today != self._checked_day
                or time.monotonic() - self._checked_at >= self.recheck)

    # ---- following the log ------------------------------------------------------------------

    def react(self) -> int:
        """Handle every event after our position; the position moves after each batch, only
        past events whose messages are all sent (or could never be)."""
        store = self.s.follower.store
        read = 0
        while not self.stop.is_set():
            position = self.position()
            if self.head() <= position:
                return read
            notifications = self.s.app.recorder.select_notifications(
                start=position, limit=self.batch, inclusive_of_start=False)
            if not notifications:
                return read
            self._dirty = True
            views_at = -1
            done = position
            try:
                for n in notifications:
                    if n.topic in TOPICS:
                        if n.id > views_at:
                            self.s.follower.catch_up()
                            views_at = self.s.follower.position()
                        self.handle(self.s.app.mapper.to_domain_event(n), n.topic, n.id)
                    done = n.id
            finally:
                if done > position:
                    try:
                        store.commit({}, {TRACKING_NAME: position}, done)
                    except PositionMoved:
                        log.warning("another worker moved the position; carrying on from it")
            read += len(notifications)
        return read

    def handle(self, event: Any, topic: str, position: int) -> None:
        if isinstance(event, Concern.Created):
            self.alert_concern(event.programme, event.ref, 1)
        elif isinstance(event, Feedback.Created):
            self.send_feedback(event.programme, event.case, event.agency)
        else:
            index = self._index(event.originator_id)
            if index is None or index.get("view") not in ("concern", "feedback"):
                return
            rest = str(index["key"]).split("/", 1)[1]
            if isinstance(event, Concern.Escalated):
                self.alert_concern(index["programme"], rest, event.step)
            elif topic in ACKNOWLEDGED_AND_ANSWERED:
                subject = (concern_subject(rest) if index["view"] == "concern"
                           else feedback_subject(*rest.split("/", 1)))
                self.refresh(index["programme"], subject,
                             f"{topic.split(':')[-1]} at position {position}")

    def _index(self, originator: UUID) -> Doc | None:
        return self.s.follower.store.get("ids", str(originator))

    # ---- sending -------------------------------------------------------------------------------

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

    def refresh(self, programme: str, subject: str, note: str) -> int:
        """Every delivered copy about a subject updated in place to show where it stands."""
        self.s.follower.catch_up()
        updated = 0
        for d in self.s.views.deliveries(programme, subject):
            if note in (d.get("notes") or []) or not (d.get("channel") and d.get("ts")):
                continue
            rendered = self.render(d)
            if rendered is None:
                continue
            try:
                self.s.deliver.update(d["channel"], d["ts"], *rendered)
            except Exception as e:  # noqa: BLE001 - sorted below
                if transient(e):
                    raise SlackUnavailable(e) from e
                log.warning("%s for %s in %s not updated: Slack says %s", d["purpose"], subject,
                            programme, slack_error(e))
                continue
            self.s.app.record_delivery_update(programme, subject, d["purpose"], d["recipient"],
                                              note, self.act())
            updated += 1
        return updated

    def render(self, d: Doc) -> tuple[str, b.Blocks] | None:
        """A delivered message as it should read now."""
        pid, subject, purpose = d["programme"], d["subject"], d["purpose"]
        kind, _, rest = subject.partition("/")
        if kind == "concern":
            doc = self.s.views.concern(pid, rest)
            if doc is None:
                return None
            if d["recipient"].startswith(CHANNEL):
                return b.concern_message(doc, self._programme(pid), self.s.directory.name)
            step = 1 if purpose == CONCERN_ALERT else int(purpose.rsplit("-", 1)[1])
            return self._concern_for(doc, step, d["recipient"], self.s.views.people())
        if kind == "feedback":
            case, _, agency = rest.partition("/")
            doc = self.s.views.feedback_item(pid, case, agency)
            if doc is None:
                return None
            programme = self._programme(pid)
            if purpose == FEEDBACK:
                for_manager = d["recipient"] == doc.get("manager") and \
                    d["recipient"] != doc["practitioner"]
                return b.feedback_message(doc, programme, self.s.directory.name,
                                          for_manager=for_manager)
            original = self.s.views.delivery(pid, subject, FEEDBACK, doc["practitioner"])
            return alerts.feedback_reminder(doc, programme, self.s.directory.name,
                                            sent_on=(original or d)["delivered_on"])
        return None

    def _programme(self, pid: str) -> Doc | None:
        try:
            return self.s.views.programme(pid)
        except NotInViews:
            return None

    # ---- concerns ---------------------------------------------------------------------------------

    def _concern_for(self, doc: Doc, step: int, person: str, people: list[Doc]
                     ) -> tuple[str, b.Blocks]:
        if step > 1:
            entry: Doc = next((e for e in reversed(doc.get("escalations") or [])
                               if e["step"] == step), {})
            chosen = list(entry.get("to") or [])
            reason = str(entry.get("reason") or "")
        else:
            chosen = recipients(1, doc["agency"], people)
            reason = ""
        who: Doc = next((p for p in people if p["person"] == person), {})
        roles = who.get("roles") or []
        can_act = (permissions.permission_problem("acknowledge concern", roles) is None
                   and (who.get("agency") == doc["agency"] or "quality-lead" in roles))
        return alerts.concern_alert(doc, self._programme(doc["programme"]),
                                    self.s.directory.name, step=step, reason=reason,
                                    can_act=can_act, stand_in=person not in chosen)

    def alert_concern(self, programme: str, ref: str, step: int) -> None:
        """A concern's alert at a step, to each of that step's people who can be reached (the
        quality leads when none can), and at step 1 to the programme's channel."""
        doc = self.s.views.concern(programme, ref)
        if doc is None:
            log.warning("concern %s in %s is not in the views; no alert", ref, programme)
            return
        if doc.get("closed") or doc.get("acknowledged_by"):
            return  # answered before we got to it: nobody needs telling now
        people = self.s.views.people()
        chosen = None
        if step > 1:
            entry = next((e for e in reversed(doc.get("escalations") or [])
                          if e["step"] == step), None)
            chosen = list(entry["to"]) if entry else None
        reach, stand_in = alert_recipients(step, doc["agency"], people, chosen)
        if stand_in:
            log.warning("concern %s in %s, step %d: nobody for this step is linked to Slack; "
                        "telling the quality leads", ref, programme, step)
        subject, purpose = concern_subject(ref), concern_purpose(step)
        for person in reach:
            slack = self.s.directory.slack_user(person)
            text, blocks = self._concern_for(doc, step, person, people)
            self.send(Message(programme, subject, purpose, person, slack, text, blocks))
        channel = str((self._programme(programme) or {}).get("channel") or "")
        if step == 1 and channel:
            text, blocks = b.concern_message(doc, self._programme(programme),
                                             self.s.directory.name)
            self.send(Message(programme, subject, purpose, CHANNEL + channel, "", text, blocks),
                      channel=channel)

    # ---- feedback -------------------------------------------------------------------------------

    def send_feedback(self, programme: str, case: str, agency: str) -> None:
        """The practitioner's feedback and their manager's copy (for those linked to Slack)."""
        doc = self.s.views.feedback_item(programme, case, agency)
        if doc is None or doc.get("acknowledged_by"):
            return
        prog = self._programme(programme)
        practitioner, manager = doc["practitioner"], str(doc.get("manager") or "")
        readers = [(practitioner, False)] + ([(manager, True)] if manager and
                                             manager != practitioner else [])
        for person, for_manager in readers:
            slack = self.s.directory.slack_user(person)
            if not slack:
                continue
            text, blocks = b.feedback_message(doc, prog, self.s.directory.name,
                                              for_manager=for_manager)
            self.send(Message(programme, feedback_subject(case, agency), FEEDBACK, person, slack,
                              text, blocks))

    # ---- the time-based checks -------------------------------------------------------------------

    def check_time(self) -> None:
        """Escalations, reminders and the digest due today (by the clock)."""
        today = self.clock.today()
        self.s.follower.catch_up()
        views = self.s.views
        people = views.people()
        for prog in views.programmes():
            pid = prog["programme"]
            sent = {(d["subject"], d["purpose"], d["recipient"]): d
                    for d in views.deliveries(pid)}
            self._escalations(prog, today, people, sent)
            if prog.get("status") == "closed":
                continue
            self._feedback_reminders(prog, today, sent)
            actions = [action_status(a, today) for a in views.actions(pid)]
            self._action_reminders(prog, today, actions, sent)
            self._digest(prog, today, actions, people, sent)
        self._checked_day = today
        self._checked_at = time.monotonic()
        self._dirty = False

    def _escalations(self, prog: Doc, today: date, people: list[Doc],
                     sent: dict[tuple[str, str, str], Doc]) -> None:
        pid = prog["programme"]
        try:
            ladder = ladder_from(prog.get("escalation") or None)
        except ValueError:
            ladder = ladder_from(None)
        for k in self.s.views.concerns(pid):
            if k.get("closed") or k.get("acknowledged_by"):
                continue
            subject = concern_subject(k["ref"])
            alerted = [date.fromisoformat(d["delivered_on"]) for (s, p, _), d in sent.items()
                       if s == subject and p == CONCERN_ALERT]
            last = (k.get("escalations") or [None])[-1]
            escalated_on = (date.fromisoformat(last.get("on") or last["at"][:10])
                            if last else None)
            since = step_started(int(k["step"]), date.fromisoformat(k["raised_on"]),
                                 min(alerted) if alerted else None, escalated_on)
            up = escalation_due(int(k["step"]), since, today, False, False, ladder)
            if up is None:
                continue
            to = recipients(up.step, k["agency"], people)
            outcome = self.s.app.escalate_concern(pid, k["ref"], up.step, to, up.reason,
                                                  self.act())
            if outcome.changed:
                log.info("concern %s in %s escalated to step %d", k["ref"], pid, up.step)

    def _feedback_reminders(self, prog: Doc, today: date,
                            sent: dict[tuple[str, str, str], Doc]) -> None:
        pid = prog["programme"]
        for f in self.s.views.feedback(pid):
            if f.get("acknowledged_by"):
                continue
            subject = feedback_subject(f["case"], f["agency"])
            original = sent.get((subject, FEEDBACK, f["practitioner"]))
            if original is None:
                continue
            number = feedback_reminder_number(date.fromisoformat(original["delivered_on"]),
                                              today, False)
            purpose = feedback_reminder_purpose(number)
            if number < 1 or (subject, purpose, f["practitioner"]) in sent:
                continue
            text, blocks = alerts.feedback_reminder(f, prog, self.s.directory.name,
                                                    sent_on=original["delivered_on"])
            self.send(Message(pid, subject, purpose, f["practitioner"], original["slack_user"],
                              text, blocks))

    def _action_reminders(self, prog: Doc, today: date, actions: list[Doc],
                          sent: dict[tuple[str, str, str], Doc]) -> None:
        pid = prog["programme"]
        for a in actions:
            state = action_reminder(date.fromisoformat(a["due"]), today, a["completed"])
            if state is None:
                continue
            subject, purpose = action_subject(a["id"]), action_purpose(state, a["due"])
            slack = self.s.directory.slack_user(a["owner"])
            if not slack or (subject, purpose, a["owner"]) in sent:
                continue
            text, blocks = alerts.action_reminder(a, prog, self.s.directory.name, state=state,
                                                  today=today)
            self.send(Message(pid, subject, purpose, a["owner"], slack, text, blocks))

    def _digest(self, prog: Doc, today: date, actions: list[Doc], people: list[Doc],
                sent: dict[tuple[str, str, str], Doc]) -> None:
        week = digest_week(today)
        overdue = [a for a in actions if a["overdue_days"] > 0]
        if week is None or not overdue:
            return
        pid, subject = prog["programme"], digest_subject(week)
        text, blocks = alerts.overdue_digest(prog, overdue, self.s.directory.name, week=week)
        for lead in sorted(p["person"] for p in people if "quality-lead" in (p.get("roles") or [])):
            slack = self.s.directory.slack_user(lead)
            if slack and (subject, DIGEST, lead) not in sent:
                self.send(Message(pid, subject, DIGEST, lead, slack, text, blocks))


def start_in_thread(worker: Worker, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker.run, args=(stop,), name="alert-worker", daemon=True)
    thread.start()
    return thread
