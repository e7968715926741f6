"""TF motifs: a MEME-format parser, binding thresholds, PWM sampling and fast genome scans.

The simulator's regulatory grammar rests on real JASPAR 2024 motifs (shipped in
``simulate/data/jaspar_2024_consensus.meme``). A TF binds a site with occupancy
``sigmoid((score - threshold) / tau)`` where ``score`` is the base-2 log-odds of the site under
the PWM against a uniform background and ``threshold`` is the score that a random 1-strand
position exceeds with a small probability (``occupancy_pvalue``).
"""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from pathlib import Path

import numpy as np

from crossreg.errors import InputError
from crossreg.simulate.sequence import N, kmer_codes

PSEUDOCOUNT = 0.01
MOTIF_FILE = "jaspar_2024_consensus.meme"


@dataclasses.dataclass(frozen=True)
class Motif:
    """One position probability matrix.

    Attributes:
        id: the MEME identifier, e.g. ``C015:HNF_NR2E:Nuclear_receptor``.
        probs: float64 (w, 4), rows sum to 1, columns A, C, G, T.
    """

    id: str
    probs: np.ndarray

    @property
    def width(self) -> int:
        """Motif length in bp."""
        return int(self.probs.shape[0])


def default_motif_path() -> Path:
    """Path of the JASPAR 2024 MEME file shipped inside the package."""
    return Path(str(resources.files("crossreg.simulate") / "data" / MOTIF_FILE))


def read_meme(path: str | Path) -> dict[str, Motif]:
    """Parse a MEME-format motif file (version 4, DNA alphabet).

    Args:
        path: the .meme file.

    Returns:
        Motifs by identifier, in file order.

    Raises:
        InputError: if the file is not MEME, the alphabet is not ACGT, or a matrix is malformed
            (wrong row count, wrong column count, rows not summing to 1).
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read motif file ({exc})") from exc
    if not any(line.startswith("MEME version") for line in lines[:20]):
        raise InputError(f"{path}: not a MEME motif file (expected a 'MEME version' line at the top)")
    for line in lines:
        if line.startswith("ALPHABET"):
            alpha = line.split("=", 1)[1].strip()
            if alpha != "ACGT":
                raise InputError(f"{path}: ALPHABET is {alpha!r}; expected ACGT")
    motifs: dict[str, Motif] = {}
    i = 0
    header = re.compile(r"letter-probability matrix:.*?\bw=\s*(\d+)")
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("MOTIF"):
            fields = line.split()
            if len(fields) < 2:
                raise InputError(f"{path}:{i + 1}: MOTIF line without an identifier")
            ident = fields[1]
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("letter-probability"):
                if lines[j].strip().startswith("MOTIF"):
                    raise InputError(f"{path}:{i + 1}: motif {ident} has no letter-probability matrix")
                j += 1
            if j == len(lines):
                raise InputError(f"{path}:{i + 1}: motif {ident} has no letter-probability matrix")
            match = header.search(lines[j])
            if match is None:
                raise InputError(f"{path}:{j + 1}: letter-probability line of {ident} has no 'w=' width")
            width = int(match.group(1))
            rows = []
            for k in range(j + 1, j + 1 + width):
                if k >= len(lines):
                    raise InputError(f"{path}: motif {ident} ends after {len(rows)} of {width} rows")
                try:
                    row = [float(x) for x in lines[k].split()]
                except ValueError as exc:
                    raise InputError(f"{path}:{k + 1}: motif {ident}: expected 4 numbers, got {lines[k]!r}") from exc
                if len(row) != 4:
                    raise InputError(f"{path}:{k + 1}: motif {ident}: expected 4 columns (A C G T), got {len(row)}")
                rows.append(row)
            probs = np.asarray(rows, dtype=np.float64)
            if np.any(probs < 0) or np.any(np.abs(probs.sum(axis=1) - 1.0) > 0.02):
                raise InputError(f"{path}: motif {ident}: rows must be probabilities summing to 1")
            if ident in motifs:
                raise InputError(f"{path}: motif identifier {ident} appears twice")
            motifs[ident] = Motif(ident, probs / probs.sum(axis=1, keepdims=True))
            i = j + 1 + width
        else:
            i += 1
    if not motifs:
        raise InputError(f"{path}: no MOTIF entries found")
    return motifs


def find_motif(motifs: dict[str, Motif], key: str, where: str) -> Motif:
    """Look up a motif by full identifier or by its prefix before the first ``:`` (e.g. ``C055``).

    Raises:
        InputError: naming ``where`` (the params key) when no motif matches.
    """
    if key in motifs:
        return motifs[key]
    hits = [m for ident, m in motifs.items() if ident.split(":", 1)[0] == key]
    if len(hits) != 1:
        raise InputError(f"{where}: motif {key!r} not found in the motif file (expected an identifier such as 'C055')")
    return hits[0]


def log_odds(probs: np.ndarray) -> np.ndarray:
    """Base-2 log-odds against a uniform background, float64 (w, 4), with a small pseudocount."""
    p = probs + PSEUDOCOUNT
    p = p / p.sum(axis=1, keepdims=True)
    return np.log2(p / 0.25)


def score_distribution(lo: np.ndarray, step: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact distribution of the score of a uniform random w-mer (by dynamic programming).

    Args:
        lo: log-odds (w, 4).
        step: score discretisation (bits).

    Returns:
        (scores float64 (m,), probabilities float64 (m,)) on a grid of ``step``.
    """
    q = np.round(lo / step).astype(np.int64)
    dist = np.ones(1)
    offset = 0
    for row in q:
        lo_row = int(row.min())
        new = np.zeros(dist.size + int(row.max()) - lo_row)
        for v in row:
            new[v - lo_row: v - lo_row + dist.size] += dist * 0.25
        dist = new
        offset += lo_row
    return (np.arange(dist.size) + offset) * step, dist


def score_threshold(lo: np.ndarray, pvalue: float) -> float:
    """Score (bits) that a uniform random w-mer reaches with probability <= ``pvalue``."""
    scores, dist = score_distribution(lo)
    tail = np.cumsum(dist[::-1])[::-1]
    idx = min(int(np.searchsorted(-tail, -pvalue)), scores.size - 1)
    return float(scores[idx])


def background_occupancy(lo: np.ndarray, threshold: float, tau: float) -> float:
    """Expected occupancy summed over both strands per kb of uniform random sequence."""
    scores, dist = score_distribution(lo)
    return float(2000.0 * np.sum(dist / (1.0 + np.exp(-np.clip((scores - threshold) / tau, -50, 50)))))


@dataclasses.dataclass
class TFModel:
    """A transcription factor as the simulator uses it.

    Attributes:
        name: short name used in params and truth tables (e.g. ``HNF4``).
        motif: its JASPAR motif.
        lo: float64 (w, 4) log-odds.
        threshold: score (bits) of half occupancy.
        max_score: best possible score (bits).
        weight: contribution of one fully occupied site to the accessibility drive (the
            configured weight, scaled down for low-specificity motifs; see :func:`build_tf`).
        background: expected occupancy per kb of random sequence (both strands).
    """

    name: str
    motif: Motif
    lo: np.ndarray
    threshold: float
    max_score: float
    weight: float
    background: float

    @property
    def width(self) -> int:
        """Site length in bp."""
        return self.motif.width


def build_tf(name: str, motif: Motif, pvalue: float, weight: float, tau: float, target_background: float
             ) -> TFModel:
    """Make a :class:`TFModel`.

    The half-occupancy threshold is the score at ``pvalue`` (capped 0.75 bit below the best
    score). Short, degenerate motifs still bind random sequence often; their weight is scaled by
    ``min(1, target_background / background)`` so that no TF opens chromatin by chance more than
    a specific one would: they need more copies to do the same work.
    """
    lo = log_odds(motif.probs)
    max_score = float(lo.max(axis=1).sum())
    thr = min(score_threshold(lo, pvalue), max_score - 0.75)
    bg = background_occupancy(lo, thr, tau)
    eff = weight * min(1.0, target_background / bg) if bg > 0 else weight
    return TFModel(name, motif, lo, float(thr), max_score, float(eff), bg)


def occupancy(score: np.ndarray, threshold: float | np.ndarray, tau: float) -> np.ndarray:
    """Fractional occupancy ``1 / (1 + exp(-(score - threshold) / tau))``, float32."""
    z = (np.asarray(score, dtype=np.float64) - threshold) / tau
    return (1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float32)


def sample_sites(rng: np.random.Generator, tf: TFModel, n: int, min_score: float) -> np.ndarray:
    """Sample ``n`` binding sites from the PWM, keeping those that score at least ``min_score``.

    Sites are drawn base by base from the motif's probabilities (real PWM variability); if too
    few pass, the matrix is sharpened (p**2, then p**4) before the consensus is used as a last
    resort.

    Returns:
        uint8 codes (n, w), forward strand of the motif.
    """
    w = tf.width
    out = np.empty((0, w), dtype=np.uint8)
    for power in (1.0, 1.0, 2.0, 2.0, 4.0, 4.0):
        need = n - out.shape[0]
        if need <= 0:
            break
        p = tf.motif.probs ** power
        p = p / p.sum(axis=1, keepdims=True)
        batch = max(16, 4 * need)
        cum = np.cumsum(p, axis=1)
        u = rng.random((batch, w, 1))
        draws = (u > cum[None, :, :]).sum(axis=2).clip(0, 3).astype(np.uint8)
        scores = tf.lo[np.arange(w)[None, :], draws].sum(axis=1)
        out = np.concatenate([out, draws[scores >= min_score][:need]])
    if out.shape[0] < n:
        consensus = tf.lo.argmax(axis=1).astype(np.uint8)
        out = np.concatenate([out, np.tile(consensus, (n - out.shape[0], 1))])
    return out


@dataclasses.dataclass
class Sites:
    """Scan hits, all arrays of shape (n_sites,).

    Attributes:
        tf: int16 index into the scanner's TF list.
        start: int64 0-based leftmost position of the site.
        strand: int8, +1 or -1.
        score: float32 log-odds (bits).
        occupancy: float32 in (0, 1).
    """

    tf: np.ndarray
    start: np.ndarray
    strand: np.ndarray
    score: np.ndarray
    occupancy: np.ndarray

    @classmethod
    def empty(cls) -> "Sites":
        """A table with no sites."""
        return cls(np.zeros(0, np.int16), np.zeros(0, np.int64), np.zeros(0, np.int8),
                   np.zeros(0, np.float32), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return int(self.start.size)

    def select(self, mask: np.ndarray) -> "Sites":
        """Subset by a boolean mask or index array."""
        return Sites(self.tf[mask], self.start[mask], self.strand[mask], self.score[mask], self.occupancy[mask])


class Scanner:
    """Scan sequences with many PWMs on both strands using k-mer lookup tables.

    Each motif is cut into chunks of ``k`` positions; the score of a window is the sum of one
    table look-up per chunk. The most informative chunk is looked up everywhere and only windows
    that could still reach ``threshold - floor_margin`` get the other chunks.
    """

    def __init__(self, tfs: list[TFModel], tau: float, floor_margin: float = 4.0, k: int = 6):
        self.tfs = tfs
        self.tau = float(tau)
        self.k = k
        self.floor_margin = floor_margin
        self.max_width = max(tf.width for tf in tfs) if tfs else 0
        self._plans = []
        shifts = 2 * (k - 1 - np.arange(k))
        codes = np.arange(4 ** k, dtype=np.int64)
        bases = (codes[None, :] >> shifts[:, None]) & 3  # (k, 4**k)
        for idx, tf in enumerate(tfs):
            for strand, lo in ((1, tf.lo), (-1, tf.lo[::-1, ::-1])):
                chunks = []
                for off in range(0, tf.width, k):
                    part = lo[off:off + k]
                    table = np.zeros(4 ** k, dtype=np.float64)
                    for j in range(part.shape[0]):
                        table += part[j][bases[j]]
                    chunks.append((off, table.astype(np.float32), float(part.max(axis=1).sum())))
                best = max(range(len(chunks)), key=lambda c: chunks[c][1].max() - chunks[c][1].min())
                order = [best] + [c for c in range(len(chunks)) if c != best]
                chunks = [chunks[c] for c in order]
                self._plans.append((idx, strand, chunks))

    def scan(self, seq: np.ndarray, min_occupancy: float = 0.01) -> Sites:
        """Find all sites with occupancy >= ``min_occupancy`` in ``seq``.

        A window that matches on both strands (palindromes) is reported once, on the strand
        with the higher score (on a tie, the + strand).

        Args:
            seq: uint8 codes (L,); windows containing N are skipped.
            min_occupancy: report floor.

        Returns:
            :class:`Sites`, sorted by start then TF.
        """
        L = seq.size
        if L == 0 or not self.tfs:
            return Sites.empty()
        padded = np.concatenate([seq, np.full(self.max_width + self.k, N, dtype=np.uint8)])
        code = kmer_codes(padded, self.k)
        ncum = np.concatenate([[0], np.cumsum(padded == N, dtype=np.int64)])
        floor = np.log(min_occupancy / (1 - min_occupancy)) * self.tau  # score - thr at the floor
        out_tf, out_start, out_strand, out_score = [], [], [], []
        for idx, strand, chunks in self._plans:
            tf = self.tfs[idx]
            m = L - tf.width + 1
            if m <= 0:
                continue
            cut = tf.threshold + floor
            off0, tab0, _ = chunks[0]
            rest = sum(c[2] for c in chunks[1:])
            first = np.take(tab0, code[off0:off0 + m])
            cand = np.flatnonzero(first >= cut - rest)
            if cand.size == 0:
                continue
            score = first[cand].astype(np.float64)
            for off, tab, _ in chunks[1:]:
                score += np.take(tab, code[cand + off])
            keep = (score >= cut) & (ncum[cand + tf.width] == ncum[cand])
            cand = cand[keep]
            out_tf.append(np.full(cand.size, idx, np.int16))
            out_start.append(cand.astype(np.int64))
            out_strand.append(np.full(cand.size, strand, np.int8))
            out_score.append(score[keep].astype(np.float32))
        if not out_start:
            return Sites.empty()
        tf_idx = np.concatenate(out_tf)
        start = np.concatenate(out_start)
        strand = np.concatenate(out_strand)
        score = np.concatenate(out_score)
        # one site per (TF, position): a palindrome matches both strands but is bound once
        order = np.lexsort((-score, start, tf_idx))
        tf_idx, start, strand, score = tf_idx[order], start[order], strand[order], score[order]
        first = np.ones(start.size, dtype=bool)
        first[1:] = (start[1:] != start[:-1]) | (tf_idx[1:] != tf_idx[:-1])
        tf_idx, start, strand, score = tf_idx[first], start[first], strand[first], score[first]
        order = np.lexsort((strand, tf_idx, start))
        thr = np.array([t.threshold for t in self.tfs])[tf_idx[order]]
        occ = occupancy(score[order], thr, self.tau)
        return Sites(tf_idx[order], start[order], strand[order], score[order], occ)


def site_score(tf: TFModel, window: np.ndarray, strand: int) -> float:
    """Log-odds of one site (uint8 codes of length w, genome forward strand) on ``strand``."""
    lo = tf.lo if strand == 1 else tf.lo[::-1, ::-1]
    if np.any(window >= N):
        return float("-inf")
    return float(lo[np.arange(tf.width), window].sum())
