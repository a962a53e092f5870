#!/usr/bin/env bash
# A single-node Slurm on this host for tests/slurm, from Debian's packages (root only):
#   setup_slurm.sh start   install slurm-wlm + munge if missing, write slurm.conf for this
#                          host, start munged, slurmctld and slurmd, wait for the node idle
#   setup_slurm.sh stop    stop the daemons `start` began (their pid files), nothing else
# Everything lives in $ZMR_SLURM_DIR (default /tmp/zmr-slurm); clients find the cluster
# through SLURM_CONF=$ZMR_SLURM_DIR/slurm.conf. Exit 0 = up, 1 = cannot be brought up
# (the reason is the last line on stderr).
set -euo pipefail
DIR=${ZMR_SLURM_DIR:-/tmp/zmr-slurm}
export SLURM_CONF=$DIR/slurm.conf
# munged runs as user munge, so its pid file goes where that user may write
MUNGE_PID=/run/munge/zmr-slurm-munged.pid
fail() { echo "setup_slurm: $*" >&2; exit 1; }

stop() {
    for file in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$MUNGE_PID"; do
        pid=$(cat "$file" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
        rm -f "$file"
    done
}

node_state() { sinfo -h -N -o %t 2>/dev/null | head -1; }

start() {
    [ "$(id -u)" = 0 ] || fail "needs root (writes /etc/munge, runs slurmd)"
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        command -v apt-get >/dev/null || fail "slurm-wlm/munge not installed and no apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge >"$DIR.apt.log" 2>&1 \
            || fail "apt-get install slurm-wlm munge failed (see $DIR.apt.log)"
    fi
    mkdir -p "$DIR"/state "$DIR"/spool "$DIR"/log
    if [ -f "$SLURM_CONF" ] && [ "$(node_state)" = idle ]; then return 0; fi
    start_munge
    write_conf
    [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null \
        || slurmctld || fail "slurmctld did not start (see $DIR/log/slurmctld.log)"
    [ -f "$DIR/slurmd.pid" ] && kill -0 "$(cat "$DIR/slurmd.pid")" 2>/dev/null \
        || slurmd || fail "slurmd did not start (see $DIR/log/slurmd.log)"
    for _ in $(seq 1 120); do          # generous: the host is shared and busy
        case "$(node_state)" in
            idle) return 0 ;;
            down*|drain*|unk*) scontrol update nodename="$(hostname -s)" state=resume \
                                   >/dev/null 2>&1 || true ;;
        esac
        sleep 1
    done
    fail "the node did not become idle in 120 s (sinfo: $(node_state); logs in $DIR/log)"
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0700 /etc/munge
    runuser -u munge -- munged --pid-file="$MUNGE_PID" \
        || fail "munged did not start"
    for _ in $(seq 1 30); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 1
    done
    fail "munge does not answer (munge -n | unmunge)"
}

write_conf() {
    local host cpus
    host=$(hostname -s)
    cpus=$(nproc --all)
    # proctrack/linuxproc and task/none: no cgroups needed (containers often lack them);
    # processes of a job are still found and killed through their parentage
    cat >"$SLURM_CONF" <<CONF
ClusterName=zmrtest
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=10
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmdSpoolDir=$DIR/spool
StateSaveLocation=$DIR/state
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) fail "usage: setup_slurm.sh start|stop" ;;
esac
