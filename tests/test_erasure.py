"""Erasable personal text, on both stores, with and without AUDIT_LEDGER_KEY: after `erase`
no trace of the case's text is left in the store, in any view, in history or in the report,
while its grades, counts and the shape of its history remain and the hash chain verifies."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from audit_ledger.wiring import wire
from ledger import commands as c
from ledger.importer import import_pack
from ledger.pack import parse_pack
from ledger.personal import ERASED
from ledger.sealing import SealingMapper

from .conftest import PG_BASE, run_cli

PID = "mini-2026"
KEY = "q1V0b2m3ZkZ5c2JxQ0hYd0pQeVVvT2JqUmxkN1ZzSk0="  # base64 of 32 bytes

# One distinctive word per personal field of case K01 (the case erased) ...
K01 = {
    "ethnicity": "Quetzalan",
    "return concern": "Aardvark-41 the child was not seen alone on any visit",
    "return strength": "Bittern-42 the plan focused on reducing the risk",
    "concern summary": "Cassowary-43 the school did not report to the review",
    "graded strength": "Dugong-44 the teacher knew the family well",
    "graded concern": "Echidna-45 attendance fell without anyone asking why",
    "revise reason": "Fossa-46 the attendance record was found later",
    "moderate reason": "Gharial-47 the school's grade reflects one incident",
    "response": "Hoatzin-48 I now see the child alone at each visit",
    "concern action": "Ibis-49 the head teacher spoke to the designated teacher",
    "concern outcome": "Jacana-50 reports now go to every review conference",
}
# ... and of case K02, which keeps its text.
K02 = {"return strength": "Kakapo-51 the plan was reviewed with the family",
       "concern summary": "Lemur-52 the police were not invited to the core group"}


def _needle(text: str) -> bytes:
    return text.split(" ")[0].encode()


def _pack(mini_pack: dict[str, Any], tmp_path: Path) -> Path:
    pack = copy.deepcopy(mini_pack)
    pack["cases"][0]["ethnicity"] = K01["ethnicity"]
    pack["returns"][0]["concerns"]["4"] = K01["return concern"]
    pack["returns"][0]["strengths"]["5"] = K01["return strength"]
    pack["returns"][2]["strengths"]["5"] = K02["return strength"]
    pack["concerns"][0]["summary"] = K01["concern summary"]
    pack["concerns"].append({"case": "K02", "agency": "social-care", "raised_by": "sc.aud",
                             "summary": K02["concern summary"], "child_at_risk": False})
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


def _more_text(url: str, key: str) -> None:
    """Every other kind of personal text on K01: a graded area's comments, a revision's and a
    moderation's reasons, a practitioner's response, a concern's action and outcome."""
    w = wire(url, key)
    try:
        app, on = w.app, date(2026, 3, 1)
        app.grade_area(c.GradeArea(programme=PID, case="K01", agency="school", area="3",
                                   grade=2, strength=K01["graded strength"],
                                   concern=K01["graded concern"], by="sch.aud", occurred_on=on))
        app.revise_grade(c.ReviseGrade(programme=PID, case="K01", agency="school", area="6",
                                       grade=3, reason=K01["revise reason"], by="sch.aud",
                                       occurred_on=on))
        app.moderate_judgement(c.ModerateJudgement(programme=PID, case="K01", area="6", grade=3,
                                                   reason=K01["moderate reason"], by="mod",
                                                   occurred_on=on))
        app.respond_to_issue(c.RespondToIssue(programme=PID, case="K01", agency="social-care",
                                              issue=1, response=K01["response"], by="sc.sw",
                                              occurred_on=on))
        ref = next(k["ref"] for k in w.fresh_views().concerns(PID) if k["case"] == "K01")
        app.record_concern_action(c.RecordConcernAction(programme=PID, concern=ref,
                                                        action=K01["concern action"],
                                                        by="sch.mgr", occurred_on=on))
        app.close_concern(c.CloseConcern(programme=PID, concern=ref,
                                         outcome=K01["concern outcome"], by="sch.mgr",
                                         occurred_on=on))
        w.follower.catch_up()
    finally:
        w.close()


def _at_rest(url: str) -> list[bytes]:
    """Everything the store holds: the SQLite file and its WAL, or, after a VACUUM, every
    text and bytea value of every table in the test's PostgreSQL schema."""
    if url.startswith("sqlite"):
        db = Path(url[len("sqlite:///"):])
        return [f.read_bytes() for f in sorted(db.parent.glob(db.name + "*"))]
    import psycopg

    schema = parse_qs(urlparse(url).query)["schema"][0]
    values: list[bytes] = []
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"VACUUM {schema}.view_docs")
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE "
            "table_schema=%s AND data_type IN ('text', 'bytea', 'character varying', 'json', "
            "'jsonb')", [schema]).fetchall()
        tables = {t for t, _ in columns}
        assert {"auditledger_events", "view_docs"} <= tables, tables
        for table, column in columns:
            for (value,) in conn.execute(f'SELECT "{column}" FROM {schema}.{table}'):
                if value is not None:
                    values.append(bytes(value) if isinstance(value, bytes | memoryview)
                                  else str(value).encode())
    return values


def _log(url: str, key: str) -> list[bytes]:
    """The stored events' states, as stored."""
    w = wire(url, key)
    try:
        return [bytes(n.state) for n in w.app.recorder.select_notifications(start=None,
                                                                           limit=10_000)]
    finally:
        w.close()


def _found(text: str, values: list[bytes]) -> bool:
    return any(_needle(text) in v for v in values)


def _case_key(url: str, key: str, case: str) -> bytes:
    w = wire(url, key)
    try:
        mapper = w.app.mapper
        assert isinstance(mapper, SealingMapper) and mapper.keys is not None
        found = mapper.keys._select([(PID, case)])[(PID, case)][0]
        assert found is not None
        return bytes(found)
    finally:
        w.close()


def _views(url: str, key: str) -> bytes:
    """Every document of every view, opened (each view, key and document, as plain bytes)."""
    w = wire(url, key)
    try:
        return b"\n".join(f"{v} {k} ".encode() + d for v, k, d in w.store.dump())
    finally:
        w.close()


def _read_views(url: str, key: str) -> str:
    """The programme's case, feedback and concern documents as the ledger reads them."""
    w = wire(url, key)
    try:
        views = w.fresh_views()
        return json.dumps([views.cases(PID), views.feedback(PID), views.concerns(PID),
                           views.coverage(PID)])
    finally:
        w.close()


def _json(*args: str, url: str, key: str) -> Any:
    return json.loads(run_cli(*args, "--format", "json", url=url, key=key, check=True).stdout)


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    """The report's counts, without the comment texts."""
    out = copy.deepcopy(report)
    out.pop("coverage")  # the sample's spread names an erased case's details as erased
    for area in out["areas"]:
        for texts in ("strengths", "concerns", "strength_groups", "concern_groups"):
            area.pop(texts)
    for step in ("revisions", "moderations"):
        for item in out["process"][step]:
            item.pop("reason")
    return out


def _shape(history: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(s["event"], s["by"], s["occurred_on"], s.get("agency"), s.get("area"),
             s.get("grade"), json.dumps(s.get("judgements"), sort_keys=True))
            for s in history["steps"]]


@pytest.mark.parametrize("key", ["", KEY], ids=["no-key", "key"])
def test_erase_leaves_no_trace_of_the_case_text(store_url: str, tmp_path: Path, key: str,
                                                mini_pack: dict[str, Any]) -> None:
    url = store_url
    pack = _pack(mini_pack, tmp_path)
    run_cli("import", str(pack), url=url, key=key, check=True)
    _more_text(url, key)

    # Before: every text is there and readable with the ledger; sealed at rest either way.
    history = _json("history", PID, "K01", url=url, key=key)
    report = _json("report", PID, "--today", "2026-04-01", url=url, key=key)
    text_before = json.dumps(history) + json.dumps(report)
    for name in ("return concern", "return strength", "revise reason", "moderate reason",
                 "response", "concern summary", "concern action", "concern outcome"):
        assert K01[name] in text_before or K01[name] in _views(url, key).decode(), name
    for text in K01.values():  # the log holds each text sealed with the case's key
        assert not _found(text, _log(url, key)), f"{text} is stored unsealed"
    at_rest = _at_rest(url)
    for text in K01.values():  # the views keep it sealed too, with or without a store key
        assert not _found(text, at_rest), text
    case_key = _case_key(url, key, "K01")
    assert any(case_key in v for v in at_rest)  # the check below can find the key
    head = _json("verify", url=url, key="")["checked"]

    # Someone without the role is refused, and nothing changes.
    refused = run_cli("erase", PID, "K01", "--by", "sc.aud", "--reason", "ICO order 2026-114",
                      url=url, key=key)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr == ("error: sc.aud: to erase case text you need the role "
                              "quality-lead\n")
    assert _json("verify", url=url, key="")["checked"] == head
    assert K01["concern summary"] in json.dumps(_json("history", PID, "K01", url=url, key=key))

    # A reason that repeats the case's text is refused: the reason is kept in the clear.
    quoting = run_cli("erase", PID, "K01", "--by", "ql", "--reason",
                      f"asked to remove: {K01['concern summary']}", url=url, key=key)
    assert quoting.returncode == 2 and "repeats text from the case's record" in quoting.stderr
    assert _json("verify", url=url, key="")["checked"] == head

    erased = run_cli("erase", PID, "K01", "--by", "ql", "--reason",
                     "ICO order 2026-114 (chair of the partnership)", url=url, key=key,
                     check=True)
    assert "personal text is erased" in erased.stdout

    # Nothing of K01's text, nor its key, is left at rest; K02's stays readable.
    at_rest = _at_rest(url)
    for text in K01.values():
        assert not _found(text, at_rest), text
    assert not any(case_key in v for v in at_rest)
    views = _views(url, key)
    for text in K01.values():
        assert _needle(text) not in views, text
    shown = _read_views(url, key)  # the views as read: K01's text [erased], K02's open
    for text in K01.values():
        assert _needle(text).decode() not in shown, text
    assert ERASED in shown
    assert K02["return strength"] in shown and K02["concern summary"] in shown

    # History: the same steps, grades and judgements, the erasure last; text reads [erased].
    after = _json("history", PID, "K01", url=url, key=key)
    shown = json.dumps(after) + run_cli("history", PID, "K01", url=url, key=key,
                                        check=True).stdout
    for text in K01.values():
        assert _needle(text).decode() not in shown, text
    assert _shape(after)[:-1] == _shape(history)
    moderated = history["state"]["areas"]["6"]["moderation"]
    assert moderated["reason"] == K01["moderate reason"]
    history["state"]["areas"]["6"]["moderation"] = {**moderated, "reason": ERASED}
    assert after["state"] == history["state"]  # every judgement, contribution and moderation
    last = after["steps"][-1]
    assert (last["event"], last["by"], last["reason"]) == (
        "CaseTextErased", "ql", "ICO order 2026-114 (chair of the partnership)")
    assert [s.get("reason") for s in after["steps"] if s["event"] == "GradeRevised"] == [ERASED]
    assert [s.get("summary") for s in after["steps"] if s["event"] == "ConcernRaised"] == \
        [ERASED]

    # The report: the same figures; K01's comments gone, K02's still there.
    report_after = _json("report", PID, "--today", "2026-04-01", url=url, key=key)
    assert _figures(report_after) == _figures(report)
    markdown = run_cli("report", PID, "--today", "2026-04-01", "--suppress", "0", url=url,
                       key=key, check=True).stdout
    for shown in (json.dumps(report_after), markdown):
        for text in K01.values():
            assert _needle(text).decode() not in shown, text
        assert K02["return strength"] in shown
    assert "Ethnicity: Black African 1, \\[erased\\] 1" in markdown  # spread; [ is escaped
    concerns = run_cli("concern", "list", PID, url=url, key=key, check=True).stdout
    assert K02["concern summary"] in concerns and ERASED in concerns
    assert K02["concern summary"] in json.dumps(_json("history", PID, "K02", url=url, key=key))

    # The log was never edited: the chain still verifies, with one more event.
    verdict = _json("verify", url=url, key="")
    assert verdict["intact"] and verdict["checked"] == head + 1

    # Twice: already erased, nothing recorded. New text for the case is refused.
    again = run_cli("erase", PID, "K01", "--by", "ql", "--reason", "ICO order 2026-114",
                    url=url, key=key, check=True)
    assert "already erased on" in again.stdout
    more = run_cli("feedback", "respond", PID, "K01", "--agency", "social-care", "--issue", "2",
                   "--response", "Mongoose-53 supervision is now recorded", "--by", "sc.sw",
                   url=url, key=key)
    assert more.returncode == 2 and "its personal text was erased" in more.stderr
    run_cli("feedback", "acknowledge", PID, "K01", "--agency", "school", "--by", "sch.t",
            url=url, key=key, check=True)  # an act without text still works
    assert _json("verify", url=url, key="")["checked"] == head + 2
    assert not _found("Mongoose-53", _at_rest(url))


def test_with_a_key_people_ids_are_not_readable_in_view_keys(store_url: str, tmp_path: Path,
                                                            mini_pack: dict[str, Any]) -> None:
    """The person and slack views are keyed by a keyed hash when a key is set; lookups work."""
    run_cli("import", str(_pack(mini_pack, tmp_path)), url=store_url, key=KEY, check=True)
    at_rest = _at_rest(store_url)
    for secret in (b"U0SCSW", b"U0SCMGR", b"sch.mgr", b"Sasha Worker"):
        assert not any(secret in v for v in at_rest), secret
    people = _json("person", "list", url=store_url, key=KEY)
    assert [p["person"] for p in people] == sorted(p["person"] for p in people)
    assert {p["person"]: p["slack_user"] for p in people}["sc.sw"] == "U0SCSW"
    taken = run_cli("person", "link-slack", "sch.t", "--slack-user", "U0SCSW", "--by", "ql",
                    url=store_url, key=KEY)
    assert taken.returncode == 2 and "already linked to sc.sw" in taken.stderr
    w = wire(store_url, KEY)
    try:
        found = w.fresh_views().person_by_slack("U0SCMGR")
        assert found is not None and found["person"] == "sc.mgr"
        assert w.views.person("sch.t") is not None
    finally:
        w.close()


def test_text_stored_before_sealing_still_reads_and_is_hidden_once_erased(
        store_url: str, tmp_path: Path, mini_pack: dict[str, Any]) -> None:
    """An older store, written when personal text was stored plain: it reads as it was; an
    erasure hides it everywhere and says plainly that the log still holds it."""
    w = wire(store_url, "")
    try:
        mapper = w.app.mapper
        assert isinstance(mapper, SealingMapper)
        keys, mapper.keys = mapper.keys, None  # as the ledger wrote before sealing existed
        data = json.loads(_pack(mini_pack, tmp_path).read_text(encoding="utf-8"))
        import_pack(w.app, parse_pack(data))
        mapper.keys = keys
    finally:
        w.close()
    assert _found(K01["return concern"], _at_rest(store_url))
    history = json.dumps(_json("history", PID, "K01", url=store_url, key=""))
    assert K01["concern summary"] in history
    erased = run_cli("erase", PID, "K01", "--by", "ql", "--reason", "ICO order 2026-115",
                     url=store_url, check=True)
    assert "were stored before text was sealed per case" in erased.stdout
    shown = json.dumps(_json("history", PID, "K01", url=store_url, key="")) + \
        _read_views(store_url, "") + run_cli("report", PID, url=store_url, check=True).stdout
    for text in (K01["return concern"], K01["return strength"], K01["concern summary"]):
        assert _needle(text).decode() not in shown, text
    assert K02["return strength"] in shown
    # Importing the same pack again changes nothing (its text for K01 is not taken back in).
    again = run_cli("import", str(_pack(mini_pack, tmp_path)), url=store_url, check=True)
    assert "nothing to import" in again.stdout
