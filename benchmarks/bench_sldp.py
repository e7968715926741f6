"""SLDP benchmark: crossreg.sldp against the reference sldp 1.1.5 on the same inputs, in one run.

Inputs: the real 1000 Genomes panel (``/work/shared/data/ld_panel_1kg_eur/reference.{1..22}``,
3,475 HapMap3 SNPs, 489 people) turned into a case by
``tests/data/sldp_reference/make_case.py`` (``build``): LD blocks of ``--block-snps`` SNPs,
85 % print SNPs, simulated summary statistics, 4 target and 3 background annotations.

Timed (wall clock, after imports; best of ``--repeats``):

* **panel preprocessing**: ours ``read_panel`` + ``preprocess_panel`` (standardisation,
  truncated eigenbases, LD scores, cache write) against the reference's
  ``preprocessrefpanel`` (SVD of R and of R^2 per block);
* **annotations**: ours ``compute_profiles`` against ``preprocessannot``;
* **regression** (T = ``--T`` sign flips, ``--jk-blocks`` chunks, background on): ours
  ``run_sldp`` with the profiles, ``rng="reference"`` (which also does what
  ``preprocesspheno`` does) against the reference's ``sldp -bothp`` alone and
  ``preprocesspheno`` + ``sldp``; also ours with the default ``rng="fast"``.

The reference runs in its own venv (``--reference-venv``, default ``/tmp/sldp_ref``; made
by ``tests/data/sldp_reference/run_reference.sh``), patched by ``patch_reference.py``, each
step's ``main()`` timed inside its process after its imports. Without it only our timings
are printed. The numbers of both are compared: mu, se, rf, z_fast, p_fast (max relative
difference) and the sign-flip p (identical or not).

usage: python benchmarks/bench_sldp.py [--reference-venv DIR] [--workdir DIR] [--block-snps 3 12]
                                       [--T 1000000] [--jk-blocks 300] [--repeats 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CASE_DIR = ROOT / "tests" / "data" / "sldp_reference"
CHROMS = [str(c) for c in range(1, 23)]

DRIVER = r"""
import importlib, sys, time
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot, numpy, pandas, scipy.stats, pysnptools.snpreader, gprim.dataset, gprim.annotation
name = sys.argv[1]
mod = importlib.import_module(name)
for extra in ("sldp.weights", "sldp.chunkstats", "sldp.storyteller", "ypy.memo", "ypy.fs"):
    importlib.import_module(extra)
sys.argv = [name] + sys.argv[2:]
t = time.perf_counter()
mod.main()
print("BENCH_SECONDS", time.perf_counter() - t)
"""


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_sannot(case: Path, stem: str) -> pd.DataFrame:
    frames = [pd.read_csv(case / "annot" / f"{stem}.{c}.sannot.gz", sep="\t", dtype={"SNP": str}) for c in CHROMS]
    return pd.concat(frames, ignore_index=True).drop(columns=["CHR", "BP"]).rename(columns={"SNP": "snp", "A1": "a1", "A2": "a2"})


def best(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def ours(case: Path, work: Path, args) -> dict:
    from crossreg.io.plink import read_panel
    from crossreg.io.sumstats import read_sumstats
    from crossreg.sldp import compute_profiles, preprocess_panel, read_ldscores, read_print_snps, run_sldp

    print_snps = read_print_snps(case / "print_snps.txt")

    def prep():
        panels = read_panel(case / "panel" / "reference.", CHROMS)
        return preprocess_panel(panels, case / "blocks.bed", print_snps=print_snps, cache_dir=work / "cache", rebuild=True)

    t_prep, cache = best(prep, args.repeats)
    targets, background = read_sannot(case, "targets"), read_sannot(case, "background")
    t_annot, profiles = best(lambda: compute_profiles(cache, targets, background=background), args.repeats)
    sumstats = read_sumstats(case / "pheno.sumstats.gz")
    ld = read_ldscores(case / "ldscores" / "ld.")
    kw = dict(profiles=profiles, ldscores=ld, T=args.T, seed=0, jk_blocks=args.jk_blocks)
    t_reg, result = best(lambda: run_sldp(cache, None, sumstats, rng="reference", **kw), args.repeats)
    t_fast, fast = best(lambda: run_sldp(cache, None, sumstats, rng="fast", **kw), args.repeats)
    return {"prep": t_prep, "annot": t_annot, "regression": t_reg, "regression_fast": t_fast, "result": result,
            "fast": fast, "chunks": int(result["n_chunks"].iloc[0]), "blocks": int(result["n_blocks"].iloc[0])}


def reference(case: Path, work: Path, venv: Path, args) -> dict:
    run_ref = load_module(CASE_DIR / "run_reference.py", "sldp_run_reference")
    subprocess.run([str(venv / "bin" / "python"), str(CASE_DIR / "patch_reference.py")], check=True, capture_output=True)
    ref = work / "ref"
    for name in ("panel", "annot", "ldscores"):
        shutil.copytree(case / name, ref / name, dirs_exist_ok=True)
    for name in ("blocks.bed", "print_snps.txt", "pheno.sumstats.gz"):
        shutil.copyfile(case / name, ref / name)
    print_snps = set((case / "print_snps.txt").read_text().split())
    (ref / "reg").mkdir(exist_ok=True)
    for c in CHROMS:
        run_ref.write_frq(ref / "panel" / f"reference.{c}")
        lines = [line for line in open(ref / "panel" / f"reference.{c}.bim") if line.split()[1] in print_snps]
        (ref / "reg" / f"reference.{c}.bim").write_text("".join(lines))
    driver = ref / "driver.py"
    driver.write_text(DRIVER)
    log = open(work / "reference.log", "w")

    def step(module: str, argv: list[str]) -> float:
        times = []
        for _ in range(args.repeats):
            out = subprocess.run([str(venv / "bin" / "python"), str(driver), module, *argv], check=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            log.write(out.stdout)
            times.append(float(out.stdout.strip().splitlines()[-1].split()[1]))
        return min(times)

    chroms = ["--chroms", *CHROMS]
    common = ["--bfile-chr", f"{ref}/panel/reference.", "--print-snps", f"{ref}/print_snps.txt", "--ld-blocks", f"{ref}/blocks.bed"]
    t_prep = step("sldp.preprocessrefpanel", [*common, "--svd-stem", f"{ref}/svd/", *chroms])
    t_annot = step("sldp.preprocessannot", ["--sannot-chr", f"{ref}/annot/targets.", f"{ref}/annot/background.", *common, *chroms])
    t_pheno = step("sldp.preprocesspheno", ["--sumstats-stem", f"{ref}/pheno", "--refpanel-name", "KG3.95", *common,
                                             "--svd-stem", f"{ref}/svd/", "--ldscores-chr", f"{ref}/ldscores/ld.", *chroms])
    t_reg = step("sldp.sldp", ["--outfile-stem", f"{ref}/out", "--pss-chr", f"{ref}/pheno.KG3.95/", "--sannot-chr",
                               f"{ref}/annot/targets.", "--background-sannot-chr", f"{ref}/annot/background.",
                               "--svd-stem", f"{ref}/svd/", "--bfile-reg-chr", f"{ref}/reg/reference.", "--ld-blocks",
                               f"{ref}/blocks.bed", "--T", str(args.T), "--jk-blocks", str(args.jk_blocks), "--seed", "0",
                               "-bothp", *chroms])
    log.close()
    result = pd.read_csv(f"{ref}/out.gwresults", sep="\t")
    result["annotation"] = result["annot"].str.removesuffix(".R")
    return {"prep": t_prep, "annot": t_annot, "pheno": t_pheno, "regression": t_reg, "result": result.set_index("annotation")}


def compare(mine: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    mine = mine.set_index("annotation").loc[theirs.index]
    out = {}
    for a, b in (("mu", "mu"), ("se", "se(mu)"), ("rf", "rf"), ("z_fast", "z_fast"), ("p_fast", "p_fast"), ("z", "z")):
        out[a] = float(np.max(np.abs(mine[a].to_numpy() / theirs[b].to_numpy() - 1)))
    out["p_identical"] = bool(np.array_equal(mine["p"].to_numpy(), theirs["p"].to_numpy()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-venv", default="/tmp/sldp_ref")
    ap.add_argument("--workdir", default=None, help="work folder (default: temporary, removed)")
    ap.add_argument("--source", default=None,
                    help="folder of reference.<chrom>.bed/.bim/.fam (default: the shared 22-chromosome panel when "
                         "present, else the 4 chromosomes kept in tests/data/sldp_reference/panel)")
    ap.add_argument("--block-snps", type=int, nargs=2, default=(3, 12), metavar=("MIN", "MAX"))
    ap.add_argument("--T", type=int, default=1_000_000)
    ap.add_argument("--jk-blocks", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", default=None, help="write the figures here")
    args = ap.parse_args()
    global CHROMS
    if args.source is None:
        shared = Path("/work/shared/data/ld_panel_1kg_eur")
        if (shared / "reference.22.bed").is_file():
            args.source = str(shared)
        else:
            args.source = str(CASE_DIR / "panel")
    CHROMS = [c for c in CHROMS if (Path(args.source) / f"reference.{c}.bed").is_file()]
    if not CHROMS:
        raise SystemExit(f"--source {args.source}: no reference.<chrom>.bed files")
    print(f"panel: {args.source}, chromosome(s) {', '.join(CHROMS)}")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_sldp_"))
    work.mkdir(parents=True, exist_ok=True)
    make_case = load_module(CASE_DIR / "make_case.py", "sldp_make_case")
    summary = make_case.build(work / "case", CHROMS, args.source, tuple(args.block_snps))
    print(f"case: {summary} (blocks of {args.block_snps[0]}-{args.block_snps[1]} SNPs), T={args.T}, jk-blocks={args.jk_blocks}")

    mine = ours(work / "case", work, args)
    figures = {"case": summary, "ours": {k: v for k, v in mine.items() if not isinstance(v, pd.DataFrame)}}
    print(f"ours: preprocessing {mine['prep']:.2f} s, profiles {mine['annot']:.2f} s, regression {mine['regression']:.2f} s "
          f"(reference RNG), {mine['regression_fast']:.2f} s (fast RNG); {mine['blocks']} blocks, {mine['chunks']} chunks")
    venv = Path(args.reference_venv)
    if (venv / "bin" / "python").exists():
        theirs = reference(work / "case", work, venv, args)
        diff = compare(mine["result"], theirs["result"])
        figures["reference"] = {k: v for k, v in theirs.items() if not isinstance(v, pd.DataFrame)}
        figures["max_relative_difference"] = diff
        rows = [
            ("panel preprocessing", theirs["prep"], mine["prep"]),
            ("annotation profiles", theirs["annot"], mine["annot"]),
            ("regression (sldp alone vs run_sldp)", theirs["regression"], mine["regression"]),
            ("regression (preprocesspheno + sldp)", theirs["pheno"] + theirs["regression"], mine["regression"]),
            ("regression, our fast RNG", theirs["pheno"] + theirs["regression"], mine["regression_fast"]),
        ]
        print(f"{'step':40s} {'reference s':>12s} {'ours s':>9s} {'speed-up':>9s}")
        for name, t_ref, t_ours in rows:
            print(f"{name:40s} {t_ref:12.2f} {t_ours:9.2f} {t_ref / t_ours:8.1f}x")
        figures["speedup"] = {name: t_ref / t_ours for name, t_ref, t_ours in rows}
        print("max relative difference: " + ", ".join(f"{k} {v:.1e}" for k, v in diff.items() if k != "p_identical")
              + f"; sign-flip p identical: {diff['p_identical']}")
        ok = (theirs["prep"] / mine["prep"] >= 5 and theirs["regression"] >= mine["regression"] and diff["p_identical"]
              and max(v for k, v in diff.items() if k != "p_identical") < 1e-6)
        print("targets (preprocessing >= 5x, regression no slower, identical numbers):", "met" if ok else "NOT met")
    else:
        print(f"reference venv {venv} not found: reference not timed (make it with tests/data/sldp_reference/run_reference.sh)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=float) + "\n")
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
