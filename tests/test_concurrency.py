"""Several processes writing to one case at once: every conflict retried, no update lost."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from audit_ledger.wiring import Wiring
from ledger.importer import import_pack
from ledger.pack import parse_pack

AGENCIES = ["social-care", "school", "police", "health-visiting"]
AREAS = ["2", "3", "4", "5", "6", "7", "8"]

WRITER = """
import sys, time
from pathlib import Path
from audit_ledger.wiring import wire
from ledger import commands as c
url, agency, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
w = wire(url, "")
while not go.exists():
    time.sleep(0.005)
for n, area in enumerate({areas!r}):
    w.app.grade_area(c.GradeArea(by="aud." + agency, programme="busy", case="B01",
                                 agency=agency, area=area, grade=2 + (n % 3),
                                 practitioner="p." + agency))
w.close()
"""


def _pack() -> dict[str, object]:
    people: list[dict[str, object]] = []
    for agency in AGENCIES:
        people += [{"id": f"aud.{agency}", "agency": agency, "roles": ["auditor"]},
                   {"id": f"p.{agency}", "agency": agency, "roles": ["practitioner"]}]
    return {"programme": {"id": "busy"}, "people": people,
            "cases": [{"ref": "B01", "agencies": AGENCIES}]}


def test_concurrent_writers_on_one_case_lose_nothing(wiring: Wiring, store_url: str,
                                                     tmp_path: Path) -> None:
    import_pack(wiring.app, parse_pack(_pack()))
    go = tmp_path / "go"
    script = WRITER.format(areas=AREAS)
    procs = [subprocess.Popen([sys.executable, "-c", script, store_url, agency, str(go)],
                              stderr=subprocess.PIPE, text=True) for agency in AGENCIES]
    time.sleep(1.0)  # let every writer start and wait at the line
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    wiring.follower.catch_up()
    case = wiring.views.case("busy", "B01")
    for agency in AGENCIES:
        grades = case["returns"][agency]["grades"]
        assert sorted(grades) == sorted(AREAS), (agency, grades)
    events = list(wiring.app.repository.event_store.get(
        wiring.app.case("busy", "B01").id))
    assert len(events) == 1 + len(AGENCIES) * len(AREAS)
