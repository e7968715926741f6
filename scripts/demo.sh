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
  echo "== $genome: windows, baselines"
  $CR windows "${common[@]}" --folds "$OUT/sim_split/$genome.folds.bed" --out "$W/windows.bed"
  $CR baselines "${common[@]}" --targets "$G/targets.txt" --out "$W/baselines.tsv"
  shard_args=("${common[@]}" --targets "$G/targets.txt" --windows "$W/windows.bed" --baselines "$W/baselines.tsv" --windows-per-shard 16)
  echo "== $genome: shards (2 chunks in parallel), manifest"
  $CR shards "${shard_args[@]}" --chunk 0 --of 2 --out-dir "$W/shards" &
  $CR shards "${shard_args[@]}" --chunk 1 --of 2 --out-dir "$W/shards" &
  wait
  $CR manifest "${shard_args[@]}" --shard-dir "$W/shards"
  manifests+=("$W/shards/manifest.json")
done

# 2. real loci
for genome in hg38 mm10; do
  D=$DATA/$genome
  W=$OUT/$genome
  mkdir -p "$W"
  common=(--genome "$genome" --fasta "$D/genome.fa.gz" --blacklist "$D/blacklist.bed")
  echo "== $genome: windows"
  $CR windows "${common[@]}" --windows-bed "$D/windows.bed" --out "$W/windows.bed"
  echo "== $genome: baselines"
  $CR baselines "${common[@]}" --targets "$D/targets.txt" --out "$W/baselines.tsv"
  shard_args=("${common[@]}" --targets "$D/targets.txt" --windows "$W/windows.bed" --baselines "$W/baselines.tsv" --windows-per-shard 16)
  echo "== $genome: shards (2 chunks in parallel)"
  $CR shards "${shard_args[@]}" --chunk 0 --of 2 --out-dir "$W/shards" &
  $CR shards "${shard_args[@]}" --chunk 1 --of 2 --out-dir "$W/shards" &
  wait
  echo "== $genome: manifest"
  $CR manifest "${shard_args[@]}" --shard-dir "$W/shards"
  manifests+=("$W/shards/manifest.json")
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
