"""Commands: what a person asks the ledger to do, validated at the edge before anything is written."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                       pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
ProgrammeRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=64, pattern=r"^[a-z0-9][a-z0-9\-]*$")]
Agency = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                          pattern=r"^[a-z0-9][a-z0-9\-]*$")]
PartnershipRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=64, pattern=r"^[a-z0-9][a-z0-9\-]*$")]
SlackTeam = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[TE][A-Z0-9]{2,30}$")]
Area = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^([1-9]|overall)$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]


class Command(BaseModel):
    """Every command names who acts, and may carry the world date and an idempotency key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: Ref
    occurred_on: date = Field(default_factory=date.today)
    key: Annotated[str, StringConstraints(max_length=200)] = ""
    # A quality lead's reason for letting free text that holds an identifier through, and who
    # (default: `by`); see ledger.overrides.
    allow_identifiers: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    allowed_by: Ref | None = None


class RecordReturn(Command):
    programme: ProgrammeRef
    case: Ref
    agency: Agency
    practitioner: Ref
    completed: date
    grades: dict[Area, int]
    strengths: dict[Area, Text] = {}
    concerns: dict[Area, Text] = {}


class GradeArea(Command):
    programme: ProgrammeRef
    case: Ref
    agency: Agency
    area: Area
    grade: int
    practitioner: Ref | None = None
    strength: OptionalText = ""
    concern: OptionalText = ""


class ReviseGrade(Command):
    programme: ProgrammeRef
    case: Ref
    agency: Agency
    area: Area
    grade: int
    reason: Text


class ModerateJudgement(Command):
    programme: ProgrammeRef
    case: Ref
    area: Area
    grade: int
    reason: Text


class RaiseConcern(Command):
    programme: ProgrammeRef
    case: Ref
    agency: Agency
    summary: Text
    child_at_risk: bool = False


class ConcernCommand(Command):
    programme: ProgrammeRef
    concern: Ref


class AcknowledgeConcern(ConcernCommand):
    pass


class RecordConcernAction(ConcernCommand):
    action: Text


class CloseConcern(ConcernCommand):
    outcome: Text


class FeedbackCommand(Command):
    programme: ProgrammeRef
    case: Ref
    agency: Agency


class AcknowledgeFeedback(FeedbackCommand):
    pass


class RecordFeedbackSeen(FeedbackCommand):
    """The practitioner's manager has read their copy of the feedback."""


class DraftAnswer(FeedbackCommand):
    """An answer to one issue typed but not sent yet; empty clears the draft."""

    issue: int = Field(ge=1)
    text: OptionalText = ""


class RespondToIssue(FeedbackCommand):
    issue: int = Field(ge=1)
    response: Text


Order = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
"""An erasure's reason: the order's reference, kept in the clear."""


class EraseCaseText(Command):
    """Destroy a case's key, erasing its personal text; the reason (the order's reference)
    is kept in the clear, so it must hold no personal details."""

    programme: ProgrammeRef
    case: Ref
    reason: Order


class ErasePartnershipText(Command):
    """Destroy a partnership's data key, erasing the personal text of all its cases; `by`
    is one of its quality leads, the reason (the order) kept in the clear."""

    partnership: PartnershipRef
    reason: Order


class AddRecommendation(Command):
    programme: ProgrammeRef
    number: int = Field(ge=1)
    text: Text


class PlanAction(Command):
    programme: ProgrammeRef
    action: Ref
    recommendation: int = Field(ge=1)
    description: Text
    measure: Text
    owner: Ref
    due: date


class ActionCommand(Command):
    programme: ProgrammeRef
    action: Ref


class RatifyAction(ActionCommand):
    pass


class RecordActionProgress(ActionCommand):
    rag: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]
    note: Text


class CompleteAction(ActionCommand):
    evidence: Text


class ReplanAction(ActionCommand):
    reason: Text
    due: date | None = None
    owner: Ref | None = None
    measure: OptionalText = ""
    description: OptionalText = ""


Role = Annotated[str, StringConstraints(strip_whitespace=True,
                                        pattern=r"^(practitioner|manager|auditor|moderator|quality-lead|board)$")]
SlackUser = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[UW][A-Z0-9]{2,30}$")]


class RegisterPartnership(Command):
    """A partnership added to the store: an administrative act of whoever holds the store."""

    partnership: PartnershipRef
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    slack_team: SlackTeam | None = None


class LinkPartnershipSlack(Command):
    """A partnership linked to its Slack workspace: an administrative act of whoever holds the
    store, as registering it is."""

    partnership: PartnershipRef
    slack_team: SlackTeam


class DirectoryCommand(Command):
    """Directory commands name the partnership whose directory they change (and in which `by`
    is looked up); the default partnership when they name none."""

    partnership: PartnershipRef = "default"


class RegisterPerson(DirectoryCommand):
    person: Ref
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    agency: Agency
    roles: list[Role] = []
    manager: Ref | None = None
    slack_user: SlackUser | None = None


class ChangeRole(DirectoryCommand):
    person: Ref
    role: Role


class AssignManager(DirectoryCommand):
    person: Ref
    manager: Ref


class LinkSlackUser(DirectoryCommand):
    person: Ref
    slack_user: SlackUser


OsUser = Annotated[str, StringConstraints(strip_whitespace=True,
                                          pattern=r"^[A-Za-z0-9_.][A-Za-z0-9_.@$-]{0,63}$")]
"""An operating-system account name as POSIX and most directories spell one."""


class LinkOsUser(DirectoryCommand):
    person: Ref
    os_user: OsUser


class UnlinkOsUser(DirectoryCommand):
    person: Ref
