"""A commit told which documents are absent from the store (a rebuild's, from its memory of
what it wrote since the views were dropped), on both stores: the same documents as a commit
told nothing, and on PostgreSQL (which inserts them without looking) a wrong claim fails the
whole commit rather than writing over a document."""

from __future__ import annotations

import psycopg
import pytest

from audit_ledger.wiring import Wiring


def test_absent_documents_are_written_and_their_deletes_left_out(wiring: Wiring) -> None:
    store = wiring.store
    store.drop()
    a, b, c = ("programme", "a"), ("due", "0/2026-01-05"), ("waiting", "p/x")
    store.commit({a: {"n": 1}, b: None, c: b'{"items":[1]}'}, {"p": 0}, 2,
                 absent={a, b, c})
    assert store.dump() == [("programme", "a", b'{"n":1}'), ("waiting", "p/x", b'{"items":[1]}')]
    store.commit({a: {"n": 2}, b: {"items": ["k"]}, c: None}, {"p": 2}, 4, absent={b})
    assert store.positions() == {"p": 4}
    assert store.dump() == [("due", "0/2026-01-05", b'{"items":["k"]}'),
                            ("programme", "a", b'{"n":2}')]


def test_a_document_wrongly_said_absent(wiring: Wiring) -> None:
    """PostgreSQL inserts it without looking, so the commit fails whole (no document written
    over, no position moved); SQLite upserts every document whatever it is told."""
    store = wiring.store
    store.drop()
    store.commit({("programme", "a"): {"n": 1}}, {"p": 0}, 2)
    said = {("programme", "a")}
    if wiring.settings.kind == "postgres":
        with pytest.raises(psycopg.errors.UniqueViolation):
            store.commit({("programme", "a"): {"n": 2}}, {"p": 2}, 4, absent=said)
        assert store.positions() == {"p": 2} and store.get("programme", "a") == {"n": 1}
    else:
        store.commit({("programme", "a"): {"n": 2}}, {"p": 2}, 4, absent=said)
        assert store.positions() == {"p": 4} and store.get("programme", "a") == {"n": 2}
