#!/usr/bin/env bash
# Session-token refresh throughput vs the bare signing ceiling, RS256 and ES256, in one run, on
# loopback. See bench/README.md ("Token refresh").
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 BENCH_WARMUP_SECONDS=2 bash bench/token-refresh.sh
set -euo pipefail

BENCH_TMP_PREFIX=authn-bench-tokens
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ALGS=(RS256 ES256)

# One env per algorithm, on its own frontend host; the driver gets them as a JSON array.
DATA="$TMP/data"
mkdir -p "$DATA"
ENVS="["
for alg in "${ALGS[@]}"; do
  host="$(printf '%s' "$alg" | tr '[:upper:]' '[:lower:]').localhost"
  json=$("$BUN" src/main.ts env create --name Bench --host "$host" --alg "$alg" --data "$DATA" --json)
  ENVS+="$([[ $ENVS == "[" ]] || echo ,){\"alg\":\"$alg\",\"env\":$json}"
done
ENVS+="]"

AUTHN_PORT=$(free_port)
# Access logs go to /dev/null but stay at the default level: formatting them is part of the cost.
AUTHN_HOSTNAME=127.0.0.1 "$BUN" src/main.ts serve --port "$AUTHN_PORT" --data "$DATA" --workers 1 >/dev/null 2>"$TMP/authn.err" &
AUTHN_PID=$!
PIDS+=("$AUTHN_PID")
wait_port "$AUTHN_PID" "$AUTHN_PORT" authn "$TMP/authn.err"

# Hard stop in case anything hangs: per algorithm two signing loops and one server load, each
# (warm-up + measurement), plus slack.
BUDGET=$(( ${#ALGS[@]} * 3 * (BENCH_SECONDS + BENCH_WARMUP_SECONDS) + 60 ))
BENCH_AUTHN_PORT=$AUTHN_PORT BENCH_AUTHN_PID=$AUTHN_PID \
BENCH_DATA=$DATA BENCH_ENVS=$ENVS BENCH_BUN=$BUN \
BENCH_BUN_VERSION=$("$BUN" --version) \
BENCH_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo '+dirty')" \
  timeout --kill-after=5 "$BUDGET" "$NODE" bench/token-refresh.mjs &
# In the background so a SIGTERM/SIGINT to this script is handled at once (bash defers traps
# while a foreground child runs); cleanup then stops the driver (and its signing child) too.
MEASURE_PID=$!
PIDS=("$MEASURE_PID" "${PIDS[@]}")
wait "$MEASURE_PID"
