"""Returns CSV files as spreadsheets save them: UTF-8 (with or without a byte-order mark) or
Windows-1252, commas or semicolons; each line one area of a return."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .application import AuditLedger
from .importer import IMPORTER, ImportSummary
from .pack import PackProblems
from .returns_file import Problems, Row, import_return_rows

RETURNS_COLUMNS = ("case", "agency", "auditor", "practitioner", "completed", "area", "grade",
                   "strengths", "concerns")
MAX_CSV_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CsvText:
    """A CSV file's text, and how it was read (said to the person importing it)."""

    text: str
    encoding: str
    separator: str

    def describe(self) -> str:
        sep = "semicolons" if self.separator == ";" else "commas"
        return f"read as {self.encoding} text, values separated by {sep}"


def decode_csv(data: bytes) -> CsvText:
    """UTF-8 first (Excel's "CSV UTF-8" puts a byte-order mark first), else Windows-1252 (what
    Excel's plain "CSV" writes in England); semicolons when the header has them and no commas."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PackProblems(["UTF-16 text (as Excel's \"Unicode Text\" saves it), which this "
                            "command does not read; save the sheet as \"CSV UTF-8\" or as an "
                            "Excel workbook (.xlsx)"])
    try:
        text, encoding = data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError as e:
            raise PackProblems([f"byte {e.start + 1}: neither UTF-8 nor Windows-1252 text; save "
                                "the file from the spreadsheet as \"CSV UTF-8\""]) from None
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    return CsvText(text, encoding, separator)


def import_returns(app: AuditLedger, programme: str, text: str | CsvText,
                   by: str = IMPORTER, allow_identifiers: str = "") -> ImportSummary:
    """A returns CSV imported whole or not at all; every problem names its line (the header is
    line 1) and all of them are named in one run."""
    if isinstance(text, str):
        text = CsvText(text, "UTF-8", ",")
    problems = Problems()
    rows = csv_rows(text, problems)
    if rows is None:
        raise PackProblems(problems.listed())
    return import_return_rows(app, programme, rows, problems, by, allow_identifiers)


def csv_rows(source: CsvText, problems: Problems) -> list[Row] | None:
    """The file's lines as rows, its header's problems added; None when no line can be placed
    (without case, agency or area columns)."""
    reader = csv.reader(io.StringIO(source.text, newline=""), delimiter=source.separator)
    header = [h.strip().lower().lstrip("\ufeff") for h in next(reader, [])]
    missing = [c for c in RETURNS_COLUMNS if c not in header]
    extra = [c for c in header if c not in RETURNS_COLUMNS]
    sep = source.separator
    if missing:
        problems.add((1,), f"line 1: missing column(s) {', '.join(missing)}; the header must "
                           f"name {sep.join(RETURNS_COLUMNS)}")
    if extra:
        problems.add((1, 1), f"line 1: unknown column(s) {', '.join(extra)}; allowed: "
                             + ", ".join(RETURNS_COLUMNS))
    if len(set(header)) != len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        problems.add((1, 2), f"line 1: column(s) {', '.join(twice)} named twice")
    if any(c in missing for c in ("case", "agency", "area")) or len(set(header)) != len(header):
        return None
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            problems.add((line,), f"line {line}: more values than columns")
            continue
        padded = values + [""] * (len(header) - len(values))
        row = {h: v.strip() for h, v in zip(header, padded, strict=True) if h in RETURNS_COLUMNS}
        rows.append(Row((line,), f"line {line}", row))
    return rows
