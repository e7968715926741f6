"""Orthology-aware train/valid/test split of one or several genomes.

Homologous sequence must never cross train/valid/test, otherwise a model trained on one
genome is tested on its orthologous copy in another. Each genome is cut into regions of
``region_size`` bp (1 Mb by default). Every chain file (UCSC chain, one genome as target,
another as query) links a target region and a query region when they share more than
``min_shared_bp`` of aligned sequence. The graph's nodes are ``(genome, chrom, region
index)``; its connected components (networkx) are assigned whole to a fold, aiming at
``valid_fraction`` and ``test_fraction`` of every genome's total bp at once.

A genome that takes part in no alignment (in particular the single-genome case) is split
into contiguous runs of regions instead: runs of ``contiguous_regions`` neighbouring
regions of a chromosome form one unit, so neighbouring windows rarely straddle folds.

Everything is deterministic given ``seed``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open
from crossreg.io.chain import read_chains

__all__ = [
    "FOLDS",
    "AlignmentReport",
    "SplitReport",
    "SplitResult",
    "make_regions",
    "orthology_split",
    "write_folds_bed",
    "read_folds_bed",
]

FOLDS: tuple[str, str, str] = ("train", "valid", "test")
_TRAIN, _VALID, _TEST = 0, 1, 2


# --------------------------------------------------------------------------- regions


def _check_chrom_sizes(chrom_sizes: Mapping[str, int], what: str) -> None:
    if not chrom_sizes:
        raise InputError(f"{what}: expected at least one chromosome, got none")
    for name, size in chrom_sizes.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"{what}: chromosome names must be non-empty strings, got {name!r}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
            raise InputError(
                f"{what}: size of chromosome {name!r} must be a positive integer (bp), "
                f"got {size!r}"
            )


def _check_region_size(region_size: int) -> None:
    if isinstance(region_size, bool) or not isinstance(region_size, (int, np.integer)) \
            or region_size <= 0:
        raise InputError(f"region_size must be a positive integer (bp), got {region_size!r}")


def make_regions(chrom_sizes: Mapping[str, int], region_size: int = 1_000_000) -> pd.DataFrame:
    """Cut chromosomes into consecutive regions of ``region_size`` bp.

    Args:
        chrom_sizes: chromosome name -> length in bp; the order is kept.
        region_size: region length in bp; the last region of a chromosome is shorter
            when the length is not a multiple of it.

    Returns:
        DataFrame with one row per region, in chromosome order then position:
        ``chrom`` (str), ``start`` and ``end`` (int64, 0-based half-open, bp).
        Shape (sum over chromosomes of ceil(length / region_size), 3).

    Raises:
        InputError: when a size or ``region_size`` is not a positive integer.
    """
    _check_region_size(region_size)
    _check_chrom_sizes(chrom_sizes, "chrom_sizes")
    names = list(chrom_sizes)
    sizes = np.array([int(chrom_sizes[n]) for n in names], dtype=np.int64)
    counts = -(-sizes // region_size)
    chrom_idx = np.repeat(np.arange(len(names)), counts)
    first = np.cumsum(counts) - counts
    local = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first, counts)
    start = local * region_size
    end = np.minimum(start + region_size, sizes[chrom_idx])
    return pd.DataFrame(
        {
            "chrom": np.array(names, dtype=object)[chrom_idx],
            "start": start.astype(np.int64),
            "end": end.astype(np.int64),
        }
    )


class _Genome:
    """Region indexing of one genome: region ``r`` of chromosome ``c`` has id offsets[c] + r."""

    def __init__(self, name: str, chrom_sizes: Mapping[str, int], region_size: int) -> None:
        self.name = name
        self.chroms = list(chrom_sizes)
        self.index = {c: i for i, c in enumerate(self.chroms)}
        self.sizes = np.array([int(chrom_sizes[c]) for c in self.chroms], dtype=np.int64)
        self.counts = -(-self.sizes // region_size)
        self.offsets = np.cumsum(self.counts) - self.counts
        self.n_regions = int(self.counts.sum())
        self.regions = make_regions(chrom_sizes, region_size)
        self.region_bp = (self.regions["end"] - self.regions["start"]).to_numpy(np.int64)
        self.region_chrom = np.repeat(np.arange(len(self.chroms)), self.counts)
        self.region_local = (
            np.arange(self.n_regions, dtype=np.int64) - np.repeat(self.offsets, self.counts)
        )
        self.total_bp = int(self.sizes.sum())


# --------------------------------------------------------------------------- alignments


@dataclass
class AlignmentReport:
    """What one chain file contributed to the split.

    Attributes:
        path: the chain file.
        target, query: genome names of the chain's target and query side.
        n_chains: chains in the file.
        n_chains_used: chains whose target and query names are both in the chrom sizes.
        n_blocks: ungapped blocks in the used chains.
        aligned_bp: aligned bp in the used chains (after clipping), bp.
        skipped_target_names, skipped_query_names: chain sequence names absent from the
            genome's chrom sizes (sorted); their chains are ignored.
        skipped_bp: aligned bp of the ignored chains, bp.
        size_mismatch_target, size_mismatch_query: names whose length in the chain file
            differs from the chrom sizes (sorted).
        clipped_bp: aligned bp dropped because it lies beyond the chrom sizes' length, bp.
        n_region_pairs: (target region, query region) pairs sharing any aligned bp.
        n_edges: pairs sharing more than ``min_shared_bp``.
    """

    path: str
    target: str
    query: str
    n_chains: int = 0
    n_chains_used: int = 0
    n_blocks: int = 0
    aligned_bp: int = 0
    skipped_target_names: list[str] = field(default_factory=list)
    skipped_query_names: list[str] = field(default_factory=list)
    skipped_bp: int = 0
    size_mismatch_target: list[str] = field(default_factory=list)
    size_mismatch_query: list[str] = field(default_factory=list)
    clipped_bp: int = 0
    n_region_pairs: int = 0
    n_edges: int = 0


def _similar_name(missing: str, available: Sequence[str]) -> str:
    """An available name resembling ``missing`` (chr prefix added/removed), else the first."""
    candidates = []
    if missing.lower().startswith("chr"):
        candidates.append(missing[3:])
    else:
        candidates.append("chr" + missing)
    lowered = {a.lower(): a for a in available}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return available[0]


def _check_names(
    path: Path,
    side: str,
    genome: _Genome,
    bp_by_name: dict[str, int],
    line_by_name: dict[str, int],
    max_skipped_fraction: float,
) -> list[str]:
    """Return the names to skip, or raise InputError when too much of the chain is unmatched."""
    missing = [n for n in bp_by_name if n not in genome.index]
    if not missing:
        return []
    total = sum(bp_by_name.values())
    missing_bp = sum(bp_by_name[n] for n in missing)
    n_matched = len(bp_by_name) - len(missing)
    if n_matched > 0 and missing_bp <= max_skipped_fraction * total:
        return sorted(missing)
    example = max(missing, key=lambda n: (bp_by_name[n], -line_by_name[n]))
    similar = _similar_name(example, genome.chroms)
    raise InputError(
        f"{path}: line {line_by_name[example]}: {side} sequence name {example!r} is not a "
        f"chromosome of genome {genome.name!r} (whose chromosome sizes have e.g. {similar!r}); "
        f"{len(missing)} of {len(bp_by_name)} {side} names, carrying "
        f"{100.0 * missing_bp / max(total, 1):.1f}% of the aligned bp, are missing. Expected "
        f"the chain's {side} names to match genome {genome.name!r} (same naming, e.g. the "
        f"'chr' prefix, and the same assembly)"
    )


def _block_pieces(
    t: np.ndarray, q: np.ndarray, s: np.ndarray, rev: np.ndarray, region_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split blocks at region boundaries of both the target and the query.

    Args:
        t: int64 (n,), + strand target block starts, bp.
        q: int64 (n,), + strand query block starts, bp.
        s: int64 (n,), block sizes, bp (> 0).
        rev: bool (n,), True for anti-diagonal blocks (query position of target
            ``t + i`` is ``q + s - 1 - i``).
        region_size: region length, bp.

    Returns:
        ``(block, offset, length)``: int64 arrays (m,) describing pieces
        ``[offset, offset + length)`` (offsets along the block, bp) that each lie in a
        single target region and a single query region.
    """
    r = region_size
    ft = r - t % r  # offset of the first target boundary inside or after the block
    nt = (s - ft + r - 1) // r  # number of target boundaries strictly inside the block
    end = q + s
    fq = np.where(rev, (end - 1) % r + 1, r - q % r)
    nq = (s - fq + r - 1) // r
    simple = (nt == 0) & (nq == 0)
    simple_idx = np.flatnonzero(simple)
    cut_idx = np.flatnonzero(~simple)
    if cut_idx.size == 0:
        return simple_idx, np.zeros(simple_idx.size, dtype=np.int64), s[simple_idx]

    def boundaries(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        block = np.repeat(cut_idx, count)
        k = np.arange(block.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        return block, np.repeat(first, count) + k * r

    bt, ot = boundaries(ft[cut_idx], nt[cut_idx])
    bq, oq = boundaries(fq[cut_idx], nq[cut_idx])
    blocks = np.concatenate([cut_idx, cut_idx, bt, bq])
    offs = np.concatenate([np.zeros(cut_idx.size, np.int64), s[cut_idx], ot, oq])
    order = np.lexsort((offs, blocks))
    blocks, offs = blocks[order], offs[order]
    length = offs[1:] - offs[:-1]
    keep = (blocks[1:] == blocks[:-1]) & (length > 0)
    return (
        np.concatenate([simple_idx, blocks[:-1][keep]]),
        np.concatenate([np.zeros(simple_idx.size, np.int64), offs[:-1][keep]]),
        np.concatenate([s[simple_idx], length[keep]]),
    )


def _shared_bp(
    path: Path,
    tg: _Genome,
    qg: _Genome,
    region_size: int,
    max_skipped_fraction: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, AlignmentReport]:
    """Aligned bp shared by every (target region, query region) pair of one chain file.

    Returns:
        ``(t_region, q_region, bp, report)``: int64 arrays (m,) of genome-wide region ids
        of ``tg`` and ``qg`` and the bp they share (> 0), one row per pair.
    """
    report = AlignmentReport(path=str(path), target=tg.name, query=qg.name)
    names_t: list[str] = []
    names_q: list[str] = []
    size_t: list[int] = []
    size_q: list[int] = []
    bp: list[int] = []
    t_bp: dict[str, int] = {}
    q_bp: dict[str, int] = {}
    t_line: dict[str, int] = {}
    q_line: dict[str, int] = {}
    arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []
    for chain in read_chains(path):
        a = chain.aligned_bp
        names_t.append(chain.t_name)
        names_q.append(chain.q_name)
        size_t.append(chain.t_size)
        size_q.append(chain.q_size)
        bp.append(a)
        t_bp[chain.t_name] = t_bp.get(chain.t_name, 0) + a
        q_bp[chain.q_name] = q_bp.get(chain.q_name, 0) + a
        t_line.setdefault(chain.t_name, chain.line)
        q_line.setdefault(chain.q_name, chain.line)
        arrays.append((chain.t_starts, chain.q_starts, chain.sizes, chain.reversed))
    report.n_chains = len(arrays)
    if not arrays:
        return (np.zeros(0, np.int64),) * 3 + (report,)  # type: ignore[return-value]
    skip_t = set(_check_names(path, "target", tg, t_bp, t_line, max_skipped_fraction))
    skip_q = set(_check_names(path, "query", qg, q_bp, q_line, max_skipped_fraction))
    report.skipped_target_names = sorted(skip_t)
    report.skipped_query_names = sorted(skip_q)

    used = [i for i in range(len(arrays)) if names_t[i] not in skip_t and names_q[i] not in skip_q]
    report.n_chains_used = len(used)
    report.skipped_bp = int(sum(bp) - sum(bp[i] for i in used))
    report.size_mismatch_target = sorted(
        {names_t[i] for i in used if size_t[i] != tg.sizes[tg.index[names_t[i]]]}
    )
    report.size_mismatch_query = sorted(
        {names_q[i] for i in used if size_q[i] != qg.sizes[qg.index[names_q[i]]]}
    )
    if not used:
        return (np.zeros(0, np.int64),) * 3 + (report,)  # type: ignore[return-value]

    n_per = np.array([arrays[i][2].shape[0] for i in used], dtype=np.int64)
    t = np.concatenate([arrays[i][0] for i in used])
    q = np.concatenate([arrays[i][1] for i in used])
    s = np.concatenate([arrays[i][2] for i in used])
    rev = np.repeat(np.array([arrays[i][3] for i in used], dtype=bool), n_per)
    tc = np.repeat(np.array([tg.index[names_t[i]] for i in used], dtype=np.int64), n_per)
    qc = np.repeat(np.array([qg.index[names_q[i]] for i in used], dtype=np.int64), n_per)
    del arrays

    # Clip blocks to the chromosome lengths of the chrom sizes (they may differ from the
    # lengths in the chain file when the assemblies do not match exactly).
    lt, lq = tg.sizes[tc], qg.sizes[qc]
    lo = np.where(rev, np.maximum(0, q + s - lq), 0)
    hi = np.minimum(s, lt - t)
    hi = np.where(rev, hi, np.minimum(hi, lq - q))
    new_s = hi - lo
    keep = new_s > 0
    total_before = int(s.sum())
    t = (t + lo)[keep]
    q = np.where(rev, q + s - hi, q + lo)[keep]
    s, rev, tc, qc = new_s[keep], rev[keep], tc[keep], qc[keep]
    report.n_blocks = int(s.size)
    report.aligned_bp = int(s.sum())
    report.clipped_bp = total_before - report.aligned_bp

    block, off, length = _block_pieces(t, q, s, rev, region_size)
    t_reg = tg.offsets[tc[block]] + (t[block] + off) // region_size
    q_pos = np.where(rev[block], q[block] + s[block] - 1 - off, q[block] + off)
    q_reg = qg.offsets[qc[block]] + q_pos // region_size
    key = t_reg * np.int64(qg.n_regions) + q_reg
    uniq, inverse = np.unique(key, return_inverse=True)
    shared = np.bincount(inverse, weights=length, minlength=uniq.size).astype(np.int64)
    report.n_region_pairs = int(uniq.size)
    return uniq // qg.n_regions, uniq % qg.n_regions, shared, report


# --------------------------------------------------------------------------- assignment


def _assign(
    frac: np.ndarray, targets: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Assign components to folds, minimising the squared deviation from the targets.

    Args:
        frac: float64 (n_components, n_genomes), each component's share of each genome's bp.
        targets: float64 (3,), target fraction of train (unused), valid and test.
        rng: random generator (component order).

    Returns:
        ``(fold, forced)``: int8 (n_components,) fold codes 0/1/2 (train/valid/test) and
        bool (n_components,) marking components too large for valid and test, which can
        only go to train.
    """
    n, g = frac.shape
    fold = np.zeros(n, dtype=np.int8)
    sums = np.zeros((3, g))
    tgt = np.repeat(targets[:, None], g, axis=1)
    # Adding a component to a fold changes that fold's cost by sum(f * (f + 2 * (S - t))),
    # which is smallest when the fold is empty (S = 0): if even then it does not help,
    # the component can never go to valid or test.
    empty_gain = np.stack(
        [(frac * (frac - 2.0 * targets[k])).sum(axis=1) for k in (_VALID, _TEST)], axis=1
    )
    forced = (empty_gain >= 0.0).all(axis=1)
    candidates = np.flatnonzero(~forced)
    order = candidates[rng.permutation(candidates.size)]
    sums[_TRAIN] = frac[forced].sum(axis=0)
    sums[_TRAIN] += frac[order].sum(axis=0)
    # Greedy pass: each component goes to the fold (valid/test) whose cost drops most.
    for c in order:
        f = frac[c]
        gains = [(f * (f + 2.0 * (sums[k] - tgt[k]))).sum() for k in (_VALID, _TEST)]
        k = _VALID if gains[0] <= gains[1] else _TEST
        if gains[k - 1] < 0.0:
            fold[c] = k
            sums[k] += f
            sums[_TRAIN] -= f
    # Refinement: move single components between folds while the total cost drops.
    for _ in range(20):
        improved = False
        for c in order[rng.permutation(order.size)]:
            f = frac[c]
            a = int(fold[c])
            remove = 0.0 if a == _TRAIN else (f * (f - 2.0 * (sums[a] - tgt[a]))).sum()
            best_k, best_delta = a, 0.0
            for k in (_TRAIN, _VALID, _TEST):
                if k == a:
                    continue
                add = 0.0 if k == _TRAIN else (f * (f + 2.0 * (sums[k] - tgt[k]))).sum()
                delta = remove + add
                if delta < best_delta - 1e-15:
                    best_k, best_delta = k, delta
            if best_k != a:
                fold[c] = best_k
                sums[a] -= f
                sums[best_k] += f
                improved = True
        if not improved:
            break
    return fold, forced


# --------------------------------------------------------------------------- results


@dataclass
class SplitReport:
    """Summary of a split (JSON-able through :meth:`SplitResult.to_dict`).

    Attributes:
        mode: ``"orthology"`` when alignments were given, else ``"contiguous"``.
        genomes: genome names, in input order.
        seed: the seed used.
        region_size: region length, bp.
        min_shared_bp: edge threshold, bp (shared aligned bp must exceed it).
        targets: target fraction per fold (``valid``, ``test``; train gets the rest).
        total_bp: genome -> total length, bp.
        n_regions: genome -> number of regions.
        fold_bp: genome -> fold -> bp assigned.
        fractions: genome -> fold -> achieved fraction of the genome's bp.
        n_components: number of connected components (units assigned to folds).
        n_edges: orthology edges in the graph (contiguity links not counted).
        largest_component: id, ``n_regions`` and ``bp`` per genome of the component
            with the most bp summed over genomes.
        n_forced_train: components too large for valid/test (put in train).
        forced_train_bp: genome -> bp of those components.
        contiguous_regions: genome -> run length (regions) used for genomes without
            alignment.
        alignments: one :class:`AlignmentReport` per chain file.
    """

    mode: str
    genomes: list[str]
    seed: int
    region_size: int
    min_shared_bp: int
    targets: dict[str, float]
    total_bp: dict[str, int]
    n_regions: dict[str, int]
    fold_bp: dict[str, dict[str, int]]
    fractions: dict[str, dict[str, float]]
    n_components: int
    n_edges: int
    largest_component: dict
    n_forced_train: int
    forced_train_bp: dict[str, int]
    contiguous_regions: dict[str, int]
    alignments: list[AlignmentReport]

    @property
    def skipped_names(self) -> dict[str, dict[str, list[str]]]:
        """Chain path -> genome -> sequence names skipped (absent from the chrom sizes)."""
        out: dict[str, dict[str, list[str]]] = {}
        for a in self.alignments:
            d = out.setdefault(a.path, {})
            d.setdefault(a.target, []).extend(a.skipped_target_names)
            d.setdefault(a.query, []).extend(a.skipped_query_names)
        return out


def _mb(bp: int) -> str:
    return f"{bp / 1e6:.1f} Mb"


def _examples(names: list[str], k: int = 3) -> str:
    shown = ", ".join(names[:k])
    return shown + (", ..." if len(names) > k else "")


@dataclass
class SplitResult:
    """Outcome of :func:`orthology_split`.

    Attributes:
        regions: genome -> DataFrame with one row per region: ``chrom`` (str), ``start``,
            ``end`` (int64, bp, 0-based half-open), ``fold`` (str in train/valid/test),
            ``component`` (int64; component 0 has the most bp).
        report: :class:`SplitReport`.
        pairs: one DataFrame per alignment (same order as ``alignments``), one row per
            (target region, query region) pair sharing aligned bp: ``target_chrom``,
            ``target_start``, ``target_end``, ``query_chrom``, ``query_start``,
            ``query_end`` (bp), ``shared_bp`` (int64, bp) and ``linked`` (bool, True when
            ``shared_bp > min_shared_bp``, i.e. the pair is an edge of the graph).
    """

    regions: dict[str, pd.DataFrame]
    report: SplitReport
    pairs: list[pd.DataFrame] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The report as plain JSON-able Python types (regions not included)."""
        d = asdict(self.report)
        d["skipped_names"] = self.report.skipped_names
        return d

    def summary(self) -> str:
        """Human-readable summary, one fact per line."""
        r = self.report
        lines = [
            f"{r.mode} split of {len(r.genomes)} genome(s) ({', '.join(r.genomes)}), "
            f"regions of {r.region_size} bp, seed {r.seed}"
        ]
        for a in r.alignments:
            lines.append(
                f"alignment {Path(a.path).name} (target {a.target}, query {a.query}): "
                f"{a.n_chains} chains, {a.n_chains_used} used, {a.n_blocks} blocks, "
                f"{_mb(a.aligned_bp)} aligned; {a.n_edges} edges "
                f"(> {r.min_shared_bp} bp shared) of {a.n_region_pairs} region pairs"
            )
            if a.skipped_target_names or a.skipped_query_names:
                lines.append(
                    f"  skipped {len(a.skipped_target_names)} target names not in {a.target} "
                    f"({_examples(a.skipped_target_names)}) and {len(a.skipped_query_names)} "
                    f"query names not in {a.query} ({_examples(a.skipped_query_names)}): "
                    f"{_mb(a.skipped_bp)} aligned"
                )
            if a.size_mismatch_target or a.size_mismatch_query:
                lines.append(
                    f"  chain lengths differ from chrom sizes for "
                    f"{len(a.size_mismatch_target)} target and {len(a.size_mismatch_query)} "
                    f"query names; {_mb(a.clipped_bp)} aligned beyond the chrom sizes dropped"
                )
        for g, n in r.contiguous_regions.items():
            lines.append(f"{g}: no alignment, contiguous runs of {n} region(s)")
        lc = r.largest_component
        parts = ", ".join(
            f"{g} {lc['n_regions'][g]} regions ({_mb(lc['bp'][g])})" for g in r.genomes
        )
        lines.append(f"components: {r.n_components}; largest (#{lc['id']}): {parts}")
        if r.n_forced_train:
            parts = ", ".join(f"{g} {_mb(bp)}" for g, bp in r.forced_train_bp.items())
            lines.append(
                f"{r.n_forced_train} component(s) too large for valid/test, put in train: {parts}"
            )
        lines.append(
            f"fractions of bp (target valid {r.targets['valid']:.3f}, "
            f"test {r.targets['test']:.3f}):"
        )
        for g in r.genomes:
            fr = r.fractions[g]
            lines.append(
                f"  {g}: train {fr['train']:.3f}  valid {fr['valid']:.3f}  "
                f"test {fr['test']:.3f}  ({_mb(r.total_bp[g])})"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------- split


def orthology_split(
    genomes: Mapping[str, Mapping[str, int]],
    alignments: Sequence[tuple[str | os.PathLike, str, str]],
    valid_fraction: float = 0.12,
    test_fraction: float = 0.12,
    region_size: int = 1_000_000,
    min_shared_bp: int = 100_000,
    seed: int = 0,
    *,
    contiguous_regions: int | None = None,
    max_skipped_fraction: float = 0.5,
) -> SplitResult:
    """Split genomes into train/valid/test so that homologous regions share a fold.

    Args:
        genomes: genome name -> (chromosome name -> length in bp).
        alignments: ``(chain_path, target_genome, query_genome)`` per UCSC chain file;
            empty for a contiguous-region split of each genome on its own.
        valid_fraction: target share of every genome's bp in valid.
        test_fraction: target share of every genome's bp in test.
        region_size: region length, bp.
        min_shared_bp: two regions are linked when they share more than this many
            aligned bp.
        seed: seed of the component order; the result is a function of the inputs and it.
        contiguous_regions: run length (in regions) for genomes in no alignment; default
            ``clip(n_regions // 100, 1, 10)`` (10 Mb runs for a mammalian genome at 1 Mb).
        max_skipped_fraction: chain sequence names absent from the chrom sizes (alt
            contigs, ...) are skipped as long as their chains carry at most this share of
            the file's aligned bp; beyond that (or when no name matches) the naming is
            taken to be wrong and an InputError is raised.

    Returns:
        :class:`SplitResult` with per-genome region tables (``chrom``, ``start``, ``end``,
        ``fold``, ``component``) and a :class:`SplitReport`.

    Raises:
        InputError: on bad arguments, unknown genome names in ``alignments``, malformed
            chain files, or chain sequence names that do not match the chrom sizes
            (the message names the chain file, the genome and an example name from each
            side).
    """
    if not genomes:
        raise InputError("genomes: expected at least one genome, got none")
    _check_region_size(region_size)
    for name, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not (isinstance(value, (int, float)) and 0.0 <= value < 1.0):
            raise InputError(f"{name} must be a number in [0, 1), got {value!r}")
    if valid_fraction + test_fraction >= 1.0:
        raise InputError(
            f"valid_fraction + test_fraction must be < 1, got {valid_fraction} + {test_fraction}"
        )
    if isinstance(min_shared_bp, bool) or not isinstance(min_shared_bp, (int, np.integer)) \
            or min_shared_bp < 0:
        raise InputError(f"min_shared_bp must be an integer >= 0 (bp), got {min_shared_bp!r}")
    if contiguous_regions is not None and (
        not isinstance(contiguous_regions, (int, np.integer)) or contiguous_regions < 1
    ):
        raise InputError(f"contiguous_regions must be an integer >= 1, got {contiguous_regions!r}")
    if not 0.0 <= max_skipped_fraction <= 1.0:
        raise InputError(f"max_skipped_fraction must be in [0, 1], got {max_skipped_fraction!r}")

    names = list(genomes)
    gidx = {g: i for i, g in enumerate(names)}
    index: list[_Genome] = []
    for g in names:
        _check_chrom_sizes(genomes[g], f"chromosome sizes of genome {g!r}")
        index.append(_Genome(g, genomes[g], region_size))
    aligned: set[str] = set()
    for k, item in enumerate(alignments):
        if len(item) != 3:
            raise InputError(
                f"alignments[{k}]: expected (chain_path, target_genome, query_genome), got {item!r}"
            )
        _, tname, qname = item
        for role, g in (("target", tname), ("query", qname)):
            if g not in gidx:
                raise InputError(
                    f"alignments[{k}] ({item[0]}): {role} genome {g!r} is not one of the "
                    f"genomes {names}"
                )
        aligned.update((tname, qname))

    graph = nx.Graph()
    for gen in index:
        graph.add_nodes_from(
            zip([gen.name] * gen.n_regions,
                np.array(gen.chroms, dtype=object)[gen.region_chrom].tolist(),
                gen.region_local.tolist())
        )

    def node(gen: _Genome, region: np.ndarray) -> list[tuple[str, str, int]]:
        chroms = np.array(gen.chroms, dtype=object)[gen.region_chrom[region]].tolist()
        return list(zip([gen.name] * region.size, chroms, gen.region_local[region].tolist()))

    reports: list[AlignmentReport] = []
    pairs: list[pd.DataFrame] = []
    n_edges = 0
    for path, tname, qname in alignments:
        tg, qg = index[gidx[tname]], index[gidx[qname]]
        t_reg, q_reg, shared, rep = _shared_bp(
            Path(path), tg, qg, region_size, max_skipped_fraction
        )
        linked = shared > min_shared_bp
        rep.n_edges = int(linked.sum())
        edges = list(zip(node(tg, t_reg[linked]), node(qg, q_reg[linked])))
        before = graph.number_of_edges()
        graph.add_edges_from(edges)
        n_edges += graph.number_of_edges() - before
        reports.append(rep)
        t_rows = tg.regions.iloc[t_reg]
        q_rows = qg.regions.iloc[q_reg]
        pairs.append(
            pd.DataFrame(
                {
                    "target_chrom": t_rows["chrom"].to_numpy(),
                    "target_start": t_rows["start"].to_numpy(),
                    "target_end": t_rows["end"].to_numpy(),
                    "query_chrom": q_rows["chrom"].to_numpy(),
                    "query_start": q_rows["start"].to_numpy(),
                    "query_end": q_rows["end"].to_numpy(),
                    "shared_bp": shared,
                    "linked": linked,
                }
            )
        )

    runs: dict[str, int] = {}
    for gen in index:
        if gen.name in aligned:
            continue
        run = contiguous_regions or int(min(10, max(1, gen.n_regions // 100)))
        runs[gen.name] = int(run)
        # Link region r to r+1 unless r+1 starts a new run or a new chromosome.
        r = np.arange(gen.n_regions - 1)
        same = (gen.region_chrom[r] == gen.region_chrom[r + 1]) & (
            (gen.region_local[r + 1] % run) != 0
        )
        r = r[same]
        graph.add_edges_from(zip(node(gen, r), node(gen, r + 1)))

    # Components, numbered by decreasing total bp (ties: first region).
    comp_of = [np.full(gen.n_regions, -1, dtype=np.int64) for gen in index]
    n_comp = 0
    for n_comp, members in enumerate(nx.connected_components(graph), 1):
        for g, chrom, local in members:
            gen = index[gidx[g]]
            comp_of[gidx[g]][gen.offsets[gen.index[chrom]] + local] = n_comp - 1
    comp_bp = np.zeros((n_comp, len(index)), dtype=np.int64)
    comp_n = np.zeros((n_comp, len(index)), dtype=np.int64)
    first = np.full(n_comp, np.iinfo(np.int64).max)
    base = 0
    for gi, gen in enumerate(index):
        comp_bp[:, gi] = np.bincount(comp_of[gi], weights=gen.region_bp, minlength=n_comp)
        comp_n[:, gi] = np.bincount(comp_of[gi], minlength=n_comp)
        np.minimum.at(first, comp_of[gi], base + np.arange(gen.n_regions))
        base += gen.n_regions
    order = np.lexsort((first, -comp_bp.sum(axis=1)))
    rank = np.empty(n_comp, dtype=np.int64)
    rank[order] = np.arange(n_comp)
    comp_bp, comp_n = comp_bp[order], comp_n[order]
    comp_of = [rank[c] for c in comp_of]

    totals = np.array([gen.total_bp for gen in index], dtype=np.float64)
    targets = np.array([1.0 - valid_fraction - test_fraction, valid_fraction, test_fraction])
    fold, forced = _assign(comp_bp / totals, targets, np.random.default_rng(seed))

    regions: dict[str, pd.DataFrame] = {}
    fold_bp: dict[str, dict[str, int]] = {}
    fractions: dict[str, dict[str, float]] = {}
    fold_names = np.array(FOLDS, dtype=object)
    for gi, gen in enumerate(index):
        df = gen.regions.copy()
        df["fold"] = fold_names[fold[comp_of[gi]]]
        df["component"] = comp_of[gi].astype(np.int64)
        regions[gen.name] = df
        per = np.bincount(fold[comp_of[gi]], weights=gen.region_bp, minlength=3).astype(np.int64)
        fold_bp[gen.name] = {f: int(per[k]) for k, f in enumerate(FOLDS)}
        fractions[gen.name] = {f: float(per[k] / gen.total_bp) for k, f in enumerate(FOLDS)}

    report = SplitReport(
        mode="orthology" if alignments else "contiguous",
        genomes=names,
        seed=int(seed),
        region_size=int(region_size),
        min_shared_bp=int(min_shared_bp),
        targets={"valid": float(valid_fraction), "test": float(test_fraction)},
        total_bp={gen.name: gen.total_bp for gen in index},
        n_regions={gen.name: gen.n_regions for gen in index},
        fold_bp=fold_bp,
        fractions=fractions,
        n_components=int(n_comp),
        n_edges=int(n_edges),
        largest_component={
            "id": 0,
            "n_regions": {g: int(comp_n[0, i]) for i, g in enumerate(names)},
            "bp": {g: int(comp_bp[0, i]) for i, g in enumerate(names)},
        },
        n_forced_train=int(forced.sum()),
        forced_train_bp={g: int(comp_bp[forced, i].sum()) for i, g in enumerate(names)},
        contiguous_regions=runs,
        alignments=reports,
    )
    return SplitResult(regions=regions, report=report, pairs=pairs)


# --------------------------------------------------------------------------- BED I/O


_BED_COLUMNS = ("chrom", "start", "end", "fold", "component")


def write_folds_bed(regions_df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write regions with their fold as a BED file, atomically.

    Args:
        regions_df: DataFrame with columns ``chrom``, ``start``, ``end`` (bp, 0-based
            half-open), ``fold`` and ``component`` (as in :attr:`SplitResult.regions`).
        path: output path; written to a temporary file and renamed.

    The file starts with the header line ``#chrom	start	end	fold	component`` and has
    one tab-separated line per region.
    """
    missing = [c for c in _BED_COLUMNS if c not in regions_df.columns]
    if missing:
        raise InputError(
            f"write_folds_bed: regions_df lacks column(s) {missing}; expected {list(_BED_COLUMNS)}"
        )
    bad = ~regions_df["fold"].isin(FOLDS)
    if bad.any():
        raise InputError(
            f"write_folds_bed: fold must be one of {list(FOLDS)}, "
            f"got {regions_df['fold'][bad].iloc[0]!r}"
        )
    with atomic_open(path, "w") as out:
        out.write("#" + "\t".join(_BED_COLUMNS) + "\n")
        regions_df.loc[:, list(_BED_COLUMNS)].to_csv(out, sep="\t", header=False, index=False)


def read_folds_bed(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a folds BED file (as written by :func:`write_folds_bed`).

    Lines starting with ``#``, ``track`` or ``browser`` and blank lines are skipped.
    Every other line needs at least 4 tab-separated fields: chrom, start, end (integers,
    0 <= start < end, bp) and fold (train, valid or test). When the first data line has
    a 5th field, every line must have one and it is read as the integer component id.

    Args:
        path: the BED file.

    Returns:
        DataFrame with columns ``chrom`` (str), ``start``, ``end`` (int64, bp), ``fold``
        (str), and ``component`` (int64) when present; one row per data line.

    Raises:
        InputError: naming the file and line of the first malformed line.
    """
    path = Path(path)
    rows: list[tuple] = []
    with_component: bool | None = None
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot open folds BED file: {exc.strerror or exc}") from exc
    with handle:
        for lineno, line in enumerate(handle, 1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.startswith(("#", "track", "browser")):
                continue
            fields = text.split("\t")
            if len(fields) < 4:
                raise InputError(
                    f"{path}: line {lineno}: expected at least 4 tab-separated fields "
                    f"(chrom, start, end, fold), got {len(fields)}"
                )
            if with_component is None:
                with_component = len(fields) >= 5
            chrom, start_s, end_s, fold_s = fields[:4]
            try:
                start, end = int(start_s), int(end_s)
            except ValueError:
                raise InputError(
                    f"{path}: line {lineno}: start and end must be integers (bp), "
                    f"got {start_s!r} and {end_s!r}"
                ) from None
            if start < 0 or end <= start:
                raise InputError(
                    f"{path}: line {lineno}: expected 0 <= start < end, got start={start} end={end}"
                )
            if fold_s not in FOLDS:
                raise InputError(
                    f"{path}: line {lineno}: fold must be one of {', '.join(FOLDS)}, got {fold_s!r}"
                )
            if with_component:
                if len(fields) < 5:
                    raise InputError(
                        f"{path}: line {lineno}: expected a 5th field (component id) as on the "
                        f"first data line, got {len(fields)} fields"
                    )
                try:
                    comp = int(fields[4])
                except ValueError:
                    raise InputError(
                        f"{path}: line {lineno}: component must be an integer, got {fields[4]!r}"
                    ) from None
                rows.append((chrom, start, end, fold_s, comp))
            else:
                rows.append((chrom, start, end, fold_s))
    columns = list(_BED_COLUMNS if with_component else _BED_COLUMNS[:4])
    df = pd.DataFrame(rows, columns=columns)
    for c in ("start", "end") + (("component",) if with_component else ()):
        df[c] = df[c].astype(np.int64)
    return df
