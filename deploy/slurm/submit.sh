#!/bin/bash
# Submits a sharded sweep: N array tasks (deploy/slurm/sweep.sbatch), then
# a merge job that runs only when all of them succeeded.
#   deploy/slurm/submit.sh N MODEL SEED OUT "SWEEP ARGS"
# e.g.
#   deploy/slurm/submit.sh 8 models/qpn5-open.yaml 7 /shared/sweep \
#     "--grid arrival_rate=1..40:400 --grid containers=1,2,3,4,5"
# Prints the merge job's id; the result is OUT/sweep.json, byte for byte
# what one unsharded `sweep --format json` would write.
set -euo pipefail
n=${1:?shards} model=${2:?model} seed=${3:?seed} out=${4:?output folder} args=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
bin=${DEMANDSIM:-demandsim}
mkdir -p "$out"
# Through the environment, not --export=NAME=VALUE: sbatch splits that at
# commas, and grids have them (servers=8,12).
export MODEL=$model SEED=$seed OUT=$out SWEEP_ARGS=$args DEMANDSIM=$bin
array=$(sbatch --parsable --array="1-$n" --chdir="$out" --export=ALL "$here/sweep.sbatch")
parts=$(seq -f "$out/part-%g.json" 1 "$n" | tr '\n' ' ')
sbatch --parsable --dependency="afterok:$array" --job-name=demandsim-merge \
  --chdir="$out" --output=%x-%j.log \
  --wrap="$bin -q merge $parts -o $out/sweep.json"
