#!/usr/bin/env bash
# A one-node Slurm on this machine, for Occam's Slurm integration tests and for trying `--slurm` by hand.
# Usage: scripts/local-slurm.sh start|stop|status
#   start: installs Debian's slurm-wlm and munge if missing (as root), writes /etc/slurm/slurm.conf for this host
#          (one node, one partition "debug"; ProctrackType=proctrack/linuxproc and TaskPlugin=task/none, which
#          need no cgroups; SlurmUser root) unless a slurm.conf not written by this script is there, and starts
#          munged, slurmctld and slurmd. State, logs and pid files go to $OCCAM_SLURM_STATE (/var/tmp/occam-slurm).
#   stop:  kills exactly the daemons named in those pid files.
# Exits non-zero, saying why, when Slurm cannot be started (not root, no apt-get, a foreign slurm.conf).
set -euo pipefail

state=${OCCAM_SLURM_STATE:-/var/tmp/occam-slurm}
conf=/etc/slurm/slurm.conf
marker="# Written by Occam's scripts/local-slurm.sh"
daemons=(slurmd slurmctld munged)

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

start() {
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
            echo "local-slurm: slurm-wlm and munge are not installed; install them as root: apt-get install slurm-wlm munge" >&2
            exit 1
        fi
        echo "local-slurm: installing slurm-wlm and munge" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
    if [ "$(id -u)" -ne 0 ]; then echo "local-slurm: the daemons run as root (SlurmUser root); run this as root" >&2; exit 1; fi
    if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
        echo "local-slurm: $conf exists and was not written by this script; not touching a real cluster's configuration" >&2
        exit 1
    fi
    mkdir -p "$state/ctld" "$state/d" /run/munge /var/log/munge /var/lib/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chmod 400 /etc/munge/munge.key
    fi
    local host node
    host=$(hostname -s)
    # The node as slurmd sees it (CPUs, sockets, memory), minus its UpTime line.
    node=$(slurmd -C | head -1)
    cat > "$conf" <<CONF
$marker
ClusterName=occam-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    if ! running munged; then
        munged --force --pid-file="$state/munged.pid"
    fi
    running slurmctld || slurmctld
    running slurmd || slurmd
    for _ in $(seq 60); do
        if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            echo "local-slurm: running ($host, partition debug; logs in $state)" >&2
            return 0
        fi
        sleep 0.5
    done
    echo "local-slurm: the node did not become idle within 30 s; see $state/slurmctld.log and $state/slurmd.log" >&2
    sinfo >&2 || true
    exit 1
}

stop() {
    for daemon in "${daemons[@]}"; do
        if running "$daemon"; then
            kill "$(cat "$state/$daemon.pid")"
            for _ in $(seq 40); do running "$daemon" || break; sleep 0.25; done
        fi
        rm -f "$state/$daemon.pid"
    done
    echo "local-slurm: stopped" >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) for daemon in "${daemons[@]}"; do running "$daemon" && echo "$daemon running" || echo "$daemon stopped"; done ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
