"""The formats in docs/ are the code's: every example there goes through the console script.

- The example files load: the pack and the returns file import (and import again changing
  nothing), exactly as docs/README.md says, with the commands it shows.
- Every fenced JSON block in docs/*.md carries a marker saying what it is, and is checked:
  `<!-- pack -->` imports; `<!-- refused pack -->` is refused with exactly the error lines of
  the ```text block after it; `<!-- output of: audit-ledger ... -->` is what that command
  prints in the example audit (times excepted); `<!-- excerpt of: ... -->` and
  `<!-- shape of: ... -->` have its shape: every object shown has exactly the fields the
  command prints (at the top level it may leave some out), with the same kinds of values, and
  every list item looks like one the command printed.
- `<!-- refused returns for: P -->` CSV blocks are refused with the ```text block after them;
  other CSV blocks are lines of the example returns file; every ```text block is such an
  expected refusal.
- Every `audit-ledger ...` line of a ```sh block names a command and options that exist.
"""

from __future__ import annotations

import json
import re
import shlex
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from audit_ledger.wiring import wire

from .conftest import Templates, console_group, healthz, in_process, log_head, run_cli, serving
from .fake_slack import FakeSlack

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = DOCS / "examples"
PAGES = sorted(DOCS.glob("*.md"))
EXAMPLE_FILES = {"northbrook-2026.json", "northbrook-2026-returns.csv",
                 "northbrook-2026-template-police.xlsx", "northbrook-2026-returns-police.xlsx",
                 "northbrook-2026-returns-police-excel.csv"}
TIMES = ("recorded_at", "as_of")  # when the commands ran: they differ from run to run


@dataclass
class Block:
    page: str
    lang: str
    marker: str
    body: str

    def where(self) -> str:
        return f"{self.page}: ```{self.lang} block {self.body[:60]!r}"


FENCE = re.compile(r"(?:<!--\s*(?P<marker>[^>]*?)\s*-->[ \t]*\n)?```(?P<lang>[a-z]*)\n"
                   r"(?P<body>.*?)```", re.S)


def blocks() -> list[Block]:
    return [Block(page.name, m["lang"], m["marker"] or "", m["body"])
            for page in PAGES for m in FENCE.finditer(page.read_text(encoding="utf-8"))]


def scenario() -> list[list[str]]:
    """The commands docs/README.md says make the example audit, as arguments."""
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The example audit"):]
    sh = next(b for b in FENCE.finditer(section) if b["lang"] == "sh")["body"]
    commands = [shlex.split(line) for line in sh.splitlines() if line.strip()]
    assert all(c[0] == "audit-ledger" for c in commands), commands
    return [c[1:] for c in commands]


def repository() -> Path:
    return DOCS.parent


@pytest.fixture
def example_store(templates: Templates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh store holding the example audit, made by the commands docs/README.md shows
    (in this process, once a session, and copied for each test: the test of the examples
    themselves runs them as the console script)."""
    monkeypatch.chdir(repository())

    def build(url: str) -> None:
        for args in scenario():
            in_process(url, *args)

    return templates.copy("docs-example", build, tmp_path / "ledger.db")


def test_the_examples_import_as_the_docs_say(tmp_path: Path) -> None:
    assert {p.name for p in EXAMPLES.iterdir()} == EXAMPLE_FILES, \
        "a new example in docs/examples needs importing here"
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    imports = [args for args in scenario() if args[0] in ("import", "import-returns")]
    assert [next(a for a in args if a.startswith("docs/")) for args in imports] == [
        "docs/examples/northbrook-2026.json", "docs/examples/northbrook-2026-returns.csv"]
    said = [run_cli(*args, url=url, cwd=repository(), check=True).stdout.strip()
            for args in imports]
    assert said[0] in readme, f"docs/README.md should quote what the import says: {said[0]}"
    w = wire(url, "")
    try:
        head = log_head(w)
        again = [run_cli(*args, url=url, cwd=repository(), check=True).stdout.strip()
                 .splitlines()[-1] for args in imports]
        assert log_head(w) == head
    finally:
        w.close()
    assert again == ["nothing to import: everything in this file is already in the ledger for "
                     "northbrook-2026"] * 2
    assert again[0] in readme


def test_the_returns_template_and_its_filled_examples_import(example_store: str,
                                                            tmp_path: Path) -> None:
    """docs/returns-format.md's template is what `template returns` writes for the example
    audit (read with python-calamine, not the writer); the filled-in workbook imports, and the
    same return saved as Excel's Windows-1252 semicolon CSV is then already in the ledger."""
    from python_calamine import CalamineWorkbook

    page = (DOCS / "returns-format.md").read_text(encoding="utf-8")
    for name in ("northbrook-2026-template-police.xlsx", "northbrook-2026-returns-police.xlsx",
                 "northbrook-2026-returns-police-excel.csv"):
        assert f"(examples/{name})" in page, f"returns-format.md should link {name}"
    fresh = tmp_path / "template.xlsx"
    in_process(example_store, "template", "returns", "northbrook-2026", "--agency", "police",
               "-o", str(fresh))

    def cells(path: Path) -> dict[str, list[list[Any]]]:
        book = CalamineWorkbook.from_path(str(path))
        return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}

    assert cells(EXAMPLES / "northbrook-2026-template-police.xlsx") == cells(fresh), \
        "docs/examples' template is not what `template returns` writes now; write it again"
    url = example_store
    said = run_cli("import-returns", "northbrook-2026",
                   "docs/examples/northbrook-2026-returns-police.xlsx", "--by", "ql.osei", url=url,
                   cwd=repository(), check=True).stdout
    assert said.splitlines() == [
        "northbrook-2026-returns-police.xlsx: read as an Excel workbook",
        "imported into northbrook-2026: 1 returns, 1 feedback issued (2 events)"]
    assert said.splitlines()[-1] in page
    again = run_cli("import-returns", "northbrook-2026",
                    "docs/examples/northbrook-2026-returns-police-excel.csv", "--by", "ql.osei", url=url,
                    cwd=repository(), check=True).stdout
    assert again.splitlines() == [
        "northbrook-2026-returns-police-excel.csv: read as Windows-1252 text, values "
        "separated by semicolons",
        "nothing to import: everything in this file is already in the ledger for "
        "northbrook-2026"]
    assert again.splitlines()[0].split(": ", 1)[1] in page
    (tmp_path / "fresh.db").unlink(missing_ok=True)
    other = f"sqlite:///{tmp_path / 'fresh.db'}"
    for args in scenario()[:2]:
        in_process(other, *args)
    first = run_cli("import-returns", "northbrook-2026",
                    "docs/examples/northbrook-2026-returns-police-excel.csv", "--by", "ql.osei", url=other,
                    cwd=repository(), check=True).stdout
    assert first.splitlines()[-1] == said.splitlines()[-1]
    assert in_process(other, "case", "northbrook-2026", "N03", "--format", "json") == \
        in_process(url, "case", "northbrook-2026", "N03", "--format", "json")


def test_every_example_block_says_what_it_is() -> None:
    found = blocks()
    assert {b.page for b in found} >= {"pack-format.md", "returns-format.md", "report-json.md",
                                       "case-and-history-json.md", "http.md"}
    for i, b in enumerate(found):
        if b.lang == "json":
            json.loads(b.body)
            assert b.marker and b.marker.split(":")[0] in (
                "pack", "refused pack", "output of", "excerpt of", "shape of",
                "signed digest"), \
                f"{b.where()} says nothing of what it is, so nothing checks it"
        elif b.lang == "text":
            before = found[i - 1] if i else None
            assert before and before.marker.startswith(("refused pack", "refused returns")), \
                f"{b.where()} is not the refusal of the example before it"


def test_the_packs_shown_are_imported_or_refused_as_shown(tmp_path: Path) -> None:
    found = blocks()
    checked = 0
    for i, b in enumerate(found):
        if b.marker not in ("pack", "refused pack"):
            continue
        pack = tmp_path / f"pack-{i}.json"
        pack.write_text(b.body, encoding="utf-8")
        result = run_cli("import", str(pack), url=f"sqlite:///{tmp_path / f'{i}.db'}")
        if b.marker == "pack":
            assert result.returncode == 0, f"{b.where()}: {result.stderr}"
        else:
            assert result.returncode == 2 and result.stderr == found[i + 1].body, b.where()
        checked += 1
    assert checked >= 3


def test_the_returns_shown_are_the_example_file_or_refused_as_shown(example_store: str,
                                                                    tmp_path: Path) -> None:
    found = blocks()
    example = (EXAMPLES / "northbrook-2026-returns.csv").read_text(encoding="utf-8").splitlines()
    checked = 0
    for i, b in enumerate(found):
        if b.lang != "csv":
            continue
        if b.marker.startswith("refused returns for:"):
            programme = b.marker.split(":", 1)[1].strip()
            returns = tmp_path / f"returns-{i}.csv"
            returns.write_text(b.body, encoding="utf-8")
            result = run_cli("import-returns", programme, str(returns), "--by", "ql.osei",
                             url=example_store)
            assert result.returncode == 2 and result.stderr == found[i + 1].body, \
                f"{b.where()}: {result.stderr}"
        else:
            lines = b.body.splitlines()
            assert _in_order(lines, example), f"{b.where()} is not lines of the example file"
        checked += 1
    assert checked >= 3


def _in_order(lines: list[str], within: list[str]) -> bool:
    rest = iter(within)
    return all(line in rest for line in lines)


def test_the_json_shown_is_what_the_commands_print(example_store: str) -> None:
    checked = 0
    for b in blocks():
        kind, _, command = b.marker.partition(":")
        if kind not in ("output of", "excerpt of", "shape of") or "GET /" in command:
            continue
        args = shlex.split(command)
        assert args[0] == "audit-ledger", b.where()
        printed, shown = json.loads(in_process(example_store, *args[1:])), json.loads(b.body)
        if kind == "output of":
            assert _timeless(shown) == _timeless(printed), f"{b.where()} is not what it prints"
        else:
            _conforms(shown, printed, b.where(), top=True)
        checked += 1
    assert checked >= 5


def test_bot_serve_answers_as_the_docs_show(example_store: str, fake_slack: FakeSlack,
                                            tmp_path: Path) -> None:
    shown = [b for b in blocks() if b.marker == "shape of: GET /healthz"]
    assert shown, "docs/http.md shows /healthz"
    with serving(example_store, fake_slack, log_dir=tmp_path) as base:
        status, said = healthz(base)
        assert status == 200
        # and the rest of what docs/http.md says it answers
        assert _http(base + "/slack/events", b"command=/audit&text=help") == 401  # unsigned
        assert _http(base + "/slack/events", b"x" * (1024 * 1024 + 1)) == 413
        assert _http(base + "/slack/events") == 405
        assert _http(base + "/elsewhere") == 404
    for b in shown:
        _conforms(json.loads(b.body), said, b.where())


def _http(url: str, body: bytes | None = None) -> int:
    """The status a GET (or a POST of `body`) is answered with."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize("page", [p.name for p in PAGES])
def test_the_commands_shown_exist(page: str) -> None:
    cli = console_group()
    text = (DOCS / page).read_text(encoding="utf-8")
    for b in FENCE.finditer(text):
        if b["lang"] != "sh":
            continue
        for line in b["body"].splitlines():
            words = [w.strip("[]") for w in shlex.split(line, comments=True)]
            if words and words[0] == "audit-ledger":
                _check_command(cli, words[1:], f"{page}: {line}")


# ---- helpers -------------------------------------------------------------------------------


def _timeless(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: ("(a time)" if k in TIMES else _timeless(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_timeless(v) for v in data]
    return data


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


AREA_OR_GRADE = re.compile(r"^(\d+|overall)$")


def _conforms(shown: Any, printed: Any, where: str, path: str = "", top: bool = False) -> None:
    """`shown` has the shape of `printed` (see the module's docstring)."""
    at = f"{where} at {path or 'the top'}"
    if isinstance(printed, dict) and printed and all(AREA_OR_GRADE.match(k) for k in printed):
        assert isinstance(shown, dict), at  # keyed by area or grade: any of them may be shown
        for k, v in shown.items():
            assert AREA_OR_GRADE.match(k), f"{at}: {k!r} is not an area or a grade"
            _conforms(v, printed.get(k, next(iter(printed.values()))), where, f"{path}.{k}")
    elif isinstance(printed, dict):
        assert isinstance(shown, dict), at
        unknown, missing = set(shown) - set(printed), set(printed) - set(shown)
        assert not unknown, f"{at}: the command prints no {sorted(unknown)}"
        assert top or not missing, f"{at}: the command also prints {sorted(missing)}"
        for k, v in shown.items():
            _conforms(v, printed[k], where, f"{path}.{k}")
    elif isinstance(printed, list):
        assert isinstance(shown, list), at
        for n, item in enumerate(shown):
            failures = []
            for candidate in printed:
                try:
                    _conforms(item, candidate, where, f"{path}[{n}]")
                    break
                except AssertionError as e:
                    failures.append(str(e))
            else:
                assert failures, f"{at}: the command prints an empty list here"
                closest = min(failures, key=len)  # the candidate it came nearest to
                raise AssertionError(f"{at}: item {n} is like nothing printed ({closest})")
    elif printed is None:
        assert shown is None, f"{at}: the command prints null here"
    else:
        assert _kind(shown) == _kind(printed), f"{at}: {shown!r} is not like {printed!r}"


def _check_command(group: click.Group, words: list[str], where: str) -> None:
    command: click.Command = group
    ctx = click.Context(group, info_name="audit-ledger")
    takes_value = False
    for word in words:
        if takes_value:
            takes_value = False
        elif word.startswith("-"):
            name = word.split("=", 1)[0]
            options = {o: p for p in command.params if isinstance(p, click.Option)
                       for o in (*p.opts, *p.secondary_opts)}
            assert name in options or name in ("--help", "-h"), \
                f"{where}: {name} is not an option of {command.name}"
            option = options.get(name)
            takes_value = option is not None and not option.is_flag and "=" not in word
        elif isinstance(command, click.Group):
            found = command.get_command(ctx, word)
            default = getattr(command, "default_command", None)
            if found is None and default:  # `report PROGRAMME`: the word is its argument
                found = command.get_command(ctx, default)
            assert found is not None, f"{where}: {command.name} has no command {word!r}"
            command = found
