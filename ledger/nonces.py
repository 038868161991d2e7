"""AES-GCM nonces read from the operating system's random source a few thousand at a time.

Each sealed text takes a fresh random 12-byte nonce. Asking the kernel for 12 bytes a text
(`os.urandom`, a system call each) was about a twentieth of an import's CPU; reading 4 KiB at
once and handing it out 12 bytes at a time gives the same bytes of the same source. No byte is
handed out twice: one lock for the process, and a child process forked from it starts with
none (a fork would otherwise hand parent and child the same nonces).
"""

from __future__ import annotations

import os
import threading

NONCE = 12
_READ = NONCE * 341  # 4,092 bytes a read


class Nonces:
    """Fresh 12-byte nonces, from `os.urandom` read in bulk."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forget()

    def _forget(self) -> None:
        self._pool = b""
        self._at = 0

    def take(self, count: int = 1) -> bytes:
        """`count` fresh nonces, one after another (12 bytes each)."""
        size = NONCE * count
        with self._lock:
            at = self._at
            if at + size > len(self._pool):
                self._pool, at = os.urandom(max(_READ, size)), 0
            self._at = at + size
            return self._pool[at:at + size]

    def _after_fork(self) -> None:
        """In a forked child: nothing of the parent's pool, and a lock no thread holds."""
        self._lock = threading.Lock()
        self._forget()


NONCES = Nonces()
os.register_at_fork(after_in_child=NONCES._after_fork)


def nonce() -> bytes:
    """A fresh random 12-byte nonce."""
    return NONCES.take()
