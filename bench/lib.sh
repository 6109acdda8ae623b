# Shared by the bench drivers (sourced after `set -euo pipefail`): settings, the temp dir, the
# processes to stop on exit, and loopback port helpers. The caller sets BENCH_TMP_PREFIX first.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUN="$ROOT/node_modules/.bin/bun"
NODE=${NODE:-node}
export BENCH_SECONDS=${BENCH_SECONDS:-10}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-50}
export BENCH_WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-2}

[[ -x $BUN ]] || { echo "bench: $BUN missing (npm install)" >&2; exit 1; }
[[ -d $ROOT/node_modules/autocannon ]] || { echo "bench: autocannon missing (npm install)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/${BENCH_TMP_PREFIX:-authn-bench}.XXXXXX")
PIDS=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# An ephemeral port the kernel just handed out and released (127.0.0.1 only).
free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Wait until PORT accepts connections, failing fast if the process PID died.
wait_port() {
  local pid=$1 port=$2 name=$3 errlog=$4
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench: $name exited before listening:" >&2; cat "$errlog" >&2; return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench: $name not listening on 127.0.0.1:$port after 30s" >&2; cat "$errlog" >&2; return 1
}
