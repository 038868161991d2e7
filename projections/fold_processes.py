"""A rebuild's processes: when a rebuild folds in several, how its partitions are shared out
among them, and how they take turns to commit (`projections.follower.Follower.rebuild`)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .follower import Follower

SPAWN_FROM = 50_000
"""The shortest log a rebuild folds in several processes beside a connection pool (PostgreSQL):
on two CPUs shared with the server, a 10k rebuild was slower in two processes than in one."""
SPLIT_GAIN = 1.4
"""How many times its heaviest share the whole log must weigh for a rebuild to fold in several
processes: each reads and routes the whole log, so a share must be well under the whole for
the processes to finish sooner than one would (a log mostly of one programme does not)."""


class Opened(Protocol):
    """Another ledger and view store on the same store, with a follower of its own."""

    follower: Follower

    def close(self) -> None: ...


POOL_THREAD = re.compile(r"pool-\d+-(scheduler|worker-\d+)")
"""The names of psycopg_pool's own threads (its scheduler and maintenance workers), which the
library's PostgreSQL recorder runs."""


def forkable() -> bool:
    """Whether this process may fork a rebuild's processes: no thread runs in it but this one
    and the PostgreSQL connection pool's, which wait on their queue between maintenance tasks
    and hold nothing a forked process uses: it opens a pool of its own (`opener`) and never
    touches the one it inherits, whose threads it has none of (nor closes it: a forked
    process ends with `os._exit`). Beside any other thread (a server's, a commit's) a
    rebuild's processes start afresh. (Tried in stop 23 with 10k folded in two processes,
    and reverted: that was slower; the length a pool's store folds in several processes from
    is unchanged, SPAWN_FROM.)"""
    me = threading.current_thread()
    return all(t is me or (t.daemon and POOL_THREAD.fullmatch(t.name) is not None)
               for t in threading.enumerate())


TURN_WAIT = 10.0
"""Seconds a commit waits for its turn before it writes anyway (the store's own lock still
orders the writes): a process that died holding the turn stops nobody."""


class Turns:
    """A parallel rebuild's processes' turns to commit: a lock shared by them, held around
    each commit, which wakes the next writer as soon as it is released."""

    def __init__(self, lock: Any, wait: float = TURN_WAIT) -> None:
        self.lock = lock
        self.wait = wait
        self.held = False

    def __enter__(self) -> None:
        self.held = bool(self.lock.acquire(timeout=self.wait))

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self.held = False
            self.lock.release()


def balanced(weights: dict[int, int], workers: int) -> list[frozenset[int]]:
    """The partitions dealt to the processes, the heaviest first to the least loaded."""
    shares: list[set[int]] = [set() for _ in range(workers)]
    loads = [0] * workers
    for part in sorted(weights, key=lambda p: (-weights[p], p)):
        least = loads.index(min(loads))
        shares[least].add(part)
        loads[least] += weights[part]
    return [frozenset(share) for share in shares if share]


def worth_splitting(weights: dict[int, int], shares: list[frozenset[int]]) -> bool:
    """Whether folding these shares side by side is worth its processes: each reads the whole
    log, so the heaviest share must be well under the whole (a log mostly of one programme
    folds as fast in one process, and leaves the other CPUs to whatever else runs)."""
    heaviest = max(sum(weights[p] for p in share) for share in shares)
    return heaviest * SPLIT_GAIN <= sum(weights.values())


def fold_share(opener: Callable[[], Opened], share: frozenset[int], results: Any,
                turns: Any) -> None:
    """In a rebuild's process of its own: fold this share of the partitions to the head
    (committing in `turns` with the others, when given)."""
    opened = opener()
    opened.follower.turns = Turns(turns) if turns is not None else None
    try:
        results.put(opened.follower.catch_up(parts=share, fresh=True))
    finally:
        opened.close()
