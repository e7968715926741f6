"""Pure NumPy statistics of the evaluation: per-column Pearson R, log transform, per-row
(tissue) normalisation, selection of variable sites.

Every function takes and returns plain arrays (float64 results) and never raises on
degenerate data: a constant column, a column with a non-finite value or fewer than two rows
gives R = NaN.
"""

from __future__ import annotations

import numpy as np

DEFAULT_SITE_FRACTION = 0.1


def log_values(x) -> np.ndarray:
    """``log2(1 + max(x, 0))`` in float64.

    Negative inputs (possible from a head without a non-negative activation) are read as 0 so
    that the log is always defined; targets are non-negative by construction.

    Args:
        x: array of any shape, in target units (e.g. summed CAGE counts of 3 bins).

    Returns:
        float64 array of the same shape, in log2 units.
    """
    return np.log2(1.0 + np.maximum(np.asarray(x, dtype=np.float64), 0.0))


def normalize_rows(x) -> np.ndarray:
    """Subtract each row's mean over the columns (the paper's tissue normalisation).

    Args:
        x: float [n, k], e.g. log values of n TSSs (rows) in k CAGE tracks (columns).

    Returns:
        float64 [n, k], every row centred to mean 0. With one column every value becomes 0.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array [rows, columns], got shape {x.shape}")
    if x.shape[1] == 0:
        return x.copy()
    return x - x.mean(axis=1, keepdims=True)


def pearson_columns(x, y) -> np.ndarray:
    """Pearson R between matching columns of two matrices.

    Args:
        x: float [n, k] (n observations of k variables), e.g. predictions.
        y: float [n, k], same shape, e.g. observations.

    Returns:
        float64 [k]: ``R[j] = corr(x[:, j], y[:, j])``, equal to ``np.corrcoef`` of the pair;
        NaN where either column is constant (exactly equal values), holds a non-finite
        value, or ``n < 2``. Values are clipped to [-1, 1].
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    if x.ndim == 1:
        x, y = x[:, None], y[:, None]
    if x.ndim != 2:
        raise ValueError(f"expected 2-D arrays [rows, columns], got shape {x.shape}")
    n, k = x.shape
    if n < 2 or k == 0:
        return np.full(k, np.nan)
    finite = np.isfinite(x).all(axis=0) & np.isfinite(y).all(axis=0)
    varying = (np.ptp(np.where(np.isfinite(x), x, 0.0), axis=0) > 0) & (np.ptp(np.where(np.isfinite(y), y, 0.0), axis=0) > 0)
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    sxx = np.einsum("ij,ij->j", xc, xc)
    syy = np.einsum("ij,ij->j", yc, yc)
    sxy = np.einsum("ij,ij->j", xc, yc)
    ok = finite & varying & (sxx > 0) & (syy > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


def pearson_matrix(x, y) -> np.ndarray:
    """Pearson R between every column of ``x`` and every column of ``y``.

    Args:
        x: float [n, p] (e.g. observed log values of n TSSs in p tracks of the data genome).
        y: float [n, q] (e.g. predicted log values in q tracks of another head).

    Returns:
        float64 [p, q]: ``R[i, j] = corr(x[:, i], y[:, j])``; NaN where either column is
        constant, holds a non-finite value, or ``n < 2``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"expected [n, p] and [n, q] arrays, got {x.shape} and {y.shape}")
    n, p, q = x.shape[0], x.shape[1], y.shape[1]
    if n < 2 or p == 0 or q == 0:
        return np.full((p, q), np.nan)

    def prepare(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        finite = np.isfinite(a).all(axis=0)
        varying = np.ptp(np.where(np.isfinite(a), a, 0.0), axis=0) > 0
        centred = a - a.mean(axis=0)
        norm = np.sqrt(np.einsum("ij,ij->j", centred, centred))
        ok = finite & varying & (norm > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = np.where(ok, centred / np.where(ok, norm, 1.0), 0.0)
        return unit, ok

    ux, okx = prepare(x)
    uy, oky = prepare(y)
    r = np.clip(ux.T @ uy, -1.0, 1.0)
    return np.where(okx[:, None] & oky[None, :], r, np.nan)


def pearson(x, y) -> float:
    """Pearson R of two 1-D arrays (NaN when either is constant; see :func:`pearson_columns`)."""
    return float(pearson_columns(np.ravel(x), np.ravel(y))[0])


def site_count(total: int, fraction: float = DEFAULT_SITE_FRACTION) -> int:
    """How many of ``total`` sites a ``fraction`` selects: ``round(fraction * total)``, at least 1.

    Returns 0 only when ``total`` is 0.
    """
    if total <= 0:
        return 0
    return int(min(total, max(1, round(fraction * total))))


def top_sites(variance, index, k: int) -> np.ndarray:
    """Positions of the ``k`` largest variances, ties broken by the smaller global index.

    Args:
        variance: float [n] score per candidate.
        index: int [n] global site index per candidate (distinct).
        k: how many to keep.

    Returns:
        int64 [min(k, n)] positions into ``variance``, in selection order (largest first).
    """
    variance = np.asarray(variance, dtype=np.float64)
    order = np.lexsort((np.asarray(index), -variance))
    return order[: max(0, k)].astype(np.int64)


def select_variable_sites(values, fraction: float = DEFAULT_SITE_FRACTION) -> np.ndarray:
    """The sites (rows) with the highest variance across columns.

    Args:
        values: float [sites, tracks], e.g. observed ``log2(1 + x)`` of every bin (rows) in
            every DNase/ATAC track (columns).
        fraction: share of the sites to keep (0.1: the top 10%, :func:`site_count`).

    Returns:
        int64 [round(fraction * sites)] row indices, ascending. The variance is the
        population variance (ddof 0) across the columns; ties go to the lower row.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"expected [sites, tracks], got shape {values.shape}")
    n = values.shape[0]
    k = site_count(n, fraction)
    var = values.var(axis=1) if values.shape[1] else np.zeros(n)
    return np.sort(top_sites(var, np.arange(n), k))


def finite_mean(x) -> float:
    """Mean of the finite values (NaN when there are none)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def finite_median(x) -> float:
    """Median of the finite values (NaN when there are none)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else float("nan")
