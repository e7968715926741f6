"""Trainer benchmark on a GPU: params_full with KERAS_BACKEND=jax, bf16 mixed precision, MFU.

Run on a machine with a CUDA GPU and JAX (``python benchmarks/bench_train_gpu.py``); Keras
and crossreg are the only other needs (TensorFlow is not used). Every (precision, batch)
configuration runs in its own subprocess and times the trainer's real step
(:class:`crossreg.train.backend.JaxRunner`: forward, Poisson loss, gradients of the trunk and
one head, SGD with momentum and clip_norm as in the params, ``jax.jit`` with donated
buffers) on random one-hot sequences and Poisson targets, after warm-up steps.

Printed per configuration: seconds per step (best and median of the timed steps),
steps/s, sequences/s, achieved model TFLOP/s and the model FLOPs utilisation (MFU):

    MFU = 3 x forward FLOPs per sequence x sequences/s / peak dense bf16 FLOP/s of the GPU

where the forward FLOPs count every Conv1D and Dense layer (2 x multiply-accumulates, the
same count as ``benchmarks/bench_train.py``), the factor 3 is forward + backward, and the
peak is the vendor's dense bf16 figure (H100/H200 SXM: 989.4 TFLOP/s; ``--peak-tflops``
overrides it). float32 runs are reported against the same bf16 peak, so their MFU shows
what mixed precision buys. Peak GPU memory is JAX's ``peak_bytes_in_use``.

Target (issue 4): MFU >= 35% for params_full in bf16.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

#: dense bf16 peak TFLOP/s by device-name fragment (vendor figures, without sparsity)
PEAK_BF16_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0, "L40S": 362.0, "A10": 125.0}
TARGET_MFU = 0.35


def worker(params_path: str, precision: str, batch: int, warmup: int, steps: int) -> dict:
    """Time the trainer's step in this process (KERAS_BACKEND must already be jax)."""
    import jax

    from bench_train import model_flops
    from crossreg.model import build_model, load_params
    from crossreg.train.backend import make_runner
    from crossreg.train.optimizer import build_optimizer

    params = load_params(params_path)
    params["train"]["batch_size"] = batch
    params["train"]["precision"] = precision
    model = build_model(params, seed=0)
    genome = model.genomes[0]
    variables = [*model.trunk.trainable_variables, *model.heads[genome].trainable_variables]
    runner = make_runner(model, build_optimizer(params["train"], variables), [genome], jit_compile=True)
    rng = np.random.default_rng(0)
    geo = model.geometry
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch, geo.seq_length))]
    y = rng.poisson(1.0, (batch, geo.bins, model.num_tracks(genome))).astype(np.float32)
    x_dev, y_dev = jax.device_put(x), jax.device_put(y)  # the trainer's prefetcher overlaps this copy
    start = time.perf_counter()
    first_loss = runner.train_step(genome, x_dev, y_dev)  # float(loss): waits for the step
    compile_s = time.perf_counter() - start
    for _ in range(warmup):
        runner.train_step(genome, x_dev, y_dev)
    times, losses = [], []
    for _ in range(steps):
        start = time.perf_counter()
        losses.append(runner.train_step(genome, x_dev, y_dev))
        times.append(time.perf_counter() - start)
    device = jax.devices()[0]
    stats = device.memory_stats() or {}
    return {"precision": precision, "batch": batch, "genome": genome, "device": device.device_kind,
            "first_step_s": compile_s, "step_s": times, "first_loss": first_loss, "last_loss": losses[-1],
            "flops_per_seq": model_flops(model, genome), "peak_gpu_gb": stats.get("peak_bytes_in_use", 0) / 1e9,
            "jax": jax.__version__}


def _run(args: argparse.Namespace, precision: str, batch: int) -> dict | None:
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "pycore"), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, __file__, "--worker", args.params, precision, str(batch), str(args.warmup), str(args.steps)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode != 0:
        print(f"  {precision} batch {batch} failed:\n{proc.stderr[-2500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _peak(device_kind: str, override: float | None) -> float:
    if override:
        return override
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in device_kind:
            return value
    raise SystemExit(f"unknown GPU {device_kind!r}: pass --peak-tflops")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--params", default=str(ROOT / "tests" / "data" / "params" / "params_full.json"))
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--precision", nargs="+", default=["mixed_bfloat16", "float32"],
                        choices=["mixed_bfloat16", "float32"])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--peak-tflops", type=float, default=None, help="dense bf16 peak of the GPU")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    if args.worker:
        params, precision, batch, warmup, steps = args.worker
        print(json.dumps(worker(params, precision, int(batch), int(warmup), int(steps))))
        return

    print(f"params {args.params}; {args.warmup} warm-up + {args.steps} timed steps per configuration")
    rows = []
    for precision in args.precision:
        for batch in args.batch:
            r = _run(args, precision, batch)
            if r is None:
                continue
            best, median = min(r["step_s"]), statistics.median(r["step_s"])
            peak = _peak(r["device"], args.peak_tflops)
            tflops = 3 * r["flops_per_seq"] * batch / median / 1e12
            r.update(best_s=best, median_s=median, steps_per_s=1 / median, seqs_per_s=batch / median,
                     tflops=tflops, peak_tflops=peak, mfu=tflops / peak)
            rows.append(r)
            print(f"{precision:>15} batch {batch:>2}: {median * 1e3:8.1f} ms/step (best {best * 1e3:.1f}), "
                  f"{r['steps_per_s']:6.2f} steps/s, {r['seqs_per_s']:6.2f} seq/s, {tflops:6.1f} TFLOP/s, "
                  f"MFU {r['mfu']:.1%}, peak GPU memory {r['peak_gpu_gb']:.1f} GB, compile+first step "
                  f"{r['first_step_s']:.1f} s, loss {r['first_loss']:.4f} -> {r['last_loss']:.4f}", flush=True)
    if rows:
        best = max((r for r in rows if r["precision"] == "mixed_bfloat16"), key=lambda r: r["mfu"], default=None)
        print(f"device: {rows[0]['device']}, jax {rows[0]['jax']}; model forward {rows[0]['flops_per_seq'] / 1e12:.3f} "
              f"TFLOP per sequence")
        if best:
            verdict = "meets" if best["mfu"] >= TARGET_MFU else "misses"
            print(f"best bf16: batch {best['batch']}, MFU {best['mfu']:.1%} ({verdict} the {TARGET_MFU:.0%} target)")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
