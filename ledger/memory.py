"""A process's memory kept in bounds and its collection cheap: a least-recently-used memory of
bounded size, for what a long-running process remembers (cases' keys, aggregates' cases)
without holding a national log's worth of them; and the cyclic garbage collector held off
through a batch of work (an import, a rebuild's batch)."""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `size` keys remembered, the least recently used forgotten first: an
    OrderedDict's work (cachetools' LRUCache does the same in Python, at several times the
    cost of each read and write). Not thread-safe: its users hold a lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self.data[key] = value
        self.data.move_to_end(key)
        if len(self.data) > self.size:
            self.data.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self.data.pop(key, None)

    def clear(self) -> None:
        self.data.clear()

    def __len__(self) -> int:
        return len(self.data)


@contextmanager
def collecting_later() -> Iterator[None]:
    """The cyclic garbage collector held off through a batch of work that makes many
    short-lived objects and no cycles that matter (a pack checked and saved, a batch of events
    read, folded and written): the collections they triggered, each walking every object of the
    process, were a tenth of an import's CPU and a sixth of a rebuild's. What the work leaves
    is collected once it is done."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
