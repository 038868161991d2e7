"""Raising a concern from Slack: `/audit concern [PROGRAMME] CASE` offers a button, the button
opens a form (agency, what was found, whether a child may be at risk now), and the form is
checked by the ledger like any other door: a summary holding an NHS number, a postcode, a date
of birth or another identifier comes back under its box, and nothing is recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from ledger import commands as c

from . import blocks as b
from . import modals as m
from .acts import carry_out, slack_key
from .deliver import slack_error
from .forms import Forms, Reply
from .handling import Handling, button_ref
from .services import BotServices

log = logging.getLogger("bot.app")

Doc = dict[str, Any]

RAISE_CONCERN = "concern.raise"
AGENCY_BLOCK = "agency"
SUMMARY_BLOCK = "summary"
RISK_BLOCK = "risk"
RISK_WORDS = {"no": "No: no child is at immediate risk",
              "yes": "Yes: a child may be at risk now"}
KEEP_OUT = ("Use the case reference only: no names, NHS numbers, pupil numbers, addresses or "
            "postcodes, dates of birth, phone numbers or emails.")


def concern_answer(services: BotServices, person: Doc, args: list[str]) -> tuple[str, b.Blocks]:
    """`/audit concern [PROGRAMME] CASE`: a button that opens the form for that case."""
    from .answers import CaseNamed, programme_and_case  # answers imports this lazily

    found = programme_and_case(services.views, person, args, "/audit concern [PROGRAMME] CASE")
    if not isinstance(found, CaseNamed):
        return found
    pid = found.programme["programme"]
    case = services.views.case(pid, found.case)
    return (f"Raise a concern on case {case['case']}", [
        b.section(f"Raise a concern on case *{b.escape(case['case'])}* ({b.escape(pid)}). "
                  "The agency's managers are alerted at once."),
        b.actions("concern-raise", b.button("Raise a concern", RAISE_CONCERN,
                                            b.value(p=pid, c=case["case"]), "danger")),
    ])


def _option(value: str, text: str) -> Doc:
    return {"text": b.plain(text, 75), "value": value}


def raise_modal(case: Doc, meta: Doc) -> m.View:
    agencies = sorted(case.get("agencies") or [])
    blocks = [
        b.context(f"Case *{b.escape(case['case'])}*. {KEEP_OUT}"),
        {"type": "input", "block_id": AGENCY_BLOCK, "label": b.plain("Which agency's work?"),
         "element": {"type": "static_select", "action_id": "choice",
                     "placeholder": b.plain("Choose the agency", 150),
                     "options": [_option(a, a) for a in agencies]}},
        m._text_input(SUMMARY_BLOCK, "What was found", hint=KEEP_OUT,
                      placeholder="What was found, and what needs to happen"),
        {"type": "input", "block_id": RISK_BLOCK, "label": b.plain("Is a child at risk now?"),
         "element": {"type": "static_select", "action_id": "choice",
                     "initial_option": _option("no", RISK_WORDS["no"]),
                     "options": [_option(v, t) for v, t in RISK_WORDS.items()]}},
    ]
    return m._modal(RAISE_CONCERN, "Raise a concern", "Raise", blocks, meta)


def read_raise(values: Doc, agencies: list[str]) -> tuple[Doc | None, m.Errors]:
    agency = m._selected(values, AGENCY_BLOCK)
    summary = (m._text(values, SUMMARY_BLOCK) or "").strip()
    risk = m._selected(values, RISK_BLOCK) or "no"
    errors: m.Errors = {}
    if agency not in agencies:
        errors[AGENCY_BLOCK] = "Choose the agency whose work this concern is about."
    if not summary:
        errors[SUMMARY_BLOCK] = "Please say what was found."
    elif m._too_long(summary):
        errors[SUMMARY_BLOCK] = m._too_long(summary) or ""
    if risk not in RISK_WORDS:
        errors[RISK_BLOCK] = "Choose yes or no."
    if errors:
        return None, errors
    return {"agency": agency, "summary": summary, "child_at_risk": risk == "yes"}, {}


class RaiseConcernForm:
    def __init__(self, handling: Handling, forms: Forms) -> None:
        self.h = handling
        self.s = handling.s
        self.forms = forms

    def open(self, body: Doc, respond: Any) -> None:
        """The button pressed: the form opened for its case."""
        person = self.h.who(body, respond, button_ref(body["actions"][0]).get("p", ""))
        if person is None:
            return
        ref = button_ref(body["actions"][0])
        try:
            case = self.s.views.case(str(ref.get("p", "")), str(ref.get("c", "")))
        except LookupError:
            self.h.tell(body, "I can't find that case in the ledger any more.", respond)
            return
        try:
            self.h.slack(body).open_modal(body["trigger_id"], raise_modal(
                case, {"p": case["programme"], "c": case["case"]}))
        except Exception as e:  # noqa: BLE001
            log.warning("could not open the concern form (%s)", slack_error(e))
            self.h.tell(body, "I couldn't open the form in time. Please press the button again.",
                        respond)
        self.h.handled(body)

    def submit(self, ack: Any, body: Doc, view: Doc, context: Any = None) -> None:
        meta = m.metadata(view)

        def work() -> Reply:
            person, refused = self.forms.person_or_errors(body, SUMMARY_BLOCK,
                                                          str(meta.get("p", "")))
            if person is None:
                return refused or Reply()
            case = self.s.views.case(str(meta.get("p", "")), str(meta.get("c", "")))
            fields, errors = read_raise((view.get("state") or {}).get("values") or {},
                                        list(case.get("agencies") or []))
            if fields is None:
                return Reply({"response_action": "errors", "errors": errors})
            done = carry_out(self.s, c.RaiseConcern, "raise_concern", by=person["person"],
                             programme=case["programme"], case=case["case"],
                             key=slack_key(str(view.get("id", ""))), **fields)
            if not done.ok:
                return Reply({"response_action": "errors", "errors": {SUMMARY_BLOCK: done.message}},
                             done.message)
            return Reply({"response_action": "update", "view": m.done_view(
                "Concern raised", done.message[:1].upper() + done.message[1:])})

        self.forms.submit(ack, body, view, work, context)
