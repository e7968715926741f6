"""Principal components of the variants x tracks score matrix.

Columns (tracks) are centred; they are not scaled by default (``scale=False``: the
covariance PCA of the paper, where tracks with larger score variance weigh more), and with
``scale=True`` each column is also divided by its standard deviation (the correlation PCA;
constant columns are left at 0).

Method: with at most :data:`GRAM_MAX_TRACKS` tracks, the eigen-decomposition of the
tracks x tracks covariance matrix, accumulated in float64 over row blocks (exact up to
rounding; 250,000 x 1,000 takes seconds). With more tracks, a randomized subspace iteration
(Halko et al. 2011; ``k + 10`` columns, 7 power iterations with QR re-orthonormalisation,
``np.random.default_rng(seed)``), which converges to the leading components for any matrix
whose spectrum has a gap after them.

Sign: PC1 is oriented so that its loadings sum to a positive number, which is the same as
its scores correlating positively with each variant's mean score over tracks (when that sum
is 0, the largest absolute loading is made positive); PC2 and later so that their largest
absolute loading is positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRAM_MAX_TRACKS = 2048
_BLOCK_ROWS = 8192


@dataclass
class PcaResult:
    """Leading principal components.

    Attributes:
        scores: float64 [variants, k] per-variant PC scores (centred, units of the input
            scores, or of standard deviations with ``scale``).
        loadings: float64 [tracks, k] unit-norm component directions.
        variance: float64 [k] variance along each component (n - 1 denominator).
        explained: float64 [k] fraction of the total variance explained.
        total_variance: the sum of the (scaled) column variances.
        scale: whether columns were scaled to unit variance.
        method: ``covariance-eigh`` or ``randomized``.
    """

    scores: np.ndarray
    loadings: np.ndarray
    variance: np.ndarray
    explained: np.ndarray
    total_variance: float
    scale: bool
    method: str


def _column_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 column means and standard deviations (ddof 1), in row blocks."""
    n = len(x)
    mean = np.zeros(x.shape[1])
    for lo in range(0, n, _BLOCK_ROWS):
        mean += x[lo : lo + _BLOCK_ROWS].sum(axis=0, dtype=np.float64)
    mean /= n
    ss = np.zeros(x.shape[1])
    for lo in range(0, n, _BLOCK_ROWS):
        d = x[lo : lo + _BLOCK_ROWS].astype(np.float64) - mean
        ss += np.einsum("ij,ij->j", d, d)
    return mean, np.sqrt(ss / max(n - 1, 1))


def _blocks(x: np.ndarray, mean: np.ndarray, div: np.ndarray):
    for lo in range(0, len(x), _BLOCK_ROWS):
        yield lo, (x[lo : lo + _BLOCK_ROWS].astype(np.float64) - mean) / div


def _orient(loadings: np.ndarray) -> np.ndarray:
    """Deterministic signs (see the module docstring)."""
    v = loadings.copy()
    for j in range(v.shape[1]):
        s = float(v[:, j].sum()) if j == 0 else 0.0
        if j == 0 and abs(s) > 1e-12 * np.sqrt(len(v)):
            sign = np.sign(s)
        else:
            sign = np.sign(v[int(np.argmax(np.abs(v[:, j]))), j]) or 1.0
        v[:, j] *= sign
    return v


def pca(x: np.ndarray, k: int = 2, *, scale: bool = False, seed: int = 0, method: str = "auto") -> PcaResult:
    """The ``k`` leading principal components of the rows of ``x``.

    Args:
        x: float [variants, tracks] scores (float32 or float64; computed in float64).
        k: components to keep (at most min(variants, tracks)).
        scale: divide centred columns by their standard deviation.
        seed: seed of the randomized method.
        method: ``auto`` (covariance eigen-decomposition up to :data:`GRAM_MAX_TRACKS`
            tracks, else randomized), ``covariance-eigh`` or ``randomized``.

    Returns:
        :class:`PcaResult`.
    """
    x = np.asarray(x)
    n, t = x.shape
    k = int(min(k, n, t))
    if k < 1:
        raise ValueError(f"pca: need at least one variant and one track, got {x.shape}")
    mean, sd = _column_stats(x)
    div = np.where(sd > 0, sd, 1.0) if scale else np.ones(t)
    total = float(np.sum((sd / div) ** 2))
    if method == "auto":
        method = "covariance-eigh" if t <= GRAM_MAX_TRACKS else "randomized"
    if method == "covariance-eigh":
        gram = np.zeros((t, t))
        for _, c in _blocks(x, mean, div):
            gram += c.T @ c
        vals, vecs = np.linalg.eigh(gram)
        order = np.argsort(vals)[::-1][:k]
        loadings = vecs[:, order]
    elif method == "randomized":
        rng = np.random.default_rng(seed)
        q = np.linalg.qr(rng.standard_normal((t, min(t, k + 10))))[0]
        for _ in range(7):
            y = np.empty((n, q.shape[1]))
            for lo, c in _blocks(x, mean, div):
                y[lo : lo + len(c)] = c @ q
            y = np.linalg.qr(y)[0]
            z = np.zeros((t, q.shape[1]))
            for lo, c in _blocks(x, mean, div):
                z += c.T @ y[lo : lo + len(c)]
            q = np.linalg.qr(z)[0]
        # Rayleigh-Ritz on the subspace: eigenvectors of q' C' C q
        small = np.zeros((q.shape[1], q.shape[1]))
        for _, c in _blocks(x, mean, div):
            cq = c @ q
            small += cq.T @ cq
        vals, vecs = np.linalg.eigh(small)
        order = np.argsort(vals)[::-1][:k]
        loadings = q @ vecs[:, order]
    else:
        raise ValueError(f"pca: method must be auto, covariance-eigh or randomized, got {method!r}")
    loadings = _orient(loadings)
    scores = np.empty((n, k))
    for lo, c in _blocks(x, mean, div):
        scores[lo : lo + len(c)] = c @ loadings
    variance = np.sum(scores**2, axis=0) / max(n - 1, 1)
    explained = variance / total if total > 0 else np.full(k, np.nan)
    return PcaResult(scores, loadings, variance, explained, total, scale, method)
