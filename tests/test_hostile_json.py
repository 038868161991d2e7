"""Packs built to break the JSON reader: refused in words, never a traceback, nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit_ledger.wiring import wire
from ledger.pack import PackProblems
from ledger.pack_json import MAX_DEPTH, read_pack_json

from .conftest import log_head, run_cli


def _deep(levels: int) -> str:
    return '{"programme": {"id": "deep"}, "people": ' + "[" * levels + "]" * levels + "}"


def _with_number(number: str) -> str:
    return ('{"programme": {"id": "nums"}, "recommendations": [{"number": ' + number
            + ', "text": "Schools must report to every review."}]}')


HOSTILE = [
    # (the pack's text, what the refusal says)
    (_deep(1_000), f"nested more than {MAX_DEPTH} deep"),
    (_deep(100_000), f"nested more than {MAX_DEPTH} deep"),
    (_with_number("9" * 5_000), "a number 5,000 characters long"),
    (_with_number("1." + "5" * 5_000), "a number 5,002 characters long"),
    (_with_number("1e999"), "the number 1e999 is too large to hold"),
    (_with_number("NaN"), "NaN is not a number JSON allows"),
    (_with_number("Infinity"), "Infinity is not a number JSON allows"),
    (_with_number("-Infinity"), "-Infinity is not a number JSON allows"),
]


@pytest.mark.parametrize(("text", "said"), HOSTILE, ids=[
    "deep-1000", "deep-100000", "int-5000-digits", "float-5000-digits", "1e999", "nan",
    "infinity", "minus-infinity"])
def test_hostile_json_is_refused_in_words(text: str, said: str) -> None:
    with pytest.raises(PackProblems) as refused:
        read_pack_json(text, "pack.json")
    [problem] = refused.value.problems
    assert problem.startswith("pack.json: ") and said in problem, problem


def test_ordinary_json_reads_as_json(mini_pack: dict[str, Any]) -> None:
    text = json.dumps(mini_pack)
    assert read_pack_json(text, "pack.json") == mini_pack
    nested = {"a": [{"b": [1.5, -2, 0, 10**20]}]}
    assert read_pack_json(json.dumps(nested), "x") == nested


def test_the_import_command_refuses_hostile_json_and_writes_nothing(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    good = tmp_path / "mini.json"
    good.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(good), url=url, check=True)
    w = wire(url, "")
    try:
        head = log_head(w)
        for n, (text, said) in enumerate(HOSTILE[::2] + HOSTILE[5:6]):
            pack = tmp_path / f"hostile-{n}.json"
            pack.write_text(text, encoding="utf-8")
            result = run_cli("import", str(pack), url=url)
            assert result.returncode == 2, result.stderr
            assert result.stderr.startswith(f"error: {pack}: ") and said in result.stderr
            assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
        assert log_head(w) == head
    finally:
        w.close()
