"""Pure-NumPy reference implementations of the kernels in ``crossreg._native``.

Written for clarity, not speed: the tests compare the native kernels with these, and the
benchmarks time them as the baseline.  Each ``ref_X`` has the same arguments and results
as ``crossreg._native.X`` (argument checking is minimal).

Coordinates are 0-based, half-open, in bp.  Base order is A, C, G, T; code 4 = no base.
"""

from __future__ import annotations

import numpy as np

F16_MAX = 65504.0

# Byte -> one-hot row.
_ONE_HOT_TABLE = np.zeros((256, 4), dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    _ONE_HOT_TABLE[ord(_b), _i] = 1
    _ONE_HOT_TABLE[ord(_b.lower()), _i] = 1

# Byte -> code (4 for everything but ACGTacgt).
_CODE_TABLE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    _CODE_TABLE[ord(_b)] = _i
    _CODE_TABLE[ord(_b.lower())] = _i

# Byte -> True when it is neither ACGT nor N, in either case.
_OTHER_TABLE = np.ones(256, dtype=bool)
for _b in "ACGTNacgtn":
    _OTHER_TABLE[ord(_b)] = False

# IUPAC complement, case preserved; unlisted bytes map to themselves.
_COMPLEMENT_TABLE = np.arange(256, dtype=np.uint8)
for _x, _y in ("AT", "CG", "RY", "KM", "BV", "DH"):
    for _a, _b in ((_x, _y), (_x.lower(), _y.lower())):
        _COMPLEMENT_TABLE[ord(_a)] = ord(_b)
        _COMPLEMENT_TABLE[ord(_b)] = ord(_a)


def as_bytes_array(seq) -> np.ndarray:
    """Return the ASCII bytes of ``seq`` (bytes, bytearray, str or uint8 array) as uint8 (L,)."""
    if isinstance(seq, str):
        return np.frombuffer(seq.encode("ascii"), dtype=np.uint8)
    if isinstance(seq, np.ndarray):
        return np.asarray(seq, dtype=np.uint8)
    return np.frombuffer(bytes(seq), dtype=np.uint8)


def ref_one_hot_encode(seq, out=None) -> np.ndarray:
    """One-hot encode ``seq`` -> uint8 (L, 4) via a 256-row lookup table."""
    result = _ONE_HOT_TABLE[as_bytes_array(seq)]
    if out is not None:
        out[...] = result
        return out
    return result


def ref_encode_codes(seq, out=None) -> tuple[np.ndarray, int]:
    """Encode ``seq`` -> (uint8 codes (L,), number of non-ACGTN bytes)."""
    b = as_bytes_array(seq)
    codes = _CODE_TABLE[b]
    if out is not None:
        out[...] = codes
        codes = out
    return codes, int(_OTHER_TABLE[b].sum())


def ref_codes_to_one_hot(codes, dtype=np.float32) -> np.ndarray:
    """Codes (any shape, 0..4) -> one-hot of ``dtype`` with shape ``codes.shape + (4,)``."""
    codes = np.asarray(codes)
    if codes.size and codes.max() > 4:
        raise ValueError("codes must be in 0..4")
    eye = np.vstack([np.eye(4), np.zeros((1, 4))]).astype(dtype)
    return eye[codes]


def ref_reverse_complement(seq) -> bytes:
    """IUPAC-aware, case-preserving reverse complement -> bytes."""
    return _COMPLEMENT_TABLE[as_bytes_array(seq)][::-1].tobytes()


def ref_reverse_complement_codes(codes) -> np.ndarray:
    """Reverse 1-D codes with 0<->3, 1<->2, 4 kept."""
    codes = np.asarray(codes)
    if codes.size and codes.max() > 4:
        raise ValueError("codes must be in 0..4")
    return np.array([3, 2, 1, 0, 4], dtype=np.uint8)[codes[::-1]]


def ref_mask_from_intervals(starts, ends, region_start, length) -> np.ndarray:
    """uint8 (length,): 1 where any [start, end) covers ``region_start + i``."""
    mask = np.zeros(length, dtype=np.uint8)
    for s, e in zip(np.asarray(starts).tolist(), np.asarray(ends).tolist()):
        lo = max(s - region_start, 0)
        hi = min(e - region_start, length)
        if lo < hi:
            mask[lo:hi] = 1
    return mask


def ref_expand_intervals(starts, ends, values, region_start, length) -> np.ndarray:
    """Expand piecewise-constant data intervals to float32 per-base values (NaN = no data)."""
    dense = np.full(length, np.nan, dtype=np.float32)
    for s, e, v in zip(np.asarray(starts).tolist(), np.asarray(ends).tolist(),
                       np.asarray(values, dtype=np.float32)):
        lo = max(s - region_start, 0)
        hi = min(e - region_start, length)
        if lo < hi:
            dense[lo:hi] = v
    return dense


def ref_finish_bins(pooled, clip_soft, clip, scale, out) -> int:
    """Soft clip, hard clip, scale, then float32 -> saturating float16 into ``out``.

    Returns the number of bins whose float32 magnitude exceeds 65504 (saturated).
    """
    x = np.asarray(pooled, dtype=np.float64)
    if clip_soft is not None:
        t = float(clip_soft)
        x = np.minimum(x, t + np.sqrt(np.maximum(0.0, x - t)))
    if clip is not None:
        x = np.minimum(x, float(clip))
    x = x * float(scale)
    with np.errstate(over="ignore"):
        y = x.astype(np.float32)  # beyond float32 range -> inf, saturated below
    n_saturated = int(np.count_nonzero(np.abs(y) > F16_MAX))
    out[...] = np.clip(y, -F16_MAX, F16_MAX).astype(np.float16)
    return n_saturated


def ref_transform_dense(values, mask, baseline, pool, mean, clip_soft, clip, scale, out) -> int:
    """Reference of ``transform_dense``: clean, mask, pool (float64), clip, scale, to float16."""
    v = np.asarray(values, dtype=np.float32).astype(np.float64)
    if len(v) % pool != 0:
        raise ValueError("len(values) must be a multiple of pool")
    v[np.isnan(v) | (v < 0)] = 0.0
    if mask is not None:
        v[np.asarray(mask) != 0] = float(baseline)
    pooled = v.reshape(-1, pool).sum(axis=1)
    if mean:
        pooled = pooled / pool
    return ref_finish_bins(pooled, clip_soft, clip, scale, out)


def ref_transform_intervals(starts, ends, values, mask_starts, mask_ends, region_start, length,
                            baseline, pool, mean, clip_soft, clip, scale, out) -> int:
    """Reference of ``transform_intervals``: expand to bases, then ``ref_transform_dense``."""
    dense = ref_expand_intervals(starts, ends, values, region_start, length)
    mask = None
    if mask_starts is not None:
        mask = ref_mask_from_intervals(mask_starts, mask_ends, region_start, length)
    return ref_transform_dense(dense, mask, baseline, pool, mean, clip_soft, clip, scale, out)


def ref_native_version() -> int:
    """The kernel API version the references implement."""
    return 1
