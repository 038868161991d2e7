"""Hostile input: whatever arrives, a clear message, no traceback, nothing half-written."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_ledger.wiring import wire
from ledger import commands as c
from ledger.base import LedgerError
from ledger.importer import import_pack
from ledger.pack import PackProblems, parse_pack
from ledger.returns_csv import import_returns

from .conftest import run_cli

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=4),
    max_leaves=20)


def _mutations(pack: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The mini pack with one field somewhere replaced by anything JSON can hold."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(pack, ())

    def mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
        data = json.loads(json.dumps(pack))
        if not path:
            return value if isinstance(value, dict) else {"programme": value}
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return data

    return st.builds(mutate, st.sampled_from(paths), json_values)


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'ledger.db'}"


def test_any_mutated_pack_is_imported_whole_or_refused_with_lines(
        sqlite_url: str, mini_pack: dict[str, Any]) -> None:
    w = wire(sqlite_url, "")

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_mutations(mini_pack))
    def check(data: dict[str, Any]) -> None:
        head = w.follower.head()
        try:
            pack = parse_pack(data)
            summary = import_pack(w.app, pack)
        except PackProblems as e:
            assert e.problems and all(isinstance(p, str) and p for p in e.problems)
            assert w.follower.head() == head  # refused: nothing written
        else:
            assert w.follower.head() == head + summary.events

    try:
        check()
    finally:
        w.close()


CSV_HEADER = "case,agency,auditor,practitioner,area,grade,strengths,concerns\n"
cells = st.text(alphabet=string.printable + "é“”\u2028", max_size=12)


def test_any_returns_csv_is_imported_or_refused_by_line(sqlite_url: str,
                                                        mini_pack: dict[str, Any]) -> None:
    w = wire(sqlite_url, "")
    pack = dict(mini_pack, returns=[], programme=dict(mini_pack["programme"], id="csv-fuzz"))
    import_pack(w.app, parse_pack(pack))

    rows = st.lists(st.tuples(st.sampled_from(["K01", "K02", "K9", ""]) | cells,
                              st.sampled_from(["school", "social-care"]) | cells,
                              st.sampled_from(["sch.aud", "sc.aud"]) | cells,
                              st.sampled_from(["sch.t", "sc.sw"]) | cells,
                              st.sampled_from(["1", "2", "3", "overall", "9"]) | cells,
                              st.sampled_from(["", "2", "3", "4", "1", "x"]) | cells,
                              cells, cells), max_size=6)

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.booleans(), rows)
    def check(with_header: bool, body: list[tuple[str, ...]]) -> None:
        import csv
        import io

        out = io.StringIO()
        csv.writer(out).writerows(body)
        text = (CSV_HEADER if with_header else "") + out.getvalue()
        head = w.follower.head()
        try:
            summary = import_returns(w.app, "csv-fuzz", text)
        except PackProblems as e:
            assert e.problems
            assert all(p.startswith("line ") or p.startswith("no programme") for p in e.problems), \
                e.problems
            assert w.follower.head() == head
        else:
            assert w.follower.head() == head + summary.events

    try:
        check()
    finally:
        w.close()


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_command_text_is_validated_or_refused(text: str) -> None:
    """Free text from a form or a shell: either a valid command or a pydantic refusal."""
    from pydantic import ValidationError

    for build in (lambda: c.RaiseConcern(by="sc.aud", programme="mini-2026", case="K01",
                                         agency="school", summary=text),
                  lambda: c.RespondToIssue(by=text or "x", programme="mini-2026", case="K01",
                                           agency="school", issue=1, response="ok"),
                  lambda: c.GradeArea(by="a", programme=text or "x", case="K01",
                                      agency="school", area="2", grade=2)):
        try:
            build()
        except ValidationError as e:
            assert e.errors()


def test_oversized_inputs_are_refused_with_a_message(store_url: str, tmp_path: Path,
                                                     mini_pack: dict[str, Any]) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("w") as f:
        f.write('{"programme": {"id": "x"}, "people": [')
        f.write(",".join(f'{{"id": "p{i}", "agency": "a"}}' for i in range(1_600_000)))
        f.write("]}")
    assert huge.stat().st_size > 50 * 1024 * 1024
    result = run_cli("import", str(huge), url=store_url)
    assert result.returncode == 2 and "larger than" in result.stderr
    assert "Traceback" not in result.stderr

    long_comment = dict(mini_pack)
    long_comment["returns"] = [dict(mini_pack["returns"][0],
                                    concerns={"4": "x" * 100_000})]
    pack = tmp_path / "long.json"
    pack.write_text(json.dumps(long_comment))
    result = run_cli("import", str(pack), url=store_url)
    assert result.returncode == 2
    assert "returns[0].concerns.4" in result.stderr and "10000 characters" in result.stderr
    raise_long = run_cli("concern", "raise", "mini-2026", "K01", "--agency", "school",
                         "--summary", "y" * 100_000, "--by", "sch.aud", url=store_url)
    assert raise_long.returncode == 2 and "summary" in raise_long.stderr
    assert "Traceback" not in raise_long.stderr


def test_ledger_errors_always_carry_lines() -> None:
    e = LedgerError("one", "two")
    assert e.problems == ["one", "two"]


def test_any_audit_text_and_form_values_get_an_answer(sqlite_url: str,
                                                      mini_pack: dict[str, Any]) -> None:
    """Whatever a person types after /audit, or sends in a form, they get words back."""
    from bot.deliver import Deliverer, make_client
    from bot.directory import Directory
    from bot.modals import read_action_update, read_answers, read_concern_action
    from bot.services import BotServices

    w = wire(sqlite_url, "")
    pack = dict(mini_pack, programme=dict(mini_pack["programme"], id="bot-fuzz"))
    import_pack(w.app, parse_pack(pack))
    services = BotServices(app=w.app, views=w.views, follower=w.follower,
                           deliver=Deliverer(make_client("xoxb-unused", "http://127.0.0.1:9/")),
                           directory=Directory(w.views))
    from bot.answers import answer

    words = st.sampled_from(["help", "progress", "my", "case", "history", "actions", "overdue",
                             "bot-fuzz", "mini-2026", "K01", "K99", "2", "overall", ""])
    texts = st.lists(words | st.text(max_size=15), max_size=5).map(" ".join) | st.text(max_size=60)
    users = st.sampled_from(["U0SCMGR", "U0SCSW", "U0QL", "UNKNOWN1"])
    feedback = w.fresh_views().feedback_item("bot-fuzz", "K01", "social-care")
    assert feedback is not None
    form_values = st.dictionaries(
        st.sampled_from(["issue-1", "issue-2", "action", "rag", "note", "evidence", "other"]),
        st.dictionaries(st.text(max_size=8), json_values, max_size=3), max_size=5)

    @settings(max_examples=120, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(users, texts, form_values)
    def check(user: str, text: str, values: dict[str, Any]) -> None:
        head = w.follower.head()
        reply = answer(services, user, text)
        assert reply is not None
        assert w.follower.head() == head  # reading never writes
        for read in (lambda: read_answers(feedback, values), lambda: read_concern_action(values),
                     lambda: read_action_update(values)):
            try:
                read()
            except (KeyError, TypeError, AttributeError, ValueError) as e:  # pragma: no cover
                raise AssertionError(f"form values {values!r} broke the form reader") from e

    try:
        check()
    finally:
        w.close()
