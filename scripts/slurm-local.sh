#!/usr/bin/env bash
# Runs deploy/slurm/ for real on a one-node Slurm cluster on this machine:
# installs Debian's slurm-wlm and munge (needs root and the Debian
# mirror), starts munged, slurmctld and slurmd with a minimal
# configuration, submits a 3-shard sweep with deploy/slurm/submit.sh,
# waits for the merge job, and checks that the merged result is byte for
# byte the unsharded sweep. Not part of CI (it installs system services).
#   scripts/slurm-local.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${1:-$(mktemp -d /tmp/demandsim-slurm.XXXX)}
mkdir -p "$work"
if ! command -v slurmctld >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
cargo build --release --quiet
bin=$root/target/release/demandsim

host=$(hostname -s)
cpus=$(nproc)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=demandsim
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmUser=root
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key /run/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- munged --force
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix' && break; sleep 1; done
sinfo

model=$root/models/qpn1-open.yaml
args="--grid arrival_rate=2..11:10 --grid servers=8,12 --method simulate --requests 20000"
DEMANDSIM=$bin "$root/deploy/slurm/submit.sh" 3 "$model" 7 "$work/out" "$args" > "$work/merge.id"
merge=$(cat "$work/merge.id")
echo "merge job $merge; waiting"
while squeue -h -j "$merge" 2>/dev/null | grep -q .; do sleep 2; done
sacct -j "$merge" -n -o JobID,State,ExitCode 2>/dev/null || true
# shellcheck disable=SC2086
"$bin" -q sweep "$model" $args --seed 7 --format json -o "$work/whole.json"
if cmp "$work/out/sweep.json" "$work/whole.json"; then
  echo "OK: the 3 Slurm shards merged into the unsharded bytes ($work/out/sweep.json)"
else
  echo "DIFFERENT: $work/out/sweep.json vs $work/whole.json" >&2
  exit 1
fi
