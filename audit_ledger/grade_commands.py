"""`grade record|revise|moderate`: one area's grade recorded, revised or moderated."""

from __future__ import annotations

from datetime import datetime

import click

from ledger import commands as c

from .shared import ALLOW, BY, ON, act, day


@click.group()
def grade() -> None:
    """Record, revise and moderate grades."""


@grade.command("record")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--area", required=True, help="2 to 8 or overall")
@click.option("--grade", "value", required=True, type=int)
@click.option("--practitioner", default=None, help="whose work (needed for an agency's first grade)")
@click.option("--strength", default=None)
@click.option("--concern", default=None)
@ALLOW
@BY
@ON
@click.pass_context
def grade_record(ctx: click.Context, programme: str, case: str, agency: str, area: str,
                 value: int, practitioner: str | None, strength: str | None,
                 concern: str | None, by: str, occurred_on: datetime | None) -> None:
    """Record one area's grade in an agency's return."""
    act(ctx, c.GradeArea, "grade_area", programme=programme, case=case, agency=agency,
        area=area, grade=value, practitioner=practitioner, strength=strength, concern=concern,
        by=by, occurred_on=day(occurred_on))


@grade.command("revise")
@click.argument("programme")
@click.argument("case")
@click.option("--agency", required=True)
@click.option("--area", required=True)
@click.option("--grade", "value", required=True, type=int)
@click.option("--reason", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def grade_revise(ctx: click.Context, programme: str, case: str, agency: str, area: str,
                 value: int, reason: str, by: str, occurred_on: datetime | None) -> None:
    """Revise an agency's grade, with a reason."""
    act(ctx, c.ReviseGrade, "revise_grade", programme=programme, case=case, agency=agency,
        area=area, grade=value, reason=reason, by=by, occurred_on=day(occurred_on))


@grade.command("moderate")
@click.argument("programme")
@click.argument("case")
@click.option("--area", required=True)
@click.option("--grade", "value", required=True, type=int)
@click.option("--reason", required=True)
@ALLOW
@BY
@ON
@click.pass_context
def grade_moderate(ctx: click.Context, programme: str, case: str, area: str, value: int,
                   reason: str, by: str, occurred_on: datetime | None) -> None:
    """Record a moderated judgement for an area of a case, with a reason."""
    act(ctx, c.ModerateJudgement, "moderate_judgement", programme=programme, case=case,
        area=area, grade=value, reason=reason, by=by, occurred_on=day(occurred_on))
