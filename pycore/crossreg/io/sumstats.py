"""GWAS/eQTL summary statistics (``SNP A1 A2 Z N``) and allele reconciliation between tables.

Formats read by :func:`read_sumstats`:

* text, plain or gzip (detected from the first bytes), whitespace- or tab-separated, one
  header line naming at least the columns ``SNP A1 A2 Z N`` in any order and any letter case
  (the LDSC ``.sumstats.gz`` layout); other columns are ignored. ``Z`` is the signed z-score
  of allele ``A1``, ``N`` the sample size.
* ``.parquet`` with the same columns (the polyfun/UK Biobank layout
  ``SNP CHR BP A1 A2 Z N``); read with ``pyarrow`` (a crossreg dependency).
  Records are numbered from 1 in
  error messages.

No alias table is needed for the real UK Biobank example (its columns are exactly
``SNP A1 A2 Z N`` plus ``CHR BP``), so none is applied: a table whose columns are named
otherwise is rejected with the list of its columns.

Allele reconciliation (:func:`reconcile`) follows ``gprim.annotation.reconciled_to``
(gprim 0.23, as called by sldp 1.1.5 for summary statistics and annotations); see its
docstring.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.errors import InputError

log = logging.getLogger(__name__)

SUMSTATS_COLUMNS = ("SNP", "A1", "A2", "Z", "N")
COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}
_MAX_EXAMPLES = 5


def _open_text(path: Path):
    from crossreg.io.bed import _open_text as open_text

    return open_text(path)


def _find_columns(path: Path, header: list[str], wanted: tuple[str, ...], where: str) -> dict[str, int]:
    upper = [h.upper() for h in header]
    positions: dict[str, int] = {}
    for name in wanted:
        hits = [i for i, h in enumerate(upper) if h == name.upper()]
        if len(hits) > 1:
            raise InputError(f"{path}{where}: column {name!r} appears {len(hits)} times in the header {header}")
        if hits:
            positions[name] = hits[0]
    missing = [n for n in wanted if n not in positions]
    if missing:
        raise InputError(
            f"{path}{where}: missing column(s) {', '.join(missing)}; expected a header with "
            f"{' '.join(wanted)} (any case, any order), got {header}"
        )
    return positions


def finite_number(path: Path, line_no: int, name: str, text: str) -> float:
    """``text`` as a finite float; else InputError naming the file, line and column ``name``."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}:{line_no}: {name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{path}:{line_no}: {name} must be a finite number, got {text!r}")
    return value


def _read_text(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    with _open_text(path) as handle:
        header_line = handle.readline()
        header = header_line.split()
        if not header:
            raise InputError(f"{path}:1: empty header; expected the columns {' '.join(SUMSTATS_COLUMNS)}")
        pos = _find_columns(path, header, SUMSTATS_COLUMNS, ":1")
        i_snp, i_a1, i_a2, i_z, i_n = (pos[c] for c in SUMSTATS_COLUMNS)
        n_fields = len(header)
        snp, a1, a2, z, n, lines = [], [], [], [], [], []
        for line_no, line in enumerate(handle, start=2):
            f = line.split()
            if len(f) != n_fields:
                raise InputError(f"{path}:{line_no}: expected {n_fields} fields as in the header, got {len(f)}")
            snp.append(f[i_snp])
            a1.append(f[i_a1].upper())
            a2.append(f[i_a2].upper())
            z.append(finite_number(path, line_no, "Z", f[i_z]))
            n.append(finite_number(path, line_no, "N", f[i_n]))
            lines.append(line_no)
    frame = pd.DataFrame(
        {
            "snp": pd.Series(snp, dtype=object),
            "a1": pd.Series(a1, dtype=object),
            "a2": pd.Series(a2, dtype=object),
            "z": np.asarray(z, dtype=np.float64),
            "n": np.asarray(n, dtype=np.float64),
        }
    )
    return frame, np.asarray(lines, dtype=np.int64)


def _read_parquet(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        raw = pd.read_parquet(path)
    except ImportError as exc:
        raise InputError(
            f"{path}: reading .parquet summary statistics needs pyarrow or fastparquet, which is not installed "
            f"({exc.__class__.__name__}); install one, or convert the file to a tab-separated SNP A1 A2 Z N text file"
        ) from None
    except Exception as exc:  # a corrupt file: the engine's own exception types vary
        raise InputError(f"{path}: not a readable parquet file ({exc})") from None
    raw = raw.reset_index(drop=True)
    header = [str(c) for c in raw.columns]
    pos = _find_columns(path, header, SUMSTATS_COLUMNS, "")
    cols = {name: raw.iloc[:, pos[name]] for name in SUMSTATS_COLUMNS}
    records = np.arange(1, len(raw) + 1, dtype=np.int64)
    for name in ("SNP", "A1", "A2"):
        missing = cols[name].isna().to_numpy()
        if missing.any():
            raise InputError(f"{path}:record {int(records[missing][0])}: {name} is missing")
    numbers = {}
    for name in ("Z", "N"):
        values = pd.to_numeric(cols[name], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{path}:record {i + 1}: {name} must be a finite number, got {cols[name].iloc[i]!r}")
        numbers[name] = values
    frame = pd.DataFrame(
        {
            "snp": pd.Series([str(s) for s in cols["SNP"]], dtype=object),
            "a1": pd.Series([str(s).upper() for s in cols["A1"]], dtype=object),
            "a2": pd.Series([str(s).upper() for s in cols["A2"]], dtype=object),
            "z": numbers["Z"],
            "n": numbers["N"],
        }
    )
    return frame, records


def read_sumstats(path: str | os.PathLike, *, duplicates: str = "error") -> pd.DataFrame:
    """Read summary statistics (see module docstring for the formats).

    Args:
        path: the file.
        duplicates: what to do with a SNP id on more than one row (real GWAS files list the
            alleles of a multi-allelic site as separate rows under one id): ``"error"``, or
            ``"drop"`` every row of such an id (counted in ``frame.attrs["dropped_duplicates"]``
            and logged with examples).

    Returns:
        DataFrame, one row per SNP in file order (RangeIndex): ``snp`` str, ``a1`` str,
        ``a2`` str (alleles upper-cased), ``z`` float64 (z-score of ``a1``), ``n`` float64
        (sample size).

    Raises:
        InputError: missing file; missing column; a line with a different number of fields
            than the header; non-numeric, NaN or infinite ``Z`` or ``N`` (line or record
            named); ``N <= 0``; a SNP id that appears twice (both lines named; split
            multi-allelic sites into distinct ids or remove them first).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"summary statistics {path}: no such file")
    parquet = path.name.lower().endswith(".parquet")
    frame, lines = _read_parquet(path) if parquet else _read_text(path)
    what = "record" if parquet else "line"
    sep = ":record " if parquet else ":"
    bad_n = frame["n"].to_numpy() <= 0
    if bad_n.any():
        i = int(np.flatnonzero(bad_n)[0])
        raise InputError(f"{path}{sep}{lines[i]}: N must be > 0, got {frame['n'].iloc[i]!r}")
    if duplicates not in ("error", "drop"):
        raise ValueError(f"duplicates must be 'error' or 'drop', not {duplicates!r}")
    dup = frame["snp"].duplicated(keep=False).to_numpy()
    frame.attrs["dropped_duplicates"] = 0
    if dup.any() and duplicates == "drop":
        ids = pd.unique(frame["snp"].to_numpy()[dup])
        log.warning("%s: dropped %d rows of %d SNP ids that appear more than once (e.g. %s)", path, int(dup.sum()),
                    len(ids), ", ".join(map(str, ids[:5])))
        frame = frame.loc[~dup].reset_index(drop=True)
        frame.attrs["dropped_duplicates"] = int(dup.sum())
        return frame
    if dup.any():
        first_dup = frame["snp"].iloc[int(np.flatnonzero(frame["snp"].duplicated().to_numpy())[0])]
        at = lines[np.flatnonzero(dup & (frame["snp"] == first_dup).to_numpy())]
        raise InputError(
            f"{path}: SNP id {first_dup!r} appears {len(at)} times ({what}s {', '.join(str(int(x)) for x in at)}); "
            f"{int(frame['snp'].duplicated().sum())} duplicate row(s) in all. Each SNP id must appear once "
            f"(split multi-allelic sites into distinct ids or remove them, or drop them with duplicates='drop', "
            f"--sumstats-duplicates drop on the command line)"
        )
    return frame


@dataclass
class ReconcileReport:
    """What :func:`reconcile` did, one count per reason.

    ``matched + flipped + missing + mismatched + ambiguous == total`` (rows of ``ref``);
    ``strand_flipped`` counts the matched or flipped rows that needed the strand complement.
    ``examples`` holds up to 5 SNP ids per reason (keys ``flipped``, ``strand_flipped``,
    ``missing``, ``mismatched``, ``ambiguous``; reasons with no SNP are left out).
    """

    what: str
    total: int
    matched: int
    flipped: int
    strand_flipped: int
    missing: int
    mismatched: int
    ambiguous: int
    examples: dict[str, list[str]] = field(default_factory=dict)

    def text(self) -> str:
        """One-paragraph summary, e.g. for a log or a report."""
        parts = [
            f"{self.what}: {self.total} reference SNPs; {self.matched} matched, "
            f"{self.flipped} with swapped alleles (sign flipped), {self.strand_flipped} of these "
            f"{self.matched + self.flipped} on the opposite strand; set to missing: {self.missing} absent, "
            f"{self.ambiguous} strand-ambiguous (A/T or C/G), {self.mismatched} with alleles that do not match."
        ]
        for reason in ("missing", "ambiguous", "mismatched", "flipped", "strand_flipped"):
            ids = self.examples.get(reason)
            if ids:
                parts.append(f"Examples {reason.replace('_', ' ')}: {', '.join(ids)}.")
        return " ".join(parts)


def _complement(alleles: np.ndarray) -> np.ndarray:
    return np.array([COMPLEMENT.get(a, "?") for a in alleles], dtype=object)


def _is_base(alleles: np.ndarray) -> np.ndarray:
    return np.array([a in COMPLEMENT for a in alleles], dtype=bool)


def _allele_columns(frame: pd.DataFrame, name: str, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("snp", "a1", "a2") if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: the {name} table lacks column(s) {', '.join(missing)} (needs snp, a1, a2)")
    return (
        frame["snp"].astype(str).to_numpy(dtype=object),
        np.array([str(a).upper() for a in frame["a1"]], dtype=object),
        np.array([str(a).upper() for a in frame["a2"]], dtype=object),
    )


def _examples(snps: np.ndarray, mask: np.ndarray) -> list[str]:
    return [str(s) for s in snps[mask][:_MAX_EXAMPLES]]


def reconcile(ref: pd.DataFrame, other: pd.DataFrame, values: np.ndarray, *, what: str) -> tuple[np.ndarray, ReconcileReport]:
    """Align ``values`` (given per row of ``other``) to the rows and alleles of ``ref``.

    Rows are matched on ``snp``. Alleles are compared upper-cased, as
    ``gprim.annotation.reconciled_to`` does (gprim 0.23, used by sldp 1.1.5): a ref row gets

    * the value unchanged when ``other``'s alleles equal ref's (``a1 a2``) or their strand
      complement;
    * the value with its sign flipped when they are ref's swapped (``a2 a1``), with or
      without strand complement;
    * NaN when the SNP is absent from ``other`` (*missing*), when either table's alleles for
      it are strand-ambiguous (A/T, T/A, C/G, G/C; *ambiguous*), or otherwise when the two
      allele pairs do not match in any of the four orientations or are not two different
      single bases from ACGT (indels, ``0``/``N`` alleles; *mismatched*). gprim counts
      ambiguous rows among its mismatches; here they are counted apart, with the same result.

    Where gprim writes its ``missing_val`` (0 for annotations, NaN for z-scores) this
    returns NaN; callers fill annotations with 0 themselves. NaN values in ``other`` stay NaN.
    Unlike gprim, which keeps the matching copy of a duplicated SNP, duplicate ids in
    ``other`` are an error; duplicate ids in ``ref`` are allowed (each row gets the value).

    Args:
        ref: columns ``snp a1 a2`` (e.g. a panel's bim), [m rows].
        other: columns ``snp a1 a2``, [n rows].
        values: float [n] or [n, k], per row of ``other``.
        what: a name for messages and the report (e.g. ``"sumstats RBC.sumstats.gz"``).

    Returns:
        (aligned, report): float64 [m] or [m, k], signed w.r.t. ``ref.a1``; and a
        :class:`ReconcileReport`.

    Raises:
        InputError: a table without ``snp a1 a2``; ``values`` whose first dimension is not
            ``len(other)``; a SNP id repeated in ``other``.
    """
    ref_snp, r1, r2 = _allele_columns(ref, "reference", what)
    oth_snp, o1_all, o2_all = _allele_columns(other, "other", what)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim not in (1, 2) or values.shape[0] != len(other):
        raise InputError(
            f"{what}: values of shape {values.shape} do not match the {len(other)} rows of the table they belong to "
            f"(expected ({len(other)},) or ({len(other)}, k))"
        )
    dup = pd.Series(oth_snp).duplicated()
    if dup.any():
        first = oth_snp[int(np.flatnonzero(dup.to_numpy())[0])]
        raise InputError(
            f"{what}: SNP id {first!r} appears more than once ({int(dup.sum())} duplicate row(s) in all); "
            f"each SNP id must appear once"
        )
    idx = pd.Index(oth_snp).get_indexer(ref_snp)
    present = idx >= 0
    take = np.where(present, idx, 0)
    if len(other):
        o1, o2 = o1_all[take], o2_all[take]
    else:
        o1 = o2 = np.full(len(ref_snp), "", dtype=object)
    c1, c2 = _complement(o1), _complement(o2)

    def valid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _is_base(a) & _is_base(b) & (a != b)

    ref_ok, oth_ok = valid(r1, r2), valid(o1, o2)
    ambiguous = present & ((ref_ok & (_complement(r1) == r2)) | (oth_ok & (c1 == o2)))
    usable = present & ref_ok & oth_ok & ~ambiguous
    same = usable & (r1 == o1) & (r2 == o2)
    swap = usable & (r1 == o2) & (r2 == o1)
    strand = usable & (r1 == c1) & (r2 == c2)
    strand_swap = usable & (r1 == c2) & (r2 == c1)
    keep = same | strand
    flip = swap | strand_swap
    mismatched = present & ~ambiguous & ~keep & ~flip

    out = np.full((len(ref_snp),) + values.shape[1:], np.nan, dtype=np.float64)
    if len(other):
        taken = values[take]
        out[keep] = taken[keep]
        out[flip] = -taken[flip]
    examples = {
        "flipped": _examples(ref_snp, flip),
        "strand_flipped": _examples(ref_snp, strand | strand_swap),
        "missing": _examples(ref_snp, ~present),
        "mismatched": _examples(ref_snp, mismatched),
        "ambiguous": _examples(ref_snp, ambiguous),
    }
    report = ReconcileReport(
        what=what,
        total=len(ref_snp),
        matched=int(keep.sum()),
        flipped=int(flip.sum()),
        strand_flipped=int((strand | strand_swap).sum()),
        missing=int((~present).sum()),
        mismatched=int(mismatched.sum()),
        ambiguous=int(ambiguous.sum()),
        examples={k: v for k, v in examples.items() if v},
    )
    return out, report
