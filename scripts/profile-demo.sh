#!/usr/bin/env bash
# Where the event-stream demo's CPU goes (making events, the batcher, binding, inserts, commits, ...), from a perf
# profile of one run of the demo; any demo options may follow, e.g.
#
#   scripts/profile-demo.sh                        # 1,000,000 events into SQLite
#   scripts/profile-demo.sh --postgres "$TINYBATCH_PG"
#   OUT=/tmp/demo-profile scripts/profile-demo.sh --events 500000
#
# The rules are in bench/Tinybatch.Benchmarks/Profile/demo-phases.txt. CPU ns per event counts every thread of the
# process over the whole run (start-up and the verification included: their rows say how much).
set -euo pipefail

FREQ="${FREQ:-1999}"
OUT="${OUT:-${TMPDIR:-/tmp}/tinybatch-demo-profile}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/bench/Tinybatch.Benchmarks"
DEMO="$ROOT/samples/Tinybatch.EventStream"

command -v perf >/dev/null || { echo "profile-demo.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"
dotnet build "$BENCH" -c Release -v quiet -nologo >&2
dotnet build "$DEMO" -c Release -v quiet -nologo >&2

# ReadyToRun stays on: a demo run is too short to pay for compiling the whole framework with the JIT.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  perf record -F "$FREQ" -g -o "$OUT/perf.data" -- \
  dotnet "$DEMO/bin/Release/net10.0/Tinybatch.EventStream.dll" --plain "$@" | tee "$OUT/demo.log"
EVENTS="$(sed -n 's/^summary: events=\([0-9]*\).*/\1/p' "$OUT/demo.log")"
perf script -i "$OUT/perf.data" -F comm,tid,time,period,ip,sym,dso > "$OUT/samples.txt" 2>/dev/null
dotnet "$BENCH/bin/Release/net10.0/Tinybatch.Benchmarks.dll" phases --samples "$OUT/samples.txt" --jobs "$EVENTS" \
  --rules "$BENCH/bin/Release/net10.0/Profile/demo-phases.txt" --top 3 | tee "$OUT/phases.md"
