"""Reference-panel preprocessing for SLDP: LD blocks, standardised genotypes, truncated eigenbases.

This is the expensive, phenotype- and annotation-independent part of SLDP (``sldp
preprocessrefpanel`` in the reference package), done once per panel and cached on disk.

Per LD block ``b`` (SNPs with ``start <= bp < end`` of one chromosome; blocks on chromosome 6
that overlap the MHC, 25,684,587-35,455,756, are dropped):

* genotypes are standardised as pysnptools ``Unit`` twice does: per SNP, subtract the mean of
  the called genotypes and divide by their (population) standard deviation, set missing
  genotypes to 0, then standardise the result once more over all people (so a SNP with
  missing calls still has variance 1); a monomorphic SNP becomes all 0;
* ``R_PP = X_P' X_P / N`` over the block's *print* (regression) SNPs ``P`` is
  eigen-decomposed, ``R_PP = U diag(lam) U'`` (descending ``lam``), and truncated at
  ``k = argmax(cumsum(lam) / sum(lam) >= 0.95)``: the reference's off-by-one, so the
  eigenvalue at which the running share first reaches 95 % is itself *excluded*
  (a block with one print SNP keeps ``k = 0`` components and contributes nothing);
* ``U[:, :k]`` (float64 [p, k]) and ``lam[:k]`` (float64 [k]) are kept, together with the
  chromosome's genotypes as int8 codes and the standardisation statistics, from which the
  standardised matrix ``X_b`` (float64 [N, m_b], m_b = all panel SNPs of the block) is
  rebuilt bit for bit when signed LD profiles ``R_{P,b} v_b = X_P' X_b v_b / N`` are computed
  (:mod:`crossreg.sldp.profile`).

The reference uses ``numpy.linalg.svd`` of ``X_P'`` and also stores a truncated SVD of
``(R^2)_PP`` (only read by non-default weight modes); we use the symmetric eigensolver on
the Gram matrix (or a thin SVD when a block has more print SNPs than people), which gives
the same ``U diag(lam) U'``, and skip ``R^2``.

LD scores (ldsc estimator, see :mod:`crossreg.sldp.ldscores`) are computed from the same
standardised genotypes and cached with the blocks.

Cache layout (``cache_dir``), format ``crossreg-sldp-panel`` version 1:

* ``chr{chrom}.npz``: for one chromosome, ``snp a1 a2`` (unicode), ``bp`` int64, ``cm``
  float64 [M]; ``codes`` int8 [N, M] (copies of A1, -1 missing); ``mean sd mean2 sd2``
  float64 [M] (the two standardisation passes); ``print_mask`` bool [M]; ``l2`` float64 [M]
  (LD scores) and ``maf`` float64 [M]; ``blocks`` int64 [nb, 5] (block id, start, end, first
  and one-past-last bim row) for the blocks with print SNPs; per block ``U_{id}``,
  ``lam_{id}`` and ``pidx_{id}`` (int64 positions of its print SNPs within the block).
* ``print_snps.npy``: the print-SNP ids (sorted, unique; unicode), over all chromosomes as
  given (SNPs of chromosomes not in the panel included: the reference's h2g uses them).
* ``index.json`` (written last): format, version, parameters, SHA-256 of every panel file,
  of the blocks file and of the print-SNP set, the full block table (file order, MHC
  removed: it fixes the jackknife chunks), and the SHA-256 of every cache file. A cache
  whose inputs differ is rebuilt by :func:`preprocess_panel`; a cache file that no longer
  matches its recorded digest is refused (:class:`crossreg.errors.IntegrityError`) by
  :func:`load_panel_cache` (or when the chromosome is first loaded) and rebuilt by
  :func:`preprocess_panel`.

Memory: one chromosome's genotypes are held at a time as float64 [N, M_chrom] (plus the
standardised copy), e.g. 0.8 GB for 100,000 SNPs x 489 people.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Collection, Mapping

import numpy as np
import pandas as pd

from crossreg.errors import InputError, IntegrityError
from crossreg.io.atomic import atomic_open, atomic_path

log = logging.getLogger(__name__)

CACHE_FORMAT = "crossreg-sldp-panel"
CACHE_VERSION = 1
SPECTRUM_SHARE = 0.95
MHC_CHROM = "6"
MHC_BP = (25_684_587, 35_455_756)
_INDEX = "index.json"
_PRINT = "print_snps.npy"


def strip_chr(name: str) -> str:
    """Chromosome name without a leading ``chr`` (any case): ``chr1`` -> ``1``."""
    name = str(name)
    return name[3:] if name.lower().startswith("chr") else name


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 4 MiB pieces)."""
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(1 << 22), b""):
            h.update(piece)
    return h.hexdigest()


def snp_set_sha256(snps: Collection[str]) -> str:
    """Hex SHA-256 of a SNP-id set (sorted unique ids, newline-joined)."""
    h = hashlib.sha256()
    for s in sorted(set(map(str, snps))):
        h.update(s.encode())
        h.update(b"\n")
    return h.hexdigest()


# ----------------------------------------------------------------------------- LD blocks


def read_ld_blocks(path: str | os.PathLike) -> pd.DataFrame:
    """Read an LD-block table and drop the MHC blocks.

    Accepts a BED (``chrom start end [...]``, tab- or space-separated, plain or gzip, no
    header; ``#``/``track``/``browser`` lines skipped) or the reference's whitespace table
    with a header line (``chr start end`` / ``chr start stop``: a first line whose second
    field is not an integer). Each block holds the SNPs with ``start <= bp < end`` (as the
    reference's ``searchsorted`` over the bim's bp). Blocks of one chromosome must be sorted
    and must not overlap.

    Returns:
        DataFrame in file order with the MHC blocks removed: ``block`` int64 (0-based data
        row in the file, the reference's block index), ``chrom`` str (as written), ``key``
        str (``chrom`` without ``chr``), ``start``, ``end`` int64, ``line`` int64.

    Raises:
        InputError: missing file, a line with fewer than 3 fields, non-integer or negative
            coordinates, ``end < start``, unsorted or overlapping blocks (lines named),
            no blocks at all.
    """
    from crossreg.io.bed import _open_text

    path = Path(path)
    if not path.is_file():
        raise InputError(f"LD blocks {path}: no such file")
    rows: list[tuple[int, str, int, int, int]] = []
    data_row = 0
    first_data = True
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            f = line.split()
            if len(f) < 3:
                raise InputError(f"{path}:{line_no}: expected at least 3 fields (chrom start end), got {len(f)}")
            try:
                start, end = int(f[1]), int(f[2])
            except ValueError:
                if first_data:  # a header line such as "chr start end"
                    first_data = False
                    continue
                raise InputError(f"{path}:{line_no}: start and end must be integers, got {f[1]!r}, {f[2]!r}") from None
            first_data = False
            if start < 0 or end < start:
                raise InputError(f"{path}:{line_no}: invalid block {f[0]}:{start}-{end} (expected 0 <= start <= end)")
            rows.append((data_row, f[0], start, end, line_no))
            data_row += 1
    if not rows:
        raise InputError(f"LD blocks {path}: no blocks (expected lines 'chrom start end')")
    table = pd.DataFrame(rows, columns=["block", "chrom", "start", "end", "line"])
    table["key"] = [strip_chr(c) for c in table["chrom"]]
    for key, part in table.groupby("key", sort=False):
        starts, ends, lines = part["start"].to_numpy(), part["end"].to_numpy(), part["line"].to_numpy()
        bad = np.flatnonzero(starts[1:] < ends[:-1])
        if len(bad):
            i = int(bad[0])
            raise InputError(
                f"{path}:{lines[i + 1]}: block {part['chrom'].iloc[i + 1]}:{starts[i + 1]}-{ends[i + 1]} starts before "
                f"the end of the previous block of that chromosome (line {lines[i]}, ends at {ends[i]}); blocks of a "
                f"chromosome must be sorted and must not overlap"
            )
    mhc = (table["key"] == MHC_CHROM) & (table["end"] > MHC_BP[0]) & (table["start"] < MHC_BP[1])
    if mhc.any():
        log.info("%s: dropping %d MHC block(s) on chromosome 6", path, int(mhc.sum()))
    table = table[~mhc].reset_index(drop=True)
    return table[["block", "chrom", "key", "start", "end", "line"]].astype(
        {"block": np.int64, "start": np.int64, "end": np.int64, "line": np.int64}
    )


def read_print_snps(path: str | os.PathLike) -> list[str]:
    """Print (regression) SNP ids: the first whitespace field of every non-blank line (no header).

    Raises:
        InputError: missing or empty file.
    """
    from crossreg.io.bed import _open_text

    path = Path(path)
    if not path.is_file():
        raise InputError(f"print SNPs {path}: no such file")
    with _open_text(path) as handle:
        snps = [line.split()[0] for line in handle if line.strip()]
    if not snps:
        raise InputError(f"print SNPs {path}: no SNP ids (expected one id per line)")
    return snps


# ------------------------------------------------------------------- standardisation


def genotype_codes(genotypes: np.ndarray) -> np.ndarray:
    """int8 [N, m] codes of float genotypes (0/1/2 copies, NaN missing -> -1)."""
    codes = np.where(np.isnan(genotypes), -1, genotypes).astype(np.int8)
    return codes


def standardisation_stats(genotypes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The two pysnptools ``Unit`` passes' statistics.

    Args:
        genotypes: float64 [N, m], NaN where missing.

    Returns:
        ``(mean, sd, mean2, sd2)`` float64 [m]; a zero standard deviation is stored as
        ``inf`` (pysnptools' convention: the SNP becomes 0).
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(genotypes, axis=0)
        sd = np.nanstd(genotypes, axis=0)
    sd = np.where(sd == 0.0, np.inf, sd)
    first = _first_pass(genotypes, mean, sd)
    mean2 = first.mean(axis=0)
    sd2 = first.std(axis=0)
    sd2 = np.where(sd2 == 0.0, np.inf, sd2)
    return mean, sd, mean2, sd2


def _first_pass(genotypes: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    missing = np.isnan(genotypes)
    with np.errstate(invalid="ignore"):
        x = (genotypes - mean) / sd
    x[missing] = 0.0
    return x


def standardise(genotypes: np.ndarray, stats: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Apply :func:`standardisation_stats` to genotypes (float64 [N, m], NaN missing) -> float64 [N, m]."""
    mean, sd, mean2, sd2 = stats
    x = _first_pass(genotypes, mean, sd)
    x -= mean2
    x /= sd2
    return x


def double_unit(genotypes: np.ndarray) -> np.ndarray:
    """Standardise genotypes as pysnptools ``Unit`` applied twice (float64 [N, m] -> [N, m])."""
    return standardise(genotypes, standardisation_stats(genotypes))


def truncated_eigen(x_print: np.ndarray, share: float = SPECTRUM_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Truncated eigenbasis of ``R_PP = X_P' X_P / N`` with the reference's off-by-one ``k``.

    Args:
        x_print: float64 [N, p] standardised genotypes of the block's print SNPs.
        share: spectrum share (0.95).

    Returns:
        ``(U, lam)``: float64 [p, k] orthonormal columns, float64 [k] descending eigenvalues,
        ``k = argmax(cumsum(lam_all) / sum(lam_all) >= share)``.
    """
    n, p = x_print.shape
    if p == 0:
        return np.zeros((0, 0)), np.zeros(0)
    if p <= n:
        lam, vec = np.linalg.eigh(x_print.T @ x_print / n)
        lam, vec = lam[::-1], vec[:, ::-1]
    else:
        _, s, vt = np.linalg.svd(x_print, full_matrices=False)
        lam, vec = s**2 / n, vt.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.cumsum(lam) / lam.sum()
    k = int(np.argmax(cum >= share))
    return np.ascontiguousarray(vec[:, :k]), lam[:k].copy()


# ----------------------------------------------------------------------------- cache


@dataclass
class BlockData:
    """One LD block with print SNPs.

    Attributes:
        block: the block's index in the blocks file (0-based data row).
        start, end: bp bounds (``start <= bp < end``).
        lo, hi: the block's panel SNPs are bim rows ``lo .. hi-1`` of its chromosome.
        print_idx: int64 [p] positions (0 .. hi-lo-1) of the print SNPs within the block.
        U: float64 [p, k]; lam: float64 [k] (truncated eigenbasis of R_PP).
    """

    block: int
    start: int
    end: int
    lo: int
    hi: int
    print_idx: np.ndarray
    U: np.ndarray
    lam: np.ndarray


@dataclass
class ChromData:
    """One chromosome of a :class:`PanelCache` (see the module docstring for the arrays)."""

    chrom: str
    bim: pd.DataFrame
    codes: np.ndarray
    stats: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    print_mask: np.ndarray
    l2: np.ndarray
    maf: np.ndarray
    blocks: list[BlockData] = field(default_factory=list)

    @property
    def n_snps(self) -> int:
        return len(self.bim)

    def genotypes(self, lo: int, hi: int) -> np.ndarray:
        """float64 [N, hi-lo] copies of A1 (NaN missing) of bim rows lo .. hi-1."""
        c = self.codes[:, lo:hi]
        g = c.astype(np.float64)
        g[c < 0] = np.nan
        return g

    def standardised(self, lo: int, hi: int) -> np.ndarray:
        """float64 [N, hi-lo] standardised genotypes (identical to those of the preprocessing)."""
        return standardise(self.genotypes(lo, hi), tuple(s[lo:hi] for s in self.stats))

    def print_rows(self, block: BlockData) -> np.ndarray:
        """int64 [p] bim rows of a block's print SNPs."""
        return block.lo + block.print_idx


class PanelCache:
    """A preprocessed reference panel (see the module docstring); chromosomes load lazily.

    Attributes:
        cache_dir: the cache folder.
        index: the parsed ``index.json``.
        chroms: chromosome names as given to :func:`preprocess_panel` (bim order kept).
        block_table: DataFrame of all blocks in file order (MHC removed): ``block chrom key
            start end``; blocks of chromosomes absent from the panel are kept (they shape
            the jackknife chunks exactly as in the reference).
        print_snps: str [n] sorted unique print-SNP ids.
        n_people: panel size N.
    """

    def __init__(self, cache_dir: Path, index: dict, print_snps: np.ndarray):
        self.cache_dir = Path(cache_dir)
        self.index = index
        self.chroms: list[str] = list(index["chroms"])
        self.block_table = pd.DataFrame(index["block_table"], columns=["block", "chrom", "key", "start", "end"])
        self.print_snps = print_snps
        self.n_people = int(index["n_people"])
        self._data: dict[str, ChromData] = {}
        self._verified: set[str] = set()

    @property
    def digest(self) -> str:
        """SHA-256 identifying the cache content (of its index)."""
        return hashlib.sha256(json.dumps(self.index, sort_keys=True).encode()).hexdigest()

    def resolve_chroms(self, chroms) -> list[str]:
        """Map requested chromosome names (with or without ``chr``) to cache names.

        Raises:
            InputError: naming every requested chromosome the cache does not hold.
        """
        if chroms is None:
            return list(self.chroms)
        by_key = {strip_chr(c): c for c in self.chroms}
        wanted = [str(c) for c in chroms]
        missing = [c for c in wanted if strip_chr(c) not in by_key]
        if missing:
            raise InputError(
                f"chromosome(s) {', '.join(missing)} requested but not in the panel cache {self.cache_dir} "
                f"(it holds {', '.join(self.chroms)})"
            )
        out = []
        for c in wanted:
            name = by_key[strip_chr(c)]
            if name not in out:
                out.append(name)
        return out

    def chrom(self, chrom: str) -> ChromData:
        """Load (once) and return one chromosome's data, verifying its digest."""
        if chrom not in self._data:
            entry = self.index["files"].get(chrom)
            if entry is None:
                raise InputError(f"chromosome {chrom} is not in the panel cache {self.cache_dir}")
            path = self.cache_dir / entry["name"]
            if chrom not in self._verified:
                _verify(self.cache_dir, entry)
                self._verified.add(chrom)
            self._data[chrom] = _load_chrom(path, chrom)
        return self._data[chrom]


def _verify(cache_dir: Path, entry: dict) -> None:
    path = cache_dir / entry["name"]
    if not path.is_file() or file_sha256(path) != entry["sha256"]:
        raise IntegrityError(
            f"panel cache {cache_dir}: {entry['name']} is missing or altered since it was written (digest "
            f"mismatch); rebuild the cache (crossreg.sldp.preprocess_panel)"
        )


def _load_chrom(path: Path, chrom: str) -> ChromData:
    with np.load(path, allow_pickle=False) as z:
        bim = pd.DataFrame(
            {
                "snp": z["snp"].astype(object),
                "a1": z["a1"].astype(object),
                "a2": z["a2"].astype(object),
                "bp": z["bp"],
                "cm": z["cm"],
            }
        )
        blocks = []
        for row in z["blocks"]:
            b = int(row[0])
            blocks.append(
                BlockData(b, int(row[1]), int(row[2]), int(row[3]), int(row[4]), z[f"pidx_{b}"], z[f"U_{b}"], z[f"lam_{b}"])
            )
        return ChromData(
            chrom=chrom,
            bim=bim,
            codes=z["codes"],
            stats=(z["mean"], z["sd"], z["mean2"], z["sd2"]),
            print_mask=z["print_mask"],
            l2=z["l2"],
            maf=z["maf"],
            blocks=blocks,
        )


def _panel_digests(panels: Mapping[str, object]) -> dict:
    out = {}
    for chrom, panel in panels.items():
        stem = str(panel.stem)
        out[str(chrom)] = {
            **{ext: file_sha256(f"{stem}.{ext}") for ext in ("bed", "bim", "fam")},
            "n_people": int(panel.n_people),
            "n_snps": int(panel.n_snps),
        }
    return out


def _inputs_record(panels, blocks_path: Path, print_set: np.ndarray | None, window_cm: float, window_bp: int) -> dict:
    return {
        "panel": _panel_digests(panels),
        "blocks_sha256": file_sha256(blocks_path),
        "print_snps_sha256": None if print_set is None else snp_set_sha256(print_set),
        "spectrum_share": SPECTRUM_SHARE,
        "ldscore_window_cm": window_cm,
        "ldscore_window_bp": window_bp,
    }


def load_panel_cache(cache_dir: str | os.PathLike, panels: Mapping[str, object] | None = None, *, verify: bool = True) -> PanelCache:
    """Open an existing cache, checking its format and its files' digests.

    Args:
        cache_dir: the folder :func:`preprocess_panel` wrote.
        panels: if given, the panel files are hashed and must equal those the cache was
            built from.
        verify: hash every chromosome file now; otherwise each is hashed when first loaded.

    Raises:
        InputError: no cache there.
        IntegrityError: wrong format/version, a cache file missing or altered, or panel
            files that differ from those recorded.
    """
    cache_dir = Path(cache_dir)
    index_path = cache_dir / _INDEX
    if not index_path.is_file():
        raise InputError(f"panel cache {cache_dir}: no {_INDEX} (not a crossreg SLDP panel cache, or never completed)")
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError) as err:
        raise IntegrityError(f"panel cache {index_path}: unreadable ({err}); rebuild it") from None
    if index.get("format") != CACHE_FORMAT or index.get("version") != CACHE_VERSION:
        raise IntegrityError(
            f"panel cache {cache_dir}: format {index.get('format')!r} version {index.get('version')!r}, expected "
            f"{CACHE_FORMAT!r} version {CACHE_VERSION}; rebuild it"
        )
    _verify(cache_dir, index["print_file"])
    if verify:
        for entry in index["files"].values():
            _verify(cache_dir, entry)
    if panels is not None:
        now = _panel_digests(panels)
        if now != index["inputs"]["panel"]:
            raise IntegrityError(
                f"panel cache {cache_dir} was built from other panel files ({sorted(index['inputs']['panel'])}); "
                f"rebuild it for {sorted(now)}"
            )
    print_snps = np.load(cache_dir / index["print_file"]["name"], allow_pickle=False)
    cache = PanelCache(cache_dir, index, print_snps)
    if verify:
        cache._verified.update(index["files"])
    return cache


def preprocess_panel(
    panels: Mapping[str, object],
    blocks_bed: str | os.PathLike,
    *,
    print_snps: Collection[str] | None,
    cache_dir: str | os.PathLike,
    window_cm: float = 1.0,
    window_bp: int = 1_000_000,
    rebuild: bool = False,
) -> PanelCache:
    """Preprocess a reference panel once; reuse the cache when its inputs are unchanged.

    Args:
        panels: ``{chrom: PlinkPanel}`` (from :func:`crossreg.io.plink.read_panel`), one
            per chromosome; each bim must be sorted by bp.
        blocks_bed: LD blocks (:func:`read_ld_blocks`).
        print_snps: ids of the print (regression) SNPs, e.g. HapMap3; ``None`` = every
            panel SNP.
        cache_dir: folder for the cache (created).
        window_cm, window_bp: LD-score window (:func:`crossreg.sldp.ldscores.ld_scores`).
        rebuild: rebuild even when a valid cache with the same inputs exists.

    Returns:
        The :class:`PanelCache`.

    Raises:
        InputError: no panels; a bim not sorted by bp; no print SNP in any block.
    """
    from crossreg.sldp.ldscores import ld_scores

    if not panels:
        raise InputError("preprocess_panel: no panel chromosomes given")
    cache_dir = Path(cache_dir)
    blocks_path = Path(blocks_bed)
    blocks = read_ld_blocks(blocks_path)
    print_set = None if print_snps is None else np.array(sorted(set(map(str, print_snps))), dtype=str)
    inputs = _inputs_record(panels, blocks_path, print_set, window_cm, window_bp)
    if not rebuild and (cache_dir / _INDEX).is_file():
        try:
            cache = load_panel_cache(cache_dir)
        except (InputError, IntegrityError) as err:
            log.warning("panel cache %s unusable, rebuilding: %s", cache_dir, err)
        else:
            if cache.index.get("inputs") == inputs and cache.chroms == [str(c) for c in panels]:
                log.info("panel cache %s is up to date", cache_dir)
                return cache
            log.info("panel cache %s was built from other inputs; rebuilding", cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / _INDEX).unlink(missing_ok=True)  # no valid index while rebuilding

    n_people = {int(p.n_people) for p in panels.values()}
    if len(n_people) != 1:
        raise InputError(f"panel chromosomes have different numbers of people: {sorted(n_people)}")
    n = n_people.pop()
    all_print: list[str] = []
    files = {}
    n_print_in_blocks = 0
    for chrom, panel in panels.items():
        chrom = str(chrom)
        bim = panel.bim
        bp = bim["bp"].to_numpy(np.int64)
        if len(bp) and np.any(np.diff(bp) < 0):
            i = int(np.flatnonzero(np.diff(bp) < 0)[0]) + 1
            raise InputError(
                f"{panel.stem}.bim:{i + 1}: SNPs must be sorted by position (bp {bp[i]} after {bp[i - 1]}); "
                f"LD blocks are located by binary search over bp, as in the reference"
            )
        snps = np.asarray(bim["snp"].astype(str).tolist(), dtype=str)
        pmask = np.ones(len(bim), bool) if print_set is None else np.isin(snps, print_set)
        if print_set is None:
            all_print.extend(snps.tolist())
        g = panel.genotypes()
        stats = standardisation_stats(g)
        x = standardise(g, stats)
        codes = genotype_codes(g)
        with np.errstate(invalid="ignore", divide="ignore"):
            freq = np.nanmean(g, axis=0) / 2.0 if len(g) else np.full(g.shape[1], np.nan)
        maf = np.minimum(freq, 1.0 - freq)
        del g
        arrays: dict[str, np.ndarray] = {}
        block_rows = []
        mine = blocks[blocks["key"] == strip_chr(chrom)]
        los = np.searchsorted(bp, mine["start"].to_numpy(), side="left")
        his = np.searchsorted(bp, mine["end"].to_numpy(), side="left")
        for (_, row), lo, hi in zip(mine.iterrows(), los, his):
            pidx = np.flatnonzero(pmask[lo:hi]).astype(np.int64)
            if len(pidx) == 0:
                continue
            b = int(row["block"])
            U, lam = truncated_eigen(x[:, lo + pidx])
            arrays[f"U_{b}"], arrays[f"lam_{b}"], arrays[f"pidx_{b}"] = U, lam, pidx
            block_rows.append((b, int(row["start"]), int(row["end"]), int(lo), int(hi)))
            n_print_in_blocks += len(pidx)
        cm = bim["cm"].to_numpy(np.float64)
        l2 = ld_scores(x, cm, bp, window_cm=window_cm, window_bp=window_bp)
        del x
        arrays.update(
            snp=snps,
            a1=np.asarray(bim["a1"].astype(str).tolist(), dtype=str),
            a2=np.asarray(bim["a2"].astype(str).tolist(), dtype=str),
            bp=bp,
            cm=cm,
            codes=codes,
            mean=stats[0],
            sd=stats[1],
            mean2=stats[2],
            sd2=stats[3],
            print_mask=pmask,
            l2=l2,
            maf=maf,
            blocks=np.asarray(block_rows, dtype=np.int64).reshape(-1, 5),
        )
        name = f"chr{strip_chr(chrom)}.npz"
        with atomic_path(cache_dir / name, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
        files[chrom] = {"name": name, "sha256": file_sha256(cache_dir / name)}
        log.info("panel %s: %d SNPs, %d print SNPs, %d blocks with print SNPs", chrom, len(bim), int(pmask.sum()), len(block_rows))
    if n_print_in_blocks == 0:
        raise InputError(
            f"no print SNP of the panel lies in an LD block of {blocks_path} (check the chromosome names and the "
            f"print-SNP ids)"
        )
    if print_set is None:
        print_set = np.array(sorted(set(all_print)), dtype=str)
    with atomic_path(cache_dir / _PRINT, suffix=".npy") as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, print_set, allow_pickle=False)
    index = {
        "format": CACHE_FORMAT,
        "version": CACHE_VERSION,
        "chroms": [str(c) for c in panels],
        "n_people": n,
        "inputs": inputs,
        "blocks_path": str(blocks_path),
        "block_table": blocks[["block", "chrom", "key", "start", "end"]].values.tolist(),
        "files": files,
        "print_file": {"name": _PRINT, "sha256": file_sha256(cache_dir / _PRINT)},
    }
    index["block_table"] = [[int(b), str(c), str(k), int(s), int(e)] for b, c, k, s, e in index["block_table"]]
    with atomic_open(cache_dir / _INDEX, "w") as handle:
        json.dump(index, handle, indent=1)
    cache = PanelCache(cache_dir, index, print_set)
    cache._verified.update(files)
    return cache
