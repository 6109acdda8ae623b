#!/usr/bin/env bash
# OAuth token endpoint: refresh_token grant throughput as a ratio of session-token refresh with
# the same algorithm, RS256 and ES256, in one run, on loopback. See bench/README.md ("OAuth token endpoint").
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 BENCH_WARMUP_SECONDS=2 bash bench/oauth-token.sh
set -euo pipefail

BENCH_TMP_PREFIX=authn-bench-oauth
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ALGS=(RS256 ES256)

DATA="$TMP/data"
mkdir -p "$DATA"
ENVS="["
for alg in "${ALGS[@]}"; do
  host="oauth-$(printf '%s' "$alg" | tr '[:upper:]' '[:lower:]').localhost"
  json=$("$BUN" src/main.ts env create --name Bench --host "$host" --alg "$alg" --data "$DATA" --json)
  ENVS+="$([[ $ENVS == "[" ]] || echo ,){\"alg\":\"$alg\",\"env\":$json}"
done
ENVS+="]"

AUTHN_PORT=$(free_port)
# Throughput, not abuse: the per-IP limit of /oauth/token (100 per 10 s) would cap the load.
AUTHN_RATE_LIMITS=false AUTHN_HOSTNAME=127.0.0.1 "$BUN" src/main.ts serve --port "$AUTHN_PORT" --data "$DATA" >/dev/null 2>"$TMP/authn.err" &
AUTHN_PID=$!
PIDS+=("$AUTHN_PID")
wait_port "$AUTHN_PID" "$AUTHN_PORT" authn "$TMP/authn.err"

# Per algorithm three server loads (session refresh, two grants), each (warm-up + measurement),
# plus slack for the authorizations that make the refresh-token chains.
BUDGET=$(( ${#ALGS[@]} * 3 * (BENCH_SECONDS + BENCH_WARMUP_SECONDS) + 120 ))
BENCH_AUTHN_PORT=$AUTHN_PORT BENCH_AUTHN_PID=$AUTHN_PID BENCH_ENVS=$ENVS \
BENCH_BUN_VERSION=$("$BUN" --version) \
BENCH_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo '+dirty')" \
  timeout --kill-after=5 "$BUDGET" "$NODE" bench/oauth-token.mjs &
MEASURE_PID=$!
PIDS=("$MEASURE_PID" "${PIDS[@]}")
wait "$MEASURE_PID"
