"""Published versions of the overview report: made, fingerprinted, and made again exactly.

A version is not stored as text (a case's text erased later must not live on in a copy);
it is the log's position it was read at, the day it counts to and how it was asked for. The
same folds over the same events give the same document, so any format of it comes out the
same bytes; its SHA-256, taken when published, shows that it did.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.application import AuditLedger

from .queries import NotInViews, Views
from .replay import log_head, views_as_of
from .report_document import Options, figures_of, report_document
from .wording import long_date

Doc = dict[str, Any]


def fingerprint(doc: Doc) -> str:
    """The SHA-256 of the document's canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Publication:
    document: Doc
    position: int
    sha256: str
    figures: Doc


def prepare(app: AuditLedger, pid: str, options: Options) -> Publication:
    """The document a version published now would freeze: the log as it is, only what had
    happened by `options.today`."""
    position = log_head(app)
    views = views_as_of(app, options.today, position)
    doc = report_document(views, pid, options)
    return Publication(doc, position, fingerprint(doc), figures_of(doc))


def versions(views: Views, pid: str) -> list[Doc]:
    views.programme(pid)
    return list((views.store.get("authoring", pid) or {}).get("versions") or [])


def reproduce(app: AuditLedger, views: Views, pid: str, number: int) -> tuple[Doc, str]:
    """Version `number` made again, and its SHA-256 now (the one published unless a case's
    text was erased since)."""
    known = versions(views, pid)
    if not 1 <= number <= len(known):
        said = (f"versions 1 to {len(known)}" if len(known) > 1 else
                "version 1" if known else "none yet; a quality lead publishes with "
                "`audit-ledger report publish`")
        raise NotInViews(f"no published version {number} of the report of {pid} ({said})")
    v = known[number - 1]
    options = Options(today=date.fromisoformat(v["as_of"]), suppress=v["suppress"],
                      publishable=v["publishable"], marking=v["marking"], as_of=True)
    doc = report_document(views_as_of(app, options.today, v["position"]), pid, options)
    now = fingerprint(doc)
    doc["published"] = {"version": v["version"], "on": v["on"],
                        "on_words": long_date(date.fromisoformat(v["on"])), "by": v["by"],
                        "marking": v["marking"], "sha256": v["sha256"]}
    return doc, now
