#!/usr/bin/env bash
# Regenerate the reference leaderboard in results/: the demo's zoo models on the embedded simulated
# benchmark (offline, a few minutes on 2 CPU cores), then every report format from its records.
set -euo pipefail
cd "$(dirname "$0")/.."
brainalign demo --out brainalign-demo --quiet >/dev/null
brainalign report --results brainalign-demo/results --overwrite --title "brainalign reference leaderboard" \
    --csv results/leaderboard.csv --layers-csv results/layers.csv --summary-csv results/summary.csv \
    --html results/leaderboard.html --markdown results/leaderboard.md
