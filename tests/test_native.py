"""Tests of the C kernels in crossreg._native against the NumPy references."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reference_kernels as ref  # noqa: E402

from crossreg import _native as nat  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

ALL_BYTES = bytes(range(256))


def f16_ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in float16 ulps between two float16 arrays (NaNs must coincide)."""
    def ordered(x):
        bits = np.ascontiguousarray(x, dtype=np.float16).view(np.uint16).astype(np.int64)
        mag = bits & 0x7FFF
        return np.where(bits & 0x8000, -mag, mag)
    a = np.asarray(a)
    b = np.asarray(b)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    keep = ~np.isnan(a)
    return np.abs(ordered(a[keep]) - ordered(b[keep]))


def assert_f16_close(a, b, ulps=1):
    d = f16_ulp_distance(a, b)
    assert d.size == 0 or d.max() <= ulps, (a, b)


# --------------------------------------------------------------------------------------
# Version
# --------------------------------------------------------------------------------------

def test_native_version():
    assert nat.native_version() == 1 == ref.ref_native_version()


# --------------------------------------------------------------------------------------
# one_hot_encode
# --------------------------------------------------------------------------------------

def test_one_hot_known_sequence():
    got = nat.one_hot_encode("ACGTNacgtRy-")
    want = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0],
                     [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
                     [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.uint8)
    assert got.dtype == np.uint8 and got.shape == (12, 4)
    np.testing.assert_array_equal(got, want)


def test_one_hot_all_bytes_and_input_types():
    want = ref.ref_one_hot_encode(ALL_BYTES)
    assert want.sum() == 8
    arr = np.frombuffer(ALL_BYTES, dtype=np.uint8)
    for seq in (ALL_BYTES, bytearray(ALL_BYTES), arr, arr.copy()[::1], memoryview(ALL_BYTES)):
        np.testing.assert_array_equal(nat.one_hot_encode(seq), want)
    text = ALL_BYTES[:128].decode("ascii")
    np.testing.assert_array_equal(nat.one_hot_encode(text), want[:128])
    # strided uint8 array input
    strided = np.frombuffer(ALL_BYTES * 2, dtype=np.uint8)[::2]
    np.testing.assert_array_equal(nat.one_hot_encode(strided), ref.ref_one_hot_encode(strided))


def test_one_hot_empty_and_out():
    assert nat.one_hot_encode(b"").shape == (0, 4)
    assert nat.one_hot_encode("").shape == (0, 4)
    out = np.full((5, 4), 9, dtype=np.uint8)
    res = nat.one_hot_encode(b"acgtn", out=out)
    assert res is out
    np.testing.assert_array_equal(out, ref.ref_one_hot_encode(b"acgtn"))


def test_one_hot_large_and_misaligned_out():
    """Large outputs take the streaming-store path; misaligned `out` the unaligned one."""
    rng = np.random.default_rng(5)
    seq = rng.choice(np.frombuffer(b"ACGTacgtNRn-", np.uint8), size=2_500_003)
    want = ref.ref_one_hot_encode(seq)
    np.testing.assert_array_equal(nat.one_hot_encode(seq), want)
    buf = np.zeros(want.size + 1, dtype=np.uint8)
    out = buf[1:].reshape(want.shape)
    assert out.flags.c_contiguous and out.ctypes.data % 16 != 0
    assert nat.one_hot_encode(seq, out=out) is out
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(nat.one_hot_encode(seq[:1001], out=out[:1001]), want[:1001])


@SETTINGS
@given(st.binary(max_size=300))
def test_one_hot_matches_reference(seq):
    np.testing.assert_array_equal(nat.one_hot_encode(seq), ref.ref_one_hot_encode(seq))


@SETTINGS
@given(st.text(alphabet="ACGTNacgtnRYKMSWBDHVN-.x", max_size=300))
def test_one_hot_str_matches_reference(seq):
    np.testing.assert_array_equal(nat.one_hot_encode(seq), ref.ref_one_hot_encode(seq))


@pytest.mark.parametrize("seq, match", [
    (123, "bytes, bytearray, an ASCII str"),
    (["A", "C"], "bytes, bytearray, an ASCII str"),
    ("ACGTé", "ASCII"),
    (np.zeros(3, dtype=np.int32), "1-D uint8"),
    (np.zeros((3, 2), dtype=np.uint8), "1-D uint8"),
])
def test_one_hot_bad_seq(seq, match):
    with pytest.raises(ValueError, match=match):
        nat.one_hot_encode(seq)


@pytest.mark.parametrize("out, match", [
    (np.zeros((4, 4), dtype=np.uint8), r"shape \(3, 4\)"),
    (np.zeros((3, 4), dtype=np.float32), "uint8"),
    (np.zeros((4, 3), dtype=np.uint8).T, "C-contiguous"),
    ([[0] * 4] * 3, "numpy array"),
])
def test_one_hot_bad_out(out, match):
    with pytest.raises(ValueError, match=match):
        nat.one_hot_encode(b"ACG", out=out)


def test_one_hot_readonly_out():
    out = np.zeros((3, 4), dtype=np.uint8)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        nat.one_hot_encode(b"ACG", out=out)


# --------------------------------------------------------------------------------------
# encode_codes
# --------------------------------------------------------------------------------------

def test_encode_codes_known():
    codes, other = nat.encode_codes("ACGTNnacgt")
    np.testing.assert_array_equal(codes, [0, 1, 2, 3, 4, 4, 0, 1, 2, 3])
    assert codes.dtype == np.uint8
    assert other == 0


def test_encode_codes_counts_iupac():
    codes, other = nat.encode_codes(b"ACRYKMSWBDHVNnryx-")
    np.testing.assert_array_equal(codes, [0, 1] + [4] * 16)
    # R Y K M S W B D H V r y x - are non-ACGTN; N and n are not counted
    assert other == 14


def test_encode_codes_out_and_empty():
    out = np.full(4, 7, dtype=np.uint8)
    codes, other = nat.encode_codes(bytearray(b"gNtZ"), out=out)
    assert codes is out and other == 1
    np.testing.assert_array_equal(out, [2, 4, 3, 4])
    codes, other = nat.encode_codes(b"")
    assert codes.shape == (0,) and other == 0
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        nat.encode_codes(b"ACGT", out=np.zeros(5, dtype=np.uint8))


@SETTINGS
@given(st.binary(max_size=300))
def test_encode_codes_matches_reference(seq):
    codes, other = nat.encode_codes(seq)
    want, want_other = ref.ref_encode_codes(seq)
    np.testing.assert_array_equal(codes, want)
    assert other == want_other


# --------------------------------------------------------------------------------------
# codes_to_one_hot
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.uint8, "float32"])
def test_codes_to_one_hot_dtypes(dtype):
    codes = np.array([[0, 1, 2], [3, 4, 0]], dtype=np.uint8)
    got = nat.codes_to_one_hot(codes, dtype)
    assert got.dtype == np.dtype(dtype) and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, ref.ref_codes_to_one_hot(codes, dtype))
    assert got[1, 1].sum() == 0 and got[0, 2, 2] == 1


def test_codes_to_one_hot_default_and_scalar():
    got = nat.codes_to_one_hot(np.array([1, 4], dtype=np.uint8))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[0, 1, 0, 0], [0, 0, 0, 0]])
    assert nat.codes_to_one_hot(np.uint8(2) * np.ones((), np.uint8)).shape == (4,)
    assert nat.codes_to_one_hot(np.zeros((0, 3), np.uint8)).shape == (0, 3, 4)


@SETTINGS
@given(arrays(np.uint8, st.tuples(st.integers(0, 5), st.integers(0, 40)),
              elements=st.integers(0, 4)),
       st.sampled_from([np.float32, np.float16, np.uint8]))
def test_codes_to_one_hot_matches_reference(codes, dtype):
    np.testing.assert_array_equal(nat.codes_to_one_hot(codes, dtype),
                                  ref.ref_codes_to_one_hot(codes, dtype))
    # non-contiguous input
    np.testing.assert_array_equal(nat.codes_to_one_hot(codes[:, ::2], dtype),
                                  ref.ref_codes_to_one_hot(codes[:, ::2], dtype))


def test_codes_to_one_hot_errors():
    with pytest.raises(ValueError, match="0..4.*5"):
        nat.codes_to_one_hot(np.array([0, 5, 1], dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        nat.codes_to_one_hot(np.array([0, 1], dtype=np.int64))
    with pytest.raises(ValueError, match="float32, float16 or uint8"):
        nat.codes_to_one_hot(np.array([0, 1], dtype=np.uint8), np.float64)
    with pytest.raises(ValueError, match="float32, float16 or uint8"):
        nat.codes_to_one_hot(np.array([0, 1], dtype=np.uint8), "not a dtype")


# --------------------------------------------------------------------------------------
# reverse_complement, reverse_complement_codes
# --------------------------------------------------------------------------------------

def test_reverse_complement_known():
    assert nat.reverse_complement(b"AACGTN") == b"NACGTT"
    assert nat.reverse_complement("acgRYKMBVDHSWn") == b"nWSDHBVKMRYcgt"
    assert nat.reverse_complement(b"A-x.") == b".x-T"
    assert nat.reverse_complement(b"") == b""
    assert isinstance(nat.reverse_complement(bytearray(b"AC")), bytes)


@SETTINGS
@given(st.binary(max_size=300))
def test_reverse_complement_matches_reference(seq):
    rc = nat.reverse_complement(seq)
    assert rc == ref.ref_reverse_complement(seq)
    assert nat.reverse_complement(rc) == seq


def test_reverse_complement_codes():
    codes = np.array([0, 1, 2, 3, 4, 0], dtype=np.uint8)
    np.testing.assert_array_equal(nat.reverse_complement_codes(codes), [3, 4, 0, 1, 2, 3])
    assert nat.reverse_complement_codes(np.zeros(0, np.uint8)).shape == (0,)
    with pytest.raises(ValueError, match="0..4"):
        nat.reverse_complement_codes(np.array([9], dtype=np.uint8))
    with pytest.raises(ValueError, match="1-D"):
        nat.reverse_complement_codes(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        nat.reverse_complement_codes(np.zeros(3, dtype=np.int8))


@SETTINGS
@given(arrays(np.uint8, st.integers(0, 200), elements=st.integers(0, 4)))
def test_reverse_complement_codes_matches_reference(codes):
    got = nat.reverse_complement_codes(codes)
    np.testing.assert_array_equal(got, ref.ref_reverse_complement_codes(codes))
    np.testing.assert_array_equal(nat.reverse_complement_codes(got), codes)


# --------------------------------------------------------------------------------------
# mask_from_intervals
# --------------------------------------------------------------------------------------

def test_mask_from_intervals_known():
    m = nat.mask_from_intervals(np.array([12, 3, 5, 0]), np.array([30, 4, 7, 1]), 2, 12)
    np.testing.assert_array_equal(m, [0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1])
    assert m.dtype == np.uint8
    empty = np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(nat.mask_from_intervals(empty, empty, 100, 5), np.zeros(5))
    assert nat.mask_from_intervals(empty, empty, 0, 0).shape == (0,)


interval_lists = st.lists(st.tuples(st.integers(-20, 140), st.integers(0, 40)), max_size=12)


@SETTINGS
@given(interval_lists, st.integers(-10, 30), st.integers(0, 100))
def test_mask_from_intervals_matches_reference(ivs, region_start, length):
    starts = np.array([s for s, _ in ivs], dtype=np.int64)
    ends = np.array([s + w for s, w in ivs], dtype=np.int64)
    got = nat.mask_from_intervals(starts, ends, region_start, length)
    np.testing.assert_array_equal(
        got, ref.ref_mask_from_intervals(starts, ends, region_start, length))


def test_mask_from_intervals_errors():
    with pytest.raises(ValueError, match="end < start|start <= end"):
        nat.mask_from_intervals(np.array([5]), np.array([3]), 0, 10)
    with pytest.raises(ValueError, match="same length"):
        nat.mask_from_intervals(np.array([1, 2]), np.array([3]), 0, 10)
    with pytest.raises(ValueError, match="integer"):
        nat.mask_from_intervals(np.array([1.5]), np.array([3.0]), 0, 10)
    with pytest.raises(ValueError, match="length must be >= 0"):
        nat.mask_from_intervals(np.array([1]), np.array([3]), 0, -1)
    with pytest.raises(ValueError, match="region_start must be an int"):
        nat.mask_from_intervals(np.array([1]), np.array([3]), 2.5, 10)
    with pytest.raises(ValueError, match="length must be an int"):
        nat.mask_from_intervals(np.array([1]), np.array([3]), 0, 2**70)


# --------------------------------------------------------------------------------------
# transform_dense
# --------------------------------------------------------------------------------------

def dense(values, mask=None, baseline=0.0, pool=1, mean=False, clip_soft=None, clip=None,
          scale=1.0):
    """Run native and reference transform_dense; return (native, n_sat, ref, ref_n_sat)."""
    values = np.asarray(values, dtype=np.float32)
    nbins = len(values) // pool
    out = np.full(nbins, 123, dtype=np.float16)
    out_ref = np.full(nbins, 123, dtype=np.float16)
    n = nat.transform_dense(values, mask, baseline, pool, mean, clip_soft, clip, scale, out)
    n_ref = ref.ref_transform_dense(values, mask, baseline, pool, mean, clip_soft, clip,
                                    scale, out_ref)
    return out, n, out_ref, n_ref


def test_dense_clean_pool_and_mean():
    v = [1.0, np.nan, -3.0, 2.0, 0.5, 0.25, 4.0, 8.0]
    out, n, out_ref, _ = dense(v, pool=4)
    np.testing.assert_array_equal(out, [3.0, 12.75])
    assert n == 0
    np.testing.assert_array_equal(out, out_ref)
    out, _, _, _ = dense(v, pool=4, mean=True)
    np.testing.assert_array_equal(out, np.float16([0.75, 3.1875]))
    mask = np.array([0, 0, 1, 0, 1, 0, 0, 0], dtype=np.uint8)
    out, _, out_ref, _ = dense(v, mask=mask, baseline=10.0, pool=4)
    np.testing.assert_array_equal(out, [13.0, 22.25])
    np.testing.assert_array_equal(out, out_ref)
    out2, _, _, _ = dense(v, mask=mask.astype(bool), baseline=10.0, pool=4)
    np.testing.assert_array_equal(out2, out)


def test_dense_soft_clip_values():
    t = 32.0
    v = np.array([t - 1, t, t + 0.5, t + 1, t + 4, t + 100], dtype=np.float32)
    out, _, out_ref, _ = dense(v, clip_soft=t)
    # below t + 1, sqrt(x - t) >= x - t, so x is kept
    np.testing.assert_array_equal(out, np.float16([t - 1, t, t + 0.5, t + 1, t + 2, t + 10]))
    np.testing.assert_array_equal(out, out_ref)
    out, _, _, _ = dense(v, clip_soft=t, clip=33.0, scale=2.0)
    np.testing.assert_array_equal(out, np.float16([62, 64, 65, 66, 66, 66]))


def test_dense_saturation_counted():
    v = np.array([1e5, 65504, 65519, 65520, 7e4, 1.0], dtype=np.float32)
    out, n, out_ref, n_ref = dense(v)
    np.testing.assert_array_equal(out, [65504, 65504, 65504, 65504, 65504, 1.0])
    assert not np.isinf(out).any()
    assert n == n_ref == 4  # 65504 itself is representable and not counted
    np.testing.assert_array_equal(out, out_ref)
    out, n, out_ref, n_ref = dense(v, scale=-1.0)
    np.testing.assert_array_equal(out, [-65504, -65504, -65504, -65504, -65504, -1.0])
    assert n == n_ref == 4
    # sums of in-range values overflow float16 too
    out, n, _, _ = dense(np.full(128, 1000.0), pool=128)
    assert n == 1 and out[0] == 65504


def test_dense_mask_everything_gives_baseline():
    v = np.random.default_rng(1).normal(size=256).astype(np.float32)
    mask = np.ones(256, dtype=np.uint8)
    out, _, out_ref, _ = dense(v, mask=mask, baseline=0.375, pool=64, mean=True)
    np.testing.assert_array_equal(out, np.full(4, 0.375, np.float16))
    np.testing.assert_array_equal(out, out_ref)
    out, _, _, _ = dense(v, mask=mask * 7, baseline=-2.0, pool=64)
    np.testing.assert_array_equal(out, np.full(4, -128.0, np.float16))


def test_dense_strided_out():
    rng = np.random.default_rng(2)
    targets = np.full((3, 8, 5), 7.0, dtype=np.float16)
    v = rng.gamma(1.0, 3.0, size=8 * 16).astype(np.float32)
    n = nat.transform_dense(v, None, 0.0, 16, True, None, None, 1.0, targets[1, :, 2])
    assert n == 0
    want = np.zeros(8, np.float16)
    ref.ref_transform_dense(v, None, 0.0, 16, True, None, None, 1.0, want)
    assert_f16_close(targets[1, :, 2], want)
    untouched = np.ones(targets.shape, dtype=bool)
    untouched[1, :, 2] = False
    assert (targets[untouched] == 7.0).all()
    # negative strides
    rev = np.zeros(8, np.float16)
    nat.transform_dense(v, None, 0.0, 16, True, None, None, 1.0, rev[::-1])
    np.testing.assert_array_equal(rev[::-1], targets[1, :, 2])


def test_dense_float16_rounding_is_numpys():
    """pool=1 makes the transform a pure float32 -> float16 cast: check it bit for bit."""
    rng = np.random.default_rng(3)
    random_bits = rng.integers(0, 0x7F800000, size=100_000, dtype=np.uint32)
    h = np.arange(0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)
    mids = (h[:-1] + (h[1:] - h[:-1]) / 2).astype(np.float32)  # exact ties
    mids_bits = mids.view(np.uint32)
    near = np.concatenate([mids_bits - 1, mids_bits, mids_bits + 1, h.view(np.uint32)])
    v = np.concatenate([random_bits, near]).view(np.float32)
    for scale in (1.0, -1.0):
        out, n, out_ref, n_ref = dense(v, scale=scale)
        np.testing.assert_array_equal(out.view(np.uint16), out_ref.view(np.uint16))
        assert n == n_ref


values_strategy = st.one_of(st.floats(-10, 300, width=32), st.just(float("nan")),
                            st.floats(width=32, allow_infinity=False))


@st.composite
def dense_cases(draw):
    pool = draw(st.sampled_from([1, 2, 3, 4, 7, 8, 9, 16, 24]))
    nbins = draw(st.integers(0, 8))
    length = pool * nbins
    values = draw(arrays(np.float32, length, elements=values_strategy))
    mask = draw(st.none() | arrays(np.uint8, length, elements=st.sampled_from([0, 0, 1, 255])))
    params = dict(
        baseline=draw(st.floats(-100, 100)),
        pool=pool,
        mean=draw(st.booleans()),
        clip_soft=draw(st.none() | st.floats(0, 500)),
        clip=draw(st.none() | st.floats(0, 70000) | st.just(float("inf"))),
        scale=draw(st.floats(-4, 4)),
    )
    return values, mask, params


@SETTINGS
@given(dense_cases())
def test_dense_matches_reference(case):
    values, mask, params = case
    out, n, out_ref, n_ref = dense(values, mask=mask, **params)
    assert_f16_close(out, out_ref)
    assert n == n_ref


@pytest.mark.parametrize("pool", [1, 5, 16, 31, 32, 33, 64, 100, 128, 1000])
def test_dense_summation_bodies_bit_identical(pool):
    """The portable, SSE2 and AVX2 bodies (those this CPU has) give identical bits."""
    rng = np.random.default_rng(pool)
    nbins = 7
    v = rng.gamma(0.5, 30.0, size=pool * nbins).astype(np.float32)
    v[rng.random(v.size) < 0.05] = np.nan
    v[rng.random(v.size) < 0.05] *= -1
    v[rng.random(v.size) < 0.02] = rng.uniform(1e-30, 1e-20)
    run_mask = np.zeros(v.size, np.uint8)
    run_mask[pool // 3: pool * 3 + 5] = 1
    for mask in (None, run_mask, (rng.random(v.size) < 0.2).astype(np.uint8) * 3):
        for mean in (False, True):
            outs, counts = [], []
            for path in range(nat._dense_sum_path() + 1):
                out = np.zeros(nbins, np.float16)
                counts.append(nat._transform_dense_with_path(
                    path, v, mask, -1.25, pool, mean, 30.0, None, 3.0, out))
                outs.append(out.view(np.uint16))
            for path in range(1, len(outs)):
                np.testing.assert_array_equal(outs[path], outs[0])
                assert counts[path] == counts[0]
            ref_out = np.zeros(nbins, np.float16)
            ref.ref_transform_dense(v, mask, -1.25, pool, mean, 30.0, None, 3.0, ref_out)
            assert_f16_close(outs[0].view(np.float16), ref_out)
    with pytest.raises(ValueError, match="path must be in"):
        nat._transform_dense_with_path(9, v, None, 0.0, pool, False, None, None, 1.0,
                                       np.zeros(nbins, np.float16))


def test_dense_errors():
    v = np.zeros(8, np.float32)
    out = np.zeros(2, np.float16)
    args = dict(values=v, mask=None, baseline=0.0, pool=4, mean=False, clip_soft=None,
                clip=None, scale=1.0, out=out)

    def check(match, **kw):
        with pytest.raises(ValueError, match=match):
            nat.transform_dense(**{**args, **kw})

    check("not a multiple of pool", pool=3, out=np.zeros(2, np.float16))
    check("float32", values=v.astype(np.float64))
    check("float32", values=v.reshape(2, 4))
    check("float32", values=[0.0] * 8)
    check("positive int", pool=0)
    check("positive int", pool=2.5)
    check("mask", mask=np.zeros(8, np.int32))
    check("mask must have length", mask=np.zeros(7, np.uint8))
    check("float16", out=np.zeros(2, np.float32))
    check("length L / pool = 2", out=np.zeros(3, np.float16))
    check("baseline must be a finite float", baseline=float("nan"))
    check("scale must be a finite float", scale=float("inf"))
    check("clip_soft must be a finite float", clip_soft=float("nan"))
    check("clip must be None or a float", clip=float("nan"))
    check("clip must be None or a float", clip="high")
    ro = np.zeros(2, np.float16)
    ro.flags.writeable = False
    check("writeable", out=ro)


def test_dense_empty_and_noncontiguous_values():
    assert nat.transform_dense(np.zeros(0, np.float32), None, 0.0, 4, False, None, None,
                               1.0, np.zeros(0, np.float16)) == 0
    v = np.arange(16, dtype=np.float32)
    out = np.zeros(4, np.float16)
    nat.transform_dense(v[::2], None, 0.0, 2, False, None, None, 1.0, out)
    np.testing.assert_array_equal(out, [2, 10, 18, 26])


# --------------------------------------------------------------------------------------
# transform_intervals
# --------------------------------------------------------------------------------------

def intervals_vs_dense(starts, ends, values, mstarts, mends, region_start, length,
                       baseline=0.0, pool=1, mean=False, clip_soft=None, clip=None, scale=1.0):
    """Run transform_intervals and transform_dense on the expanded data; return both."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    values = np.asarray(values, dtype=np.float32)
    nbins = length // pool
    out = np.full(nbins, 99, dtype=np.float16)
    n = nat.transform_intervals(starts, ends, values, mstarts, mends, region_start, length,
                                baseline, pool, mean, clip_soft, clip, scale, out)
    dense_values = ref.ref_expand_intervals(starts, ends, values, region_start, length)
    mask = None
    if mstarts is not None:
        mask = ref.ref_mask_from_intervals(mstarts, mends, region_start, length)
    out_dense = np.full(nbins, 99, dtype=np.float16)
    n_dense = nat.transform_dense(dense_values, mask, baseline, pool, mean, clip_soft, clip,
                                  scale, out_dense)
    out_ref = np.full(nbins, 99, dtype=np.float16)
    n_ref = ref.ref_transform_intervals(starts, ends, values, mstarts, mends, region_start,
                                        length, baseline, pool, mean, clip_soft, clip, scale,
                                        out_ref)
    assert n_dense == n_ref
    assert_f16_close(out_dense, out_ref)
    return out, n, out_dense, n_dense


def test_intervals_known_and_beyond_region():
    # region [100, 112), pool 4; runs reach past both ends; gaps count as 0
    starts, ends, values = [90, 104, 106, 111], [102, 105, 109, 130], [2.0, np.nan, 3.0, 1.0]
    out, n, out_dense, _ = intervals_vs_dense(starts, ends, values, None, None, 100, 12,
                                              pool=4)
    np.testing.assert_array_equal(out, [4.0, 6.0, 4.0])
    np.testing.assert_array_equal(out, out_dense)
    assert n == 0


def test_intervals_empty_lists():
    empty_i = np.zeros(0, np.int64)
    empty_f = np.zeros(0, np.float32)
    out, n, out_dense, _ = intervals_vs_dense(empty_i, empty_i, empty_f, None, None, 5, 8,
                                              pool=2)
    np.testing.assert_array_equal(out, np.zeros(4))
    out, n, out_dense, _ = intervals_vs_dense(empty_i, empty_i, empty_f, empty_i, empty_i,
                                              5, 8, baseline=1.5, pool=2)
    np.testing.assert_array_equal(out, np.zeros(4))
    out, n, out_dense, _ = intervals_vs_dense(empty_i, empty_i, empty_f, [0], [7], 5, 8,
                                              baseline=1.5, pool=2)
    np.testing.assert_array_equal(out, [3.0, 0.0, 0.0, 0.0])
    # plain lists of ints are accepted for coordinates; empty region
    assert nat.transform_intervals([], [], empty_f, [], [], 0, 0, 0.0, 4, False, None, None,
                                   1.0, np.zeros(0, np.float16)) == 0


def test_intervals_mask_everything_gives_baseline():
    out, _, out_dense, _ = intervals_vs_dense([0, 50], [40, 200], [5.0, 7.0], [-10, 30],
                                              [35, 500], 0, 128, baseline=0.625, pool=32,
                                              mean=True)
    np.testing.assert_array_equal(out, np.full(4, 0.625, np.float16))
    np.testing.assert_array_equal(out_dense, out)


def test_intervals_unsorted_overlapping_mask_and_saturation():
    out, n, out_dense, n_dense = intervals_vs_dense(
        [0, 10, 20], [10, 20, 64], [1e4, -5.0, 3.0], [30, 0, 2, 40], [45, 3, 5, 50], 0, 64,
        baseline=2.0, pool=8, clip_soft=100.0)
    np.testing.assert_array_equal(out, out_dense)
    assert n == n_dense == 0
    out, n, out_dense, n_dense = intervals_vs_dense(
        [0, 10], [10, 64], [1e4, 3.0], None, None, 0, 64, pool=8)
    assert n == n_dense == 1 and out[0] == 65504


def test_intervals_strided_out():
    targets = np.full((2, 4, 3), 5.0, np.float16)
    n = nat.transform_intervals(np.array([0]), np.array([64]), np.array([2.0], np.float32),
                                None, None, 0, 64, 0.0, 16, True, None, None, 0.5,
                                targets[1, :, 1])
    assert n == 0
    np.testing.assert_array_equal(targets[1, :, 1], np.ones(4))
    assert (targets[0] == 5).all() and (targets[1, :, [0, 2]] == 5).all()


@st.composite
def interval_cases(draw):
    pool = draw(st.sampled_from([1, 2, 3, 4, 8, 16, 32]))
    nbins = draw(st.integers(0, 8))
    length = pool * nbins
    region_start = draw(st.integers(-50, 1000))
    pos = region_start + draw(st.integers(-30, 30))
    starts, ends, values = [], [], []
    for gap, width, value in draw(st.lists(
            st.tuples(st.integers(0, 20), st.integers(0, 60), values_strategy), max_size=15)):
        starts.append(pos + gap)
        ends.append(pos + gap + width)
        values.append(value)
        pos += gap + width
    mask = draw(st.none() | st.lists(
        st.tuples(st.integers(region_start - 20, region_start + length + 20),
                  st.integers(0, 40)), max_size=6))
    mstarts = mends = None
    if mask is not None:
        mstarts = np.array([s for s, _ in mask], dtype=np.int64)
        mends = np.array([s + w for s, w in mask], dtype=np.int64)
    params = dict(
        baseline=draw(st.floats(-100, 100)),
        pool=pool,
        mean=draw(st.booleans()),
        clip_soft=draw(st.none() | st.floats(0, 500)),
        clip=draw(st.none() | st.floats(0, 70000)),
        scale=draw(st.floats(-4, 4)),
    )
    return (np.array(starts, np.int64), np.array(ends, np.int64),
            np.array(values, np.float32), mstarts, mends, region_start, length, params)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interval_cases())
def test_intervals_match_dense_expansion(case):
    starts, ends, values, mstarts, mends, region_start, length, params = case
    out, n, out_dense, n_dense = intervals_vs_dense(starts, ends, values, mstarts, mends,
                                                    region_start, length, **params)
    assert_f16_close(out, out_dense)
    assert n == n_dense


def test_intervals_large_region_random():
    """A 131,072 bp region with a few hundred runs and a mask, against the expansion."""
    rng = np.random.default_rng(4)
    region_start, length, pool = 1_000_000, 131_072, 128
    bounds = np.sort(rng.choice(np.arange(region_start - 500, region_start + length + 500),
                                size=800, replace=False))
    starts, ends = bounds[0::2], bounds[1::2]
    values = rng.gamma(0.7, 5.0, size=len(starts)).astype(np.float32)
    values[::17] = np.nan
    mstarts = rng.integers(region_start - 100, region_start + length, size=30)
    mends = mstarts + rng.integers(1, 3000, size=30)
    for mean in (False, True):
        out, n, out_dense, n_dense = intervals_vs_dense(
            starts, ends, values, mstarts, mends, region_start, length, baseline=0.5,
            pool=pool, mean=mean, clip_soft=32.0, clip=384.0, scale=1.0)
        assert_f16_close(out, out_dense)
        assert n == n_dense


def test_intervals_errors():
    s = np.array([0, 10], np.int64)
    e = np.array([10, 20], np.int64)
    v = np.array([1.0, 2.0], np.float32)
    out = np.zeros(4, np.float16)
    args = dict(starts=s, ends=e, values=v, mask_starts=None, mask_ends=None, region_start=0,
                length=16, baseline=0.0, pool=4, mean=False, clip_soft=None, clip=None,
                scale=1.0, out=out)

    def check(match, **kw):
        with pytest.raises(ValueError, match=match):
            nat.transform_intervals(**{**args, **kw})

    check("sorted and non-overlapping", starts=np.array([10, 0]), ends=np.array([20, 10]))
    check("sorted and non-overlapping", starts=np.array([0, 5]), ends=np.array([10, 20]))
    check("end 3 < start 5", starts=np.array([5, 10]), ends=np.array([3, 20]))
    check("same length", values=np.array([1.0], np.float32))
    check("float32", values=v.astype(np.float64))
    check("integer", starts=s.astype(np.float64))
    check("not a multiple of pool", length=18, out=np.zeros(4, np.float16))
    check("length must be >= 0", length=-4)
    check("region_start must be an int", region_start="0")
    check("both be None", mask_starts=np.array([1]))
    check("mask_ends.*< mask_starts", mask_starts=np.array([5]), mask_ends=np.array([2]))
    check("length L / pool = 4", out=np.zeros(5, np.float16))
    check("positive int", pool=-1)
