#!/usr/bin/env bash
# make demo: the data chain on real examples (the real_tiny human and mouse loci), then a report.
# Later stages (training, evaluation, variant scoring) join as they land.
set -euo pipefail
OUT=${1:-demo_out}
CR=.venv/bin/crossreg
DATA=tests/data/real_tiny
mkdir -p "$OUT"
manifests=()
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
  echo "Data layer on the real_tiny human (hg38) and mouse (mm10) loci: windows, baselines,"
  echo "shards written in two parallel chunks, then verified into a manifest."
  echo
  $CR inspect "${manifests[@]}"
} > "$OUT/report.md.tmp"
mv "$OUT/report.md.tmp" "$OUT/report.md"
echo "report: $OUT/report.md"
