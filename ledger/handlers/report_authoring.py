"""The overview report's author writing, and a quality lead publishing a version."""

from __future__ import annotations

from ..base import Rejected
from ..overview_report import OverviewReport
from ..report_commands import PublishReport, WriteReport
from ..report_import import theme_words
from .shared import LedgerCommands, Outcome, act_of


class ReportCommands(LedgerCommands):
    """What the author writes and each version published, recorded as facts."""

    def overview_report(self, programme: str) -> OverviewReport | None:
        return self.find(OverviewReport, self.ids.overview_report_id(programme))

    def write_report(self, cmd: WriteReport) -> Outcome:
        return self.retrying(lambda: self._write_report(cmd))

    def _report(self, cmd: WriteReport | PublishReport) -> OverviewReport:
        self.programme(cmd.programme)
        found = self.overview_report(cmd.programme)
        if found is None:
            found = OverviewReport._create(
                OverviewReport.Created, id=self.ids.overview_report_id(cmd.programme),
                programme=cmd.programme, **act_of(cmd).fields())
        return found

    def _write_report(self, cmd: WriteReport) -> Outcome:
        self.require("write report", cmd.by, self.partnership_of(cmd.programme))
        report = self._report(cmd)
        texts = {f"areas.{a}": t for a, t in cmd.areas.items()}
        texts |= {f"themes.{t.id}.text": t.text for t in cmd.themes}
        texts |= {f"key_findings[{i}]": k for i, k in enumerate(cmd.key_findings or [])}
        texts["conclusions"] = cmd.conclusions or ""
        allowed = self.keep_identifiers_out(cmd, texts, programme=cmd.programme)
        written = report.write(
            act_of(cmd), author=(cmd.author.name, cmd.author.role) if cmd.author else None,
            areas=dict(cmd.areas), themes=[theme_words(t) for t in cmd.themes],
            key_findings=cmd.key_findings, conclusions=cmd.conclusions)
        if not written:
            return Outcome(False, f"the report of {cmd.programme} already says that")
        self.save(report, *allowed)
        return Outcome(True, f"the report of {cmd.programme}: {written} part(s) written")

    def publish_report(self, cmd: PublishReport) -> Outcome:
        return self.retrying(lambda: self._publish_report(cmd))

    def _publish_report(self, cmd: PublishReport) -> Outcome:
        self.require("publish report", cmd.by, self.partnership_of(cmd.programme))
        report = self._report(cmd)
        last = report.versions[-1] if report.versions else None
        if last and last["sha256"] == cmd.sha256 and last["marking"] == cmd.marking:
            raise Rejected(f"version {last['version']} of the report of {cmd.programme}, "
                           f"published on {last['on']}, already says exactly this")
        version = len(report.versions) + 1
        report.record(OverviewReport.Published, act_of(cmd), version=version,
                      position=cmd.position,
                      as_of=(cmd.as_of or cmd.occurred_on).isoformat(), marking=cmd.marking,
                      suppress=cmd.suppress, publishable=cmd.publishable, sha256=cmd.sha256,
                      figures=dict(cmd.figures))
        self.save(report)
        return Outcome(True, f"published version {version} of the report of {cmd.programme} "
                             f"(SHA-256 {cmd.sha256})")
