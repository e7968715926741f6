"""eQTL summary statistics aggregated over each SNP's cis-genes (Kelley 2020; SLDP input).

For SNP m with cis-genes G_m (the genes it was tested against), with per-pair z-score z_k
and sample size n_k:

    alpha_k = z_k / sqrt(n_k)                       (per-gene marginal effect, per s.d.)
    alpha_m = |G_m|^(-1/2) * sum_{k in G_m} alpha_k
    N_m     = mean_{k in G_m} n_k
    Z_m     = alpha_m * sqrt(N_m)

and (SNP, A1, A2, Z_m, N_m) is written as an LDSC-style ``.sumstats(.gz)`` for SLDP.

Alleles: the first row of a SNP (in file order) fixes its A1/A2. A later row of the same SNP
whose alleles are swapped contributes ``-alpha_k``; one whose alleles differ otherwise is
dropped (*mismatched*). A SNP whose alleles are strand-ambiguous (A/T or C/G) is dropped
whole (*ambiguous*): SLDP's allele reconciliation against the reference panel drops it
anyway, and leaving it out keeps the file free of SNPs whose sign cannot be carried across
data sets. Alleles are compared upper-cased and exactly (rows of one eQTL file share one
strand); non-ACGT alleles (indels) are kept as they are. Drops are counted, never silent.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_path
from crossreg.io.sumstats import finite_number

COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}
PAIR_COLUMNS = ("gene", "snp", "a1", "a2", "z", "n")


def _open_text(path: Path):
    from crossreg.io.bed import _open_text as open_text

    return open_text(path)


def read_eqtl_pairs(path: str | os.PathLike) -> pd.DataFrame:
    """Read gene-SNP eQTL pairs.

    Format: text (plain or gzip), tab- or space-separated, one header line with the columns
    ``gene SNP A1 A2 Z N`` (any case, any order; other columns ignored), or with ``slope
    slope_se`` instead of ``Z`` (then ``Z = slope / slope_se``; ``Z`` wins when both are
    present). ``Z`` (or ``slope``) is signed w.r.t. ``A1``; ``N`` is the sample size.

    Returns:
        DataFrame in file order (RangeIndex): ``gene snp a1 a2`` str (alleles upper-cased),
        ``z n`` float64.

    Raises:
        InputError: missing file; a missing column; a line with another number of fields
            than the header; a non-numeric or non-finite number; ``slope_se <= 0``;
            ``N <= 0``; a (gene, SNP) pair listed twice; each naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"eQTL pairs {path}: no such file")
    with _open_text(path) as handle:
        header = handle.readline().split()
        upper = [h.upper() for h in header]
        need = ["GENE", "SNP", "A1", "A2", "N"]
        use_z = "Z" in upper
        need += ["Z"] if use_z else ["SLOPE", "SLOPE_SE"]
        missing = [c for c in need if c not in upper]
        if missing:
            raise InputError(
                f"{path}:1: missing column(s) {', '.join(missing)}; expected a header with gene SNP A1 A2 Z N "
                f"(or slope slope_se instead of Z), any case, got {header}"
            )
        repeated = [c for c in need if upper.count(c) > 1]
        if repeated:
            raise InputError(f"{path}:1: column(s) {', '.join(repeated)} appear more than once in the header {header}")
        col = {c: upper.index(c) for c in need}
        n_fields = len(header)
        rows: dict[str, list] = {c: [] for c in PAIR_COLUMNS}
        seen: dict[tuple[str, str], int] = {}
        for line_no, line in enumerate(handle, start=2):
            f = line.split()
            if len(f) != n_fields:
                raise InputError(f"{path}:{line_no}: expected {n_fields} fields as in the header, got {len(f)}")
            gene, snp = f[col["GENE"]], f[col["SNP"]]
            if (gene, snp) in seen:
                raise InputError(f"{path}:{line_no}: pair gene {gene!r}, SNP {snp!r} already on line {seen[(gene, snp)]}")
            seen[(gene, snp)] = line_no
            if use_z:
                z = finite_number(path, line_no, "Z", f[col["Z"]])
            else:
                slope = finite_number(path, line_no, "slope", f[col["SLOPE"]])
                se = finite_number(path, line_no, "slope_se", f[col["SLOPE_SE"]])
                if se <= 0:
                    raise InputError(f"{path}:{line_no}: slope_se must be > 0, got {f[col['SLOPE_SE']]!r}")
                z = slope / se
            n = finite_number(path, line_no, "N", f[col["N"]])
            if n <= 0:
                raise InputError(f"{path}:{line_no}: N must be > 0, got {f[col['N']]!r}")
            rows["gene"].append(gene)
            rows["snp"].append(snp)
            rows["a1"].append(f[col["A1"]].upper())
            rows["a2"].append(f[col["A2"]].upper())
            rows["z"].append(z)
            rows["n"].append(n)
    return pd.DataFrame(
        {
            "gene": pd.Series(rows["gene"], dtype=object),
            "snp": pd.Series(rows["snp"], dtype=object),
            "a1": pd.Series(rows["a1"], dtype=object),
            "a2": pd.Series(rows["a2"], dtype=object),
            "z": np.asarray(rows["z"], dtype=np.float64),
            "n": np.asarray(rows["n"], dtype=np.float64),
        }
    )


def aggregate_eqtl(pairs: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Combine gene-SNP eQTL z-scores into one z-score per SNP (see module docstring).

    Args:
        pairs: columns ``gene snp a1 a2 z n`` (as :func:`read_eqtl_pairs` returns), one row
            per (gene, SNP) pair; ``z`` signed w.r.t. ``a1``; ``n`` > 0.

    Returns:
        (sumstats, counts): sumstats has columns ``snp a1 a2`` str, ``z n`` float64, one row
        per kept SNP, sorted by ``snp`` (then deterministic whatever the input order of the
        SNPs; alleles from each SNP's first row). counts: ``pairs`` (rows in), ``pairs_used``,
        ``snps`` (SNPs out), ``genes`` (distinct genes among used rows), ``swapped_rows``
        (sign flipped), ``mismatched_rows`` and ``ambiguous_rows`` (dropped),
        ``ambiguous_snps`` (dropped whole); all int.

    Raises:
        InputError: a missing column, a non-finite ``z``/``n``, ``n <= 0``, or a (gene, snp)
            pair given twice.
    """
    missing = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if missing:
        raise InputError(f"eQTL pairs: missing column(s) {', '.join(missing)} (need {' '.join(PAIR_COLUMNS)})")
    frame = pairs[list(PAIR_COLUMNS)].reset_index(drop=True).copy()
    frame["a1"] = [str(a).upper() for a in frame["a1"]]
    frame["a2"] = [str(a).upper() for a in frame["a2"]]
    z = frame["z"].to_numpy(dtype=np.float64)
    n = frame["n"].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(z) | ~np.isfinite(n) | (n <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"eQTL pairs: row {i + 1} (gene {frame['gene'][i]!r}, SNP {frame['snp'][i]!r}) has z={z[i]!r}, "
            f"n={n[i]!r}; need finite z and n > 0"
        )
    dup = frame.duplicated(["gene", "snp"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"eQTL pairs: gene {frame['gene'][i]!r}, SNP {frame['snp'][i]!r} given more than once")

    first = frame.groupby("snp", sort=False)[["a1", "a2"]].transform("first")
    ref1, ref2 = first["a1"].to_numpy(dtype=object), first["a2"].to_numpy(dtype=object)
    a1, a2 = frame["a1"].to_numpy(dtype=object), frame["a2"].to_numpy(dtype=object)
    ambiguous = np.array([COMPLEMENT.get(x) == y for x, y in zip(ref1, ref2)], dtype=bool)
    same = (a1 == ref1) & (a2 == ref2)
    swapped = (a1 == ref2) & (a2 == ref1) & ~same
    mismatched = ~ambiguous & ~same & ~swapped
    use = ~ambiguous & (same | swapped)
    alpha = np.where(swapped, -1.0, 1.0) * z / np.sqrt(n)

    used = pd.DataFrame({"snp": frame["snp"][use], "alpha": alpha[use], "n": n[use], "a1": ref1[use], "a2": ref2[use]})
    grouped = used.groupby("snp", sort=True)
    k = grouped["alpha"].size().to_numpy(dtype=np.float64)
    alpha_m = grouped["alpha"].sum().to_numpy() / np.sqrt(k)
    n_m = grouped["n"].mean().to_numpy()
    alleles = grouped[["a1", "a2"]].first()
    out = pd.DataFrame(
        {
            "snp": pd.Series(alleles.index.to_numpy(dtype=object), dtype=object),
            "a1": pd.Series(alleles["a1"].to_numpy(dtype=object), dtype=object),
            "a2": pd.Series(alleles["a2"].to_numpy(dtype=object), dtype=object),
            "z": alpha_m * np.sqrt(n_m),
            "n": n_m,
        }
    )
    counts = {
        "pairs": int(len(frame)),
        "pairs_used": int(use.sum()),
        "snps": int(len(out)),
        "genes": int(frame["gene"][use].nunique()),
        "swapped_rows": int((swapped & use).sum()),
        "mismatched_rows": int(mismatched.sum()),
        "ambiguous_rows": int(ambiguous.sum()),
        "ambiguous_snps": int(frame["snp"][ambiguous].nunique()),
    }
    return out, counts


def write_sumstats(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``SNP A1 A2 Z N`` tab-separated (gzip when ``path`` ends in ``.gz``), atomically.

    Numbers are written with ``repr`` (shortest string that reads back to the same float64),
    so :func:`crossreg.io.sumstats.read_sumstats` recovers them exactly. The gzip header
    carries no name or time, so equal tables give equal bytes.

    Args:
        df: columns ``snp a1 a2 z n`` (``z``, ``n`` finite, ``n`` > 0), written in row order.
        path: output file.

    Raises:
        InputError: a missing column, or a non-finite ``z``/``n`` or ``n <= 0`` (row named).
    """
    missing = [c for c in ("snp", "a1", "a2", "z", "n") if c not in df.columns]
    if missing:
        raise InputError(f"sumstats to write to {path}: missing column(s) {', '.join(missing)}")
    z = df["z"].to_numpy(dtype=np.float64)
    n = df["n"].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(z) | ~np.isfinite(n) | (n <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"sumstats to write to {path}: row {i + 1} (SNP {df['snp'].iloc[i]!r}) has Z={z[i]!r}, N={n[i]!r}")
    lines = ["SNP\tA1\tA2\tZ\tN\n"]
    for snp, a1, a2, zi, ni in zip(df["snp"], df["a1"], df["a2"], z.tolist(), n.tolist()):
        lines.append(f"{snp}\t{a1}\t{a2}\t{zi!r}\t{ni!r}\n")
    data = "".join(lines).encode()
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.name.endswith(".gz"):
            with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(data)
        else:
            tmp.write_bytes(data)
    return path
