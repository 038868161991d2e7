#!/usr/bin/env bash
# How the stores in this folder were written: by release 0.1.0 (commit d4c1793, before the
# packages moved to the repository's root), through its console script only. Kept as the
# record of what they hold; it needs that release installed to run again.
set -euo pipefail
cd "$(dirname "$0")"
AL=${AL:-audit-ledger}
PY=${PY:-python3}
make_store() {  # $1 file name, $2 key ('' for none)
  local db=$1
  rm -f "$db" "$db"-wal "$db"-shm "$db".worker-lock
  export AUDIT_LEDGER_URL="sqlite:///$PWD/$db"
  if [ -n "$2" ]; then export AUDIT_LEDGER_KEY=$2; else unset AUDIT_LEDGER_KEY; fi
  $AL demo --today 2010-03-15 >/dev/null
  $AL grade revise lontown-2009 C01 --agency school --area 4 --grade 4 \
      --reason "Second reading of the file: no plan shared with the school" --by aud.patel --on 2009-07-10
  $AL grade moderate lontown-2009 C02 --area 3 --grade 3 \
      --reason "Moderation panel: assessment adequate once the core group notes were read" \
      --by cpcm.reid --on 2009-07-20
  $AL concern raise lontown-2009 C04 --agency police --by aud.webb --on 2009-07-02 \
      --summary "No record that the strategy discussion considered the younger sibling."
  ref=$($AL concern list lontown-2009 --format json | python3 -c \
      "import json,sys; print([c['ref'] for c in json.load(sys.stdin) if c['case']=='C04'][0])")
  $AL concern acknowledge lontown-2009 "$ref" --by di.hart --on 2009-07-03
  $AL concern action lontown-2009 "$ref" --by di.hart --on 2009-07-06 \
      --action "Sibling added to the strategy discussion record; officer briefed."
  $AL concern close lontown-2009 "$ref" --by di.hart --on 2009-07-20 --outcome "Record corrected."
  $AL feedback acknowledge lontown-2009 C01 --agency school --by t.jones --on 2009-07-08
  $AL feedback respond lontown-2009 C01 --agency school --issue 1 --by t.jones --on 2009-07-09 \
      --response "Agreed: I now send a written report before every review conference."
  $AL action ratify lontown-2009 A1.1 --by chair.forbes --on 2009-11-30
  $AL action update lontown-2009 A1.1 --rag amber --note "Four of six team meetings held." \
      --by tm.khan --on 2010-01-15
  $AL action complete lontown-2009 A1.2 --evidence "Confirmations from all eleven agencies." \
      --by qa.bennett --on 2010-02-20
  $AL person add ht.new --name "Jo New" --agency school --role manager --by qa.bennett
  $AL erase lontown-2009 C07 --by qa.bennett --reason "Retention review RR-2026-3, 1 December 2026" >/dev/null
  # The worker delivers what is due (alerts, feedback DMs, reminders) to the tests' fake Slack.
  (cd ../.. && $PY - "$AL" <<'PY'
import os, signal, subprocess, sqlite3, sys, time
from tests.fake_slack import running
db = os.environ["AUDIT_LEDGER_URL"].removeprefix("sqlite:///")
with running() as fake:
    env = dict(os.environ, SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN="xoxb-fake-bot-token")
    worker = subprocess.Popen([sys.argv[1], "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    count = lambda: sqlite3.connect(db).execute(
        "SELECT count(*) FROM stored_events WHERE topic='audit-ledger:MessageDelivered'").fetchone()[0]
    while count() < 60 and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.send_signal(signal.SIGTERM)
    worker.wait(30)
PY
  )
  rm -f "$db".worker-lock
}
make_store release-0.1.db ""
make_store release-0.1-key.db "dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE="

# What that release printed from each store (read from a copy, so the stores stay as written).
for db in release-0.1 release-0.1-key; do
  out=expected/$db; mkdir -p $out; tmp=$(mktemp -d); cp $db.db $tmp/
  export AUDIT_LEDGER_URL=sqlite:///$tmp/$db.db
  if [ $db = release-0.1-key ]; then export AUDIT_LEDGER_KEY=dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE=; else unset AUDIT_LEDGER_KEY; fi
  $AL verify --format json > $out/verify.json
  $AL report lontown-2009 --format json --today 2010-03-15 > $out/report.json
  $AL report lontown-2009 --today 2010-03-15 > $out/report.md
  $AL case lontown-2009 C01 --format json > $out/case-C01.json
  $AL case lontown-2009 C02 --format json > $out/case-C02.json
  $AL history lontown-2009 C01 --as-of 2026-12-01T12:00:00+00:00 --format json > $out/history-C01.json
  $AL history lontown-2009 C07 --as-of 2026-12-01T12:00:00+00:00 --format json > $out/history-C07.json
  $AL concern list lontown-2009 --format json > $out/concerns.json
  $AL feedback list lontown-2009 --format json > $out/feedback.json
  $AL action list lontown-2009 --format json --today 2010-03-15 > $out/actions.json
  $AL person list --format json > $out/people.json
  rm -rf $tmp
done
