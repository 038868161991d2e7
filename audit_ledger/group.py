"""The root command group: loads a command's module only when it runs; says every failure plainly."""

from __future__ import annotations

import importlib
from typing import Any

import click


class Refused(Exception):
    """Bad input: each line names the problem; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class LazyGroup(click.Group):
    """A group whose commands are named as "module:attribute" and imported on first use, as in
    click's "Lazily Loading Subcommands": `audit-ledger case` never imports Bolt, matplotlib or
    the importer, so each run starts with only what its command needs."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        return command


class LedgerGroup(LazyGroup):
    """Turns every refusal into one line per problem and exit 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click says these itself
        except BrokenPipeError:
            ctx.exit(0)  # the reader (head, less) went away; nothing more to say
        except Exception as e:
            said = _failure(e)
            if said is None:
                raise
            lines, code = said
            from projections.inert import for_terminal

            for line in lines:
                click.echo(for_terminal(f"error: {line}"), err=True)
            ctx.exit(code)


def _failure(e: Exception) -> tuple[list[str], int] | None:
    """What to say about a failure and the exit code, or None for a fault to show in full.

    The ledger's error classes are imported here, once something failed, so that starting a
    command does not import them: a command that raised one has imported its module already.
    """
    from pydantic import ValidationError

    from ledger.base import LedgerError
    from ledger.pack import PackProblems, pydantic_problems
    from ledger.settings import SettingsError
    from projections.queries import NotInViews

    if isinstance(e, Refused | PackProblems | LedgerError):
        return list(e.problems), 2
    if isinstance(e, NotInViews | SettingsError):
        return [str(e.args[0])], 2
    if isinstance(e, ValidationError):
        return pydantic_problems(e), 2
    if isinstance(e, OSError):
        return [str(e)], 1
    if _wrong_key(e):
        return ["this store's events were written with a different key: use the store's own key "
                "(AUDIT_LEDGER_KEY), or ask whoever set the store up"], 2
    if _is_conflict(e):  # a write that is not retried (an import) met another writer's
        return ["someone else changed the same records at the same moment, so nothing was "
                "written: try again (if it happens again, run audit-ledger verify)"], 1
    if _is_store_failure(e):
        first = str(e).splitlines()[0] if str(e) else ""
        return [f"the event store could not be reached or used: {type(e).__name__}: {first}"], 1
    return None


def _wrong_key(e: BaseException | None) -> bool:
    """The library's words for an event that does not open with this key, raised as they
    are or as the cause of its MapperDeserialisationError (reading another key's events)."""
    while e is not None:
        if isinstance(e, ValueError) and str(e) == "Invalid cipher tag":
            return True
        e = e.__cause__
    return False


def _is_conflict(e: Exception) -> bool:
    from eventsourcing.persistence import IntegrityError

    return isinstance(e, IntegrityError)


def _is_store_failure(e: Exception) -> bool:
    from eventsourcing.persistence import PersistenceError

    if isinstance(e, PersistenceError):
        return True
    module = type(e).__module__ or ""
    return module.startswith(("psycopg", "sqlite3"))
