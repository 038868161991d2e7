"""What identifies a child or family is found in free text; ordinary audit text passes."""

import pytest

from policies.identifiers import (
    AGE_BANDS,
    age_band_problem,
    age_bands_of,
    case_ref_problems,
    identifier_problems,
    identifiers_in,
    may_allow_identifiers,
)

NHS = "943 476 5919"  # the NHS's own example number: its check digit is valid
UPN = "B801200005001"  # a unique pupil number with a valid check letter


def kinds(text: str, names: tuple[str, ...] = ()) -> list[str]:
    return [f.kind for f in identifiers_in(text, names)]


@pytest.mark.parametrize("text, kind", [
    (f"Child's NHS number {NHS} was on the referral.", "an NHS number"),
    ("NHS no. 9434765919 recorded on the form", "an NHS number"),
    ("NHS 943-476-5919", "an NHS number"),
    (f"UPN {UPN} from the school census", "a unique pupil number"),
    ("Family moved to SW1A 1AA last spring.", "a postcode"),
    ("address: 12 High Street, m1 1ae", "a postcode"),
    ("Lives at LS11 5QT with mother", "a postcode"),
    ("The school's postcode SW1A 1ST was given", "a postcode"),
    ("DOB 12/03/2015, seen at home", "a date of birth"),
    ("D.O.B.: 3.4.15", "a date of birth"),
    ("born on 3rd March 2015 at 32 weeks", "a date of birth"),
    ("date of birth 2015-03-12", "a date of birth"),
    ("Child (12 March 2015, DOB) lives with father", "a date of birth"),
    ("Her date of birth is given as March 3, 2015.", "a date of birth"),
    ("Mother can be reached on 07911 123456.", "a phone number"),
    ("ring +44 20 7946 0018 for the school", "a phone number"),
    ("email mum.smith@example.com about the plan", "an email address"),
])
def test_identifiers_are_found(text: str, kind: str) -> None:
    assert kinds(text) == [kind]
    problem = identifier_problems(text)
    assert len(problem) == 1 and kind in problem[0]


@pytest.mark.parametrize("text", [
    "Section 47 enquiry was timely; S47 strategy discussion held.",
    "Strategy meeting on 3 March 2009 agreed a joint investigation.",
    "Conference held 12/03/2009; core group met 2009-04-01 and 14 April 2009.",
    "Areas 2, 3 and 4 were graded adequate in 8 of the 10 cases.",
    "Visits were two-weekly; the plan was reviewed after 6 months.",
    "The birth of a sibling in 2008 raised the family's needs.",
    "Core group on 3 March; the child was born prematurely.",
    f"NHS number ending check digit wrong: {NHS[:-1]}8",
    "UPN B801200005002 has the wrong check letter",
    "The S47 2pm meeting was moved; area 5 C01 K02",
    "Y7 1st term went well; KS2 3rd attempt at the test; Y11 2nd exclusion; Y10 4th week.",
    "Cost was 1,200 pounds over 12 weeks; 45 minutes per visit.",
    "Referral to CAMHS, CAF, MASH and the police CAIT team.",
    "The social worker visited on Tuesday 24 June 2009 at 10am.",
])
def test_ordinary_audit_text_passes(text: str) -> None:
    assert identifiers_in(text) == []
    assert identifier_problems(text) == []


def test_names_of_the_cases_people_by_full_name_or_title() -> None:
    names = ("Tina Jones", "Grace")
    assert kinds("Good practice by tina  jones in supervision", names) == ["a person's name"]
    assert kinds("Mrs Jones took advice promptly", names) == ["a person's name"]
    assert kinds("The Jones report was thorough; grace and care shown", names) == []


def test_the_hint_does_not_repeat_the_identifier() -> None:
    [problem] = identifier_problems(f"NHS {NHS}")
    assert NHS not in problem and "9434765919" not in problem
    assert "94…19" in problem and "case reference" in problem


def test_several_kinds_each_named_once() -> None:
    text = f"DOB 12/03/2015, NHS {NHS}, at SW1A 1AA and N1 9GU"
    [problem] = identifier_problems(text)
    assert problem.startswith("holds what looks like a date of birth (12…15), an NHS number "
                              "(94…19) and a postcode (SW…AA, N1…GU): leave them out")
    assert kinds(text) == ["a date of birth", "an NHS number", "a postcode", "a postcode"]


@pytest.mark.parametrize("ref, words", [
    ("9434765919", "NHS number"),
    ("943-476-5918", "NHS number"),  # shaped like one, whatever the check digit
    (UPN, "pupil number"),
    ("JSmith", "no digit"),
    ("Smith01", "name"),
    ("K-jones-7", "name"),
])
def test_case_references_that_identify_are_refused(ref: str, words: str) -> None:
    problems = case_ref_problems(ref, names=("Tina Jones",))
    assert problems and words in problems[0] and "C01" in problems[0]


@pytest.mark.parametrize("ref", ["C01", "K01-abc123", "NB-2026-014", "C10-4a5774", "LT2009.3"])
def test_codes_pass_as_case_references(ref: str) -> None:
    assert case_ref_problems(ref, names=("Tina Jones",)) == []


def test_age_bands_from_the_fixed_list_and_exact_ages_refused() -> None:
    assert age_band_problem("5-10") is None and age_band_problem("") is None
    assert age_band_problem("Under 1") is None
    exact = age_band_problem("3 years 2 months")
    assert exact and "exact age" in exact and "1-4" in exact
    assert "exact age" in (age_band_problem("7") or "")
    assert "exact age" in (age_band_problem("18 mths") or "")
    other = age_band_problem("toddler")
    assert other and "not one of the programme's age bands" in other
    own = age_bands_of({"age_bands": ["0-2", "3-7"]})
    assert own == ("0-2", "3-7") and age_band_problem("5-10", own) is not None
    assert age_bands_of({"size": 10}) == AGE_BANDS


def test_only_a_quality_lead_may_let_identifiers_through() -> None:
    assert may_allow_identifiers(["quality-lead", "auditor"])
    assert not may_allow_identifiers(["auditor", "manager", "board"])


# ---- both ways, over many texts --------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from stdnum.gb import nhs  # noqa: E402

WORDS = st.sampled_from(["The", "child", "was", "seen", "alone", "at", "school;", "Section",
                         "47", "enquiry", "core", "group", "met", "in", "area", "5", "of", "8",
                         "cases,", "and", "the", "plan", "was", "reviewed."])
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


@given(st.lists(WORDS, max_size=12), st.integers(100_000_000, 999_999_999),
       st.sampled_from(["{}", "{} {} {}", "{}-{}-{}"]), st.lists(WORDS, max_size=12))
def test_any_nhs_number_with_a_valid_check_digit_is_found(before: list[str], stem: int,
                                                          spacing: str,
                                                          after: list[str]) -> None:
    valid = [f"{stem}{d}" for d in range(10) if nhs.is_valid(f"{stem}{d}")]
    if not valid:  # a stem whose check digit would be 10 makes no NHS number
        return
    digits = valid[0]
    shown = digits if spacing == "{}" else spacing.format(digits[:3], digits[3:6], digits[6:])
    text = " ".join([*before, shown, *after])
    assert "an NHS number" in [f.kind for f in identifiers_in(text)]


@given(st.lists(WORDS, max_size=12), st.integers(1, 28), st.sampled_from(MONTHS),
       st.integers(2000, 2030), st.sampled_from(["strategy meeting on", "conference held",
                                                 "visit on", "core group met", "reviewed"]))
def test_a_meetings_date_is_never_a_date_of_birth(words: list[str], day: int, month: str,
                                                 year: int, lead: str) -> None:
    for shown in (f"{day} {month} {year}", f"{day}/{MONTHS.index(month) + 1}/{year}",
                  f"{year}-{MONTHS.index(month) + 1:02d}-{day:02d}"):
        text = " ".join([*words, lead, shown, *words])
        assert identifiers_in(text) == [], text
        said = f"{text}. The child's date of birth is {shown}."
        assert [f.kind for f in identifiers_in(said)] == ["a date of birth"], said
