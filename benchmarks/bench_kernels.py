"""Benchmark the C kernels of crossreg._native against the NumPy references.

Run as ``python benchmarks/bench_kernels.py``; or import and call :func:`bench_one_hot` and
:func:`bench_transform`, which return dicts of numbers.  Each timing is the best of several
repeats (``time.perf_counter``); native and reference are measured in the same run on the
same inputs.  Total runtime is well under a minute.

Targets:
    * one-hot: native >= 1000 Mbp/s and >= 2x the NumPy lookup-table reference;
    * dense transform: native >= 5x the NumPy reference (sum and mean);
    * interval transform: >= 5x faster than expanding the intervals to bases (NumPy) and
      running the native dense transform.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))

import reference_kernels as ref  # noqa: E402

from crossreg import _native as nat  # noqa: E402

ONE_HOT_TARGET_MBPS = 1000.0
ONE_HOT_TARGET_RATIO = 2.0
TRANSFORM_TARGET_RATIO = 5.0

WINDOW_BP = 131_072
POOL = 128
N_TRACKS = 4


def best_time(func, repeats: int) -> float:
    """Best wall time in seconds of ``repeats`` calls of ``func()``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def random_sequence(n_bp: int, seed: int = 0) -> bytes:
    """Random DNA: ~92% ACGT upper case, ~6% lower case, ~2% N."""
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"ACGT" * 23 + b"acgt" + b"ac" + b"NN", dtype=np.uint8)
    return alphabet[rng.integers(0, alphabet.size, size=n_bp)].tobytes()


def bench_one_hot(n_bp: int = 50_000_000, repeats: int = 5) -> dict:
    """Time one-hot encoding of a random ``n_bp`` sequence (bytes input).

    Returns:
        dict: ``n_bp``; ``native_mbps`` (allocating the output, the default call),
        ``native_out_mbps`` (filling a preallocated ``out``), ``reference_mbps`` and
        ``ratio`` (native_mbps / reference_mbps); throughputs in Mbp/s.
    """
    seq = random_sequence(n_bp)
    got = nat.one_hot_encode(seq[:1_000_000])
    np.testing.assert_array_equal(got, ref.ref_one_hot_encode(seq[:1_000_000]))
    out = np.empty((n_bp, 4), dtype=np.uint8)
    t_native = best_time(lambda: nat.one_hot_encode(seq), repeats)
    t_native_out = best_time(lambda: nat.one_hot_encode(seq, out=out), repeats)
    t_ref = best_time(lambda: ref.ref_one_hot_encode(seq), max(2, repeats // 2))
    native = n_bp / t_native / 1e6
    return {
        "n_bp": n_bp,
        "native_mbps": native,
        "native_out_mbps": n_bp / t_native_out / 1e6,
        "reference_mbps": n_bp / t_ref / 1e6,
        "ratio": t_ref / t_native,
    }


def _make_windows(n_windows: int, rng: np.random.Generator):
    """Per-base float32 signal (with NaN and negatives) and a run-structured mask."""
    values = rng.gamma(0.4, 3.0, size=(n_windows, WINDOW_BP)).astype(np.float32)
    values[:, ::101] = np.nan
    values[:, 7::211] = -1.0
    mask = np.zeros((n_windows, WINDOW_BP), dtype=np.uint8)
    for w in range(n_windows):
        for s in rng.integers(0, WINDOW_BP - 2000, size=8):
            mask[w, s:s + rng.integers(50, 2000)] = 1
    return values, mask


def _make_runs(n_windows: int, rng: np.random.Generator, n_runs: int = 300):
    """Piecewise-constant tracks: ~``n_runs`` sorted runs per window, reaching past it."""
    tracks = []
    for w in range(n_windows):
        region_start = 10_000_000 + w * WINDOW_BP
        cuts = np.sort(rng.choice(np.arange(region_start - 1000, region_start + WINDOW_BP + 1000),
                                  size=2 * n_runs, replace=False))
        starts, ends = cuts[0::2].astype(np.int64), cuts[1::2].astype(np.int64)
        values = rng.gamma(0.5, 8.0, size=n_runs).astype(np.float32)
        mstarts = rng.integers(region_start - 500, region_start + WINDOW_BP, size=6)
        mends = mstarts + rng.integers(10, 3000, size=6)
        tracks.append((starts, ends, values, mstarts, mends, region_start))
    return tracks


def bench_transform(n_windows: int = 16, repeats: int = 9) -> dict:
    """Time the dense and interval target transforms on 131,072 bp windows, pool 128.

    Dense: per-base float32 values (NaN and negatives sprinkled in) with a run-structured
    mask, output written into a strided float16 ``targets[w, :, t]`` view, for
    ``mean=False`` (sum) and ``mean=True``, soft clip 32, clip 384.  The 16 default windows
    (10 MB of values and mask) stay in the last-level cache, as a window does when it is
    transformed right after being read; with many more windows the native kernel becomes
    bound by memory bandwidth.  Intervals: ~300 runs and 6 mask intervals per window;
    compared with expanding to bases in NumPy plus the native dense transform, and with
    the full NumPy reference.

    Returns:
        dict: bins/s for ``dense_{sum,mean}_{native,reference}`` and their ``_ratio``;
        ``intervals_native``, ``intervals_expanded`` (expand + native dense),
        ``intervals_reference`` in bins/s, ``intervals_ratio`` (vs expanded) and
        ``intervals_ratio_reference``; plus ``n_windows``, ``bins_per_window`` and
        ``sum_path`` (summation body in use: 0 portable C, 1 SSE2, 2 AVX2).
    """
    rng = np.random.default_rng(1)
    nbins = WINDOW_BP // POOL
    values, mask = _make_windows(n_windows, rng)
    targets = np.zeros((n_windows, nbins, N_TRACKS), dtype=np.float16)
    check = np.zeros(nbins, dtype=np.float16)
    total_bins = n_windows * nbins
    params = dict(baseline=0.0, pool=POOL, clip_soft=32.0, clip=384.0, scale=1.0)
    result: dict = {"n_windows": n_windows, "bins_per_window": nbins,
                    "sum_path": nat._dense_sum_path()}

    for mean in (False, True):
        name = "mean" if mean else "sum"

        def run_native(mean=mean):
            for w in range(n_windows):
                nat.transform_dense(values[w], mask[w], params["baseline"], POOL, mean,
                                    params["clip_soft"], params["clip"], params["scale"],
                                    targets[w, :, 1])

        def run_ref(mean=mean):
            for w in range(n_windows):
                ref.ref_transform_dense(values[w], mask[w], params["baseline"], POOL, mean,
                                        params["clip_soft"], params["clip"], params["scale"],
                                        check)

        run_native()
        run_ref()  # check holds the last window
        assert np.max(np.abs(targets[-1, :, 1].astype(np.float64) - check)) <= \
            1e-3 * max(1.0, float(np.max(np.abs(check))))
        t_nat = best_time(run_native, repeats)
        t_ref = best_time(run_ref, max(3, repeats // 2))
        result[f"dense_{name}_native"] = total_bins / t_nat
        result[f"dense_{name}_reference"] = total_bins / t_ref
        result[f"dense_{name}_ratio"] = t_ref / t_nat

    tracks = _make_runs(n_windows, rng)
    out = np.zeros(nbins, dtype=np.float16)

    def run_intervals():
        for starts, ends, vals, ms, me, rs in tracks:
            nat.transform_intervals(starts, ends, vals, ms, me, rs, WINDOW_BP, 0.0, POOL, True,
                                    32.0, 384.0, 1.0, out)

    def run_expanded():
        for starts, ends, vals, ms, me, rs in tracks:
            dense = ref.ref_expand_intervals(starts, ends, vals, rs, WINDOW_BP)
            m = nat.mask_from_intervals(ms, me, rs, WINDOW_BP)
            nat.transform_dense(dense, m, 0.0, POOL, True, 32.0, 384.0, 1.0, check)

    def run_interval_ref():
        for starts, ends, vals, ms, me, rs in tracks:
            ref.ref_transform_intervals(starts, ends, vals, ms, me, rs, WINDOW_BP, 0.0, POOL,
                                        True, 32.0, 384.0, 1.0, check)

    run_intervals()
    run_expanded()
    assert np.max(np.abs(out.astype(np.float64) - check)) <= \
        1e-3 * max(1.0, float(np.max(np.abs(check))))
    t_int = best_time(run_intervals, repeats)
    t_exp = best_time(run_expanded, max(3, repeats // 2))
    t_iref = best_time(run_interval_ref, 3)
    result["intervals_native"] = total_bins / t_int
    result["intervals_expanded"] = total_bins / t_exp
    result["intervals_reference"] = total_bins / t_iref
    result["intervals_ratio"] = t_exp / t_int
    result["intervals_ratio_reference"] = t_iref / t_int
    return result


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    """Run both benchmarks and print results next to their targets."""
    t0 = time.perf_counter()
    oh = bench_one_hot()
    ok = oh["native_mbps"] >= ONE_HOT_TARGET_MBPS and oh["ratio"] >= ONE_HOT_TARGET_RATIO
    print(f"one-hot ({oh['n_bp'] / 1e6:.0f} Mbp, bytes input)")
    print(f"  native     {oh['native_mbps']:9.1f} Mbp/s  (into preallocated out: "
          f"{oh['native_out_mbps']:.1f} Mbp/s)")
    print(f"  reference  {oh['reference_mbps']:9.1f} Mbp/s")
    print(f"  ratio      {oh['ratio']:9.1f}x      target >= {ONE_HOT_TARGET_MBPS:.0f} Mbp/s and "
          f">= {ONE_HOT_TARGET_RATIO:.0f}x: {_verdict(ok)}")

    tr = bench_transform()
    body = {0: "portable C", 1: "SSE2", 2: "AVX2"}[tr["sum_path"]]
    print(f"dense transform ({tr['n_windows']} windows x {WINDOW_BP} bp, pool {POOL}, masked, "
          f"strided float16 out, {body} summation)")
    for name in ("sum", "mean"):
        ratio = tr[f"dense_{name}_ratio"]
        print(f"  {name:4s} native {tr[f'dense_{name}_native']:10.3g} bins/s  reference "
              f"{tr[f'dense_{name}_reference']:10.3g} bins/s  ratio {ratio:5.1f}x  "
              f"target >= {TRANSFORM_TARGET_RATIO:.0f}x: "
              f"{_verdict(ratio >= TRANSFORM_TARGET_RATIO)}")
    ratio = tr["intervals_ratio"]
    print("interval transform (~300 runs + 6 mask intervals per window, mean)")
    print(f"  native intervals          {tr['intervals_native']:10.3g} bins/s")
    print(f"  expand (NumPy) + native dense {tr['intervals_expanded']:10.3g} bins/s  "
          f"ratio {ratio:5.1f}x  target >= {TRANSFORM_TARGET_RATIO:.0f}x: "
          f"{_verdict(ratio >= TRANSFORM_TARGET_RATIO)}")
    print(f"  NumPy reference           {tr['intervals_reference']:10.3g} bins/s  "
          f"ratio {tr['intervals_ratio_reference']:5.1f}x")
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    main()
