#!/usr/bin/env bash
# Throughput of trivial flow runs through a server and one worker (run by hand,
# not a test). Creates N runs of a deployment of the test guest's `echo` flow
# through the API first, then times one worker (LIMIT runs at once) from its
# start until all N are Completed. DBURL=postgres://... runs it on Postgres.
# Needs ./dev/setup first (the weft binary and the guest components).
# usage: bench/e2e-runs.sh [N] [LIMIT]
set -euo pipefail
N=${1:-2000}; LIMIT=${2:-64}
export WEFT_HOME=$(mktemp -d)
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export WEFT_API_URL=http://127.0.0.1:$PORT/api
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$ROOT/target/release/weft
$W server start --port $PORT ${DBURL:+--database-url $DBURL} 2>/dev/null &
SP=$!
for i in $(seq 100); do curl -sf $WEFT_API_URL/health >/dev/null && break; sleep 0.1; done
$W work-pool create bench >/dev/null
$W deploy $ROOT/target/guests/wasm32-wasip2/release/testguest.wasm --flow echo --name e --pool bench --params '{"value":1}' >/dev/null
DID=$(curl -sf $WEFT_API_URL/deployments/name/echo/e | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
python3 - "$WEFT_API_URL" "$DID" "$N" <<'PY'
import sys, json, urllib.request, concurrent.futures as cf
url, did, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def one(_):
    r = urllib.request.Request(f"{url}/deployments/{did}/create_flow_run", data=b"{}", headers={"content-type":"application/json"}, method="POST")
    urllib.request.urlopen(r).read()
with cf.ThreadPoolExecutor(8) as ex: list(ex.map(one, range(n)))
PY
count() { curl -sf -X POST $WEFT_API_URL/flow_runs/count -H 'content-type: application/json' -d '{"flow_runs":{"state":{"type":{"any_":["COMPLETED"]}}}}'; }
START=$(date +%s.%N)
$W worker start --pool bench --limit $LIMIT --poll-interval 0.01 2>/dev/null &
WP=$!
while [ "$(count)" -lt "$N" ]; do sleep 0.05; done
END=$(date +%s.%N)
python3 -c "print(f'{$N} runs in {($END-$START):.2f}s = {$N/($END-$START):.0f} runs/s')"
curl -sf -X POST $WEFT_API_URL/flow_runs/count -H 'content-type: application/json' -d '{}' ; echo " total"
kill -TERM $WP; wait $WP || true
kill -TERM $SP; wait $SP || true
rm -rf $WEFT_HOME
