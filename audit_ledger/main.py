"""The `audit-ledger` console script: the root command, its options, and where each command lives."""

from __future__ import annotations

from pathlib import Path

import click

from .group import LedgerGroup

COMMANDS = {
    # loading audits
    "import": "audit_ledger.loading_commands:import_command",
    "import-returns": "audit_ledger.loading_commands:import_returns_command",
    "demo": "audit_ledger.loading_commands:demo",
    "template": "audit_ledger.template_commands:template",
    # reading
    "report": "audit_ledger.report_commands:report",
    "case": "audit_ledger.reading_commands:case",
    "history": "audit_ledger.reading_commands:history",
    # single facts
    "grade": "audit_ledger.grade_commands:grade",
    "concern": "audit_ledger.concern_commands:concern",
    "feedback": "audit_ledger.feedback_commands:feedback",
    "recommendation": "audit_ledger.plan_commands:recommendation",
    "action": "audit_ledger.plan_commands:action",
    "person": "audit_ledger.person_commands:person",
    "partnership": "audit_ledger.partnership_commands:partnership",
    # the store
    "projections": "audit_ledger.projections_commands:projections",
    "verify": "audit_ledger.security_commands:verify",
    "export-digest": "audit_ledger.security_commands:export_digest",
    "public-key": "audit_ledger.security_commands:public_key",
    "adopt-chain": "audit_ledger.chain_commands:adopt_chain",
    "erase": "audit_ledger.erase_commands:erase",
    "identifiers": "audit_ledger.identifier_commands:identifiers",
    "keygen": "audit_ledger.keygen_command:keygen",
    "rotate-key": "audit_ledger.rotation_commands:rotate_key",
    # Slack
    "bot": "audit_ledger.bot_commands:bot",
    "worker": "audit_ledger.worker_commands:worker",
}
"""Each command's module is imported only when that command runs (or --help lists them)."""


@click.group(cls=LedgerGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="AUDIT_LEDGER_URL", default=None,
              help="where events live (AUDIT_LEDGER_URL); default sqlite:///audit-ledger.db")
@click.option("--key", envvar="AUDIT_LEDGER_KEY", default=None,
              help="base64 AES key (AUDIT_LEDGER_KEY); stored events are encrypted when set")
@click.option("--key-file", envvar="AUDIT_LEDGER_KEY_FILE", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="a file holding the key (AUDIT_LEDGER_KEY_FILE): kept out of the process "
                   "list, where --key shows")
@click.version_option(package_name="audit-ledger")
@click.pass_context
def cli(ctx: click.Context, url: str | None, key: str | None, key_file: Path | None) -> None:
    """The safeguarding audit ledger: multi-agency case audits as an immutable record."""
    if key_file is not None:
        key = key_from_file(key_file, given=bool(key))
    ctx.ensure_object(dict).update(url=url, key=key)


def key_from_file(path: Path, given: bool) -> str:
    """The key held in a file (surrounding spaces and newlines dropped); refused in words when
    a key is given twice or the file cannot be read, never showing what it holds."""
    from ledger.settings import SettingsError, key_in_file

    if given:
        raise click.UsageError("give the key once: --key (AUDIT_LEDGER_KEY) or --key-file "
                               "(AUDIT_LEDGER_KEY_FILE), not both")
    try:
        return key_in_file(path, "--key-file")
    except SettingsError as e:
        raise click.UsageError(str(e)) from None


def main() -> None:
    cli(prog_name="audit-ledger")


if __name__ == "__main__":
    main()
