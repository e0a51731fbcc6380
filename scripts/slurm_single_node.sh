#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine, for CI: Debian's slurmctld, slurmd,
# slurm-client and munge, one node with this machine's cores and memory, one partition,
# no accounting database. Needs root (apt-get, daemons).
#
#   bash scripts/slurm_single_node.sh start   # install if needed, configure, start
#   bash scripts/slurm_single_node.sh stop    # stop the daemons this script started (by PID)
#
# The config goes where every SLURM command looks for it, /etc/slurm/slurm.conf: Snakemake's
# job-step plugin clears SLURM_* variables (SLURM_CONF included) before it calls srun inside
# a job. An existing slurm.conf that this script did not write is never touched (start
# refuses); stop removes the one it wrote. Everything else lives under $SLURM_CI_DIR
# (default /tmp/pokernet-slurm): munge key and socket, state, logs, PID files.
set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"  # the daemons live there
DIR=${SLURM_CI_DIR:-/tmp/pokernet-slurm}
PARTITION=${SLURM_CI_PARTITION:-ci}
CONF=/etc/slurm/slurm.conf
MARK="# written by pokernet's scripts/slurm_single_node.sh"

install_packages() {
  local missing=()
  for bin in slurmctld slurmd sbatch munged; do command -v "$bin" >/dev/null || missing+=("$bin"); done
  [ ${#missing[@]} -eq 0 ] && return
  echo "slurm_single_node: installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
}

write_config() {
  local host node name
  host=$(hostname -s)
  # `slurmd -C` prints this machine's node line (CPUs, sockets, cores, threads, RealMemory).
  node=$(slurmd -C | head -1)
  name=${node#NodeName=}; name=${name%% *}
  if [ -f "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    echo "slurm_single_node: $CONF exists and is not ours; not touching it" >&2; exit 1
  fi
  rm -rf "$DIR/state" "$DIR/spool"  # no jobs left over from an earlier start
  mkdir -p "$DIR/state" "$DIR/spool" "$(dirname "$CONF")"
  chmod 700 "$DIR"
  cat > "$CONF" <<EOF
$MARK
ClusterName=pokernet-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# No accounting database (slurmdbd): sacct cannot answer, squeue can (see the slurm profiles).
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue this long (Snakemake's plugin needs >= 120 s).
MinJobAge=300
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$name Default=YES MaxTime=INFINITE State=UP
EOF
  [ -f "$DIR/munge.key" ] || { dd if=/dev/urandom of="$DIR/munge.key" bs=1024 count=1 status=none; }
  chmod 600 "$DIR/munge.key"
}

start() {
  if [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    echo "slurm_single_node: already running ($CONF)"; return
  fi
  install_packages
  write_config
  munged --force --socket="$DIR/munge.socket" --key-file="$DIR/munge.key" \
    --pid-file="$DIR/munged.pid" --log-file="$DIR/munged.log" --seed-file="$DIR/munged.seed"
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  for _ in $(seq 60); do
    if sinfo -h -N -o %t 2>/dev/null | grep -qx idle; then
      echo "slurm_single_node: up: $(sinfo -h -o '%P %D node(s) %c CPUs %m MB %t')"
      return
    fi
    sleep 1
  done
  echo "slurm_single_node: the node did not become idle in 60 s; logs in $DIR" >&2
  tail -n 20 "$DIR"/slurmctld.log "$DIR"/slurmd.log >&2 || true
  exit 1
}

stop() {
  # Only the daemons this script started, by the PIDs they wrote under $DIR.
  local name pid
  for name in slurmd slurmctld munged; do
    [ -f "$DIR/$name.pid" ] || continue
    pid=$(cat "$DIR/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      echo "slurm_single_node: stopped $name ($pid)"
    fi
    rm -f "$DIR/$name.pid"
  done
  if [ -f "$CONF" ] && grep -qxF "$MARK" "$CONF"; then rm -f "$CONF"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
