"""The ledger application: every part of the audit cycle's command handlers, on one store.

A command loads its aggregates, asks the policies, and records its events in one save
(`ledger.handlers`, a module per part of the cycle); how events are sealed, stored, read
back and retried is the plumbing underneath (`ledger.persistence`).
"""

from __future__ import annotations

from .handlers.action_plan import ActionPlanCommands
from .handlers.action_tracker import ActionTrackerCommands
from .handlers.case_audit import CaseAuditCommands
from .handlers.concerns import ConcernCommands
from .handlers.directory import DirectoryCommands
from .handlers.erasure import ErasureCommands
from .handlers.feedback import FeedbackCommands
from .handlers.partnership_erasure import PartnershipErasureCommands
from .handlers.report_authoring import ReportCommands
from .handlers.worker_records import WorkerRecords


class AuditLedger(CaseAuditCommands, ConcernCommands, FeedbackCommands, ActionPlanCommands,
                  ActionTrackerCommands,
                  DirectoryCommands, WorkerRecords, ErasureCommands, ReportCommands,
                  PartnershipErasureCommands):
    """Every audit fact goes through here, from every door."""

    name = "AuditLedger"
