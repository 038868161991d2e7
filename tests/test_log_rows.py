"""The rows the views' folding reads (`select_rows`), on both stores: the same events as the
library's own `select_notifications`, whatever the start, stop and limit, each originator id
spelt by `str_id` as `str` of its UUID."""

from __future__ import annotations

from typing import Any

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import parse_pack


def test_rows_are_the_librarys_notifications(wiring: Wiring, mini_pack: dict[str, Any]) -> None:
    import_pack(wiring.app, parse_pack(mini_pack))
    recorder: Any = wiring.app.recorder
    head = wiring.follower.head()
    assert head > 5
    for start, limit, stop in ((0, head + 1, None), (0, 3, None), (2, 4, None), (1, 100, 4),
                               (head - 1, 10, None), (head, 10, None), (3, 2, head)):
        rows = recorder.select_rows(start, limit, stop)
        library = recorder.select_notifications(start=start, limit=limit, stop=stop,
                                                inclusive_of_start=False)
        assert [(r[0], recorder.str_id(r[1]), r[2], r[3], bytes(r[4])) for r in rows] == [
            (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in library]
        assert all(type(r[4]) is bytes for r in rows)
