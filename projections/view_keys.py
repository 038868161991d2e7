"""The keys view documents are stored under: with the store's key, names are not readable.

Two kinds of views are keyed by something that tells about people or children:

- HASHED_VIEWS, keyed by people's directory ids and Slack user ids: with a key set, each key is
  stored as one keyed hash (found by `get`; `scan` lists them only whole, without a prefix).
- NAMED_VIEWS, whose keys put a case beside an agency or a person (a feedback document's key is
  programme/case/agency): in a store whose ids are keyed (`ledger.ids`), each `/`-separated part
  is stored as a keyed hash of the key up to it, so prefix scans by programme (and subject)
  still find their documents, no name is readable, and one agency under two cases reads as two
  unrelated hashes. The key itself is sealed inside the document (KEY), so scans give back keys
  in their order, as elsewhere. Stores written before keyed ids keep their keys as they were.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson

Doc = dict[str, Any]

HASHED_VIEWS = ("person", "slack", "waiting", "team")
NAMED_VIEWS = ("case", "feedback", "concern", "open_concerns", "alert_agency", "delivery",
               "due_item")
LABEL = b"audit-ledger view keys v1"
"""What the key that hashes view keys is derived from the store's key with (HMAC-SHA256)."""
PART = 20  # hex characters of each hashed part of a NAMED_VIEWS key: 80 bits
REMEMBERED = 100_000  # hashed keys kept, so a fold hashes each key once
KEY = "\x00key"
"""Where a NAMED_VIEWS document holds its key (no folded field starts with a NUL)."""


class ViewKeys:
    """How a view store names its documents' places (see the module's words)."""

    def __init__(self, key: str = "") -> None:
        self.key_hash = hmac.new(base64.b64decode(key), LABEL, hashlib.sha256
                                 ).digest() if key else None
        self.names_hidden = False
        """Whether the NAMED_VIEWS' keys are hashed: set by whoever opens the store, when its
        ids are keyed."""
        self._parts: dict[tuple[str, str], str] = {}

    def hide_names(self, keyed_ids: bool) -> None:
        """Hash the NAMED_VIEWS' keys when the store's ids are keyed (`ledger.ids`)."""
        self.names_hidden = keyed_ids and self.key_hash is not None

    def hides(self, view: str) -> bool:
        """Whether this view's keys are hashed part by part (its documents hold their key)."""
        return self.names_hidden and view in NAMED_VIEWS

    def hashes(self, view: str) -> bool:
        """Whether this view's keys are stored as keyed hashes (so a prefix finds nothing)."""
        return self.key_hash is not None and view in HASHED_VIEWS

    def stored_key(self, view: str, key: str) -> str:
        """The key a document is stored under: a keyed hash in the HASHED_VIEWS when a key is
        set, keyed hashes part by part in hidden NAMED_VIEWS, else the key itself."""
        if self.key_hash is None:
            return key
        if view in HASHED_VIEWS:
            return hmac.new(self.key_hash, f"{view}\x00{key}".encode(), hashlib.sha256).hexdigest()
        return self._hashed_path(view, key) if self.hides(view) else key

    def stored_prefix(self, view: str, prefix: str) -> str:
        """A scan's prefix as stored (a prefix of a NAMED_VIEWS key ends at a `/`)."""
        if not prefix or not self.hides(view):
            return prefix
        assert prefix.endswith("/"), "a hidden view is scanned by whole parts"
        return self._hashed_path(view, prefix[:-1]) + "/"

    def _hashed_path(self, view: str, key: str) -> str:
        found = self._parts.get((view, key))
        if found is None:
            assert self.key_hash is not None
            head, _, _ = key.rpartition("/")
            mine = hmac.new(self.key_hash, f"{view}\x01{key}".encode(), hashlib.sha256
                            ).hexdigest()[:PART]
            found = f"{self._hashed_path(view, head)}/{mine}" if head else mine
            if len(self._parts) > REMEMBERED:
                self._parts.clear()
            self._parts[(view, key)] = found
        return found

    def with_key(self, view: str, key: str, doc: Doc | bytes | None) -> Doc | bytes | None:
        """A document as a hidden view stores it: holding its key (a document given as its
        canonical bytes is read back to hold it)."""
        if doc is None or not self.hides(view):
            return doc
        return {**(orjson.loads(doc) if isinstance(doc, bytes) else doc), KEY: key}
