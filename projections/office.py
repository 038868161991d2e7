"""What the Word and Excel reports share: RAG colours, the scale's labels, text split into
paragraphs, and files whose bytes depend only on what is in them."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

Doc = dict[str, Any]

RAG_FILLS = {"red": "B3261E", "amber": "F0A33A", "green": "1E7B34"}
"""The HTML report's RAG colours, as hex fills."""
RAG_INK = {"red": "FFFFFF", "amber": "000000", "green": "FFFFFF"}

_EPOCH = (1980, 1, 1, 0, 0, 0)


def labels_of(doc: Doc) -> dict[str, str]:
    """Each grade of the report's scale ('1', '2', ...) with its label, best first."""
    return {str(g["grade"]): g["label"] for g in doc["scale"]["grades"]}


def report_day(doc: Doc) -> datetime:
    """The day the report's figures are as at, as the files' created and modified dates (never
    the moment of writing, so a published version's file is the same whenever written)."""
    return datetime.combine(date.fromisoformat(doc["as_at"]), datetime.min.time())


def changed_judgements(process: Doc) -> list[list[Any]]:
    """Each agency grade revised and each judgement moderated, as table rows: case, area,
    the change, whose grade, the reason and the day (in the order they happened)."""
    rows = [[r["case"], r["area"], f"{r['previous']} -> {r['grade']}", r["agency"], r["reason"],
             r["on"]] for r in process.get("revisions") or []]
    rows += [[m["case"], m["area"], f"moderated to {m['grade']}", "moderator", m["reason"],
              m["on"]] for m in process.get("moderations") or []]
    return sorted(rows, key=lambda r: (str(r[5]), str(r[0]), str(r[1])))


def paragraphs(text: str) -> list[tuple[str, str]]:
    """Text as ('para', words) and ('item', words) pieces: blank lines end a paragraph and
    '- ' lines are list items, so lists in authored text stay lists."""
    out: list[tuple[str, str]] = []
    joining = False
    for line in text.splitlines():
        line = line.strip()
        if not line:
            joining = False
        elif line.startswith("- "):
            out.append(("item", line[2:]))
            joining = False
        elif joining:
            out[-1] = ("para", f"{out[-1][1]} {line}")
        else:
            out.append(("para", line))
            joining = True
    return out


def fixed_zip(data: bytes) -> bytes:
    """An Office file (a zip) rewritten with every member dated 1980-01-01, so the same
    report gives the same bytes whenever it is written."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()
