#!/usr/bin/env bash
# Tinybatch's CPU per job, phase by phase (add, cut, dispatch, outcome, resume, ...), from a perf profile of
# fixed-size runs of one compare scenario. Only the samples inside the measured windows count.
#
#   scripts/profile-phases.sh S1            # 3 runs of S1 (10 M jobs each)
#   scripts/profile-phases.sh S3-steady 5   # 5 runs of S3-steady
#   OUT=/tmp/phases scripts/profile-phases.sh S2-16
#
# Needs perf (Debian: linux-perf). perf's software cpu-clock event is enough (no hardware counters needed): each
# sample stands for the same slice of CPU time, so a phase's share of samples times the CPU per job is its CPU per
# job. The phase rules are in bench/Tinybatch.Benchmarks/Profile/phases.txt.
set -euo pipefail

SCENARIO="${1:-S1}"
RUNS="${2:-3}"
IMPL="${IMPL:-Tinybatch}"
FREQ="${FREQ:-2999}"
OUT="${OUT:-${TMPDIR:-/tmp}/tinybatch-phases}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench/Tinybatch.Benchmarks"
DLL="$BENCH/bin/Release/net10.0/Tinybatch.Benchmarks.dll"

command -v perf >/dev/null || { echo "profile-phases.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"
dotnet build "$BENCH" -c Release -v quiet -nologo >&2

# PerfMapEnabled: JIT-compiled code is named in /tmp/perf-PID.map. ReadyToRun=0: the framework's precompiled code
# is compiled by the JIT too, so it is named as well. CLOCK_MONOTONIC: the clock of the runs' windows.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_ReadyToRun=0 \
  perf record -k CLOCK_MONOTONIC -F "$FREQ" -g -o "$OUT/perf.data" -- \
  dotnet "$DLL" profile --scenario "$SCENARIO" --impl "$IMPL" --runs "$RUNS" | tee "$OUT/runs.log"
perf script -i "$OUT/perf.data" -F comm,tid,time,period,ip,sym,dso > "$OUT/samples.txt" 2>/dev/null
dotnet "$DLL" phases --samples "$OUT/samples.txt" --runs "$OUT/runs.log" | tee "$OUT/phases.md"
