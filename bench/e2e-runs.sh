#!/usr/bin/env bash
# End-to-end throughput of trivial flow runs (run by hand, not a test): a
# server and one worker (LIMIT runs at once) are started; then `weft-bench e2e`
# creates N runs of a deployment of the test guest's `echo` flow through the
# API with CLIENTS clients at once, and times from the first create until all
# N are Completed. DBURL=postgres://... runs it on Postgres (a scratch
# database: it is emptied first).
# Needs ./dev/setup and `cargo build --release -p weft-bench` first.
# usage: bench/e2e-runs.sh [N] [LIMIT] [CLIENTS]
set -euo pipefail
N=${1:-5000}; LIMIT=${2:-64}; CLIENTS=${3:-8}
export WEFT_HOME=$(mktemp -d)
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export WEFT_API_URL=http://127.0.0.1:$PORT/api
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$ROOT/target/release/weft
if [ -n "${DBURL:-}" ]; then
    psql "$DBURL" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null
fi
$W server start --port "$PORT" ${DBURL:+--database-url $DBURL} 2>/dev/null &
SP=$!
trap 'kill -TERM $WP $SP 2>/dev/null; wait 2>/dev/null; rm -rf "$WEFT_HOME"' EXIT
for _ in $(seq 100); do curl -sf "$WEFT_API_URL/health" >/dev/null && break; sleep 0.1; done
$W work-pool create bench >/dev/null
$W deploy "$ROOT/target/guests/wasm32-wasip2/release/testguest.wasm" --flow echo --name e \
    --pool bench --params '{"value":1}' >/dev/null
$W worker start --pool bench --limit "$LIMIT" --poll-interval 0.01 2>/dev/null &
WP=$!
"$ROOT/target/release/weft-bench" e2e --deployment echo/e --runs "$N" --clients "$CLIENTS"
