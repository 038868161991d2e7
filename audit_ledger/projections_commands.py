"""`projections status|rebuild|follow`: the views' position, rebuilt from the log, kept following it."""

from __future__ import annotations

import threading

import click

from .shared import FORMAT, emit, wiring


@click.group()
def projections() -> None:
    """The views' position, rebuilding and following the log."""


@projections.command("status")
@FORMAT
@click.pass_context
def projections_status(ctx: click.Context, fmt: str) -> None:
    """Each view's position against the log's head, and any erasure left half done."""
    from ledger.erasures import pending_erasures
    from projections.views import VIEWS

    w = wiring(ctx)
    s = w.follower.status()
    pending = pending_erasures(w.app)
    data = {"head": s.head, "views": {v: {"position": s.position, "behind": s.behind}
                                      for v in VIEWS},
            "erasures_pending": [p.as_dict() for p in pending]}
    emit(data, fmt, lambda d: f"log head {s.head}; views at {s.position} "
          f"({s.behind} events behind) in {w.settings.describe()}\n"
          f"views: {', '.join(VIEWS)}\n"
          + "".join(f"{p.words()}\n" for p in pending))


@projections.command("rebuild")
@FORMAT
@click.pass_context
def projections_rebuild(ctx: click.Context, fmt: str) -> None:
    """Drop every view and fold it again from the whole log."""
    w = wiring(ctx)
    read = w.follower.rebuild()
    s = w.follower.status()
    emit({"events": read, "head": s.head, "position": s.position}, fmt,
          lambda d: f"rebuilt the views from {read} events; now at {s.position} of {s.head}\n")


@projections.command("follow")
@click.option("--interval", default=0.2, show_default=True, help="seconds between polls")
@click.pass_context
def projections_follow(ctx: click.Context, interval: float) -> None:
    """Keep folding new events into the views until stopped (Ctrl-C)."""
    w = wiring(ctx)
    stop = threading.Event()
    click.echo(f"following {w.settings.describe()}; Ctrl-C to stop", err=True)
    try:
        w.follower.follow(stop, interval)
    except KeyboardInterrupt:
        stop.set()
