"""Aggregate ids: the ledger's own uuid5 gives the standard library's value for every name."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from ledger import ids


@given(st.text())
def test_a_name_s_id_is_the_standard_uuid5(name: str) -> None:
    try:
        expected = uuid.uuid5(ids.NAMESPACE, name)
    except UnicodeEncodeError:  # a lone surrogate: neither encodes it
        try:
            ids.name_uuid(name)
        except UnicodeEncodeError:
            return
        raise AssertionError("encoded what uuid5 refuses") from None
    found = ids.name_uuid(name)
    assert found == expected
    assert (found.version, found.variant) == (5, uuid.RFC_4122)


def test_the_ids_of_a_pack_s_parts_are_those_of_before() -> None:
    """A few ids worked out by hand as the release before made them (uuid5 of the joined
    parts), so stored stores keep finding their aggregates."""
    assert ids.PUBLIC.case_id("P1", "C01") == uuid.uuid5(ids.NAMESPACE, "case/P1/C01")
    assert ids.PUBLIC.feedback_id("P1", "C01", "police") == \
        uuid.uuid5(ids.NAMESPACE, "feedback/P1/C01/police")
    assert ids.PUBLIC.person_id("sc.aud", "north") == uuid.uuid5(ids.NAMESPACE, "person/north/sc.aud")
