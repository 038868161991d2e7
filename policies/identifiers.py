"""What identifies a child or family, kept out of free text, case references and age bands.

Free text (strengths, concerns, summaries, answers, notes) is read by many people and kept for
decades, so it must not carry what identifies a child or family: NHS numbers (with a valid
check digit), unique pupil numbers (with a valid check letter), full UK postcodes, dates of
birth, phone numbers, email addresses, or the names of the case's own people. Ordinary audit
text must still pass: "Section 47", "S47", "strategy meeting on 3 March 2009" and area numbers
are not identifiers; a date is a date of birth only when the words around it say so.

Pure: text in, findings out. The doors name the field and line; a quality lead may let text
through with a reason (`may_allow_identifiers`), which the ledger records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from stdnum.gb import nhs, upn

ALLOWING_ROLE = "quality-lead"

# The standard age bands of a sample, used when a programme's terms (`sample.age_bands`) do not
# fix their own list; both "under 1" and "0-1" are in use.
AGE_BANDS = ("unborn", "under 1", "0-1", "1-4", "0-4", "5-10", "11-15", "16-17")


@dataclass(frozen=True)
class Finding:
    """One identifier found in a text: what kind, where, and a hint that does not repeat it."""

    kind: str
    start: int
    end: int
    hint: str


# ---- the patterns --------------------------------------------------------------------------

_NHS = re.compile(r"(?<![\w/.-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\w/-]|\.\d)")
_UPN = re.compile(r"(?<![\w])([A-Z]\d{11}[0-9A-Z])(?![\w])", re.IGNORECASE)
_IN = r"[0-9][ABD-HJLNP-UW-Z]{2}"  # a postcode's inward half: 1AA, 2PQ...
_POSTCODE = re.compile(
    r"(?<![\w])("
    r"GIR ?0AA"
    rf"|[A-PR-UWYZ][0-9]{{1,2}} ?{_IN}"
    rf"|[A-PR-UWYZ][A-HK-Y][0-9]{{1,2}} ?{_IN}"
    rf"|[A-PR-UWYZ][0-9][A-HJKPSTUW] ?{_IN}"
    rf"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y] ?{_IN}"
    r")(?![\w])", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_DATE = re.compile(
    r"(?<![\w/.-])(?:"
    r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 03/04/2015, 3.4.15
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 2015-04-03
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"  # 3rd of April 2015, 3 Apr
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"  # April 3rd, 2015
    rf"|{_MONTH}\s+\d{{4}}"  # April 2015 (a month of birth)
    r")(?![\w/])", re.IGNORECASE)
# Words saying the date next to them is a birth date: "DOB", "D.O.B.", "date of birth", "born",
# "birthday", "b." right before the date.
_BIRTH_BEFORE = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth|\bbirth\s*date|\bbirthday|\bborn"
    r"|(?<![\w.])b\.)"
    r"(?:\s*(?:is|was|on|in|of|as|given|recorded|:|-|–|=|\())*\s*$", re.IGNORECASE)
_BIRTH_AFTER = re.compile(r"^\s*[,;(\[]?\s*(?:d\.?\s?o\.?\s?b\b|date\s+of\s+birth|birth\s*date)",
                          re.IGNORECASE)
_TITLES = r"(?:mr|mrs|ms|miss|mx|dr)\.?"
# Cheap first looks, so that ordinary text is passed without the costlier scans: a birth cue
# anywhere, and a run of digits long enough for a phone number.
_ANY_BIRTH_CUE = re.compile(r"d\.?\s?o\.?\s?b|birth|born|(?<![\w.])b\.", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def _hint(text: str) -> str:
    """Enough of what was found to find it again, not enough to repeat it."""
    s = text.strip()
    return f"{s[:2]}…{s[-2:]}" if len(s) > 5 else "…"


def _nhs_numbers(text: str) -> Iterable[Finding]:
    for m in _NHS.finditer(text):
        if nhs.is_valid("".join(m.groups())):
            yield Finding("an NHS number", m.start(), m.end(), _hint(m.group(0)))


def _pupil_numbers(text: str) -> Iterable[Finding]:
    for m in _UPN.finditer(text):
        if upn.is_valid(m.group(1).upper()):
            yield Finding("a unique pupil number", m.start(), m.end(), _hint(m.group(0)))


_TIMES = tuple(f"{d}{m}" for d in "0123456789" for m in ("am", "pm"))


def _postcodes(text: str) -> Iterable[Finding]:
    for m in _POSTCODE.finditer(text):
        found = m.group(1)
        if found[-2:].islower() and found[-3:] in ("1st", "2nd", "3rd", "4th", "5th", "6th",
                                                    "7th", "8th", "9th") + _TIMES:
            continue  # "S47 2pm" is a time and "Y7 1st term", "KS2 3rd" ordinals: not postcodes
        yield Finding("a postcode", m.start(), m.end(), _hint(found))


def _emails(text: str) -> Iterable[Finding]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield Finding("an email address", m.start(), m.end(), _hint(m.group(0)))


def _birth_dates(text: str) -> Iterable[Finding]:
    """Dates that the words around them call a birth date; any other date is a meeting,
    a visit or a conference and passes."""
    if not _ANY_BIRTH_CUE.search(text):
        return
    for m in _DATE.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        after = text[m.end():m.end() + 30]
        if _BIRTH_BEFORE.search(before) or _BIRTH_AFTER.search(after):
            yield Finding("a date of birth", m.start(), m.end(), _hint(m.group(0)))


def _phone_numbers(text: str) -> Iterable[Finding]:
    if not any(sum(ch.isdigit() for ch in m.group(0)) >= 9 for m in _LONG_NUMBER.finditer(text)):
        return
    import phonenumbers  # imported when text is checked, not when a command starts

    for m in phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.VALID):
        yield Finding("a phone number", m.start, m.end, _hint(m.raw_string))


def _names(text: str, names: Iterable[str]) -> Iterable[Finding]:
    """The case's own people by full name, or by title and surname ("Mrs Jones")."""
    given = tuple(names)
    if not given:
        return
    lowered = text.lower()
    names = [n for n, surname in _surnames(given) if surname in lowered]
    if not names:  # no surname in the text: no name to find (most texts)
        return
    pattern = _names_pattern(tuple(sorted(set(names))))
    if pattern is None:
        return
    for m in pattern.finditer(text):
        yield Finding("a person's name", m.start(), m.end(), _hint(m.group(0)))


@lru_cache(maxsize=256)
def _surnames(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each name of more than blanks with its last word in lower case: worked out once for a
    list of people checked against many texts (an import checks every text of a pack against
    the same case's or partnership's people)."""
    return tuple((n, n.split()[-1].lower()) for n in names if n.split())


@lru_cache(maxsize=256)
def _name_words(names: tuple[str, ...]) -> frozenset[str]:
    """Every word of three letters or more of these names, in lower case (once a list)."""
    return frozenset(w.lower() for name in names for w in name.split() if len(w) >= 3)


@lru_cache(maxsize=256)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for all of a case's people; a single word may be an ordinary one ("Grace",
    "Hope"), so only names of two words or more."""
    ways = []
    for name in names:
        words = name.split()
        if len(words) >= 2:
            ways.append(r"\s+".join(re.escape(w) for w in words))
            ways.append(rf"{_TITLES}\s+{re.escape(words[-1])}")
    if not ways:
        return None
    return re.compile(rf"(?<![\w])(?:{'|'.join(ways)})(?![\w])", re.IGNORECASE)


# Every number, postcode, date and phone number has a digit (each pattern asks for one), so a
# text without one needs only the look for an email address (and for names, below).
_FINDERS = (_nhs_numbers, _pupil_numbers, _emails, _postcodes, _birth_dates, _phone_numbers)
_WITHOUT_DIGITS = (_emails,)
_DIGIT = re.compile(r"\d")


def identifiers_in(text: str, names: Iterable[str] = ()) -> list[Finding]:
    """Every identifier in the text, in order; where two overlap (a number read both as an NHS
    number and a phone number) the first kind checked is kept."""
    found: list[Finding] = []
    for finder in (_FINDERS if _DIGIT.search(text) else _WITHOUT_DIGITS):
        for f in finder(text):
            if not any(f.start < g.end and g.start < f.end for g in found):
                found.append(f)
    for f in _names(text, names):
        if not any(f.start < g.end and g.start < f.end for g in found):
            found.append(f)
    return sorted(found, key=lambda f: f.start)


def identifier_problems(text: str, names: Iterable[str] = ()) -> list[str]:
    """What a person is told about one text (nothing, or one line): each kind found, with
    hints, and what to do."""
    by_kind: dict[str, list[str]] = {}
    for f in identifiers_in(text, names):
        by_kind.setdefault(f.kind, []).append(f.hint)
    if not by_kind:
        return []
    kinds = [f"{kind} ({', '.join(hints)})" for kind, hints in by_kind.items()]
    said = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    them = "it" if sum(len(h) for h in by_kind.values()) == 1 else "them"
    return [f"holds what looks like {said}: leave {them} out, the case reference is enough"]


def may_allow_identifiers(roles: Iterable[str]) -> bool:
    """Only a quality lead may let such text through, and then with a reason."""
    return ALLOWING_ROLE in set(roles)


# ---- case references and age bands ---------------------------------------------------------

_NAME_LIKE = re.compile(r"[A-Z][a-z]{2,}")


def case_ref_problems(ref: str, names: Iterable[str] = ()) -> list[str]:
    """A case reference is a code (C01, NB-2026-014): never an NHS number, a pupil number or a
    name."""
    problems: list[str] = []
    digits = re.sub(r"[\s._-]", "", ref)
    if digits.isdigit() and len(digits) == 10:
        problems.append("looks like an NHS number")
    elif upn.is_valid(digits.upper()):
        problems.append("looks like a unique pupil number")
    elif not any(ch.isdigit() for ch in ref):
        problems.append("has no digit, so it reads as a name or a word")
    elif _NAME_LIKE.search(ref) or _holds_name(ref, names):
        problems.append("holds what reads as a name")
    if problems:
        problems[0] += "; use a pseudonymous code such as C01 or NB-2026-014"
    return problems


def _holds_name(ref: str, names: Iterable[str]) -> bool:
    parts = {p.lower() for p in re.split(r"[^A-Za-z]+", ref) if len(p) >= 3}
    return not parts.isdisjoint(_name_words(tuple(names)))


def age_band_problem(band: str, allowed: Iterable[str] = AGE_BANDS) -> str | None:
    """An age band is one of the programme's fixed list (blank: not recorded); an exact age
    ("3 years 2 months") narrows a child down and is refused."""
    bands = list(allowed)
    if not band or band.strip().lower() in {b.lower() for b in bands}:
        return None
    choose = f"choose one of: {', '.join(bands)}"
    if re.search(r"\d\s*(?:y|yr|yrs|year|years|m|mth|mths|month|months|w|wk|wks|week|weeks|"
                 r"d|day|days)\b", band, re.IGNORECASE) or band.strip().isdigit():
        return f"{band!r} is an exact age, not an age band; {choose}"
    return f"{band!r} is not one of the programme's age bands; {choose}"


def age_bands_of(sample: dict[str, object]) -> tuple[str, ...]:
    """The programme's own list (its terms' `sample.age_bands`), or the standard one."""
    given = sample.get("age_bands")
    if isinstance(given, list) and given and all(isinstance(b, str) for b in given):
        return tuple(given)
    return AGE_BANDS
