#!/usr/bin/env bash
# GPU checks on your own GPU machine (docs/benchmarks.md#on-your-own-gpu), after installing with a
# CUDA build of torch (`make train PIP_CONSTRAINTS=`):
#
#   bash scripts/gpu_checks.sh [STEP...]
#
# STEP: gputest (the GPU learner's updates equal the CPU learner's), 3m (the 3m example to a 95%
# greedy win rate with the learner on the GPU and 8 env runners of 4 battles), scale (scale_out.py
# on MMM2: 1 to 12 env runners, GPU then CPU learner), mmm2 (the GPU tuned example for MMM2_STEPS
# env steps, default 300k). Default: gputest 3m scale. Each step runs under its own time limit (a
# step cut short still leaves what it wrote). Results go to RESULTS_DIR (default results/), with
# a log of everything in gpu_checks.log. PYTHON chooses the interpreter (default: .venv's).
set -u
out=${RESULTS_DIR:-results}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
log="$out/gpu_checks.log"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(gputest 3m scale)
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
for s in "${steps[@]}"; do
  case $s in
    gputest | 3m | scale | mmm2) ;;
    *) echo "gpu_checks: unknown step '$s' (gputest, 3m, scale, mmm2)" >&2; exit 2 ;;
  esac
done

"$python" -c 'import ray, rllib_qmix' 2>/dev/null || {
  echo "gpu_checks: $python cannot import ray and rllib_qmix; install first: make train PIP_CONSTRAINTS=" >&2
  exit 1
}
"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || {
  echo "gpu_checks: torch sees no CUDA device here (no GPU, or a CPU build of torch: install with" \
    "make train PIP_CONSTRAINTS=)" >&2
  exit 1
}

run_step() {  # run_step LIMIT_S CMD...: runs CMD under a time limit, logging it; never aborts the script
  local limit=$1
  shift
  echo "== $(date -u +%T) (limit ${limit}s) $*" | tee -a "$log"
  timeout "$limit" "$@" 2>&1 | tee -a "$log"
  echo "== rc=${PIPESTATUS[0]} at $(date -u +%T)" | tee -a "$log"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$log"
echo "cpus: $(nproc)" | tee -a "$log"
for s in "${steps[@]}"; do
  case $s in
    gputest) run_step 180 "$python" -m pytest -q -p no:cacheprovider tests/algorithm/test_gpu.py ;;
    3m) run_step 300 "$python" benchmarks/learning.py smac --seeds 0 --eval-every 10000 --stop-at-target \
      --set num_gpus_per_learner=1 --set num_env_runners=8 --set num_envs_per_env_runner=4 --tag gpu --out "$out" ;;
    scale) run_step 360 "$python" benchmarks/scale_out.py --maps MMM2 --runners 1 2 4 8 12 --learner-gpus 1 0 \
      --steps 4000 --out "$out" ;;
    mmm2) run_step 540 "$python" benchmarks/learning.py smac_mmm2_gpu --seeds 0 --eval-every 100000 \
      --max-steps "${MMM2_STEPS:-300000}" --out "$out" ;;
    *) echo "gpu_checks: unknown step '$s' (gputest, 3m, scale, mmm2)" >&2; exit 2 ;;
  esac
done
