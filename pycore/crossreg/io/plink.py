"""PLINK 1 binary genotype panels (``.bed``/``.bim``/``.fam``), e.g. an LD reference panel.

The ``.bim`` and ``.fam`` text files are parsed and validated here (errors name the file and
line); genotypes are decoded by ``bed_reader`` (``open_bed``, ``count_A1=True``), so a value
is the number of copies of the bim's allele **A1** (column 5): 0, 1 or 2, NaN when missing.

Formats (whitespace-separated, one record per line, blank lines not allowed):

* ``.bim``: ``chrom snp cm bp a1 a2``; ``cm`` a float (genetic position, cM), ``bp`` a
  non-negative integer (1-based base position); alleles are upper-cased on reading.
* ``.fam``: ``fid iid father mother sex pheno``; ``sex`` an integer code (1 male, 2 female,
  0 unknown), ``pheno`` a float (``-9``/``NA`` for missing, kept as read).
* ``.bed``: the SNP-major PLINK 1 format; its size must be
  ``3 + n_snps * ceil(n_people / 4)`` bytes and it must start with the magic bytes
  ``6c 1b 01``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from crossreg.errors import InputError

BIM_COLUMNS = ("chrom", "snp", "cm", "bp", "a1", "a2")
FAM_COLUMNS = ("fid", "iid", "father", "mother", "sex", "pheno")
_BED_MAGIC = b"\x6c\x1b\x01"
_MISSING_PHENO = {"NA", "na", "nan", "NaN"}


@dataclass
class PlinkPanel:
    """One PLINK fileset.

    Attributes:
        stem: path without extension (``{stem}.bed/.bim/.fam``).
        bim: one row per SNP in file order (RangeIndex): ``chrom`` str, ``snp`` str,
            ``cm`` float64 (cM), ``bp`` int64 (1-based bp), ``a1`` str, ``a2`` str (upper case).
        fam: one row per person in file order: ``fid iid father mother`` str, ``sex`` int64,
            ``pheno`` float64.
    """

    stem: Path
    bim: pd.DataFrame
    fam: pd.DataFrame

    @property
    def n_people(self) -> int:
        return len(self.fam)

    @property
    def n_snps(self) -> int:
        return len(self.bim)

    @property
    def bed_path(self) -> Path:
        return Path(f"{self.stem}.bed")

    def genotypes(self, index: np.ndarray | None = None) -> np.ndarray:
        """Genotypes of the SNPs ``index`` as copies of allele A1.

        Args:
            index: int [k] SNP rows of :attr:`bim` (any order, repeats allowed), or ``None``
                for all SNPs.

        Returns:
            float64 [n_people, k]: 0, 1 or 2 copies of the bim's A1; NaN where missing.
        """
        from bed_reader import open_bed

        if index is None:
            cols = np.arange(self.n_snps, dtype=np.int64)
        else:
            cols = np.asarray(index, dtype=np.int64).reshape(-1)
            bad = (cols < 0) | (cols >= self.n_snps)
            if bad.any():
                raise IndexError(
                    f"{self.bed_path}: SNP index {int(cols[bad][0])} out of range for a panel of {self.n_snps} SNPs"
                )
        if len(cols) == 0 or self.n_people == 0:
            return np.zeros((self.n_people, len(cols)), dtype=np.float64)
        with open_bed(
            self.bed_path, iid_count=self.n_people, sid_count=self.n_snps, count_A1=True, num_threads=1
        ) as bed:
            out = bed.read(index=np.s_[:, cols], dtype="float64", order="F")
        return np.asarray(out, dtype=np.float64)


def _split_lines(path: Path, n_fields: int, what: str):
    """Yield ``(line_no, fields)``; every line must have exactly ``n_fields`` fields."""
    with open(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            fields = line.split()
            if len(fields) != n_fields:
                raise InputError(
                    f"{path}:{line_no}: expected {n_fields} whitespace-separated columns ({what}), got {len(fields)}"
                )
            yield line_no, fields


def _read_bim(path: Path) -> pd.DataFrame:
    chrom, snp, cm, bp, a1, a2 = [], [], [], [], [], []
    first_line: dict[str, int] = {}
    for line_no, f in _split_lines(path, 6, " ".join(BIM_COLUMNS)):
        try:
            cm_value = float(f[2])
        except ValueError:
            raise InputError(f"{path}:{line_no}: genetic position (column 3, cM) must be a number, got {f[2]!r}") from None
        try:
            bp_value = int(f[3])
        except ValueError:
            raise InputError(f"{path}:{line_no}: base position (column 4) must be an integer, got {f[3]!r}") from None
        if bp_value < 0:
            raise InputError(f"{path}:{line_no}: base position (column 4) must be >= 0, got {bp_value}")
        if f[1] in first_line:
            raise InputError(f"{path}:{line_no}: duplicate SNP id {f[1]!r} (first on line {first_line[f[1]]})")
        first_line[f[1]] = line_no
        chrom.append(f[0])
        snp.append(f[1])
        cm.append(cm_value)
        bp.append(bp_value)
        a1.append(f[4].upper())
        a2.append(f[5].upper())
    return pd.DataFrame(
        {
            "chrom": pd.Series(chrom, dtype=object),
            "snp": pd.Series(snp, dtype=object),
            "cm": np.asarray(cm, dtype=np.float64),
            "bp": np.asarray(bp, dtype=np.int64),
            "a1": pd.Series(a1, dtype=object),
            "a2": pd.Series(a2, dtype=object),
        }
    )


def _read_fam(path: Path) -> pd.DataFrame:
    rows = {c: [] for c in FAM_COLUMNS}
    for line_no, f in _split_lines(path, 6, " ".join(FAM_COLUMNS)):
        try:
            sex = int(f[4])
        except ValueError:
            raise InputError(f"{path}:{line_no}: sex (column 5) must be an integer code (1, 2 or 0), got {f[4]!r}") from None
        if f[5] in _MISSING_PHENO:
            pheno = math.nan
        else:
            try:
                pheno = float(f[5])
            except ValueError:
                raise InputError(f"{path}:{line_no}: phenotype (column 6) must be a number or NA, got {f[5]!r}") from None
        for key, value in zip(FAM_COLUMNS, (f[0], f[1], f[2], f[3], sex, pheno)):
            rows[key].append(value)
    return pd.DataFrame(
        {
            "fid": pd.Series(rows["fid"], dtype=object),
            "iid": pd.Series(rows["iid"], dtype=object),
            "father": pd.Series(rows["father"], dtype=object),
            "mother": pd.Series(rows["mother"], dtype=object),
            "sex": np.asarray(rows["sex"], dtype=np.int64),
            "pheno": np.asarray(rows["pheno"], dtype=np.float64),
        }
    )


def _check_bed(path: Path, n_people: int, n_snps: int) -> None:
    expected = len(_BED_MAGIC) + n_snps * ((n_people + 3) // 4)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        magic = handle.read(3)
    if magic != _BED_MAGIC:
        raise InputError(
            f"{path}: not a SNP-major PLINK 1 .bed file (first bytes {magic.hex(' ')}, expected 6c 1b 01)"
        )
    if size != expected:
        raise InputError(
            f"{path}: size {size} bytes does not match the .bim ({n_snps} SNPs) and .fam ({n_people} people): "
            f"expected 3 + {n_snps} * ceil({n_people} / 4) = {expected} bytes (truncated or mismatched files?)"
        )


def _missing_files(stem: str) -> list[Path]:
    return [Path(f"{stem}{ext}") for ext in (".bed", ".bim", ".fam") if not Path(f"{stem}{ext}").is_file()]


def read_plink(stem: str | os.PathLike) -> PlinkPanel:
    """Read and validate ``{stem}.bed/.bim/.fam`` (genotypes are decoded lazily).

    Raises:
        InputError: a missing file (all missing ones named); a malformed ``.bim``/``.fam``
            line or a duplicate SNP id (file and line named); a ``.bed`` whose magic bytes
            or size do not match the ``.bim`` x ``.fam``.
    """
    stem = os.fspath(stem)
    missing = _missing_files(stem)
    if missing:
        raise InputError(f"PLINK fileset {stem}: missing {', '.join(str(p) for p in missing)}")
    bim = _read_bim(Path(f"{stem}.bim"))
    fam = _read_fam(Path(f"{stem}.fam"))
    _check_bed(Path(f"{stem}.bed"), len(fam), len(bim))
    return PlinkPanel(Path(stem), bim, fam)


def _strip_chr(name: str) -> str:
    return name[3:] if name.lower().startswith("chr") else name


def read_panel(prefix: str | os.PathLike, chroms: Sequence[str]) -> dict[str, PlinkPanel]:
    """One panel per chromosome, from ``{prefix}{chrom}.bed/.bim/.fam``.

    Args:
        prefix: path prefix, e.g. ``ref/1000G.EUR.`` for ``ref/1000G.EUR.22.bed``.
        chroms: chromosome names in the order wanted (keys of the result, in that order).

    Returns:
        ``{chrom: PlinkPanel}`` in the order of ``chroms``.

    Raises:
        InputError: one error naming every chromosome whose files are missing; a ``.bim``
            whose chromosome column is not the requested name (a difference of a leading
            ``chr`` only is accepted), naming the file and line; anything
            :func:`read_plink` raises.
    """
    prefix = os.fspath(prefix)
    chroms = [str(c) for c in chroms]
    missing = {c: _missing_files(f"{prefix}{c}") for c in chroms}
    missing = {c: m for c, m in missing.items() if m}
    if missing:
        detail = "; ".join(f"{c}: {', '.join(p.name for p in m)}" for c, m in missing.items())
        raise InputError(
            f"PLINK panel {prefix}{{chrom}}: files missing for chromosome(s) {', '.join(missing)} ({detail})"
        )
    panels: dict[str, PlinkPanel] = {}
    for chrom in chroms:
        panel = read_plink(f"{prefix}{chrom}")
        names = panel.bim["chrom"].to_numpy(dtype=object)
        stripped = np.array([_strip_chr(n) for n in names], dtype=object)
        bad = np.flatnonzero(stripped != _strip_chr(chrom))
        if len(bad):
            raise InputError(
                f"{panel.stem}.bim:{int(bad[0]) + 1}: chromosome {names[bad[0]]!r} where chromosome {chrom!r} "
                f"was requested ({len(bad)} such line(s))"
            )
        panels[chrom] = panel
    return panels
