# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Hot kernels of the crossreg data layer: DNA encoding and the per-track target transform.

The loops live in ``crossreg_kernels.h`` (plain C, run without the GIL); this module
validates arguments and allocates outputs.  Every function is deterministic and keeps no
state between calls.

Conventions:
    * Coordinates are 0-based, half-open, in base pairs (bp).
    * Base order is A, C, G, T; code 4 means "no base" (N or anything else).
    * Bad arguments (wrong type, dtype, shape or value) raise ``ValueError`` with a
      message that says what was expected.
"""

import operator

import numpy as np

cimport numpy as cnp
from libc.math cimport isfinite, isnan
from libc.stdint cimport int64_t, uint8_t

cnp.import_array()

cdef extern from "string.h" nogil:
    void *memset_u8 "memset"(void *s, int c, size_t n)

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)
    const char *PyUnicode_AsUTF8AndSize(object o, Py_ssize_t *size) except NULL
    object PyMemoryView_FromMemory(char *mem, Py_ssize_t size, int flags)
    int PyBUF_READ

cdef extern from "crossreg_kernels.h" nogil:
    ctypedef struct cr_params:
        double baseline
        Py_ssize_t pool
        int mean
        int has_soft
        double soft
        int has_clip
        double clip
        double scale

    void cr_one_hot(const uint8_t *s, Py_ssize_t n, uint8_t *out)
    Py_ssize_t cr_encode_codes(const uint8_t *s, Py_ssize_t n, uint8_t *out)
    int cr_codes_to_one_hot(const uint8_t *codes, Py_ssize_t n, void *out, int itemsize)
    void cr_reverse_complement(const uint8_t *s, Py_ssize_t n, uint8_t *out)
    int cr_reverse_complement_codes(const uint8_t *codes, Py_ssize_t n, uint8_t *out)
    Py_ssize_t cr_clip_intervals(const int64_t *starts, const int64_t *ends, Py_ssize_t n,
                                 int64_t region_start, int64_t length, int64_t *pairs,
                                 int *sorted)
    Py_ssize_t cr_sort_merge_pairs(int64_t *pairs, Py_ssize_t n, int sorted)
    Py_ssize_t cr_check_runs(const int64_t *starts, const int64_t *ends, Py_ssize_t n)
    Py_ssize_t cr_first_end_after(const int64_t *ends, Py_ssize_t n, int64_t pos)
    Py_ssize_t cr_transform_dense(const float *values, const uint8_t *mask, Py_ssize_t L,
                                  const cr_params *p, char *out, Py_ssize_t stride)
    Py_ssize_t cr_transform_dense_path(const float *values, const uint8_t *mask, Py_ssize_t L,
                                       const cr_params *p, char *out, Py_ssize_t stride,
                                       int path)
    int cr_sum_path()
    Py_ssize_t cr_transform_intervals(const int64_t *starts, const int64_t *ends,
                                      const float *values, Py_ssize_t n, Py_ssize_t first,
                                      const int64_t *mpairs, Py_ssize_t nm,
                                      int64_t region_start, int64_t length,
                                      const cr_params *p, char *out, Py_ssize_t stride)


_ONE_HOT_DTYPES = (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.uint8))


def native_version():
    """Return the version of the kernel API.

    Returns:
        int: 1 for the API documented in this module.
    """
    return 1


# --------------------------------------------------------------------------------------
# Argument helpers
# --------------------------------------------------------------------------------------

cdef object _byte_view(object seq, str name):
    """Return a read-only, C-contiguous 1-D uint8 buffer over the bytes of ``seq``."""
    cdef Py_ssize_t n = 0
    cdef const char *p
    if isinstance(seq, str):
        if not PyUnicode_IS_ASCII(seq):
            raise ValueError(f"{name} must be an ASCII str; got a str with non-ASCII characters")
        p = PyUnicode_AsUTF8AndSize(seq, &n)  # compact ASCII: the str's own data, no copy
        return PyMemoryView_FromMemory(<char *>p, n, PyBUF_READ)
    if isinstance(seq, np.ndarray):
        if seq.dtype != np.uint8 or seq.ndim != 1:
            raise ValueError(
                f"{name} as an ndarray must be 1-D uint8 (ASCII codes); "
                f"got dtype {seq.dtype} with shape {seq.shape}")
        return np.ascontiguousarray(seq)
    if isinstance(seq, (bytes, bytearray, memoryview)):
        if isinstance(seq, memoryview) and (
                seq.ndim != 1 or seq.itemsize != 1 or not seq.c_contiguous):
            raise ValueError(
                f"{name} as a memoryview must be 1-D, contiguous, with 1-byte items")
        return seq
    raise ValueError(
        f"{name} must be bytes, bytearray, an ASCII str or a 1-D uint8 ndarray; "
        f"got {type(seq).__name__}")


cdef inline bint _fast_array(object a, int typenum):
    """True for a 1-D, C-contiguous ndarray of the given type number (no copy needed)."""
    return (cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == typenum
            and cnp.PyArray_NDIM(<cnp.ndarray>a) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a))


cdef object _int64_1d(object a, str name):
    """Return ``a`` as a C-contiguous 1-D int64 array (any integer dtype accepted)."""
    if _fast_array(a, cnp.NPY_INT64):
        return a
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D integer array; got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"{name} must be an integer (int64) array; got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has values that do not fit in int64")
    return np.ascontiguousarray(arr, dtype=np.int64)


cdef object _float32_1d(object a, str name):
    """Return ``a`` as a C-contiguous 1-D float32 array; only float32 is accepted."""
    if _fast_array(a, cnp.NPY_FLOAT32):
        return a
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{name} must be a 1-D float32 ndarray; got {type(a).__name__}")
    if a.dtype != np.float32 or a.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D float32 ndarray; got dtype {a.dtype} with shape {a.shape}")
    return np.ascontiguousarray(a)


cdef object _codes_array(object codes, str name):
    if isinstance(codes, np.generic):
        codes = np.asarray(codes)
    if not isinstance(codes, np.ndarray):
        raise ValueError(f"{name} must be a uint8 ndarray of codes 0..4; "
                         f"got {type(codes).__name__}")
    if codes.dtype != np.uint8:
        raise ValueError(f"{name} must be a uint8 ndarray of codes 0..4; got dtype {codes.dtype}")
    return np.asarray(codes, order="C")


cdef object _check_out(object out, tuple shape, object dtype, str name):
    """Check a caller-supplied C-contiguous output buffer."""
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{name} must be a numpy array; got {type(out).__name__}")
    if out.dtype != dtype or out.shape != shape:
        raise ValueError(
            f"{name} must be a {np.dtype(dtype).name} array of shape {shape}; "
            f"got dtype {out.dtype} with shape {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} must be writeable")
    return out


cdef object _check_f16_out(object out, Py_ssize_t nbins):
    """Check the float16 output of the transforms (any strides allowed)."""
    if (cnp.PyArray_Check(out) and cnp.PyArray_TYPE(<cnp.ndarray>out) == cnp.NPY_FLOAT16
            and cnp.PyArray_NDIM(<cnp.ndarray>out) == 1
            and cnp.PyArray_DIM(<cnp.ndarray>out, 0) == nbins
            and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out)):
        return out
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a 1-D float16 numpy array; got {type(out).__name__}")
    if out.dtype != np.float16 or out.ndim != 1:
        raise ValueError(
            f"out must be a 1-D float16 array (a strided view is fine); "
            f"got dtype {out.dtype} with shape {out.shape}")
    if out.shape[0] != nbins:
        raise ValueError(f"out must have length L / pool = {nbins}; got {out.shape[0]}")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    return out


cdef int64_t _int_arg(object x, str name) except? -1:
    """An integer argument (Python or NumPy int) as int64."""
    try:
        return operator.index(x)
    except (TypeError, OverflowError):
        raise ValueError(f"{name} must be an int; got {x!r}") from None


cdef Py_ssize_t _check_pool(object pool) except -1:
    try:
        p = operator.index(pool)
    except TypeError:
        raise ValueError(f"pool must be a positive int; got {pool!r}") from None
    if p < 1:
        raise ValueError(f"pool must be a positive int; got {p}")
    return p


cdef double _finite(object x, str name) except? -1.0:
    cdef double v
    try:
        v = x
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite float; got {x!r}") from None
    if not isfinite(v):
        raise ValueError(f"{name} must be a finite float; got {v}")
    return v


cdef int _fill_params(cr_params *p, object baseline, Py_ssize_t pool, object mean,
                      object clip_soft, object clip, object scale) except -1:
    p.baseline = _finite(baseline, "baseline")
    p.pool = pool
    p.mean = 1 if mean else 0
    if clip_soft is None:
        p.has_soft = 0
        p.soft = 0.0
    else:
        p.has_soft = 1
        p.soft = _finite(clip_soft, "clip_soft")
    if clip is None:
        p.has_clip = 0
        p.clip = 0.0
    else:
        try:
            p.clip = clip
        except (TypeError, ValueError):
            raise ValueError(f"clip must be None or a float; got {clip!r}") from None
        if isnan(p.clip):
            raise ValueError("clip must be None or a float, not NaN")
        p.has_clip = 1
    p.scale = _finite(scale, "scale")
    return 0


# --------------------------------------------------------------------------------------
# Sequence kernels
# --------------------------------------------------------------------------------------

def one_hot_encode(seq, out=None):
    """One-hot encode a DNA sequence.

    Args:
        seq: The sequence as ``bytes``, ``bytearray``, an ASCII ``str`` or a 1-D uint8
            ndarray of ASCII codes; length L bases.
        out: Optional C-contiguous, writeable uint8 array of shape (L, 4) to fill.

    Returns:
        np.ndarray: uint8 array of shape (L, 4), columns A, C, G, T.  A/a -> [1,0,0,0],
        C/c -> [0,1,0,0], G/g -> [0,0,1,0], T/t -> [0,0,0,1]; every other byte (N, IUPAC
        codes, anything) -> all zeros.  This is ``out`` when given.

    Raises:
        ValueError: ``seq`` is of an unsupported type or dtype, or ``out`` has the wrong
            dtype, shape or layout.
    """
    cdef const uint8_t[::1] s = _byte_view(seq, "seq")
    cdef Py_ssize_t n = s.shape[0]
    if out is None:
        arr = np.empty((n, 4), dtype=np.uint8)
    else:
        arr = _check_out(out, (n, 4), np.uint8, "out")
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(arr)
    if n > 0:
        with nogil:
            cr_one_hot(&s[0], n, o)
    return arr


def encode_codes(seq, out=None):
    """Encode a DNA sequence as integer codes.

    Args:
        seq: The sequence as ``bytes``, ``bytearray``, an ASCII ``str`` or a 1-D uint8
            ndarray of ASCII codes; length L bases.
        out: Optional C-contiguous, writeable uint8 array of shape (L,) to fill.

    Returns:
        tuple[np.ndarray, int]: ``(codes, n_other)``.  ``codes`` is uint8 of shape (L,)
        with A=0, C=1, G=2, T=3 (either case) and 4 for N/n and every other byte.
        ``n_other`` counts the bytes that were neither ACGT nor N (either case), i.e. the
        non-ACGTN letters that were treated as N.

    Raises:
        ValueError: ``seq`` is of an unsupported type or dtype, or ``out`` has the wrong
            dtype, shape or layout.
    """
    cdef const uint8_t[::1] s = _byte_view(seq, "seq")
    cdef Py_ssize_t n = s.shape[0]
    cdef Py_ssize_t other = 0
    if out is None:
        arr = np.empty(n, dtype=np.uint8)
    else:
        arr = _check_out(out, (n,), np.uint8, "out")
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(arr)
    if n > 0:
        with nogil:
            other = cr_encode_codes(&s[0], n, o)
    return arr, int(other)


def codes_to_one_hot(codes, dtype=np.float32):
    """Expand integer codes to one-hot rows.

    Args:
        codes: uint8 ndarray of any shape with values 0..4 (A, C, G, T, N).
        dtype: Output dtype: ``np.float32`` (default), ``np.float16`` or ``np.uint8``.

    Returns:
        np.ndarray: Array of ``dtype`` and shape ``codes.shape + (4,)``; code c in 0..3
        sets column c to 1, code 4 gives an all-zero row.

    Raises:
        ValueError: ``codes`` is not a uint8 ndarray, has a value above 4, or ``dtype``
            is not one of the three supported dtypes.
    """
    arr = _codes_array(codes, "codes")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32, float16 or uint8; got {dtype!r}") from None
    if dt not in _ONE_HOT_DTYPES:
        raise ValueError(f"dtype must be float32, float16 or uint8; got {dt}")
    out = np.empty(arr.shape + (4,), dtype=dt)
    cdef Py_ssize_t n = arr.size
    cdef const uint8_t *c = <const uint8_t *>cnp.PyArray_DATA(arr)
    cdef void *o = cnp.PyArray_DATA(out)
    cdef int itemsize = dt.itemsize
    cdef int maxc = 0
    if n > 0:
        with nogil:
            maxc = cr_codes_to_one_hot(c, n, o, itemsize)
    if maxc > 4:
        raise ValueError(f"codes must be in 0..4 (A, C, G, T, N); found the value {maxc}")
    return out


def reverse_complement(seq):
    """Reverse-complement a DNA sequence (IUPAC-aware, case preserved).

    A<->T, C<->G, R<->Y, K<->M, B<->V, D<->H; S, W, N and every other byte map to
    themselves.  Lower case stays lower case.

    Args:
        seq: The sequence as ``bytes``, ``bytearray``, an ASCII ``str`` or a 1-D uint8
            ndarray of ASCII codes; length L.

    Returns:
        bytes: The reverse complement, length L.

    Raises:
        ValueError: ``seq`` is of an unsupported type or dtype.
    """
    cdef const uint8_t[::1] s = _byte_view(seq, "seq")
    cdef Py_ssize_t n = s.shape[0]
    out = bytearray(n)
    cdef uint8_t[::1] o = out
    if n > 0:
        with nogil:
            cr_reverse_complement(&s[0], n, &o[0])
    return bytes(out)


def reverse_complement_codes(codes):
    """Reverse-complement a 1-D array of codes.

    Args:
        codes: uint8 ndarray of shape (L,) with values 0..4.

    Returns:
        np.ndarray: New uint8 array of shape (L,), reversed, with 0<->3, 1<->2 and 4 kept.

    Raises:
        ValueError: ``codes`` is not a 1-D uint8 ndarray or has a value above 4.
    """
    arr = _codes_array(codes, "codes")
    if arr.ndim != 1:
        raise ValueError(f"codes must be 1-D; got shape {arr.shape}")
    cdef Py_ssize_t n = arr.shape[0]
    out = np.empty(n, dtype=np.uint8)
    cdef const uint8_t *c = <const uint8_t *>cnp.PyArray_DATA(arr)
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(out)
    cdef int maxc = 0
    if n > 0:
        with nogil:
            maxc = cr_reverse_complement_codes(c, n, o)
    if maxc > 4:
        raise ValueError(f"codes must be in 0..4 (A, C, G, T, N); found the value {maxc}")
    return out


# --------------------------------------------------------------------------------------
# Intervals and the target transform
# --------------------------------------------------------------------------------------

cdef tuple _merged_mask(object starts, object ends, int64_t region_start, int64_t length,
                        str sname, str ename):
    """Clip, sort and merge mask intervals; returns (pairs array (m, 2) int64, m)."""
    s = _int64_1d(starts, sname)
    e = _int64_1d(ends, ename)
    if s.shape[0] != e.shape[0]:
        raise ValueError(f"{sname} and {ename} must have the same length; "
                         f"got {s.shape[0]} and {e.shape[0]}")
    cdef Py_ssize_t n = s.shape[0]
    pairs = np.empty((n, 2), dtype=np.int64)
    if n == 0:
        return pairs, 0
    cdef const int64_t *sp = <const int64_t *>cnp.PyArray_DATA(s)
    cdef const int64_t *ep = <const int64_t *>cnp.PyArray_DATA(e)
    cdef int64_t *pp = <int64_t *>cnp.PyArray_DATA(pairs)
    cdef int is_sorted = 1
    cdef Py_ssize_t kept
    with nogil:
        kept = cr_clip_intervals(sp, ep, n, region_start, length, pp, &is_sorted)
        if kept > 0:
            kept = cr_sort_merge_pairs(pp, kept, is_sorted)
    if kept < 0:
        k = -1 - kept
        raise ValueError(f"interval {k} has {ename}[{k}] = {e[k]} < {sname}[{k}] = {s[k]}; "
                         f"expected start <= end")
    return pairs, kept


def mask_from_intervals(starts, ends, region_start, length):
    """Rasterize intervals onto a region.

    Args:
        starts: int64 array (n,) of interval starts (bp, 0-based, absolute coordinates).
        ends: int64 array (n,) of interval ends (bp, exclusive).  Intervals may come in any
            order, overlap, reach past the region or lie outside it.
        region_start: Absolute start of the region (bp).
        length: Region length in bp, >= 0.

    Returns:
        np.ndarray: uint8 array (length,): 1 where some interval covers position
        ``region_start + i``, else 0.

    Raises:
        ValueError: Non-integer or mismatched ``starts``/``ends``, an interval with
            end < start, or a negative ``length``.
    """
    cdef int64_t rs = _int_arg(region_start, "region_start")
    cdef int64_t L = _int_arg(length, "length")
    if L < 0:
        raise ValueError(f"length must be >= 0; got {L}")
    pairs, m = _merged_mask(starts, ends, rs, L, "starts", "ends")
    out = np.zeros(L, dtype=np.uint8)
    cdef const int64_t[:, ::1] pv = pairs
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(out)
    cdef Py_ssize_t k, nm = m
    with nogil:
        for k in range(nm):
            memset_u8(o + pv[k, 0], 1, pv[k, 1] - pv[k, 0])
    return out


def transform_dense(values, mask, baseline, pool, mean, clip_soft, clip, scale, out):
    """Fused per-track target transform of one region from per-base values.

    Per base: NaN -> 0, negative -> 0, masked -> ``baseline``.  Then the L bases are pooled
    into L / pool bins (sum, or mean when ``mean``), accumulating in float64 in a fixed
    order that is the same on every CPU (masked bases add count * baseline); then the
    soft clip ``x -> min(x, t + sqrt(max(0, x - t)))`` with ``t = clip_soft``, the hard
    clip ``min(x, clip)`` and the multiplication by ``scale`` (all in float64).  The result
    is rounded to float32 and then to float16 (round to nearest even, as
    ``np.float32(x).astype(np.float16)``); bins whose float32 magnitude exceeds 65504
    saturate to +-65504 and are counted.

    Args:
        values: float32 array (L,) of raw per-base signal (NaN and negatives allowed).
        mask: uint8 or bool array (L,), nonzero = masked; or None.
        baseline: Value given to masked bases (finite float).
        pool: Bases per bin (int >= 1); L must be a multiple of it.
        mean: True to average each bin, False to sum it.
        clip_soft: Soft-clip threshold t (finite float) or None.
        clip: Hard-clip ceiling (float) or None.
        scale: Finite multiplier applied last.
        out: float16 array (L / pool,) to write; any strides (e.g. ``targets[w, :, t]``).

    Returns:
        int: Number of saturated bins.

    Raises:
        ValueError: Wrong dtype/shape of an array, L not a multiple of ``pool``, or a
            non-finite ``baseline``/``scale``/``clip_soft`` (or NaN ``clip``).
    """
    return _transform_dense(values, mask, baseline, pool, mean, clip_soft, clip, scale, out, -1)


def _dense_sum_path():
    """Internal (for tests): the summation body the dense transform uses on this CPU.

    Returns:
        int: 0 portable C, 1 SSE2, 2 AVX2.
    """
    return cr_sum_path()


def _transform_dense_with_path(path, values, mask, baseline, pool, mean, clip_soft, clip,
                               scale, out):
    """Internal (for tests): :func:`transform_dense` forced onto summation body ``path``.

    ``path`` must be between 0 and ``_dense_sum_path()``; every body gives bit-identical
    results, which the tests check.
    """
    cdef int pth = operator.index(path)
    if pth < 0 or pth > cr_sum_path():
        raise ValueError(f"path must be in 0..{cr_sum_path()} on this CPU; got {pth}")
    return _transform_dense(values, mask, baseline, pool, mean, clip_soft, clip, scale, out,
                            pth)


cdef object _transform_dense(object values, object mask, object baseline, object pool,
                             object mean, object clip_soft, object clip, object scale,
                             object out, int path):
    v = _float32_1d(values, "values")
    cdef Py_ssize_t L = v.shape[0]
    cdef Py_ssize_t p = _check_pool(pool)
    if L % p != 0:
        raise ValueError(f"len(values) = {L} is not a multiple of pool = {p}")
    cdef const uint8_t *mp = NULL
    if mask is not None and not (_fast_array(mask, cnp.NPY_UINT8)
                                 and cnp.PyArray_DIM(<cnp.ndarray>mask, 0) == L):
        if not isinstance(mask, np.ndarray) or mask.ndim != 1 or \
                mask.dtype not in (np.uint8, np.bool_):
            raise ValueError("mask must be None or a 1-D uint8 (or bool) ndarray of length "
                             f"L = {L}; got {getattr(mask, 'dtype', type(mask).__name__)} "
                             f"with shape {getattr(mask, 'shape', None)}")
        if mask.shape[0] != L:
            raise ValueError(f"mask must have length L = {L}; got {mask.shape[0]}")
        mask = np.ascontiguousarray(mask).view(np.uint8)
    if mask is not None:
        mp = <const uint8_t *>cnp.PyArray_DATA(mask)
    cdef cr_params prm
    _fill_params(&prm, baseline, p, mean, clip_soft, clip, scale)
    o = _check_f16_out(out, L // p)
    cdef char *op = <char *>cnp.PyArray_DATA(o)
    cdef Py_ssize_t stride = cnp.PyArray_STRIDE(<cnp.ndarray>o, 0)
    cdef const float *vp = <const float *>cnp.PyArray_DATA(v)
    cdef Py_ssize_t nsat = 0
    with nogil:
        if path < 0:
            nsat = cr_transform_dense(vp, mp, L, &prm, op, stride)
        else:
            nsat = cr_transform_dense_path(vp, mp, L, &prm, op, stride, path)
    return int(nsat)


def transform_intervals(starts, ends, values, mask_starts, mask_ends, region_start, length,
                        baseline, pool, mean, clip_soft, clip, scale, out):
    """Fused per-track target transform of one region from piecewise-constant intervals.

    Gives the same result as expanding the intervals to per-base values (uncovered
    positions NaN) and the mask intervals to a per-base mask, then calling
    :func:`transform_dense` -- up to float rounding (the last float16 ulp) -- but works in
    pieces of constant value, so its cost does not depend on the number of bases.

    Args:
        starts: int64 array (n,) of data-interval starts (bp, absolute, 0-based).
        ends: int64 array (n,) of data-interval ends (bp, exclusive).  Intervals must be
            sorted and non-overlapping (as pyBigWig's ``bw.intervals(chrom, s, e)``
            returns them) and may reach past the region on either side.
        values: float32 array (n,) of interval values (NaN and negatives allowed).
        mask_starts: int64 array (m,) of mask-interval starts, or None for no mask.
        mask_ends: int64 array (m,) of mask-interval ends, or None.  Any order, may
            overlap or reach past the region.
        region_start: Absolute start of the region (bp).
        length: Region length L in bp; a multiple of ``pool``.
        baseline: Value given to masked bases (finite float).
        pool: Bases per bin (int >= 1).
        mean: True to average each bin, False to sum it.
        clip_soft: Soft-clip threshold (finite float) or None.
        clip: Hard-clip ceiling (float) or None.
        scale: Finite multiplier applied last.
        out: float16 array (L / pool,) to write; any strides.

    Returns:
        int: Number of saturated bins.

    Raises:
        ValueError: Mismatched or wrongly typed arrays, data intervals that are unsorted,
            overlapping or have end < start, a mask interval with end < start, L not a
            multiple of ``pool``, or bad scalar parameters.
    """
    s = _int64_1d(starts, "starts")
    e = _int64_1d(ends, "ends")
    v = _float32_1d(values, "values")
    cdef Py_ssize_t n = s.shape[0]
    if e.shape[0] != n or v.shape[0] != n:
        raise ValueError(f"starts, ends and values must have the same length; "
                         f"got {n}, {e.shape[0]} and {v.shape[0]}")
    cdef int64_t rs = _int_arg(region_start, "region_start")
    cdef int64_t L = _int_arg(length, "length")
    if L < 0:
        raise ValueError(f"length must be >= 0; got {L}")
    cdef Py_ssize_t p = _check_pool(pool)
    if L % p != 0:
        raise ValueError(f"length = {L} is not a multiple of pool = {p}")
    if (mask_starts is None) != (mask_ends is None):
        raise ValueError("mask_starts and mask_ends must both be None or both be arrays")
    cdef cr_params prm
    _fill_params(&prm, baseline, p, mean, clip_soft, clip, scale)
    o = _check_f16_out(out, L // p)

    cdef const int64_t *sp = <const int64_t *>cnp.PyArray_DATA(s)
    cdef const int64_t *ep = <const int64_t *>cnp.PyArray_DATA(e)
    cdef const float *vp = <const float *>cnp.PyArray_DATA(v)
    cdef Py_ssize_t bad, first = 0
    with nogil:
        bad = cr_check_runs(sp, ep, n)
    if bad >= 0:
        if e[bad] < s[bad]:
            raise ValueError(f"data interval {bad} has end {e[bad]} < start {s[bad]}")
        raise ValueError(f"data intervals must be sorted and non-overlapping; interval {bad} "
                         f"starts at {s[bad]} before the previous one ends at {e[bad - 1]}")
    if mask_starts is None:
        pairs, m = np.empty((0, 2), dtype=np.int64), 0
    else:
        pairs, m = _merged_mask(mask_starts, mask_ends, rs, L, "mask_starts", "mask_ends")
    cdef const int64_t *pp = <const int64_t *>cnp.PyArray_DATA(pairs)
    cdef Py_ssize_t nm = m
    cdef char *op = <char *>cnp.PyArray_DATA(o)
    cdef Py_ssize_t stride = cnp.PyArray_STRIDE(<cnp.ndarray>o, 0)
    cdef Py_ssize_t nsat = 0
    with nogil:
        first = cr_first_end_after(ep, n, rs)
        nsat = cr_transform_intervals(sp, ep, vp, n, first, pp, nm, rs, L, &prm, op, stride)
    return int(nsat)
