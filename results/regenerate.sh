#!/usr/bin/env bash
# Regenerate the reference leaderboard in results/: the demo's zoo models on the embedded simulated
# benchmark, the same models on the real-data benchmarks (macaque V4 of Cowley et al. 2023, the
# Kriegeskorte et al. 2008 IT RDMs, the Allen two-photon mouse area RDMs; from $BRAINALIGN_SHARED_DATA,
# default ../shared/data), then
# every report format from the records. Offline, about 5 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
brainalign demo --out brainalign-demo --quiet >/dev/null
allen=()
for area in VISp VISl VISal VISrl VISam VISpm; do allen+=(--benchmark "allen2p.$area"); done
for model in pixels alexnet_bn64; do
    brainalign score "$model" --benchmark cowley2023.V4 --benchmark 'kriegeskorte2008.*' "${allen[@]}" \
        --results brainalign-demo/results --quiet >/dev/null
done
brainalign score timm:resnet18 --layers layer1,layer2,layer3,layer4,global_pool \
    --benchmark cowley2023.V4 --benchmark 'kriegeskorte2008.*' "${allen[@]}" --results brainalign-demo/results --quiet >/dev/null
brainalign report --results brainalign-demo/results --overwrite --title "brainalign reference leaderboard" \
    --csv results/leaderboard.csv --layers-csv results/layers.csv --summary-csv results/summary.csv \
    --html results/leaderboard.html --markdown results/leaderboard.md
