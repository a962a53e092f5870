#!/usr/bin/env bash
# Start N zmr workers (and optionally the coordinator) in the background on this host.
#
#   ./run_cluster.sh N [CONFIG] [--with-coordinator]   start (CONFIG defaults to conf/cluster.toml)
#   ./run_cluster.sh stop                              stop exactly the processes started here
#   ./run_cluster.sh status                            list them
#
# Logs and PID files go to the run directory: $ZMR_RUN_DIR, default .zmr/run.
# A thin wrapper of `zmr cluster start|stop|status`, which is installed with zmr.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
zmr_cluster() { exec "$PYTHON" -m zmr cluster "$@"; }

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

[ $# -ge 1 ] || usage
case "$1" in
  stop|status) zmr_cluster "$1" ;;
  -h|--help) usage ;;
esac
n=$1; shift
[[ "$n" =~ ^[0-9]+$ ]] || usage
config=conf/cluster.toml
coordinator=--no-coordinator
for arg in "$@"; do
  case "$arg" in
    --with-coordinator) coordinator= ;;
    *) config=$arg ;;
  esac
done
zmr_cluster start "$n" --config "$config" ${coordinator}
