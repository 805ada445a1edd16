#!/usr/bin/env bash
# Runs the event-stream demo's --compare N times and prints each "ceiling:" line and the medians: how close the demo
# comes to its store's own speed (the sink-alone row), on a shared machine where one run is not enough.
#
#   scripts/demo-ceiling.sh 5                                   # SQLite, default settings
#   scripts/demo-ceiling.sh 5 --postgres "$TINYBATCH_PG"        # PostgreSQL
set -euo pipefail

RUNS="${1:-5}"
shift || true
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEMO="$ROOT/samples/Tinybatch.EventStream"
dotnet build "$DEMO" -c Release -v quiet -nologo >&2
for _ in $(seq "$RUNS"); do
  dotnet "$DEMO/bin/Release/net10.0/Tinybatch.EventStream.dll" --plain --compare --baseline-events 200 "$@" | grep '^ceiling:'
done | tee /dev/stderr | awk '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "sink_alone_per_second") s[NR] = kv[2]; if (kv[1] == "demo_per_second") d[NR] = kv[2]; if (kv[1] == "ratio") r[NR] = kv[2] } }
  END { printf "median of %d: sink_alone_per_second=%.0f demo_per_second=%.0f ratio=%.2f\n", NR, median(s, NR), median(d, NR), median(r, NR) }'
