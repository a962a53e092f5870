#!/usr/bin/env bash
# Start N zmr workers (and optionally the coordinator) in the background on this host.
#
#   ./run_cluster.sh N [CONFIG] [--with-coordinator]   start (CONFIG defaults to conf/cluster.toml)
#   ./run_cluster.sh stop                              stop exactly the processes started here
#   ./run_cluster.sh status                            list them
#
# Logs and PID files go to the run directory: $ZMR_RUN_DIR, default .zmr/run.
set -euo pipefail

RUN_DIR="${ZMR_RUN_DIR:-.zmr/run}"
PYTHON="${PYTHON:-python3}"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

is_ours() {  # pid still runs a zmr process (guards against recycled PIDs)
  local pid=$1
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "zmr\.\(worker\|coordinator\)"
}

start_one() {  # name, args...
  local name=$1; shift
  nohup "$PYTHON" "$@" > "$RUN_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
  echo "started $name (pid $!, log $RUN_DIR/$name.log)"
}

cmd_stop() {
  shopt -s nullglob
  local pidfiles=("$RUN_DIR"/*.pid)
  [ ${#pidfiles[@]} -gt 0 ] || { echo "nothing to stop in $RUN_DIR"; return 0; }
  for f in "${pidfiles[@]}"; do
    pid=$(cat "$f")
    if is_ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 50); do
    alive=0
    for f in "${pidfiles[@]}"; do is_ours "$(cat "$f")" && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for f in "${pidfiles[@]}"; do
    pid=$(cat "$f")
    if is_ours "$pid"; then kill -KILL "$pid" 2>/dev/null || true; echo "killed $(basename "$f" .pid)"; fi
    rm -f "$f"
  done
  echo "stopped ${#pidfiles[@]} process(es)"
}

cmd_status() {
  shopt -s nullglob
  for f in "$RUN_DIR"/*.pid; do
    pid=$(cat "$f")
    if is_ours "$pid"; then state=running; else state=gone; fi
    echo "$(basename "$f" .pid) pid $pid $state"
  done
}

main() {
  [ $# -ge 1 ] || usage
  case "$1" in
    stop) cmd_stop; return ;;
    status) cmd_status; return ;;
    -h|--help) usage ;;
  esac
  local n=$1; shift
  [[ "$n" =~ ^[0-9]+$ ]] || usage
  local config=conf/cluster.toml with_coordinator=0
  for arg in "$@"; do
    case "$arg" in
      --with-coordinator) with_coordinator=1 ;;
      *) config=$arg ;;
    esac
  done
  [ -r "$config" ] || { echo "run_cluster.sh: cannot read config $config" >&2; exit 1; }
  mkdir -p "$RUN_DIR"
  if [ $with_coordinator -eq 1 ]; then
    start_one coordinator -m zmr.coordinator "$config"
    sleep 0.5
  fi
  local existing
  existing=$(ls "$RUN_DIR" 2>/dev/null | grep -c '^worker-.*\.pid$' || true)
  for i in $(seq $((existing + 1)) $((existing + n))); do
    start_one "worker-$i" -m zmr.worker "$config" --id "$(hostname)-worker-$i"
  done
}

main "$@"
