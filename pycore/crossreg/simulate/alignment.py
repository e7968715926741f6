"""The human -> mouse alignment as UCSC chains, read off the shared ancestry of every base.

Two descendant bases are aligned exactly when they descend from the same ancestral base.
Runs of aligned bases that advance together on both sides form gapless blocks; consecutive
blocks on the same query chromosome and strand, moving forward on both sides with gaps no
longer than ``chain_max_gap``, form one chain. Minus-strand chains come from inversions.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crossreg.simulate.evolution import Genome
from crossreg.simulate.sequence import COMPLEMENT


@dataclasses.dataclass
class Chain:
    """One UCSC chain (target = human, query = mouse).

    Attributes:
        score: chain score (blastz-like: +91 per match, -114 per mismatch, -400 per gap).
        t_name, t_size, t_start, t_end: target chromosome, its length and the span (0-based).
        q_name, q_size, q_strand, q_start, q_end: query likewise; on ``-`` the span is in
            reverse-complement coordinates, as the chain format defines.
        sizes: int64 (k,) gapless block lengths.
        dt, dq: int64 (k-1,) gaps after each block on target / query.
        matches: identical bases in the blocks.
        id: chain id (1 = best score).
    """

    score: int
    t_name: str
    t_size: int
    t_start: int
    t_end: int
    q_name: str
    q_size: int
    q_strand: str
    q_start: int
    q_end: int
    sizes: np.ndarray
    dt: np.ndarray
    dq: np.ndarray
    matches: int
    id: int = 0

    @property
    def aligned(self) -> int:
        """Aligned bases (sum of block sizes)."""
        return int(self.sizes.sum())

    def blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """Block starts on target and query (query in strand coordinates), int64 (k,) each."""
        t = self.t_start + np.concatenate([[0], np.cumsum(self.sizes[:-1] + self.dt)])
        q = self.q_start + np.concatenate([[0], np.cumsum(self.sizes[:-1] + self.dq)])
        return t.astype(np.int64), q.astype(np.int64)


def build_chains(target: Genome, query: Genome, max_gap: int) -> list[Chain]:
    """All chains of ``target`` against ``query``, sorted by score (ids 1..n).

    Args:
        target: the human genome (``inv_*`` filled).
        query: the mouse genome (``inv_*`` filled).
        max_gap: largest gap (bp, either side) allowed inside a chain.

    Returns:
        Chains, best first.
    """
    q_sizes = np.asarray([len(c) for c in query.chroms], dtype=np.int64)
    chains: list[Chain] = []
    for tc in target.chroms:
        a = tc.anc
        hit = np.flatnonzero(a >= 0)
        hit = hit[query.inv_chrom[a[hit]] >= 0]
        if hit.size == 0:
            continue
        qa = a[hit]
        qc = query.inv_chrom[qa].astype(np.int64)
        qp = query.inv_pos[qa]
        rel = (tc.ori[hit] * query.inv_ori[qa]).astype(np.int8)
        qcoord = np.where(rel > 0, qp, q_sizes[qc] - 1 - qp)
        # base identity (query base complemented on the minus strand)
        qbase = np.empty(hit.size, dtype=np.uint8)
        for ci in np.unique(qc):
            sel = qc == ci
            qbase[sel] = query.chroms[ci].seq[qp[sel]]
        qbase = np.where(rel > 0, qbase, COMPLEMENT[qbase])
        eq = (tc.seq[hit] == qbase).astype(np.int64)

        brk = (np.diff(hit) != 1) | (np.diff(qcoord) != 1) | (np.diff(qc) != 0) | (np.diff(rel) != 0)
        bs = np.concatenate([[0], np.flatnonzero(brk) + 1])
        be = np.concatenate([bs[1:], [hit.size]])
        b_t = hit[bs]
        b_q = qcoord[bs]
        b_size = (be - bs).astype(np.int64)
        b_qc = qc[bs]
        b_rel = rel[bs]
        b_match = np.add.reduceat(eq, bs)
        if bs.size > 1:
            dt = b_t[1:] - (b_t[:-1] + b_size[:-1])
            dq = b_q[1:] - (b_q[:-1] + b_size[:-1])
            cbrk = (b_qc[1:] != b_qc[:-1]) | (b_rel[1:] != b_rel[:-1]) | (dq < 0) | (dt > max_gap) | (dq > max_gap)
        else:
            dt = dq = np.zeros(0, np.int64)
            cbrk = np.zeros(0, bool)
        cs = np.concatenate([[0], np.flatnonzero(cbrk) + 1])
        ce = np.concatenate([cs[1:], [bs.size]])
        for s, e in zip(cs, ce):
            sizes = b_size[s:e]
            m = int(b_match[s:e].sum())
            n_al = int(sizes.sum())
            score = max(1, 91 * m - 114 * (n_al - m) - 400 * (e - s - 1))
            qi = int(b_qc[s])
            chains.append(Chain(
                score=int(score), t_name=tc.name, t_size=len(tc), t_start=int(b_t[s]),
                t_end=int(b_t[e - 1] + sizes[-1]), q_name=query.chroms[qi].name, q_size=int(q_sizes[qi]),
                q_strand="+" if b_rel[s] > 0 else "-", q_start=int(b_q[s]), q_end=int(b_q[e - 1] + sizes[-1]),
                sizes=sizes.copy(), dt=dt[s:e - 1].copy(), dq=dq[s:e - 1].copy(), matches=m))
    t_order = {c.name: i for i, c in enumerate(target.chroms)}
    chains.sort(key=lambda c: (-c.score, t_order[c.t_name], c.t_start))
    for i, c in enumerate(chains):
        c.id = i + 1
    return chains
