"""(c) The bot's `/audit progress`, `my` and `case` answers, in-process, on fresh views.

Each answer is `bot.answers.answer`, the function the bot's /audit handler runs
(it brings the views up to the log's head first, as the bot does); askers and targets are
drawn at random from the generated partnerships. Beside them, the raw library's point read:
one case's events selected from the ledger's table by the library's own recorder (no hash
chain) and decoded by its own mapper (sealed text left sealed), as `bench.child` reads for (b).
Until this was so, that column was the ledger's own recorder and mapper, opening the text.
"""

from __future__ import annotations

import gc
import random
import time
from dataclasses import dataclass
from typing import Any

from audit_ledger.wiring import Wiring
from bot.answers import answer
from bot.deliver import Deliverer, make_client
from bot.directory import Directory
from bot.services import BotServices

from .generate import Partnership, Populator
from .stores import Store, raw_mapper

ANSWERS = ("progress", "my", "case")


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p99: float
    worst: float
    count: int

    @staticmethod
    def of(seconds: list[float]) -> Percentiles:
        ordered = sorted(seconds)
        if not ordered:
            return Percentiles(0.0, 0.0, 0.0, 0)

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        return Percentiles(at(0.50), at(0.99), ordered[-1], len(ordered))


def asker_texts(populator: Populator, rng: random.Random, kind: str) -> tuple[str, str]:
    """A Slack user and the text of one `/audit` of this kind, at random from the log."""
    programme = rng.choice(list(populator.programme_cases))
    partnership = Partnership(int(programme.split("-")[0].removeprefix("scp")))
    lead = partnership.slack(partnership.quality_lead)
    if kind == "progress":
        return lead, f"progress {programme}"
    if kind == "case":
        return lead, f"case {programme} {rng.choice(populator.programme_cases[programme])}"
    agency = rng.choice(partnership.agencies())
    who = rng.choice(partnership.practitioners(agency) + [partnership.manager(agency)])
    return partnership.slack(who), "my"


def services_for(w: Wiring) -> BotServices:
    # The Slack client is never called by these answers; it only completes the services.
    client = make_client("xoxb-bench-unused", "http://127.0.0.1:9/api/")
    return BotServices(app=w.app, views=w.views, follower=w.follower, deliver=Deliverer(client),
                       directory=Directory(w.views))


def measure(w: Wiring, store: Store, populator: Populator, calls: int, budget: float = 30.0,
            seed: int = 11) -> dict[str, Any]:
    """p50/p99 of each answer over `calls` asks (fewer, but at least 10, when they take more
    than `budget` seconds together), and of the raw library's point read on `store`."""
    services = services_for(w)
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    try:
        for kind in ANSWERS:
            for _ in range(3):  # warm: imports, statement caches
                answer(services, *asker_texts(populator, rng, kind), None)
            gc.collect()  # each series starts from the same heap, not from the last's garbage
            seconds: list[float] = []
            stop_at = time.perf_counter() + budget
            while len(seconds) < calls and (len(seconds) < 10 or time.perf_counter() < stop_at):
                user, text = asker_texts(populator, rng, kind)
                started = time.perf_counter()
                said, _ = answer(services, user, text, None)
                seconds.append(time.perf_counter() - started)
                if said.startswith(("I can't find you", "Sorry")):
                    raise AssertionError(f"/audit {text} as {user}: {said[:120]}")
            out[kind] = Percentiles.of(seconds)
        seconds = []
        factory, recorder = store.raw_recorder("AuditLedger")  # the ledger's events table
        mapper = raw_mapper()
        try:
            for _ in range(calls):
                programme = rng.choice(list(populator.programme_cases))
                case = rng.choice(populator.programme_cases[programme])
                started = time.perf_counter()
                for stored in recorder.select_events(w.app.ids.case_id(programme, case)):
                    mapper.to_domain_event(stored)
                seconds.append(time.perf_counter() - started)
        finally:
            factory.close()
        out["raw"] = Percentiles.of(seconds)
    finally:
        services.close()
    return out
