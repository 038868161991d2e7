"""Hostile input: whatever arrives, a clear message, no traceback, nothing half-written."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from audit_ledger.wiring import wire
from ledger import commands as c
from ledger.importer import import_pack, import_pack_data
from ledger.pack import PackProblems, parse_pack, pydantic_problems
from ledger.returns_csv import import_returns

from .conftest import log_head, run_cli
from .fake_slack import TEAM_ID

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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite store for each test (its examples share it: what one import left is
    what the next must cope with)."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def test_any_mutated_pack_is_imported_whole_or_refused_with_lines(
        sqlite_url: str, mini_pack: dict[str, Any]) -> None:
    w = wire(sqlite_url, "")

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_mutations(mini_pack))
    def check(data: dict[str, Any]) -> None:
        head = log_head(w)
        try:
            summary = import_pack_data(w.app, data)  # every problem in one run
        except PackProblems as e:
            assert e.problems and all(isinstance(p, str) and p for p in e.problems)
            assert log_head(w) == head  # refused: nothing written
        else:
            assert log_head(w) == head + summary.events

    try:
        check()
    finally:
        w.close()


CSV_HEADER = "case,agency,auditor,practitioner,area,grade,strengths,concerns,completed\n"
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
                              cells, cells,
                              st.sampled_from(["2026-02-01", "01/02/2026", "", "x"]) | cells),
                     max_size=6)

    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.booleans(), rows)
    def check(with_header: bool, body: list[tuple[str, ...]]) -> None:
        import csv
        import io

        out = io.StringIO()
        csv.writer(out).writerows(body)
        text = (CSV_HEADER if with_header else "") + out.getvalue()
        head = log_head(w)
        try:
            summary = import_returns(w.app, "csv-fuzz", text, "sc.aud")
        except PackProblems as e:
            assert e.problems
            assert all(p.startswith("line ") or p.startswith("no programme") for p in e.problems), \
                e.problems
            assert log_head(w) == head
        else:
            assert log_head(w) == head + summary.events

    try:
        check()
    finally:
        w.close()


# What pydantic trims (Unicode White_Space, as Rust's str::trim), unlike Python's str.strip,
# which also takes the ASCII separators \x1c-\x1f.
WHITE_SPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
               + "\u2028\u2029\u202f\u205f\u3000")
REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
SLUG = re.compile(r"[a-z0-9][a-z0-9\-]*")


def _ref(text: str) -> bool:
    return len(text) <= 64 and REF.fullmatch(text) is not None


def _slug(text: str) -> bool:
    return len(text) <= 64 and SLUG.fullmatch(text) is not None


def _summary(text: str) -> bool:
    return 1 <= len(text) <= 10_000


FIELDS: dict[str, tuple[Callable[[str], c.Command], Callable[[str], bool], str]] = {
    # field: (the command with that field set to the text, whether the trimmed text may stand,
    #         the words the refusal must use)
    "summary": (lambda t: c.RaiseConcern(by="sc.aud", programme="mini-2026", case="K01",
                                         agency="school", summary=t), _summary, "character"),
    "by": (lambda t: c.RespondToIssue(by=t, programme="mini-2026", case="K01", agency="school",
                                      issue=1, response="ok"), _ref, "character"),
    "programme": (lambda t: c.GradeArea(by="a", programme=t, case="K01", agency="school",
                                        area="2", grade=2), _slug, "character"),
}
command_texts = (st.text(max_size=200)
                 | st.from_regex(r"[ \t]{0,2}[A-Za-z0-9][A-Za-z0-9._\-]{0,70}[ \t\u3000]{0,2}",
                                 fullmatch=True)
                 | st.from_regex(r"[a-z0-9][a-z0-9\-]{0,66}", fullmatch=True))


@given(st.sampled_from(sorted(FIELDS)), command_texts)
@settings(max_examples=300, deadline=None)
def test_any_command_text_is_taken_trimmed_or_refused_naming_its_field(field: str,
                                                                       text: str) -> None:
    """Free text from a form or a shell: taken exactly as typed less the white space around
    it when the field allows it, otherwise refused with one line that names the field."""
    build, allowed, words = FIELDS[field]
    trimmed = text.strip(WHITE_SPACE)
    try:
        command = build(text)
    except ValidationError as e:
        assert not allowed(trimmed), f"{field} {text!r} was refused: {e}"
        lines = pydantic_problems(e)
        assert len(lines) == 1 and lines[0].startswith(f"{field}: "), lines
        assert "\n" not in lines[0]
        assert any(w in lines[0] for w in (words, "use ", "must not be blank")), lines  # allowed
    else:
        assert allowed(trimmed), f"{field} {text!r} was accepted"
        assert getattr(command, field) == trimmed


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


HOSTILE_FACTS = [
    # (the command, what its refusal must say)
    (["grade", "record", "mini-2026", "K01", "--agency", "school", "--area", "1", "--grade", "2",
      "--by", "sch.aud"], "takes no grade"),
    (["grade", "record", "mini-2026", "K01", "--agency", "school", "--area", "3", "--grade", "7",
      "--by", "sch.aud"], "not on the ofsted-ilacs scale; allowed: 1, 2, 3, 4"),
    (["grade", "record", "mini-2026", "K01", "--agency", "school", "--area", "3", "--grade", "2",
      "--by", "sch.t"], "auditor"),
    (["grade", "record", "mini-2026; DROP TABLE x", "K01", "--agency", "school", "--area", "3",
      "--grade", "2", "--by", "sch.aud"], "programme: "),
    (["concern", "raise", "mini-2026", "K99", "--agency", "school", "--summary", "Seen alone.",
      "--by", "sch.aud"], "K99"),
    (["concern", "raise", "mini-2026", "K01", "--agency", "school", "--summary", " \t ",
      "--by", "sch.aud"], "summary: "),
    (["action", "plan", "mini-2026", "A9.1", "--recommendation", "1", "--description", "short",
      "--measure", "m", "--owner", "sch.mgr", "--due", "2020-01-01", "--by", "ql"],
     "description: "),
]


def test_hostile_single_facts_are_refused_line_by_line(sqlite_url: str, tmp_path: Path,
                                                       mini_pack: dict[str, Any]) -> None:
    """Each refusal: exit 2, one `error:` line per problem (a problem never spills onto a
    second line), what was wrong named, no traceback, and nothing written."""
    pack = tmp_path / "mini.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=sqlite_url, check=True)
    w = wire(sqlite_url, "")
    try:
        head = log_head(w)
        for args, said in HOSTILE_FACTS:
            result = run_cli(*args, url=sqlite_url)
            lines = result.stderr.splitlines()
            assert result.returncode == 2 and lines, (args, result.stderr)
            assert all(line.startswith("error: ") for line in lines), result.stderr
            assert said in result.stderr, (args, result.stderr)
            assert "Traceback" not in result.stderr and not result.stdout
        several = run_cli(*HOSTILE_FACTS[-1][0], url=sqlite_url).stderr.splitlines()
        assert any("measure: " in line for line in several), several  # every problem, at once
        assert log_head(w) == head
    finally:
        w.close()


def test_any_audit_text_and_form_values_get_an_answer(sqlite_url: str,
                                                      mini_pack: dict[str, Any]) -> None:
    """Whatever a person types after /audit, or sends in a form, they get words back."""
    from bot.answering import read_answers
    from bot.deliver import Deliverer, make_client
    from bot.directory import Directory
    from bot.modals import MAX_ANSWER, read_action_update, read_concern_action
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
    typed = st.text(max_size=40) | st.text(min_size=2990, max_size=3010, alphabet="ab ")
    boxes = (st.builds(lambda v: {"answer": {"type": "plain_text_input", "value": v}}, typed)
             | st.builds(lambda v: {"choice": {"selected_option": {"value": v}}},
                         st.sampled_from(["red", "amber", "green", "blue", ""]) | st.text())
             | st.dictionaries(st.text(max_size=8), json_values, max_size=3))
    form_values = st.dictionaries(
        st.sampled_from(["issue-1", "issue-2", "action", "rag", "note", "evidence", "other"]),
        boxes, max_size=5)

    @settings(max_examples=120, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(users, texts, form_values)
    def check(user: str, text: str, values: dict[str, Any]) -> None:
        head = log_head(w)
        reply, blocks = answer(services, user, text, TEAM_ID)
        assert log_head(w) == head  # reading never writes
        assert reply.strip() and "Traceback (most recent call last)" not in reply
        assert 1 <= len(blocks) <= 50 and all(block.get("type") for block in blocks)
        for shown in _texts_of(blocks):
            assert len(shown) <= 3000, f"a block's text is over Slack's limit for {text!r}"
        if user == "UNKNOWN1" and text.split() and text.split()[0].lower() not in HELP_WORDS:
            assert "Ask your quality lead (Quinn Lead)" in reply and "UNKNOWN1" in reply

        issues = [i["number"] for i in feedback["issues"]]
        answers, errors = read_answers(feedback, values, issues)
        assert set(answers) <= set(issues) and set(errors) <= {f"issue-{n}" for n in issues}
        assert not {f"issue-{n}" for n in answers} & set(errors)
        assert all(a == a.strip() and 0 < len(a) <= MAX_ANSWER for a in answers.values())
        assert all(isinstance(e, str) and e for e in errors.values())
        done, why = read_concern_action(values)
        assert bool(done) != bool(why) and len(done) <= MAX_ANSWER
        update, wrong = read_action_update(values)
        assert (update is None) == bool(wrong)
        if update is not None:
            assert update.rag in ("", "red", "amber", "green")
            assert update.evidence or (update.rag and update.note)

    try:
        check()
    finally:
        w.close()


HELP_WORDS = ("help", "?", "hello", "hi")


def _texts_of(node: Any) -> Iterator[str]:
    """Every text a Block Kit structure shows."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from _texts_of(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts_of(item)
