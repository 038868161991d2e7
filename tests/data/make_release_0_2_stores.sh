#!/usr/bin/env bash
# How release-0.2*.db were written: by the ledger at commit ff57bef (issues 12-15 landed: two
# partnerships in one store, a signed hash chain, a published report, a manager's "seen"),
# through its console script only. Kept as the record of what they hold; it needs that release
# installed to run again (AL=.../audit-ledger).
set -euo pipefail
cd "$(dirname "$0")"
AL=${AL:-audit-ledger}
make_store() {  # $1 file name, $2 key ('' for none)
  local db=$1
  rm -f "$db" "$db"-wal "$db"-shm "$db".worker-lock
  export AUDIT_LEDGER_URL="sqlite:///$PWD/$db"
  if [ -n "$2" ]; then export AUDIT_LEDGER_KEY=$2; else unset AUDIT_LEDGER_KEY; fi
  $AL demo --today 2010-03-15 >/dev/null
  # Northbrook's example pack as a second partnership of the same store.
  python3 -c "import json,sys; p=json.load(open(sys.argv[1])); p['partnership']={'id': 'northbrook', 'name': 'Northbrook Safeguarding Children Partnership'}; json.dump(p, open(sys.argv[2], 'w'))" \
      ../../docs/examples/northbrook-2026.json "$db.northbrook.json"
  $AL import "$db.northbrook.json" >/dev/null
  rm -f "$db.northbrook.json"
  $AL grade revise lontown-2009 C01 --agency school --area 4 --grade 4 \
      --reason "Second reading of the file: no plan shared with the school" --by aud.patel --on 2009-07-10
  $AL concern raise lontown-2009 C04 --agency police --by aud.webb --on 2009-07-02 \
      --summary "No record that the strategy discussion considered the younger sibling."
  ref=$($AL concern list lontown-2009 --format json | python3 -c \
      "import json,sys; print([c['ref'] for c in json.load(sys.stdin) if c['case']=='C04'][0])")
  $AL concern acknowledge lontown-2009 "$ref" --by di.hart --on 2009-07-03
  $AL concern close lontown-2009 "$ref" --by di.hart --on 2009-07-20 --outcome "Record corrected."
  $AL feedback acknowledge lontown-2009 C01 --agency school --by t.jones --on 2009-07-08
  $AL feedback respond lontown-2009 C01 --agency school --issue 1 --by t.jones --on 2009-07-09 \
      --response "Agreed: I now send a written report before every review conference."
  $AL action ratify lontown-2009 A1.1 --by chair.forbes --on 2009-11-30
  $AL action update lontown-2009 A1.1 --rag amber --note "Four of six team meetings held." \
      --by tm.khan --on 2010-01-15
  $AL report publish lontown-2009 --by qa.bennett --on 2010-03-15 >/dev/null
  $AL erase lontown-2009 C07 --by qa.bennett --reason "Retention review RR-2026-3, 1 December 2026" >/dev/null
  rm -f "$db".worker-lock
}
make_store release-0.2.db ""
make_store release-0.2-key.db "dGVzdC1rZXktZm9yLXRoZS1maXh0dXJlLXN0b3JlISE="
