"""Case vs control statistics on a variants x tracks score matrix (vectorised over tracks).

* :func:`case_control_columns` (and :func:`mann_whitney_columns`): two-sided Mann-Whitney U
  per column, equal to ``scipy.stats.mannwhitneyu(case, control, axis=0, method=method)``
  (the same U; the same p to the last bits), and the mean asinh(score) of cases and of
  controls per column (the effect, Figure 5a's x-axis, is their difference). With more than 8 values on each side scipy's ``auto`` method is the normal
  approximation with tie and continuity corrections; it is computed here over blocks of
  columns in threads, from exact rank sums and tie counts: by counting values when every
  score is exactly a float16 (as every score read from a ``crossreg score-variants`` file
  is: at most 65,536 distinct values, so the mid-ranks follow from the value counts), else by
  sorting (sort + binary search). With 8 or fewer values on a side (or ``method="exact"``)
  scipy is called directly.
* :func:`bh_qvalues`: Benjamini-Hochberg q-values (statsmodels ``fdr_bh``), NaN p left out.
* :func:`group_tests`: each track group's p-values against all other tracks' (MWU).
* :func:`paired_sign_test`: binomial test of the fraction of families whose case is lower.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import special, stats

_BLOCK_COLUMNS = 32


@dataclass
class ColumnTests:
    """Per-column results of :func:`case_control_columns`.

    Attributes:
        U: float64 [tracks], the Mann-Whitney U of the case sample (scipy's ``statistic``).
        p: float64 [tracks], two-sided p-value.
        mean_asinh_case, mean_asinh_control: float64 [tracks], mean asinh(score).
        method: ``asymptotic`` (computed here), or ``exact`` / ``auto`` (scipy called with
            that method, for samples of 8 or fewer on a side).
    """

    U: np.ndarray
    p: np.ndarray
    mean_asinh_case: np.ndarray
    mean_asinh_control: np.ndarray
    method: str

    @property
    def effect(self) -> np.ndarray:
        """float64 [tracks]: mean asinh over cases minus over controls."""
        return self.mean_asinh_case - self.mean_asinh_control


def _threads(n_blocks: int, threads: int | None) -> int:
    if threads is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(int(threads), n_blocks))


def _float16_tables() -> tuple[np.ndarray, np.ndarray]:
    """(key of each float16 bit pattern, asinh of the value of each key).

    Keys 0..65535 follow the order of the values (negative values below 0x8000, -0.0 given
    the key of +0.0); the asinh table is 0 where no finite value has that key.
    """
    bits = np.arange(65536, dtype=np.uint32)
    key = np.where(bits & 0x8000, ~bits & 0xFFFF, bits | 0x8000)
    key[0x8000] = key[0]
    values = bits.astype(np.uint16).view(np.float16).astype(np.float64)
    asinh = np.zeros(65536)
    finite = np.isfinite(values) & (bits != 0x8000)
    asinh[key[finite]] = np.arcsinh(values[finite])
    return key.astype(np.intp), asinh


_F16_KEY, _F16_ASINH = _float16_tables()
_ROW_BLOCK = 65536


def as_float16_exact(x: np.ndarray) -> np.ndarray | None:
    """A float16 copy of ``x`` when every value is exactly a finite float16 (as scores read from
    a ``crossreg score-variants`` file are), else None."""
    if x.dtype == np.float16:
        return x
    out = np.empty(x.shape, dtype=np.float16)
    with np.errstate(over="ignore"):
        for lo in range(0, len(x), _ROW_BLOCK):
            out[lo : lo + _ROW_BLOCK] = x[lo : lo + _ROW_BLOCK]
            if not np.array_equal(out[lo : lo + _ROW_BLOCK].astype(x.dtype), x[lo : lo + _ROW_BLOCK]):
                return None
    return out


def _block_by_counting(hx: np.ndarray, hy: np.ndarray, lo: int, hi: int) -> tuple:
    """Rank sum, tie term and asinh means of columns ``lo:hi`` of float16 data, by counting.

    With at most 65,536 distinct values, the counts of each value among cases and controls
    give every mid-rank: a value whose run in the pooled sorted sample spans ranks
    ``start + 1 .. end`` has mid-rank ``(start + 1 + end) / 2``.
    """
    b = hi - lo
    offsets = np.arange(b, dtype=np.intp) * 65536

    def counts(h: np.ndarray) -> np.ndarray:
        keys = _F16_KEY[h[:, lo:hi].view(np.uint16)]
        keys += offsets
        return np.bincount(keys.ravel(), minlength=b * 65536).reshape(b, 65536)

    kx, ky = counts(hx).ravel(), counts(hy).ravel()
    # only the values that occur: c counts per (column, value), in value order within a column
    nz = np.flatnonzero(kx + ky)
    cx, cy = kx[nz], ky[nz]
    c = cx + cy
    col = nz // 65536
    n = len(hx) + len(hy)
    end = np.cumsum(c) - col * n  # every column holds exactly n values
    mid = (2 * end - c + 1) / 2.0
    r1 = np.bincount(col, weights=cx * mid, minlength=b)
    cf = c.astype(np.float64)
    tie = np.bincount(col, weights=cf**3 - cf, minlength=b)
    asinh = _F16_ASINH[nz % 65536]
    mx = np.bincount(col, weights=cx * asinh, minlength=b) / len(hx)
    my = np.bincount(col, weights=cy * asinh, minlength=b) / len(hy)
    return lo, hi, r1, tie, mx, my


def _block_by_sorting(case: np.ndarray, control: np.ndarray, lo: int, hi: int, ranks: bool) -> tuple:
    """Rank sum, tie term and asinh means of columns ``lo:hi`` of any finite data, by sorting."""
    xs = np.ascontiguousarray(case[:, lo:hi].T)  # [b, n1]
    ys = np.ascontiguousarray(control[:, lo:hi].T)  # [b, n2]
    mx = np.arcsinh(xs, dtype=np.float64).mean(axis=1)
    my = np.arcsinh(ys, dtype=np.float64).mean(axis=1)
    b, n1 = xs.shape
    r1 = np.zeros(b, dtype=np.float64)
    tie = np.zeros(b, dtype=np.float64)
    if not ranks:
        return lo, hi, r1, tie, mx, my
    xs.sort(axis=1)
    ys.sort(axis=1)
    # the two sorted runs merged (a stable sort of two runs is a linear merge), for the ties
    both = np.concatenate([xs, ys], axis=1)
    both.sort(axis=1, kind="stable")
    n = both.shape[1]
    for k in range(b):
        # U of the cases = sum over case values of #(controls below) + #(controls equal) / 2
        below = np.searchsorted(ys[k], xs[k], side="left").sum(dtype=np.int64)
        not_above = np.searchsorted(ys[k], xs[k], side="right").sum(dtype=np.int64)
        r1[k] = (int(below) + int(not_above)) / 2.0 + n1 * (n1 + 1) / 2
        s = both[k]
        starts = np.flatnonzero(s[1:] != s[:-1]) + 1
        runs = np.diff(np.concatenate(([0], starts, [n]))).astype(np.float64)
        tie[k] = np.sum(runs**3 - runs)
    return lo, hi, r1, tie, mx, my


def _check(case: np.ndarray, control: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    case, control = np.asarray(case), np.asarray(control)
    if case.ndim != 2 or control.ndim != 2 or case.shape[1] != control.shape[1]:
        raise ValueError(f"case {case.shape} and control {control.shape} must be [variants, tracks] with the same tracks")
    if case.dtype.kind != "f":
        case = case.astype(np.float64)
    if control.dtype != case.dtype:
        control = control.astype(np.promote_types(case.dtype, control.dtype))
        case = case.astype(control.dtype)
    if len(case) < 1 or len(control) < 1:
        raise ValueError(f"need at least one case and one control variant (got {len(case)} and {len(control)})")
    if not (np.isfinite(case).all() and np.isfinite(control).all()):
        raise ValueError("scores must be finite")
    return case, control


def case_control_columns(case: np.ndarray, control: np.ndarray, *, method: str = "auto",
                         threads: int | None = None) -> ColumnTests:
    """Two-sided Mann-Whitney U and asinh means of every column at once.

    Args:
        case: float [n1, tracks] scores of case variants (float32 or float64; ranks are
            computed in the given precision, so no values are merged by a cast).
        control: float [n2, tracks] scores of control variants.
        method: ``auto`` (scipy's rule: normal approximation when both sides have more than 8
            values or there are ties, else exact), ``asymptotic`` or ``exact``.
        threads: worker threads over column blocks (default: the CPUs available).

    Returns:
        :class:`ColumnTests`. A column where every value is equal has p = 1 (as scipy).
    """
    case, control = _check(case, control)
    n1, n2 = len(case), len(control)
    t = case.shape[1]
    if method not in ("auto", "asymptotic", "exact"):
        raise ValueError(f"method must be auto, asymptotic or exact, got {method!r}")
    blocks = [(lo, min(lo + _BLOCK_COLUMNS, t)) for lo in range(0, t, _BLOCK_COLUMNS)]
    fast = method == "asymptotic" or (method == "auto" and n1 > 8 and n2 > 8)
    hx = as_float16_exact(case) if fast else None
    hy = as_float16_exact(control) if hx is not None else None
    if hx is not None and hy is not None:
        work = lambda bl: _block_by_counting(hx, hy, bl[0], bl[1])  # noqa: E731
    else:
        work = lambda bl: _block_by_sorting(case, control, bl[0], bl[1], fast)  # noqa: E731
    r1 = np.zeros(t, dtype=np.float64)
    tie = np.zeros(t, dtype=np.float64)
    mx = np.zeros(t, dtype=np.float64)
    my = np.zeros(t, dtype=np.float64)
    with ThreadPoolExecutor(max_workers=_threads(len(blocks), threads)) as pool:
        for lo, hi, a, b, c, d in pool.map(work, blocks):
            r1[lo:hi], tie[lo:hi], mx[lo:hi], my[lo:hi] = a, b, c, d
    if not fast:
        res = stats.mannwhitneyu(case.astype(np.float64), control.astype(np.float64), axis=0,
                                 alternative="two-sided", method=method)
        return ColumnTests(np.asarray(res.statistic, np.float64), np.asarray(res.pvalue, np.float64), mx, my,
                           "exact" if method == "exact" else "auto")
    # scipy.stats._mannwhitneyu: U1 = R1 - n1(n1+1)/2, two-sided uses max(U1, U2), _get_mwu_z
    u1 = r1 - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    u = np.maximum(u1, u2)
    mu = n1 * n2 / 2
    n = n1 + n2
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - mu - 0.5) / s
    p = np.clip(special.ndtr(-z) * 2, 0.0, 1.0)
    return ColumnTests(u1, p, mx, my, "asymptotic")


def mann_whitney_columns(case: np.ndarray, control: np.ndarray, *, method: str = "auto",
                         threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(U of cases, two-sided p), float64 [tracks] each; see :func:`case_control_columns`."""
    res = case_control_columns(case, control, method=method, threads=threads)
    return res.U, res.p


def direction(U: np.ndarray, n_case: int, n_control: int) -> np.ndarray:
    """object [tracks]: ``case_lower`` when U < n1*n2/2 (case scores tend lower), ``case_higher``
    when U > n1*n2/2, ``none`` when equal: the direction the rank test saw."""
    U = np.asarray(U, dtype=np.float64)
    mid = n_case * n_control / 2
    return np.where(U < mid, "case_lower", np.where(U > mid, "case_higher", "none")).astype(object)


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (statsmodels ``multipletests(method="fdr_bh")``).

    Args:
        p: float [m] p-values; NaN entries (untestable) are left out of the correction.

    Returns:
        float64 [m]; NaN where ``p`` is NaN.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


@dataclass
class GroupTest:
    """One track group's p-values against all other tracks' (Mann-Whitney U).

    Attributes:
        group: the group name.
        n_tracks, n_other: tracks in the group and outside it (with a finite p).
        median_p, median_p_other: median per-track p in and outside the group.
        U: U statistic of the group's p-values (scipy's ``statistic`` for the group sample).
        p_smaller: one-sided p that the group's p-values are smaller (``alternative="less"``).
        p_two_sided: two-sided p.
    """

    group: str
    n_tracks: int
    n_other: int
    median_p: float
    median_p_other: float
    U: float
    p_smaller: float
    p_two_sided: float


def group_tests(p: np.ndarray, groups: Sequence[str]) -> list[GroupTest]:
    """Test, for each group, whether its tracks' p-values are smaller than all other tracks'.

    Args:
        p: float [tracks] per-track p-values (NaN ignored).
        groups: group name per track.

    Returns:
        One :class:`GroupTest` per group with at least one track on each side, sorted by name
        (``other`` last); ``scipy.stats.mannwhitneyu`` with its default (``auto``) method.
    """
    p = np.asarray(p, dtype=np.float64)
    groups = np.asarray(list(groups), dtype=object)
    ok = np.isfinite(p)
    out = []
    for name in sorted(set(groups.tolist()), key=lambda g: (g == "other", g)):
        inside, outside = p[ok & (groups == name)], p[ok & (groups != name)]
        if len(inside) == 0 or len(outside) == 0:
            continue
        less = stats.mannwhitneyu(inside, outside, alternative="less")
        two = stats.mannwhitneyu(inside, outside, alternative="two-sided")
        out.append(GroupTest(str(name), len(inside), len(outside), float(np.median(inside)), float(np.median(outside)),
                             float(less.statistic), float(less.pvalue), float(two.pvalue)))
    return out


@dataclass
class SignTest:
    """Paired families: how often the case is lower, and the two-sided binomial test at 0.5.

    Attributes:
        n_families: families compared (ties left out).
        n_case_lower: families whose case value is lower than the control value.
        n_ties: families with equal values (left out of the test).
        fraction: ``n_case_lower / n_families`` (NaN without families).
        p: ``scipy.stats.binomtest(n_case_lower, n_families, 0.5).pvalue`` (NaN without families).
    """

    n_families: int
    n_case_lower: int
    n_ties: int
    fraction: float
    p: float


def paired_sign_test(case_values: np.ndarray, control_values: np.ndarray) -> SignTest:
    """Binomial (sign) test that the case's value is lower than its sibling control's.

    Args:
        case_values, control_values: float [families], one pair per family.
    """
    a, b = np.asarray(case_values, np.float64), np.asarray(control_values, np.float64)
    lower = int(np.count_nonzero(a < b))
    ties = int(np.count_nonzero(a == b))
    n = len(a) - ties
    if n == 0:
        return SignTest(0, 0, ties, float("nan"), float("nan"))
    return SignTest(n, lower, ties, lower / n, float(stats.binomtest(lower, n, 0.5, alternative="two-sided").pvalue))
