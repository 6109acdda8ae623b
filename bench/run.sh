#!/usr/bin/env bash
# Throughput of authn vs a bare Bun.serve, in one run, on loopback. See bench/README.md.
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 BENCH_WARMUP_SECONDS=2 bash bench/run.sh
set -euo pipefail

BENCH_TMP_PREFIX=authn-bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ENV_HOST=bench.localhost

DATA="$TMP/data"
mkdir -p "$DATA"
ENV_JSON=$("$BUN" src/main.ts env create --name Bench --host "$ENV_HOST" --data "$DATA" --json)
SECRET_KEY=$(printf '%s' "$ENV_JSON" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).secret_key))')

HELLO_PORT=$(free_port)
"$BUN" bench/hello.ts "$HELLO_PORT" >/dev/null 2>"$TMP/hello.err" &
HELLO_PID=$!
PIDS+=("$HELLO_PID")

AUTHN_PORT=$(free_port)
while [[ $AUTHN_PORT == "$HELLO_PORT" ]]; do AUTHN_PORT=$(free_port); done
# Access logs go to /dev/null but stay at the default level: formatting them is part of the cost.
AUTHN_HOSTNAME=127.0.0.1 "$BUN" src/main.ts serve --port "$AUTHN_PORT" --data "$DATA" --workers 1 >/dev/null 2>"$TMP/authn.err" &
AUTHN_PID=$!
PIDS+=("$AUTHN_PID")

wait_port "$HELLO_PID" "$HELLO_PORT" hello "$TMP/hello.err"
wait_port "$AUTHN_PID" "$AUTHN_PORT" authn "$TMP/authn.err"

# Hard stop in case anything hangs: three targets x (warm-up + measurement) plus slack.
BUDGET=$(( 3 * (BENCH_SECONDS + BENCH_WARMUP_SECONDS) + 60 ))
BENCH_HELLO_PORT=$HELLO_PORT BENCH_HELLO_PID=$HELLO_PID \
BENCH_AUTHN_PORT=$AUTHN_PORT BENCH_AUTHN_PID=$AUTHN_PID \
BENCH_ENV_HOST=$ENV_HOST BENCH_SECRET_KEY=$SECRET_KEY \
BENCH_BUN_VERSION=$("$BUN" --version) \
BENCH_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo '+dirty')" \
  timeout --kill-after=5 "$BUDGET" "$NODE" bench/measure.mjs &
# In the background so a SIGTERM/SIGINT to this script is handled at once (bash defers traps
# while a foreground child runs); cleanup then stops the driver too.
MEASURE_PID=$!
PIDS=("$MEASURE_PID" "${PIDS[@]}")
wait "$MEASURE_PID"
