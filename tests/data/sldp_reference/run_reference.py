"""Run the reference sldp 1.1.5 (patched, in its own venv) on this folder's case; record its outputs.

usage: VENV/bin/python run_reference.py --venv VENV --out expected/   (see run_reference.sh)

Steps, in a temporary work folder (the case's files are copied there, since the reference
writes beside its inputs):

1. ``reference.{c}.frq`` beside the panel (``preprocessannot`` reads MAF from it; it only
   feeds the ``*_5_50`` columns of ``.info``), from the genotypes with bed_reader; a
   regression-SNP bim ``reg/reference.{c}.bim`` holding the print SNPs only (``sldp``
   aligns its ``.pss.gz`` rows to this bim's rows, as its ``--bfile-reg-chr`` help says).
2. ``preprocessrefpanel``, ``preprocessannot`` (targets, background), ``preprocesspheno``.
3. ``sldp`` runs (all on chromosomes 1 2 21 22, ``--T 1000000``):
   * ``A``: background, ``--jk-blocks 30 --seed 0 -bothp --verbose-thresh 1.1`` (writes the
     per-chunk q, r and the background coefficients of every target);
   * ``B``: no background, ``--jk-blocks 300 --seed 7 -bothp --verbose-thresh 1.1``;
   * ``C``: background, ``--jk-blocks 30 -fastp`` (z and p are the fast ones).
4. Copies to ``--out``: ``{A,B,C}.gwresults``, ``{A,B}.pheno.<annot>.R.{chunks,coeffs}``,
   ``pheno.info`` (h2g, sigma2g, Nbar), ``timings.json`` (seconds per step) and
   ``versions.json`` (the reference venv's package versions).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHROMS = ("1", "2", "21", "22")


def write_frq(stem: Path) -> None:
    from bed_reader import open_bed

    bim = [line.split() for line in open(f"{stem}.bim")]
    with open_bed(f"{stem}.bed", count_A1=True) as bed:
        g = bed.read(dtype="float64")
    freq = np.nanmean(g, axis=0) / 2
    maf = np.minimum(freq, 1 - freq)
    called = np.sum(~np.isnan(g), axis=0) * 2
    with open(f"{stem}.frq", "w") as out:
        out.write(" CHR SNP A1 A2 MAF NCHROBS\n")
        for b, f, n in zip(bim, maf, called):
            out.write(f"{b[0]} {b[1]} {b[4]} {b[5]} {f:.6g} {n}\n")


def run(cmd: list[str], log, timings: dict, name: str) -> None:
    t0 = time.perf_counter()
    log.write(f"\n$ {' '.join(cmd)}\n")
    log.flush()
    subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
    timings[name] = round(time.perf_counter() - t0, 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", default="/tmp/sldp_ref")
    ap.add_argument("--out", default=str(HERE / "expected"))
    ap.add_argument("--work", default=None, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    venv_bin = Path(args.venv) / "bin"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="sldp_ref_"))
    work.mkdir(parents=True, exist_ok=True)
    for name in ("panel", "annot", "ldscores"):
        shutil.copytree(HERE / name, work / name, dirs_exist_ok=True)
    for name in ("blocks.bed", "print_snps.txt", "pheno.sumstats.gz"):
        shutil.copyfile(HERE / name, work / name)
    print_snps = set((HERE / "print_snps.txt").read_text().split())
    (work / "reg").mkdir(exist_ok=True)
    for c in CHROMS:
        write_frq(work / "panel" / f"reference.{c}")
        lines = [line for line in open(work / "panel" / f"reference.{c}.bim") if line.split()[1] in print_snps]
        (work / "reg" / f"reference.{c}.bim").write_text("".join(lines))
    chroms = ["--chroms", *CHROMS]
    common = ["--bfile-chr", f"{work}/panel/reference.", "--print-snps", f"{work}/print_snps.txt",
              "--ld-blocks", f"{work}/blocks.bed"]
    timings: dict[str, float] = {}
    with open(work / "reference.log", "w") as log:
        run([str(venv_bin / "preprocessrefpanel"), *common, "--svd-stem", f"{work}/svd/", *chroms], log, timings,
            "preprocessrefpanel")
        run([str(venv_bin / "preprocessannot"), "--sannot-chr", f"{work}/annot/targets.", f"{work}/annot/background.",
             *common, *chroms], log, timings, "preprocessannot")
        run([str(venv_bin / "preprocesspheno"), "--sumstats-stem", f"{work}/pheno", "--refpanel-name", "KG3.95",
             *common, "--svd-stem", f"{work}/svd/", "--ldscores-chr", f"{work}/ldscores/ld.", *chroms], log, timings,
            "preprocesspheno")
        base = [str(venv_bin / "sldp"), "--pss-chr", f"{work}/pheno.KG3.95/", "--sannot-chr", f"{work}/annot/targets.",
                "--svd-stem", f"{work}/svd/", "--bfile-reg-chr", f"{work}/reg/reference.", "--ld-blocks",
                f"{work}/blocks.bed", "--T", "1000000", *chroms]
        (work / "out").mkdir(exist_ok=True)
        bg = ["--background-sannot-chr", f"{work}/annot/background."]
        run(base + bg + ["--outfile-stem", f"{work}/out/A", "--jk-blocks", "30", "--seed", "0", "-bothp",
                         "--verbose-thresh", "1.1"], log, timings, "sldp_A")
        run(base + ["--outfile-stem", f"{work}/out/B", "--jk-blocks", "300", "--seed", "7", "-bothp",
                    "--verbose-thresh", "1.1"], log, timings, "sldp_B")
        run(base + bg + ["--outfile-stem", f"{work}/out/C", "--jk-blocks", "30", "-fastp"], log, timings, "sldp_C")
    for path in sorted((work / "out").iterdir()):
        shutil.copyfile(path, out / path.name)
    shutil.copyfile(work / "pheno.KG3.95" / "info", out / "pheno.info")
    (out / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    versions = {d: metadata.version(d) for d in ("sldp", "gprim", "pysnptools", "ypy", "numpy", "pandas", "scipy", "bed-reader")}
    versions["python"] = sys.version.split()[0]
    (out / "versions.json").write_text(json.dumps(versions, indent=1) + "\n")
    print(f"reference outputs in {out} (work folder {work}); timings {timings}")
    if not args.keep and args.work is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
