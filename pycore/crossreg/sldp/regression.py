"""SLDP regression (sldp 1.1.5 ``sldp`` and ``chunkstats``), vectorised over target annotations.

Notation: ``B`` background annotations, ``T`` targets, ``C`` chunks. For a used LD block with
typed SNPs ``t``, ``A_b`` = profiles Rv at the typed SNPs (float64 [n_t, B + T]) and
``y_b = W^{-1} ahat``:

    num_b = A_b' y_b / 1e6                (B + T)
    den_b = A_b' W^{-1} A_b / 1e6         only the parts used: [a, a], [a, t], diag [t, t]

Each target is fitted jointly with the whole background and without the other targets.

**Chunks** (:func:`chunk_endpoints`): the blocks of the LD-block file, in file order (MHC
removed), carry ``M_H`` = typed SNPs of a used block, 0 otherwise. With ``cs = sum M_H /
jk_blocks`` and ``avg = sum M_H / #{M_H > 0}``, blocks are added to the current chunk while
its size is ``<= max(1, cs - avg / 2)`` (so the block that crosses the threshold is
included, and a chunk of one block with ``M_H = 1`` absorbs the next block); chunks without
a used block are dropped.

**Background removal** (:func:`residualize`, Frisch-Waugh-Lovell): with totals ``D``, ``n``,
``muy = D_aa^{-1} n_a`` and ``mux = D_aa^{-1} D_at``, per chunk

    q_c = num_c[t] - den_c[t, a] muy - num_c[a] mux + mux' den_c[a, a] muy
    r_c = den_c[t, t] - 2 den_c[t, a] mux + mux' den_c[a, a] mux

and ``mu = sum q / sum r`` (the GLS estimate, :func:`estimate`).

**Tests**: ``z_fast = sum q / ||q||``, ``p_fast = chi2_1.sf(z_fast^2)``
(:func:`fast_test`); the sign-flip test (:func:`signflip_test`) draws ``sum_c s_c q_c`` with
``s_c = +-1`` in batches of 100,000 up to ``T``; after each batch ``p = max(1, #{|null| >=
|S|}) / draws``, stopping early once ``p >= 0.01`` (so the floor is ``1 / T``); ``z =
sign(S) sqrt(chi2_1.isf(p))``. Two random streams:

* ``rng="reference"``: the reference's stream exactly: ``numpy.random.seed(seed)`` then, per
  target in order and per batch, ``(-1) ** numpy.random.binomial(1, 0.5, (batch, C))``.
  It is reproduced from the raw MT19937 words of a private ``RandomState(seed)`` (a legacy
  ``binomial(1, 0.5)`` draw is ``next_double() > 0.5``, one double = two 32-bit words),
  faster than calling ``binomial`` and without touching numpy's global state. Targets consume the
  stream one after the other, so a target's p depends on the targets before it.
* ``rng="fast"`` (default): ``numpy.random.default_rng(seed)``; one sign matrix per batch
  (random bits) shared by all targets, so the null sums of all targets are one matrix
  product, and a target's p depends only on its own ``q`` and the seed.

Quirks of the reference kept: ``/1e6`` scaling, the chunking rule, blocks used only when
some annotation (background or any target) is non-zero there, jackknife by its formula.
Differences: ``T`` need not be a multiple of the batch size (the reference crashes); a
target whose ``S`` is exactly 0 gets ``p = 1, z = 0`` (the reference reports ``p =
T / draws`` and ``z = nan``); a chunk count below 2 gives ``se = nan``.

**Jackknife** (:func:`jackknife_se`): delete one chunk, refit, ``se^2 = (C - 1) / C sum_j
(mu_(-j) - mean mu_(-j))^2`` (written as the reference's pseudo-value formula).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

SCALE = 1e6
BATCH = 100_000
STOP_P = 0.01
RNG_MODES = ("fast", "reference")


@dataclass
class ChunkStats:
    """Per-chunk regression sums.

    Attributes:
        num_a: float64 [C, B]; num_t: float64 [C, T];
        den_aa: float64 [C, B, B]; den_at: float64 [C, B, T]; den_tt: float64 [C, T].
    """

    num_a: np.ndarray
    num_t: np.ndarray
    den_aa: np.ndarray
    den_at: np.ndarray
    den_tt: np.ndarray

    @property
    def n_chunks(self) -> int:
        return self.num_t.shape[0]

    @property
    def n_background(self) -> int:
        return self.num_a.shape[1]

    @property
    def n_targets(self) -> int:
        return self.num_t.shape[1]

    @classmethod
    def zeros(cls, n_chunks: int, n_background: int, n_targets: int) -> "ChunkStats":
        c, b, t = n_chunks, n_background, n_targets
        return cls(np.zeros((c, b)), np.zeros((c, t)), np.zeros((c, b, b)), np.zeros((c, b, t)), np.zeros((c, t)))

    def add_block(self, chunk: int, A: np.ndarray, y: np.ndarray, winv_A: np.ndarray, n_background: int) -> None:
        """Add one block given dense pieces (for tests): A, W^-1 A float64 [n_t, K], y = W^-1 ahat [n_t]."""
        b = n_background
        num = A.T @ y / SCALE
        den_cols = winv_A
        self.num_a[chunk] += num[:b]
        self.num_t[chunk] += num[b:]
        self.den_aa[chunk] += A[:, :b].T @ den_cols[:, :b] / SCALE
        self.den_at[chunk] += A[:, :b].T @ den_cols[:, b:] / SCALE
        self.den_tt[chunk] += np.einsum("ik,ik->k", A[:, b:], den_cols[:, b:]) / SCALE

    def add_eigen_block(self, chunk: int, C: np.ndarray, w: np.ndarray, g: np.ndarray, n_background: int) -> None:
        """Add one block in its eigenbasis.

        Args:
            chunk: chunk index.
            C: float64 [k, K] ``U_t' A``; w: float64 [k] GLS weights; g: float64 [k] ``U_t' ahat``.
            n_background: B.
        """
        b = n_background
        wc = w[:, None] * C
        num = C.T @ (w * g) / SCALE
        self.num_a[chunk] += num[:b]
        self.num_t[chunk] += num[b:]
        if b:
            self.den_aa[chunk] += C[:, :b].T @ wc[:, :b] / SCALE
            self.den_at[chunk] += C[:, :b].T @ wc[:, b:] / SCALE
        self.den_tt[chunk] += np.einsum("ik,ik->k", C[:, b:], wc[:, b:]) / SCALE


def chunk_endpoints(m_h: np.ndarray, jk_blocks: int) -> list[tuple[int, int]]:
    """The reference's chunking of blocks (in file order) by typed-SNP count.

    Args:
        m_h: float [n_blocks] typed SNPs of each used block, 0 for the others.
        jk_blocks: target number of chunks (``--jk-blocks``).

    Returns:
        ``[(i, j), ...]`` half-open ranges of block positions, covering all blocks.
    """
    m_h = np.asarray(m_h, dtype=np.float64)
    total = m_h.sum()
    nonzero = int(np.count_nonzero(m_h))
    chunksize = total / jk_blocks
    avg = total / nonzero if nonzero else math.nan
    limit = max(1.0, chunksize - avg / 2) if math.isfinite(avg) else 1.0
    ends = [0]
    cur = 0
    while cur < len(m_h):
        size = 0.0
        while size <= limit and cur < len(m_h):
            size += m_h[cur]
            cur += 1
        ends.append(cur)
    return list(zip(ends[:-1], ends[1:]))


def chunk_of_blocks(m_h: np.ndarray, used: np.ndarray, jk_blocks: int) -> tuple[np.ndarray, int]:
    """Chunk index of every block (-1 for unused blocks), and the number of chunks.

    Chunks holding no used block are dropped and the others renumbered 0 .. C-1 in order.
    """
    chunk = np.full(len(m_h), -1, dtype=np.int64)
    c = 0
    for i, j in chunk_endpoints(m_h, jk_blocks):
        sel = np.flatnonzero(used[i:j]) + i
        if len(sel):
            chunk[sel] = c
            c += 1
    return chunk, c


@dataclass
class Residualized:
    """Output of :func:`residualize`: q, r float64 [C, T]; mux float64 [B, T]; muy float64 [B]."""

    q: np.ndarray
    r: np.ndarray
    mux: np.ndarray
    muy: np.ndarray


def _totals(s: ChunkStats):
    return s.num_a.sum(0), s.num_t.sum(0), s.den_aa.sum(0), s.den_at.sum(0), s.den_tt.sum(0)


def residualize(s: ChunkStats) -> Residualized:
    """Per-chunk numerators and denominators with the background projected out (FWL).

    Raises:
        numpy.linalg.LinAlgError: the background's total ``D_aa`` is singular.
    """
    b = s.n_background
    if b == 0:
        return Residualized(s.num_t.copy(), s.den_tt.copy(), np.zeros((0, s.n_targets)), np.zeros(0))
    n_a, _, d_aa, d_at, _ = _totals(s)
    muy = np.linalg.solve(d_aa, n_a)
    mux = np.linalg.solve(d_aa, d_at)
    xa_muy = np.einsum("cbt,b->ct", s.den_at, muy)
    ya_mux = s.num_a @ mux
    aa_muy = s.den_aa @ muy  # [C, B]
    q = s.num_t - xa_muy - ya_mux + aa_muy @ mux
    xa_mux = np.einsum("cbt,bt->ct", s.den_at, mux)
    aa_mux = np.einsum("cbd,dt->cbt", s.den_aa, mux)
    r = s.den_tt - 2 * xa_mux + np.einsum("cbt,bt->ct", aa_mux, mux)
    return Residualized(q, r, mux, muy)


def _schur(n_a, n_t, d_aa, d_at, d_tt) -> np.ndarray:
    """mu for totals with leading batch dims: n_a [..., B], n_t [..., T], d_aa [..., B, B], d_at [..., B, T], d_tt [..., T]."""
    if n_a.shape[-1] == 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            return n_t / d_tt
    rhs = np.concatenate([n_a[..., :, None], d_at], axis=-1)
    sol = np.linalg.solve(d_aa, rhs)
    muy, mux = sol[..., 0], sol[..., 1:]
    num = n_t - np.einsum("...bt,...b->...t", d_at, muy)
    den = d_tt - np.einsum("...bt,...bt->...t", d_at, mux)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def estimate(s: ChunkStats) -> np.ndarray:
    """GLS estimate of every target, jointly with the background: float64 [T].

    ``mu = (n_t - D_ta D_aa^{-1} n_a) / (D_tt - D_ta D_aa^{-1} D_at)``, the last entry of
    ``D[I, I]^{-1} n[I]`` with ``I = background + (t)`` (Schur complement).
    """
    return _schur(*_totals(s))


def leave_one_out(s: ChunkStats) -> np.ndarray:
    """Estimates with one chunk deleted: float64 [C, T] (NaN where the refit is singular)."""
    n_a, n_t, d_aa, d_at, d_tt = _totals(s)
    parts = (n_a - s.num_a, n_t - s.num_t, d_aa - s.den_aa, d_at - s.den_at, d_tt - s.den_tt)
    try:
        return _schur(*parts)
    except np.linalg.LinAlgError:
        out = np.full((s.n_chunks, s.n_targets), np.nan)
        for j in range(s.n_chunks):
            try:
                out[j] = _schur(*(p[j] for p in parts))
            except np.linalg.LinAlgError:
                pass
        return out


def jackknife_se(s: ChunkStats, mu: np.ndarray | None = None) -> np.ndarray:
    """Delete-one-chunk jackknife standard error of every target's mu: float64 [T].

    As the reference (``chunkstats.jackknife_se``, all chunk weights 1): with ``g`` chunks,
    ``theta_J = g mu - (g-1)/g sum theta_j``, ``tau_j = g mu - (g-1) theta_j``,
    ``se = sqrt(mean((tau_j - theta_J)^2 / (g - 1)))``. NaN with fewer than 2 chunks.
    """
    g = s.n_chunks
    if g < 2:
        return np.full(s.n_targets, np.nan)
    if mu is None:
        mu = estimate(s)
    theta = leave_one_out(s)
    theta_j = g * mu - ((g - 1) / g * theta).sum(axis=0)
    tau = mu * g - (g - 1) * theta
    return np.sqrt(np.mean((tau - theta_j) ** 2 / (g - 1), axis=0))


def fast_test(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``z_fast = sum q / ||q||``, ``p_fast = chi2_1.sf(z_fast^2)`` per target (q float64 [C, T])."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = q.sum(axis=0) / np.linalg.norm(q, axis=0)
    return z, st.chi2.sf(z**2, 1)


def z_from_p(score: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``sign(S) sqrt(chi2_1.isf(p))`` (0 where S == 0)."""
    return np.sign(score) * np.sqrt(st.chi2.isf(p, 1))


def _reference_signs(state: np.random.RandomState, rows: int, cols: int) -> np.ndarray:
    """float64 [rows, cols] of ``(-1) ** binomial(1, 0.5)`` exactly as the legacy RandomState draws them.

    A legacy ``binomial(1, 0.5)`` draw is 1 iff ``next_double() > 0.5``, with ``next_double =
    ((a >> 5) * 2^26 + (b >> 6)) / 2^53`` from two consecutive 32-bit MT19937 words a, b;
    that is iff ``a >= 2^31`` unless ``a >> 5 == 2^26`` and ``b < 64``. The words are read
    with ``randint(0, 2^32, dtype=uint32)``, which returns them unchanged and in order.
    """
    w = state.randint(0, 1 << 32, size=2 * rows * cols, dtype=np.uint32)
    if sys.byteorder == "little":
        x = w.view(np.uint64)  # a | b << 32
    else:
        x = w[0::2].astype(np.uint64) | (w[1::2].astype(np.uint64) << np.uint64(32))
    one = (x & np.uint64(0x80000000)) != 0
    edge = (x & np.uint64(0xFFFFFFE0)) == np.uint64(0x80000000)
    if edge.any():
        one &= ~(edge & ((x >> np.uint64(38)) == 0))
    return (1.0 - 2.0 * one).reshape(rows, cols)


def _reference_one(q: np.ndarray, state, T: int, batch: int, stop_p: float, slab: int) -> tuple[float, int]:
    score = q.sum()
    big = abs(score)
    count = 0
    current = 0
    p = 1.0
    while current < T:
        rows = min(batch, T - current)
        for lo in range(0, rows, slab):
            s = _reference_signs(state, min(slab, rows - lo), len(q))
            count += int(np.count_nonzero(np.abs(s @ q) >= big))
        current += rows
        p = max(1, count) / current
        if p >= stop_p:
            break
    return p, current


def _fast_all(q: np.ndarray, seed: int, T: int, batch: int, stop_p: float) -> tuple[np.ndarray, np.ndarray]:
    c, n_t = q.shape
    gen = np.random.default_rng(seed)
    score = np.abs(q.sum(axis=0))
    counts = np.zeros(n_t, dtype=np.int64)
    draws = np.zeros(n_t, dtype=np.int64)
    active = np.arange(n_t)
    current = 0
    while current < T and len(active):
        rows = min(batch, T - current)
        bits = np.unpackbits(np.frombuffer(gen.bytes((rows * c + 7) // 8), dtype=np.uint8))[: rows * c]
        bits = bits.reshape(rows, c)
        qa = np.ascontiguousarray(q[:, active])
        slab = max(256, min(rows, (1 << 22) // max(1, len(active))))
        for lo in range(0, rows, slab):
            s = 1.0 - 2.0 * bits[lo : lo + slab]
            counts[active] += np.count_nonzero(np.abs(s @ qa) >= score[active], axis=0)
        current += rows
        draws[active] = current
        p = np.maximum(1, counts[active]) / current
        active = active[p < stop_p]
    return np.maximum(1, counts) / draws, draws


def signflip_test(
    q: np.ndarray,
    *,
    T: int = 1_000_000,
    seed: int = 0,
    rng: str = "fast",
    batch: int = BATCH,
    stop_p: float = STOP_P,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign-flip p-values of ``S = sum_c q_c`` for every target (see the module docstring).

    Args:
        q: float64 [C, T_targets] residualised chunk numerators.
        T: maximum number of sign-flip draws (p floor ``1 / T``).
        seed: random seed.
        rng: ``"fast"`` or ``"reference"``.
        batch: draws between early-stopping checks (100,000).
        stop_p: stop once ``p >= stop_p``.

    Returns:
        ``(p, z, draws)``: float64 [T_targets], float64 [T_targets], int64 [T_targets].
    """
    if rng not in RNG_MODES:
        raise ValueError(f"rng must be one of {RNG_MODES}, got {rng!r}")
    if T < 1 or batch < 1:
        raise ValueError(f"T and batch must be >= 1, got T={T}, batch={batch}")
    q = np.asarray(q, dtype=np.float64)
    c, n_t = q.shape
    score = q.sum(axis=0)
    if rng == "reference":
        state = np.random.RandomState(seed)
        slab = max(1, min(batch, (1 << 21) // max(1, c)))
        p = np.empty(n_t)
        draws = np.empty(n_t, dtype=np.int64)
        for t in range(n_t):
            qt = np.ascontiguousarray(q[:, t])
            score[t] = qt.sum()
            p[t], draws[t] = _reference_one(qt, state, T, batch, stop_p, slab)
    else:
        p, draws = _fast_all(q, seed, T, batch, stop_p)
    p = np.where(score == 0, 1.0, p)
    return p, z_from_p(score, p), draws


def scalings(mu, se, sqnorm, supp, m, h2g: float, sigma2g: float) -> dict[str, np.ndarray]:
    """The reference's derived quantities (arrays [T]).

    ``rf = mu sqrt(sqnorm / h2g)`` (clamped h2g); ``h2v_h2g = rf^2 - se^2 sqnorm / (M sigma2g)``;
    ``h2v = h2v_h2g h2g``; ``supp_over_M = supp / M``.
    """
    mu, se, sqnorm, supp, m = (np.asarray(a, dtype=np.float64) for a in (mu, se, sqnorm, supp, m))
    with np.errstate(invalid="ignore", divide="ignore"):
        rf = mu * np.sqrt(sqnorm / h2g)
        h2v_h2g = rf**2 - se**2 * sqnorm / (m * sigma2g)
    return {"rf": rf, "h2v_h2g": h2v_h2g, "h2v": h2v_h2g * h2g, "supp_over_M": supp / m}
