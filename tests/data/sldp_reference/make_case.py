"""Build the small SLDP case of this folder, deterministically, from the real 1000 Genomes panel.

Run from the repository root with the project venv:

    .venv/bin/python tests/data/sldp_reference/make_case.py [--source /work/shared/data/ld_panel_1kg_eur]

Writes (all under this folder):

* ``panel/reference.{1,2,21,22}.bed/.bim/.fam``: the real panel's chromosomes 1, 2, 21, 22
  (707 HapMap3 SNPs, 489 Europeans), bim/fam copied unchanged; in the .bed, 0.3 % of the
  genotypes are set to missing and SNP ``MONO_SNP`` is made monomorphic (all homozygous for
  its A1), so that the reference's missing-genotype and zero-variance paths are exercised.
* ``print_snps.txt``: ~85 % of the panel SNPs (the regression SNPs); every SNP of one
  block is left out, and one block keeps a single print SNP (k = 0 there).
* ``blocks.bed``: contiguous LD blocks of 3-12 SNPs in file order chr1, chr2, chr3 (not in
  the panel), chr6 (an MHC block, dropped), chr21, chr22; one block on chr2 holds no SNP.
* ``ldscores/ld.{1..22}.l2.ldscore.gz`` + ``.l2.M`` + ``.l2.M_5_50``: ldsc-format LD scores
  computed by crossreg (:func:`crossreg.sldp.ldscores.ld_scores`, 1 cM window) for the four
  chromosomes; header-only files with counts 0 for the other 18 (the reference always
  reads all 22).
* ``pheno.sumstats.gz``: ``SNP A1 A2 Z N`` simulated from the panel's LD (whole-chromosome
  R): ``ahat = R beta + e``, ``e ~ N(0, R / N)`` drawn as ``X' g / sqrt(N_ref N)``, with
  ``beta`` = small effects of the ``planted`` and ``weak`` target annotations and of a
  background annotation + polygenic noise; ``Z = sqrt(N) ahat``. Rows: 92 % of the print
  SNPs, some non-print panel SNPs and 4 ids absent from the panel; 10 % with swapped
  alleles (Z negated), 5 % strand-complemented, 3 with mismatched alleles.
* ``annot/targets.{c}.sannot.gz``: ``CHR BP SNP A1 A2 planted weak sparse random``;
  ``annot/background.{c}.sannot.gz``: ``CHR BP SNP A1 A2 maf_lo maf_hi bg_rand``
  (minor-allele signed MAF halves and a random +-1 annotation); 95 % of the panel SNPs,
  with swapped/strand-flipped rows and two ids absent from the panel.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CHROMS = ("1", "2", "21", "22")
SEED = 20240611
N_GWAS = 20_000
SOURCE = "/work/shared/data/ld_panel_1kg_eur"
MONO_SNP = "rs4478859"  # chr1, 40th SNP
COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}


def write_bed(path: Path, genotypes: np.ndarray) -> None:
    """PLINK 1 SNP-major .bed of float copies of A1 (NaN missing), [N, M]."""
    n, m = genotypes.shape
    code = np.full(genotypes.shape, 1, dtype=np.uint8)  # 01 missing
    code[genotypes == 2] = 0  # 00 hom A1
    code[genotypes == 1] = 2  # 10 het
    code[genotypes == 0] = 3  # 11 hom A2
    per = (n + 3) // 4
    padded = np.zeros((m, per * 4), dtype=np.uint8)
    padded[:, :n] = code.T
    packed = padded.reshape(m, per, 4)
    byte = packed[:, :, 0] | (packed[:, :, 1] << 2) | (packed[:, :, 2] << 4) | (packed[:, :, 3] << 6)
    with open(path, "wb") as handle:
        handle.write(b"\x6c\x1b\x01")
        handle.write(byte.astype(np.uint8).tobytes())


def make_blocks(rng, bims: dict[str, pd.DataFrame], block_snps: tuple[int, int] = (3, 12)) -> tuple[pd.DataFrame, dict[str, list[np.ndarray]]]:
    """Contiguous blocks of ``block_snps`` SNPs per panel chromosome, plus the special lines.

    Chromosome order is numeric; chromosome 3 gets two blocks and chromosome 6 an MHC block
    when they are not in the panel. On chromosome 2: a block of one SNP and an empty block.
    """
    rows, groups = [], {}
    lo, hi = block_snps
    for chrom in map(str, range(1, 23)):
        if chrom not in bims:
            if chrom == "3":
                rows += [("chr3", 0, 60_000_000), ("chr3", 60_000_000, 120_000_000)]
            elif chrom == "6":
                rows += [("chr6", 28_000_000, 34_000_000)]
            continue
        bp = bims[chrom]["bp"].to_numpy()
        m = len(bp)
        cuts, i = [], 0
        while i < m:
            i += int(rng.integers(lo, hi + 1))
            if i < m:
                cuts.append(i)
        if chrom == "2" and len(cuts) > 11:  # one block of one SNP
            cuts = sorted(set(cuts + [cuts[5] + 1]))
        edges = [0] + [int((bp[c - 1] + bp[c]) // 2) for c in cuts] + [int(bp[-1]) + 1000]
        if chrom == "2" and len(cuts) > 11:  # an empty block inside the gap after block 10
            c = cuts[10]
            edges = sorted(set(edges + [int((bp[c - 1] + bp[c]) // 2) + 1]))
        for s, e in zip(edges[:-1], edges[1:]):
            rows.append((f"chr{chrom}", s, e))
        starts = np.searchsorted(bp, edges[:-1], side="left")
        ends = np.searchsorted(bp, edges[1:], side="left")
        groups[chrom] = [np.arange(s, e) for s, e in zip(starts, ends)]
    return pd.DataFrame(rows, columns=["chrom", "start", "end"]), groups


def standardise(g: np.ndarray) -> np.ndarray:
    from crossreg.sldp.panel import double_unit

    return double_unit(g)


def flip_rows(rng, frame: pd.DataFrame, value_cols: list[str], swap_frac: float, strand_frac: float) -> pd.DataFrame:
    """Swap alleles (negating values) or complement the strand on random rows."""
    frame = frame.copy()
    u = rng.random(len(frame))
    swap = u < swap_frac
    strand = (u >= swap_frac) & (u < swap_frac + strand_frac)
    a1, a2 = frame["A1"].to_numpy(object).copy(), frame["A2"].to_numpy(object).copy()
    frame.loc[swap, "A1"], frame.loc[swap, "A2"] = a2[swap], a1[swap]
    frame.loc[swap, value_cols] = -frame.loc[swap, value_cols].to_numpy()
    frame.loc[strand, "A1"] = [COMPLEMENT[a] for a in a1[strand]]
    frame.loc[strand, "A2"] = [COMPLEMENT[a] for a in a2[strand]]
    return frame


def write_tsv_gz(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(frame.to_csv(sep="\t", index=False, float_format="%.10g").encode())


def build(out: Path, chroms=CHROMS, source: str | Path = SOURCE, block_snps: tuple[int, int] = (3, 12)) -> dict:
    """Write the case into ``out`` (see the module docstring); returns a summary dict."""
    from crossreg.io.plink import read_panel
    from crossreg.sldp.ldscores import ld_scores, write_ldscores

    rng = np.random.default_rng(SEED)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chroms = [str(c) for c in chroms]
    src = read_panel(Path(source) / "reference.", chroms)
    panel_dir = out / "panel"
    panel_dir.mkdir(exist_ok=True)
    bims, genos = {}, {}
    for chrom in chroms:
        p = src[chrom]
        g = p.genotypes()
        g[rng.random(g.shape) < 0.003] = np.nan
        if MONO_SNP in set(p.bim["snp"]):
            g[:, int(np.flatnonzero(p.bim["snp"] == MONO_SNP)[0])] = 2.0
        write_bed(panel_dir / f"reference.{chrom}.bed", g)
        for ext in ("bim", "fam"):
            shutil.copyfile(f"{p.stem}.{ext}", panel_dir / f"reference.{chrom}.{ext}")
        bims[chrom], genos[chrom] = p.bim, g

    blocks, groups = make_blocks(rng, bims, block_snps)
    blocks.to_csv(out / "blocks.bed", sep="\t", header=False, index=False)

    # print SNPs: ~85 %, one block with none, one block with exactly one
    print_rows = {}
    for chrom in chroms:
        keep = rng.random(len(bims[chrom])) < 0.85
        if chrom == "1" and len(groups["1"]) > 3:
            keep[groups["1"][3]] = False
        if chrom == "21" and len(groups["21"]) > 2:
            g = groups["21"][2]
            keep[g] = False
            keep[g[0]] = True
        print_rows[chrom] = keep
    print_snps = [s for c in chroms for s in bims[c]["snp"][print_rows[c]]]
    (out / "print_snps.txt").write_text("\n".join(print_snps) + "\n")

    # LD scores (ldsc format), all 22 chromosomes
    ld_dir = out / "ldscores"
    ld_dir.mkdir(exist_ok=True)
    xs = {}
    for chrom in chroms:
        x = standardise(genos[chrom])
        xs[chrom] = x
        bim = bims[chrom]
        l2 = ld_scores(x, bim["cm"].to_numpy(), bim["bp"].to_numpy(), window_cm=1.0)
        freq = np.nanmean(genos[chrom], axis=0) / 2
        maf = np.minimum(freq, 1 - freq)
        write_ldscores(ld_dir / "ld.", chrom, pd.DataFrame({"snp": bim["snp"], "bp": bim["bp"], "l2": l2}),
                       m=len(bim), m_5_50=int(np.sum(maf >= 0.05)))
    for chrom in map(str, range(1, 23)):
        if chrom not in chroms:
            write_ldscores(ld_dir / "ld.", chrom, pd.DataFrame({"snp": [], "bp": [], "l2": []}), m=0, m_5_50=0)

    # annotations (per normalised genotype, signed w.r.t. the bim's A1)
    ann, bg = {}, {}
    for chrom in chroms:
        m = len(bims[chrom])
        freq = np.nanmean(genos[chrom], axis=0) / 2
        maf = np.minimum(freq, 1 - freq)
        minor = np.where(freq < 0.5, 1.0, -1.0)
        minor[maf == 0] = 0.0
        ann[chrom] = pd.DataFrame({
            "planted": rng.normal(size=m),
            "weak": rng.normal(size=m),
            "sparse": np.where(rng.random(m) < 0.25, rng.normal(size=m), 0.0),
            "random": rng.normal(size=m),
        })
        bg[chrom] = pd.DataFrame({
            "maf_lo": np.where(maf < 0.25, minor, 0.0),
            "maf_hi": np.where(maf >= 0.25, minor, 0.0),
            "bg_rand": np.where(rng.random(m) < 0.3, rng.choice([-1.0, 1.0], size=m), 0.0),
        })

    # phenotype: ahat = R beta + e with e ~ N(0, R / N)
    m_total = sum(len(b) for b in bims.values())
    h2 = 0.4
    rows = []
    for chrom in chroms:
        x = xs[chrom]
        n_ref, m = x.shape
        a, b = ann[chrom], bg[chrom]
        beta = np.sqrt(h2 / m_total) * (
            0.35 * a["planted"].to_numpy() + 0.16 * a["weak"].to_numpy() + 0.3 * b["maf_lo"].to_numpy()
            + 0.85 * rng.normal(size=m)
        )
        r_beta = x.T @ (x @ beta) / n_ref
        e = x.T @ rng.normal(size=n_ref) / np.sqrt(n_ref * N_GWAS)
        z = np.sqrt(N_GWAS) * (r_beta + e)
        nn = N_GWAS - rng.integers(0, 2000, size=m)
        bim = bims[chrom]
        frame = pd.DataFrame({"SNP": bim["snp"], "A1": bim["a1"], "A2": bim["a2"], "Z": z, "N": nn})
        is_print = print_rows[chrom]
        take = (is_print & (rng.random(m) < 0.92)) | (~is_print & (rng.random(m) < 0.5))
        rows.append(frame[take])
    ss = pd.concat(rows, ignore_index=True)
    ss = flip_rows(rng, ss, ["Z"], 0.10, 0.05)
    bad = rng.choice(len(ss), size=3, replace=False)
    for i in bad:  # mismatched alleles: replace A2 by a base that is neither allele nor a complement
        a1 = ss.at[i, "A1"]
        ss.at[i, "A2"] = next(c for c in "ACGT" if c not in (a1, COMPLEMENT[a1], ss.at[i, "A2"]))
    extra = pd.DataFrame({"SNP": [f"rs_not_in_panel_{i}" for i in range(4)], "A1": list("ACGA"), "A2": list("GTTC"),
                          "Z": rng.normal(size=4), "N": N_GWAS})
    ss = pd.concat([ss, extra], ignore_index=True)
    ss = ss.iloc[rng.permutation(len(ss))].reset_index(drop=True)
    write_tsv_gz(out / "pheno.sumstats.gz", ss)

    for chrom in chroms:
        bim = bims[chrom]
        m = len(bim)
        keep = rng.random(m) < 0.95
        for stem, values in (("targets", ann[chrom]), ("background", bg[chrom])):
            cols = list(values.columns)
            frame = pd.concat([pd.DataFrame({"CHR": chrom, "BP": bim["bp"], "SNP": bim["snp"], "A1": bim["a1"],
                                             "A2": bim["a2"]}), values], axis=1)[keep].reset_index(drop=True)
            frame = flip_rows(rng, frame, cols, 0.10, 0.05)
            extra = pd.DataFrame({"CHR": chrom, "BP": [1, 2], "SNP": [f"rs_extra_{chrom}_{stem}_{i}" for i in range(2)],
                                  "A1": ["A", "C"], "A2": ["G", "T"], **{c: [1.0, -1.0] for c in cols}})
            write_tsv_gz(out / "annot" / f"{stem}.{chrom}.sannot.gz", pd.concat([frame, extra], ignore_index=True))
    for path in out.rglob("*"):
        if path.is_file():
            path.chmod(0o644 if path.suffix not in (".sh",) else 0o755)
    return {"snps": m_total, "print_snps": len(print_snps), "block_lines": len(blocks), "sumstats_rows": len(ss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=SOURCE, help="folder with reference.{chrom}.bed/bim/fam")
    args = ap.parse_args()
    summary = build(HERE, CHROMS, args.source)
    print(f"case written to {HERE}: {summary}")


if __name__ == "__main__":
    main()
