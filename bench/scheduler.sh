#!/usr/bin/env bash
# The scheduler at scale: idle CPU and request delays of one `serve` over many envs, on
# loopback. See bench/README.md ("Scheduler").
#   BENCH_ENVS=10000 BENCH_IDLE_SECONDS=30 BENCH_PROBE_SECONDS=30 bash bench/scheduler.sh
# BENCH_SRC=DIR measures another checkout (e.g. an older commit) with the same driver.
set -euo pipefail

BENCH_TMP_PREFIX=authn-bench-scheduler
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export BENCH_ENVS=${BENCH_ENVS:-10000}
export AUTHN_JOB_INTERVAL_MS=${AUTHN_JOB_INTERVAL_MS:-1000}
SRC=$(cd "${BENCH_SRC:-$ROOT}" && pwd)
export BENCH_SRC_LABEL=${BENCH_SRC_LABEL:-"$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty')"}

# Making 10,000 envs takes a minute and ~5 GB: they are kept between runs, one set per count
# and per migration set of the measured source (BENCH_CACHE=DIR to put them elsewhere).
MIGRATIONS=$(cat "$SRC"/migrations/*/meta/_journal.json | sha256sum | cut -c1-12)
CACHE=${BENCH_CACHE:-$ROOT/.tmp/bench-scheduler}/n$BENCH_ENVS-$MIGRATIONS
if [[ ! -f $CACHE/ready ]]; then
  rm -rf "$CACHE"
  echo "bench: creating $BENCH_ENVS envs in $CACHE" >&2
  "$BUN" bench/scheduler-envs.ts "$CACHE" "$BENCH_ENVS" "$SRC"
  touch "$CACHE/ready"
fi
# Every env due at once, as after an upgrade; a registry without due times rebuilds nothing.
"$BUN" -e '
  const { Database } = require("bun:sqlite")
  const db = new Database(process.argv[1] + "/registry.sqlite")
  const cols = db.query("SELECT name FROM pragma_table_info(\"envs\")").all().map((c) => c.name)
  if (cols.includes("next_due_at")) db.run("UPDATE envs SET next_due_at = 0 WHERE problem IS NULL")
  db.close()
' "$CACHE"

# The control: a bare Bun.serve probed the same way shows this machine's own latency noise.
HELLO_PORT=$(free_port)
"$BUN" bench/hello.ts "$HELLO_PORT" >/dev/null 2>"$TMP/hello.err" &
HELLO_PID=$!
PIDS+=("$HELLO_PID")
wait_port "$HELLO_PID" "$HELLO_PORT" hello "$TMP/hello.err"

PORT=$(free_port)
while [[ $PORT == "$HELLO_PORT" ]]; do PORT=$(free_port); done
# The log goes to a file at debug level: the access lines (info, as in production) and one
# line per tick saying how long its longest synchronous step held the event loop. The first
# tick comes one interval after the server listens.
(cd "$SRC" && AUTHN_HOSTNAME=127.0.0.1 AUTHN_LOG_LEVEL=debug exec "$BUN" src/main.ts serve --port "$PORT" --data "$CACHE" --workers 1) \
  >"$TMP/authn.log" 2>"$TMP/authn.err" &
AUTHN_PID=$!
PIDS+=("$AUTHN_PID")
wait_port "$AUTHN_PID" "$PORT" authn "$TMP/authn.err"
# `serve` runs under a subshell's exec: the PID is the server's own.

BUDGET=$(( ${BENCH_PASS_SECONDS:-300} + ${BENCH_IDLE_SECONDS:-30} + 2 * ${BENCH_PROBE_SECONDS:-30} + 60 ))
BENCH_LOG=$TMP/authn.log BENCH_HELLO_PORT=$HELLO_PORT BENCH_PORT=$PORT BENCH_PID=$AUTHN_PID BENCH_DATA=$CACHE \
BENCH_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  timeout --kill-after=5 "$BUDGET" "$BUN" bench/scheduler-measure.ts &
MEASURE_PID=$!
PIDS=("$MEASURE_PID" "${PIDS[@]}")
wait "$MEASURE_PID"
