#!/usr/bin/env bash
# make demo: a simulated two-species world and the real_tiny human and mouse loci through the
# data chain (split -> windows -> baselines -> shards in parallel chunks -> manifest), then a report.
# Later stages (training, evaluation, variant scoring) join as they land.
set -euo pipefail
OUT=${1:-demo_out}
CR=.venv/bin/crossreg
DATA=tests/data/real_tiny
mkdir -p "$OUT"
manifests=()

# baselines, shards (two chunks in parallel) and manifest of one genome; windows are in $W
prepare_shards() {  # genome folder W, then the common genome arguments, then --targets FILE
  local W=$1; shift
  $CR baselines "$@" --out "$W/baselines.tsv"
  local shard_args=("$@" --windows "$W/windows.bed" --baselines "$W/baselines.tsv" --windows-per-shard 16)
  $CR shards "${shard_args[@]}" --chunk 0 --of 2 --out-dir "$W/shards" &
  $CR shards "${shard_args[@]}" --chunk 1 --of 2 --out-dir "$W/shards" &
  wait
  $CR manifest "${shard_args[@]}" --shard-dir "$W/shards"
  manifests+=("$W/shards/manifest.json")
}

# 1. the simulated world: two genomes, a chain between them, tracks with known truth
WORLD=$OUT/world
echo "== simulate (demo preset)"
$CR simulate --preset demo --seed 0 --out "$WORLD" > "$OUT/simulation_summary.json"
echo "== orthology-aware split (human-mouse chain)"
$CR split --genome "human=$WORLD/human/genome.fa.gz" --genome "mouse=$WORLD/mouse/genome.fa.gz" \
  --chain "human:mouse:$WORLD/alignment/human_to_mouse.chain" --region-size 250000 --min-shared-bp 25000 \
  --out-dir "$OUT/sim_split" | tee "$OUT/sim_split.txt"
for genome in human mouse; do
  G=$WORLD/$genome
  W=$OUT/sim_$genome
  mkdir -p "$W"
  common=(--genome "$genome" --fasta "$G/genome.fa.gz" --blacklist "$G/blacklist.bed" --unmappable "$G/unmappable.bed")
  echo "== $genome: windows, baselines, shards, manifest"
  $CR windows "${common[@]}" --folds "$OUT/sim_split/$genome.folds.bed" --out "$W/windows.bed"
  prepare_shards "$W" "${common[@]}" --targets "$G/targets.txt"
done

# 2. real loci
for genome in hg38 mm10; do
  D=$DATA/$genome
  W=$OUT/$genome
  mkdir -p "$W"
  common=(--genome "$genome" --fasta "$D/genome.fa.gz" --blacklist "$D/blacklist.bed")
  echo "== $genome: windows, baselines, shards, manifest"
  $CR windows "${common[@]}" --windows-bed "$D/windows.bed" --out "$W/windows.bed"
  prepare_shards "$W" "${common[@]}" --targets "$D/targets.txt"
done
{
  echo "# crossreg demo report"
  echo
  echo "The data layer on a simulated two-species world (human, mouse; demo preset, seed 0) and"
  echo "on the real_tiny human (hg38) and mouse (mm10) loci: orthology-aware split, windows,"
  echo "baselines, shards written in two parallel chunks, then verified into a manifest."
  echo
  echo "## Orthology-aware split of the simulated world"
  echo
  echo '```'
  cat "$OUT/sim_split.txt"
  echo '```'
  echo
  echo "## Shards"
  echo
  $CR inspect "${manifests[@]}"
} > "$OUT/report.md.tmp"
mv "$OUT/report.md.tmp" "$OUT/report.md"
echo "report: $OUT/report.md"
