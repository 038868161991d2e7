"""Nonces read in bulk (`ledger.nonces`): never the same twice, in one process or across a fork."""

from __future__ import annotations

import os
import sys

import pytest

from ledger.nonces import NONCE, NONCES, Nonces


def test_nonces_are_twelve_bytes_and_never_repeat_across_refills() -> None:
    nonces = Nonces()
    taken = [nonces.take() for _ in range(3 * 341 + 5)]  # more than three reads of the pool
    assert {len(n) for n in taken} == {NONCE}
    assert len(set(taken)) == len(taken)


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork")
def test_a_forked_child_does_not_take_its_parents_nonces() -> None:
    NONCES.take()  # the pool holds nonces not handed out yet when the process forks
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next nonces, to the parent
        try:
            os.write(write, b"".join(NONCES.take() for _ in range(10)))
        finally:
            os._exit(0)
    os.close(write)
    child = b""
    while len(child) < 10 * NONCE:
        chunk = os.read(read, 1024)
        if not chunk:
            break
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(NONCES.take() for _ in range(10))
    assert len(child) == 10 * NONCE
    assert {child[i:i + NONCE] for i in range(0, len(child), NONCE)}.isdisjoint(
        {parent[i:i + NONCE] for i in range(0, len(parent), NONCE)})
