"""What the Word and Excel reports share: RAG colours, the scale's labels, text split into
paragraphs, and files whose bytes depend only on what is in them."""

from __future__ import annotations

import io
import zipfile
from typing import Any

Doc = dict[str, Any]

RAG_FILLS = {"red": "B3261E", "amber": "F0A33A", "green": "1E7B34"}
"""The HTML report's RAG colours, as hex fills."""
RAG_INK = {"red": "FFFFFF", "amber": "000000", "green": "FFFFFF"}

_EPOCH = (1980, 1, 1, 0, 0, 0)


def labels_of(doc: Doc) -> dict[str, str]:
    """Each grade of the report's scale ('1', '2', ...) with its label, best first."""
    return {str(g["grade"]): g["label"] for g in doc["scale"]["grades"]}


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
