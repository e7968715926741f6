"""Variant-scoring benchmark: planted causal variants of the simulated demo world, and SNPs/s.

Run with ``python benchmarks/bench_variants.py --demo-out DIR`` where DIR is the output of
``crossreg run -params-file conf/demo.yaml --outdir DIR`` (``make demo`` writes ``demo_out``):
the trained model ``DIR/train/model_best``, the world ``DIR/simulate/world`` and the human
shard manifest ``DIR/shards/human/manifest.json`` (track names). Without ``--demo-out`` the
whole demo chain is run first into ``--outdir`` (default: a temporary folder; about 10
minutes on 2 cores).

1. Accuracy: the world's ``human/variants.vcf.gz`` is scored with the human head
   (``crossreg score-variants`` defaults: forward + reverse complement, shift 0; ``--shifts``
   to change). Printed: the AUROC of max |SAD| over the DNASE and CAGE tracks, planted causal
   variants (``causal_break``, ``causal_create``) against neutral ones (target >= 0.75), and
   the fraction of causal variants whose SAD on the DNase track of the truth's ``best_cell``
   has the truth's ``expected_sign``.
2. Speed, measured in this run on the same SNPs and the same loaded model: scoring at batch 8
   (REF and ALT of several SNPs and their RC in one model call, constant batch shape) against a
   naive reference that predicts one window at a time (REF and ALT separately, batch 1, same
   ensemble). Both are warmed up first (compilation not timed); the best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_AUROC = 0.75


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUROC of positives over negatives (ties count one half)."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def demo_paths(demo_out: Path) -> dict:
    paths = {
        "model": demo_out / "train" / "model_best",
        "world": demo_out / "simulate" / "world",
        "manifest": demo_out / "shards" / "human" / "manifest.json",
    }
    for name, p in paths.items():
        if not p.exists():
            raise SystemExit(f"bench_variants: {p} ({name}) not found; is {demo_out} a `crossreg run` demo output?")
    return paths


def run_demo(outdir: Path) -> None:
    print(f"running the demo chain into {outdir} (crossreg run -params-file conf/demo.yaml) ...", flush=True)
    cmd = [sys.executable, "-m", "crossreg", "run", "-params-file", str(ROOT / "conf" / "demo.yaml"), "--outdir", str(outdir)]
    subprocess.run(cmd, check=True, cwd=ROOT)


def accuracy(paths: dict, out: Path, shifts: str, batch_size: int) -> dict:
    import h5py
    import pandas as pd

    from crossreg.variants import score_variants

    world = paths["world"]
    t0 = time.perf_counter()
    summary = score_variants(
        paths["model"], "human", world / "human" / "genome.fa.gz", world / "human" / "variants.vcf.gz", out,
        shifts=shifts, batch_size=batch_size, manifest=paths["manifest"],
    )
    seconds = time.perf_counter() - t0
    with h5py.File(out, "r") as h5:
        sad = h5["SAD"][:].astype(np.float32)
        ids = h5["snp"].asstr()[:].tolist()
        labels = h5["target_labels"].asstr()[:].tolist()
    truth = pd.read_csv(world / "truth" / "variants.tsv", sep="\t").set_index("id").loc[ids]
    assay_cols = [i for i, d in enumerate(labels) if d.split(":")[0] in ("DNASE", "CAGE")]
    causal = (truth.label != "neutral").to_numpy()
    strength = np.abs(sad[:, assay_cols]).max(axis=1)
    by_label = {lab: auroc(strength[(truth.label == lab).to_numpy()], strength[~causal])
                for lab in ("causal_break", "causal_create")}
    dnase = {d.split(":", 1)[1]: i for i, d in enumerate(labels) if d.startswith("DNASE:")}
    col = np.array([dnase[c] for c in truth.best_cell])
    sign = np.sign(sad[np.arange(len(sad)), col])
    expected = truth.expected_sign.to_numpy()
    return {
        "snps": summary["snps"], "skipped": summary["skipped"], "causal": int(causal.sum()), "neutral": int((~causal).sum()),
        "tracks_used": [labels[i] for i in assay_cols],
        "auroc": auroc(strength[causal], strength[~causal]), "auroc_by_label": by_label,
        "sign_agreement": float((sign[causal] == expected[causal]).mean()),
        "sign_agreement_by_label": {lab: float((sign[m] == expected[m]).mean()) for lab in ("causal_break", "causal_create")
                                    for m in [(truth.label == lab).to_numpy()]},
        "seconds_end_to_end": seconds, "snps_per_s_end_to_end": summary["snps"] / seconds,
    }


def speed(paths: dict, n_snps: int, batch_size: int, repeats: int) -> dict:
    from crossreg.io.fasta import FastaGenome
    from crossreg.variants import load_predictor
    from crossreg.variants.sad import member_scores, score_stream
    from crossreg.variants.vcf import read_vcf
    from crossreg.variants.windows import SnpWindows

    world = paths["world"]
    predictor = load_predictor(paths["model"], "human")
    snps = read_vcf(world / "human" / "variants.vcf.gz").snps[:n_snps]
    with FastaGenome(world / "human" / "genome.fa.gz") as fasta:
        maker = SnpWindows(fasta, predictor.seq_length, [0], rc=True)
        rc_flags = [r for _, r in maker.members]

        def batched() -> list:
            inputs = (maker.inputs(s.chrom, s.pos, s.ref, s.alt) for s in snps)
            return [s["SAD"] for s in score_stream(predictor, inputs, maker.members, batch_size)]

        def naive() -> list:
            out = []
            for s in snps:
                x = maker.inputs(s.chrom, s.pos, s.ref, s.alt).astype(np.float32)
                preds = np.stack([predictor.predict_fn(x[k : k + 1])[0] for k in range(len(x))])  # one window per call
                out.append(member_scores(preds[0::2], preds[1::2], rc_flags, ["SAD"])["SAD"].astype(np.float32))
            return out

        # warm-up: compile both batch shapes
        predictor.predict_fn(np.zeros((batch_size, predictor.seq_length, 4), np.float32))
        predictor.predict_fn(np.zeros((1, predictor.seq_length, 4), np.float32))
        times = {"batched": [], "naive": []}
        results = {}
        for _ in range(repeats):
            for name, fn in (("batched", batched), ("naive", naive)):
                t0 = time.perf_counter()
                results[name] = fn()
                times[name].append(time.perf_counter() - t0)
    diff = float(np.abs(np.stack(results["batched"]) - np.stack(results["naive"])).max())
    scale = float(np.abs(np.stack(results["naive"])).max())
    best = {k: min(v) for k, v in times.items()}
    return {
        "snps": len(snps), "windows_per_snp": maker.windows_per_snp, "batch_size": batch_size,
        "batched_snps_per_s": len(snps) / best["batched"], "naive_snps_per_s": len(snps) / best["naive"],
        "ratio": best["naive"] / best["batched"], "times": times,
        "max_abs_difference": diff, "max_abs_sad": scale,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-out", type=Path, help="existing `crossreg run` demo output (else run the demo)")
    parser.add_argument("--outdir", type=Path, help="where to run the demo when --demo-out is not given")
    parser.add_argument("--shifts", default="0", help="shifts for the accuracy run (default 0)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--speed-snps", type=int, default=64, help="SNPs timed in the speed comparison (default 64)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    tmp = tempfile.TemporaryDirectory(prefix="bench_variants.")
    if args.demo_out is None:
        demo_out = args.outdir or Path(tmp.name) / "demo"
        run_demo(demo_out)
    else:
        demo_out = args.demo_out
    paths = demo_paths(demo_out)
    acc = accuracy(paths, Path(tmp.name) / "scores.h5", args.shifts, args.batch_size)
    spd = speed(paths, args.speed_snps, args.batch_size, args.repeats)
    load = os.getloadavg()
    verdict = "PASS" if acc["auroc"] >= TARGET_AUROC else "BELOW TARGET"
    print(f"model {paths['model']}; {acc['snps']} SNPs scored ({acc['causal']} causal, {acc['neutral']} neutral), "
          f"skipped {acc['skipped'] or 'none'}; shifts {args.shifts}, forward + reverse complement")
    print(f"AUROC of max |SAD| over {len(acc['tracks_used'])} DNASE+CAGE tracks, causal vs neutral: {acc['auroc']:.3f} "
          f"(target >= {TARGET_AUROC}: {verdict}); break {acc['auroc_by_label']['causal_break']:.3f}, "
          f"create {acc['auroc_by_label']['causal_create']:.3f}")
    print(f"sign of SAD on the best_cell DNase track = expected_sign: {acc['sign_agreement']:.1%} of causal variants "
          f"(break {acc['sign_agreement_by_label']['causal_break']:.1%}, "
          f"create {acc['sign_agreement_by_label']['causal_create']:.1%})")
    print(f"end to end (model load, VCF, FASTA, HDF5): {acc['snps_per_s_end_to_end']:.1f} SNPs/s "
          f"({acc['seconds_end_to_end']:.1f} s)")
    print(f"speed on {spd['snps']} SNPs x {spd['windows_per_snp']} windows: batch {spd['batch_size']} "
          f"{spd['batched_snps_per_s']:.2f} SNPs/s vs naive one window per call {spd['naive_snps_per_s']:.2f} SNPs/s: "
          f"{spd['ratio']:.2f}x (max |difference| {spd['max_abs_difference']:.2e} of max |SAD| {spd['max_abs_sad']:.3g}); "
          f"load average {load[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"accuracy": acc, "speed": spd, "load": load}, indent=1) + "\n")
    tmp.cleanup()


if __name__ == "__main__":
    main()
