"""The bot's messages and forms, without Slack or a store: what people see and what is refused."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot import answering
from bot import blocks as b
from bot import modals as m
from bot.messages import concern_message, feedback_message
from bot.pages import pages, split_text

from .fake_slack import all_text, buttons, text_values

PROGRAMME = {"programme": "mini-2026", "title": "Mini audit", "scale": "ofsted-ilacs",
             "areas": {"4": "Assessment", "7": "Supervision", "2": "History"}}
NAMES = {"sc.sw": "Sasha Worker", "sc.mgr": "Sam Manager", "sc.aud": "Ash Auditor"}


def names(person: str) -> str:
    return NAMES.get(person, person)


def feedback(**changes: Any) -> dict[str, Any]:
    doc = {"programme": "mini-2026", "case": "K01", "agency": "social-care",
           "practitioner": "sc.sw", "manager": "sc.mgr", "auditor": "sc.aud",
           "grades": {"2": 2, "4": 3, "overall": 2},
           "good_practice": [{"area": "2", "text": "Clear chronology <kept> & shared."}],
           "issues": [{"number": 1, "area": "4", "text": "Child not seen alone."},
                      {"number": 2, "area": "7", "text": "Supervision not recorded."}],
           "issued_on": "2026-02-01", "acknowledged_by": "", "acknowledged_at": "",
           "responses": {}}
    doc.update(changes)
    return doc


def test_feedback_message_good_practice_first_then_issues_with_both_buttons() -> None:
    text, blocks = feedback_message(feedback(), PROGRAMME, names, for_manager=False)
    shown = all_text(blocks)
    assert shown.index("Good practice") < shown.index("Issues raised") < \
        shown.index("Child not seen alone.")
    assert "Area 4 Assessment: *3 requires improvement to be good*" in shown
    assert "Clear chronology &lt;kept&gt; &amp; shared." in shown  # people's text is escaped
    assert set(buttons(blocks)) == {b.FEEDBACK_ACKNOWLEDGE, b.FEEDBACK_RESPOND, b.FEEDBACK_ANSWER}
    assert text == "Your audit feedback on case K01 (social-care). 0 of 2 answered."

    _, copy = feedback_message(feedback(), PROGRAMME, names, for_manager=True)
    assert "A copy for you as Sasha Worker's manager" in all_text(copy)
    assert "It does not acknowledge the feedback for Sasha Worker" in all_text(copy)
    assert set(buttons(copy)) == {b.FEEDBACK_SEEN}


def test_acknowledged_feedback_says_who_and_when_and_loses_its_button() -> None:
    doc = feedback(acknowledged_by="sc.sw", acknowledged_at="2026-02-03T14:05:00+00:00",
                   responses={"1": {"response": "Seen alone on 3 Feb.", "by": "sc.sw"}})
    text, blocks = feedback_message(doc, PROGRAMME, names, for_manager=False)
    assert "Acknowledged by Sasha Worker on Tuesday 3 February 2026 at 2:05 pm" in text
    assert "Acknowledged by Sasha Worker on Tuesday 3 February 2026 at 2:05 pm" in \
        all_text(blocks)
    # Each reader reads the moment in their own time zone.
    _, abroad = feedback_message(doc, PROGRAMME, names, for_manager=False,
                                 zone=ZoneInfo("America/New_York"))
    assert "on Tuesday 3 February 2026 at 9:05 am" in all_text(abroad)
    assert set(buttons(blocks)) == {b.FEEDBACK_ANSWER}  # each issue's own: issue 2 awaits one
    assert "1 of 2 issues answered" in all_text(blocks)
    doc["responses"]["2"] = {"response": "Now recorded.", "by": "sc.sw"}
    answered = feedback_message(doc, PROGRAMME, names, for_manager=False)[1]
    assert set(buttons(answered)) == {b.FEEDBACK_ANSWER}  # each answer can still be changed
    assert "2 of 2 answered" in all_text(answered) and "Change answer" in all_text(answered)


def test_child_at_risk_is_said_first_and_plainly() -> None:
    concern = {"programme": "mini-2026", "ref": "K01-abc123", "case": "K01",
               "agency": "social-care", "summary": "Not seen for six weeks.",
               "child_at_risk": True, "raised_by": "sc.aud", "raised_on": "2026-02-01",
               "acknowledged_by": "", "acknowledged_at": "", "actions": [], "closed": False}
    text, blocks = concern_message(concern, PROGRAMME, names)
    first = blocks[0]["text"]["text"]
    assert "front door (MASH)" in first and "emergency services (999)" in first
    assert text.startswith("A child may be at risk now: contact the children's services front "
                           "door (MASH) or emergency services (999) now.")
    assert set(buttons(blocks)) == {b.CONCERN_ACKNOWLEDGE, b.CONCERN_RECORD_ACTION}
    calm = concern_message({**concern, "child_at_risk": False}, PROGRAMME, names)[1]
    assert "MASH" not in all_text(calm)


def test_answers_form_takes_any_issue_on_its_own_and_refuses_too_long_box_by_box() -> None:
    view = answering.answer_modal(feedback(), PROGRAMME, {"p": "mini-2026"}, [1, 2], "sc.sw")
    assert [blk["block_id"] for blk in view["blocks"] if blk["type"] == "input"] == \
        ["issue-1", "issue-2"]
    assert len(view["title"]["text"]) <= 24 and view["notify_on_close"] is True
    answers, errors = answering.read_answers(feedback(), text_values(
        {"issue-1": " ", "issue-2": "y" * 3001}), [1, 2])
    assert answers == {} and set(errors) == {"issue-2"}  # an empty box waits for another day
    assert "3,001 characters" in errors["issue-2"]
    answers, errors = answering.read_answers(feedback(), text_values(
        {"issue-1": " ", "issue-2": None}), [1, 2])
    assert answers == {} and "Write at least one answer" in errors["issue-1"]
    answers, errors = answering.read_answers(feedback(), text_values({"issue-2": " "}), [2])
    assert "Please write an answer to this issue" in errors["issue-2"]
    answers, errors = answering.read_answers(feedback(), text_values({"issue-1": " Seen. ",
                                                                      "issue-2": ""}), [1, 2])
    assert errors == {} and answers == {1: "Seen."}
    # An answer already given may be left as it is; only changed answers are recorded again.
    answered = feedback(responses={"1": {"response": "Seen.", "by": "sc.sw"}})
    answers, errors = answering.read_answers(answered, text_values({"issue-1": "Seen.",
                                                                    "issue-2": "Recorded."}),
                                             [1, 2])
    assert errors == {} and answers == {2: "Recorded."}
    # A draft is what the form starts from, and only a change is kept again.
    drafted = feedback(drafts={"sc.sw": {"2": {"text": "Recor", "at": ""}}})
    one = answering.answer_modal(drafted, PROGRAMME, {}, [2], "sc.sw")
    box = next(blk for blk in one["blocks"] if blk.get("block_id") == "issue-2")
    assert box["element"]["initial_value"] == "Recor" and not box["optional"]
    assert answering.drafts_to_keep(drafted, text_values({"issue-2": "Recor"}), [2],
                                    "sc.sw") == {}
    assert answering.drafts_to_keep(drafted, text_values({"issue-2": "Recorded"}), [2],
                                    "sc.sw") == {2: "Recorded"}


def test_progress_needs_status_and_note_and_completion_needs_evidence_after_a_confirm() -> None:
    def values(rag: str | None, note: str) -> dict[str, Any]:
        option = {"value": rag} if rag else None
        return {"rag": {"choice": {"type": "static_select", "selected_option": option}},
                **text_values({"note": note})}

    action = {"programme": "mini-2026", "id": "A1.2", "description": "Brief teams",
              "measure": "Notes", "due": "2026-09-30", "owner": "sc.mgr", "completed": False,
              "overdue_days": 0}
    form = m.action_update_modal(action, {})
    inputs = [blk for blk in form["blocks"] if blk["type"] == "input"]
    assert [blk["block_id"] for blk in inputs] == ["rag", "note"]
    assert not any(blk["optional"] for blk in inputs)  # both needed, neither marked optional
    assert "due on_ Wednesday 30 September 2026" in all_text(form["blocks"])
    assert set(m.read_action_update(values(None, ""))[1]) == {"rag", "note"}
    assert set(m.read_action_update(values("amber", ""))[1]) == {"note"}
    assert m.read_action_update(values("purple", "x"))[1] == {"rag": "Choose red, amber or "
                                                                      "green."}
    update, errors = m.read_action_update(values("green", "Done early"))
    assert errors == {} and update == m.ActionUpdate("green", "Done early", "")

    # Completing cannot be undone: its button asks first, then its form needs the evidence.
    from bot.replies import action_block

    shown = action_block(action, names, True)
    complete = buttons(shown)[b.ACTION_COMPLETE]
    assert complete["confirm"]["title"]["text"] == "Mark A1.2 complete?"
    assert "cannot be undone" in complete["confirm"]["text"]["text"]
    assert b.ACTION_UPDATE in buttons(shown)
    assert "cannot be undone" in all_text(m.action_complete_modal(action, {})["blocks"])
    assert m.read_evidence(text_values({"evidence": " "}))[1] == {
        "evidence": "Say what shows that the action is done."}
    assert m.read_evidence(text_values({"evidence": "Minutes of 3 March"})) == (
        "Minutes of 3 March", {})


def test_long_lists_and_long_text_are_split_never_cut() -> None:
    many = [b.section(f"line {i}") for i in range(80)]
    split = pages(many)
    assert [len(p) for p in split] == [50, 30] and sum(split, []) == many
    words = " ".join(f"word{i}" for i in range(1500))  # 12,000 characters, one line
    pieces = b.sections(words)
    assert all(len(blk["text"]["text"]) <= 3000 for blk in pieces) and len(pieces) == 5
    assert " ".join(blk["text"]["text"] for blk in pieces) == words
    assert split_text("&amp;" * 700, 3000)[0].endswith("&amp;")  # never inside an escape


def test_manifest_declares_what_the_app_handles() -> None:
    from pathlib import Path

    from bot.server import EVENTS_PATH

    manifest = (Path(__file__).parent.parent / "slack-app-manifest.yaml").read_text()
    for line in ("- command: /audit", "home_tab_enabled: true", "messages_tab_enabled: true",
                 "- app_home_opened", "is_enabled: true", "- commands", "- chat:write",
                 "- im:write", "- users:read"):
        assert line in manifest, line
    urls = [ln.split(": ", 1)[1] for ln in manifest.splitlines()
            if ln.strip().startswith(("url:", "request_url:"))]
    assert len(urls) == 3 and all(u.endswith(EVENTS_PATH) for u in urls)


def test_the_record_action_form_says_where_its_words_will_be_shown() -> None:
    concern = {"programme": "mini-2026", "ref": "K01-abc123", "case": "K01",
               "agency": "social-care", "summary": "Not seen for six weeks.",
               "child_at_risk": False}
    with_channel = {**PROGRAMME, "channel": "C0AUDIT"}
    said = all_text(m.concern_action_modal(concern, {}, with_channel)["blocks"])
    assert "shown to social-care's managers and the quality leads" in said
    assert "The programme's channel is told only that an action was recorded, by you, and " \
           "when: not what you write." in said
    alone = all_text(m.concern_action_modal(concern, {}, PROGRAMME)["blocks"])
    assert "channel" not in alone
    shown = all_text(m.concern_action_modal(concern, {}, {**with_channel,
                                                          "channel_detail": "text"})["blocks"])
    assert "also posted in the programme's channel" in shown


def test_dates_are_said_as_people_in_the_uk_read_them() -> None:
    from datetime import date

    from bot import words

    today = date(2010, 3, 15)
    assert words.day("2009-06-24") == "Wednesday 24 June 2009"
    assert [words.due(d, today) for d in ("2010-03-15", "2010-03-16", "2010-03-18",
                                          "2010-03-14", "2010-03-13", "2010-01-31")] == [
        "due today", "due tomorrow", "due in 3 days", "overdue by 1 day", "overdue by 2 days",
        "overdue since January 2010"]
    assert words.due("2010-06-30", today) == "due on Wednesday 30 June 2010"
    assert words.overdue(6148, "2010-03-31") == "overdue since March 2010"
    assert words.said("not acknowledged within 2 working days (deadline 2010-03-17)") == \
        "not acknowledged within 2 working days (deadline Wednesday 17 March 2010)"
    assert words.moment("2026-07-01T09:30:00+00:00") == "Wednesday 1 July 2026 at 10:30 am"
    assert words.zone_named("Not/AZone") == words.ENGLAND
