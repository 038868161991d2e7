"""A rebuild's processes route first events by their programme, read from the stored bytes
where that is safe (`projections.partitions._programme`): it must always name the programme
the parsed state names, and fail where parsing fails."""

from __future__ import annotations

import orjson
import pytest

from projections.partitions import _programme


def _parsed(state: bytes) -> str:
    return str(orjson.loads(state).get("programme") or "")


@pytest.mark.parametrize("state", [
    b'{"programme":"scp0000-2022-q1","ref":"C01"}',
    b'{"by":"x","programme":"","ref":"C01"}',
    b'{"programme":null}',
    b'{"programme":7}',
    b'{"a":1}',
    b'{"programme" : "spaced"}',
    b'{"programme":"quo\\"ted"}',
    b'{"programme":"\\u0070"}',
    b'{"\\u0070rogramme":"escaped key","nested":{"programme":"inner"}}',
    b'{"nested":{"programme":"inner"},"programme":"outer"}',
    b'{"subject":"programme","programme":"p"}',
    '{"programme":"é 中"}'.encode(),
])
def test_the_programme_read_from_bytes_is_the_parsed_one(state: bytes) -> None:
    assert _programme(state, named=True) == _parsed(state)
    assert _programme(state, named=False) == _parsed(state)


def test_a_state_that_is_not_json_fails_as_parsing_fails() -> None:
    for state in (b'{"programme":"a\x01b"}', b'{"programme":"unterminated'):
        with pytest.raises(orjson.JSONDecodeError):
            _programme(state, named=True)
