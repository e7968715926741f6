"""Trainer benchmark: train-step time, throughput and peak memory on CPU, against baskerville.

Run with ``python benchmarks/bench_train.py`` (about 5-8 minutes on 2 cores). Every
configuration runs in its own subprocess (so its peak RSS, ``ru_maxrss``, is its own and
includes compilation) and times the trainer's real step (:mod:`crossreg.train.backend`:
forward, Poisson loss, gradients of the trunk and one head, SGD with momentum and clip_norm
as in the params) on random one-hot sequences and Poisson targets, after warm-up steps:

- ``tests/data/params/params_small.json`` at batch 4 (16,384 bp, 96 bins, 5,313 tracks);
- ``tests/data/params/params_full.json`` at batch 1 (131,072 bp, 896 bins, 5,313 tracks);

each with XLA compilation on and off (``jit_compile`` True/False, TensorFlow backend). The
verdict is for the trainer's default (``auto_jit_compile``: XLA for params_full, TensorFlow's
kernels for params_small); both settings are printed.

The CPU convolution ceiling is measured in the same run: forward + backward of the full
model's largest convolution (65,536 positions, width 5, 288 -> 339 channels, batch 1), with
TensorFlow's own kernels (oneDNN) and with XLA, best of both, as achieved FLOP/s. The train
step's FLOP/s (3 x the forward FLOPs of every convolution and dense layer) is printed as a
fraction of that ceiling.

Reference (baskerville on TF 2.21, this machine, given with the task): params_small 0.52-0.59
s/step at batch 4; params_full ~9.4 s/step at batch 1 with peak RSS 4.3 GB. Target: >= 1.15x
the reference throughput (against its fastest time) and, for params_full, no more memory.
The machine is shared: s/step is the best of the timed steps (the median is printed next to
it), and the load average is printed with the results.

``--real-data`` adds the longer version of the real-data learning test of
``tests/test_train.py`` (more epochs than CI allows) and prints the test-fold Pearson R of
the trained, untrained and shuffled-target models.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "tests" / "data" / "params"

REFERENCE = {
    "small": {"batch": 4, "seconds": (0.52, 0.59), "rss_gb": None},
    "full": {"batch": 1, "seconds": (9.4, 9.4), "rss_gb": 4.3},
}
TARGET_SPEEDUP = 1.15
STEPS = {"small": (3, 10), "full": (2, 3)}  # (warm-up, timed)
CONV = dict(length=65_536, kernel=5, c_in=288, c_out=339)


# ---------------------------------------------------------------- workers (subprocesses)
def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB -> GB


def model_flops(model, genome: str) -> float:
    """Forward FLOPs of one sequence through the trunk and one head (convolutions and dense layers).

    Args:
        model: a MultiHeadModel.
        genome: the head.

    Returns:
        2 x multiply-accumulates of every Conv1D (``positions x width x c_in x c_out``) and
        Dense (``bins x in x out``) layer.
    """
    import keras

    flops = 0.0
    for part in (model.trunk, model.heads[genome]):
        for layer in part.layers:
            if isinstance(layer, keras.layers.Conv1D):
                length, c_out = layer.output.shape[1], layer.output.shape[2]
                flops += 2.0 * length * layer.kernel_size[0] * layer.input.shape[-1] * c_out
            elif isinstance(layer, keras.layers.Dense):
                flops += 2.0 * layer.output.shape[1] * layer.input.shape[-1] * layer.units
    return flops


def worker_step(config: str, jit: bool) -> dict:
    """Time the trainer's step for one params file (run in a fresh process)."""
    from crossreg.model import load_params
    from crossreg.train.backend import configure_xla_cpu

    params = load_params(PARAMS / f"params_{config}.json")
    batch = REFERENCE[config]["batch"]
    params["train"]["batch_size"] = batch
    memory_scheduler = configure_xla_cpu(params)  # as crossreg.train.train does, before anything compiles
    from crossreg.model import build_model
    from crossreg.train.backend import make_runner
    from crossreg.train.optimizer import build_optimizer

    model = build_model(params, seed=0)
    variables = [*model.trunk.trainable_variables, *(w for h in model.heads.values() for w in h.trainable_variables)]
    optimizer = build_optimizer(params["train"], variables)
    runner = make_runner(model, optimizer, ["human"], jit_compile=jit)
    rng = np.random.default_rng(0)
    geo = model.geometry
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch, geo.seq_length))]
    y = rng.poisson(1.0, (batch, geo.bins, model.num_tracks("human"))).astype(np.float32)
    warm, timed = STEPS[config]
    start = time.perf_counter()
    runner.train_step("human", x, y)
    first = time.perf_counter() - start
    for _ in range(warm - 1):
        runner.train_step("human", x, y)
    times = []
    for _ in range(timed):
        start = time.perf_counter()
        runner.train_step("human", x, y)
        times.append(time.perf_counter() - start)
    from crossreg.train.backend import auto_jit_compile

    return {"config": config, "jit": jit, "batch": batch, "first_step_s": first, "step_s": times,
            "memory_scheduler": memory_scheduler, "default_jit": auto_jit_compile(params),
            "flops_per_seq": model_flops(model, "human"), "peak_rss_gb": _peak_rss_gb()}


def worker_conv(jit: bool) -> dict:
    """Forward + backward of one large Conv1D, best of a few repeats (run in a fresh process)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(1, CONV["length"], CONV["c_in"])).astype(np.float32))
    w = tf.Variable(rng.normal(size=(CONV["kernel"], CONV["c_in"], CONV["c_out"])).astype(np.float32) * 0.01)

    @tf.function(jit_compile=jit)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv1d(x, w, stride=1, padding="SAME")
            loss = tf.reduce_sum(y * y)
        gx, gw = tape.gradient(loss, [x, w])
        return tf.reduce_sum(gx) + tf.reduce_sum(gw)

    step(x).numpy()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        step(x).numpy()
        times.append(time.perf_counter() - start)
    flops = 3 * 2.0 * CONV["length"] * CONV["kernel"] * CONV["c_in"] * CONV["c_out"]
    best = min(times)
    return {"jit": jit, "seconds": best, "gflops": flops / best / 1e9}


def worker_real_data(epochs: int, steps: int) -> dict:
    """The real-data learning test with a longer budget (run in a fresh process)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_train as tt  # noqa: E402  (its helpers build the shards and the models)

    from crossreg.model import build_model, load_model
    from crossreg.train import train

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        d = tmp / "real"
        d.mkdir()
        hg = tt.REAL_TINY / "hg38"
        tt.write_real_windows(d / "windows_in.bed")
        manifest = tt._shards(d, "hg38", hg / "genome.fa.gz", hg / "targets.txt", d / "windows_in.bed", tt.REAL_SEQ,
                              tt.REAL_CROP_BP, 128, blacklist=hg / "blacklist.bed")
        shuffled = tt.shuffled_targets_copy(manifest, tmp / "shuffled_shards")
        kw = dict(epochs=epochs, steps_per_epoch=steps, progress=False)
        start = time.perf_counter()
        trained = train(tt.real_params(), {"hg38": manifest}, tmp / "trained", **kw)
        control = train(tt.real_params(), {"hg38": shuffled}, tmp / "shuffled", **kw)
        seconds = time.perf_counter() - start
        return {
            "epochs": epochs, "steps": steps, "seconds": seconds, "best_epochs": [trained.best_epoch, control.best_epoch],
            "trained": tt._test_fold_r(load_model(trained.model_best), manifest),
            "untrained": tt._test_fold_r(build_model(tt.real_params()), manifest),
            "shuffled": tt._test_fold_r(load_model(control.model_best), manifest),
        }


# ---------------------------------------------------------------- driver
def _run_worker(args: list[str], timeout: float) -> dict | None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    try:
        proc = subprocess.run([sys.executable, __file__, "--worker", *args], env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  worker {args} timed out after {timeout:.0f} s", file=sys.stderr)
        return None
    if proc.returncode != 0:
        print(f"  worker {args} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(values) -> float:
    return float(np.median(values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--configs", nargs="+", default=["small", "full"], choices=["small", "full"])
    parser.add_argument("--real-data", action="store_true", help="also run the long real-data learning comparison")
    parser.add_argument("--real-epochs", type=int, default=12)
    parser.add_argument("--real-steps", type=int, default=100)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "step":
            result = worker_step(rest[0], rest[1] == "1")
        elif kind == "conv":
            result = worker_conv(rest[0] == "1")
        else:
            result = worker_real_data(int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return 0

    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    convs = [r for r in (_run_worker(["conv", j], 300) for j in ("0", "1")) if r]
    for r in convs:
        print(f"conv ceiling ({'XLA' if r['jit'] else 'TF/oneDNN'}): {r['seconds'] * 1e3:.0f} ms fwd+bwd, "
              f"{r['gflops']:.1f} GFLOP/s")
    ceiling = max((r["gflops"] for r in convs), default=float("nan"))

    rows, failed = [], False
    for config in args.configs:
        for jit in ("1", "0"):
            r = _run_worker(["step", config, jit], 600)
            if r is None:
                failed = True
                continue
            rows.append(r)
    print()
    header = (f"{'config':<7}{'jit':<5}{'batch':>5}{'s/step':>9}{'median':>8}{'seq/s':>8}{'compile s':>10}{'peak RSS':>10}"
              f"{'GFLOP/s':>9}{'of ceil':>8}{'ref s/step':>12}{'ref RSS':>9}{'speedup':>9}  verdict")
    print(header)
    print("-" * len(header))
    default: dict[str, dict] = {}
    for r in rows:
        ref = REFERENCE[r["config"]]
        step, median = min(r["step_s"]), _median(r["step_s"])  # best of the timed steps: the machine is shared
        seq_s = r["batch"] / step
        gflops = 3 * r["flops_per_seq"] * r["batch"] / step / 1e9
        speedup = ref["seconds"][0] / step
        rss_ok = ref["rss_gb"] is None or r["peak_rss_gb"] <= ref["rss_gb"]
        ok = speedup >= TARGET_SPEEDUP and rss_ok
        r.update(step=step, speedup=speedup, ok=ok)
        if r["jit"] == r["default_jit"]:
            default[r["config"]] = r
        ref_s = f"{ref['seconds'][0]:.2f}" + (f"-{ref['seconds'][1]:.2f}" if ref["seconds"][1] != ref["seconds"][0] else "")
        ref_rss = f"{ref['rss_gb']:.1f} GB" if ref["rss_gb"] else "-"
        print(f"{r['config']:<7}{'on' if r['jit'] else 'off':<5}{r['batch']:>5}{step:>9.3f}{median:>8.3f}{seq_s:>8.2f}"
              f"{r['first_step_s']:>10.1f}{r['peak_rss_gb']:>8.2f}GB{gflops:>9.1f}{gflops / ceiling:>8.0%}"
              f"{ref_s:>12}{ref_rss:>9}{speedup:>8.2f}x  {'PASS' if ok else 'FAIL'}")
    print()
    for config, r in default.items():
        ref = REFERENCE[config]
        mem = "" if ref["rss_gb"] is None else f", peak RSS {r['peak_rss_gb']:.2f} GB vs {ref['rss_gb']:.1f} GB"
        verdict = "PASS" if r["ok"] else "FAIL"
        failed |= not r["ok"]
        print(f"{config}: trainer default (XLA {'on' if r['jit'] else 'off'}) {r['step']:.3f} s/step = "
              f"{r['speedup']:.2f}x baskerville's fastest {ref['seconds'][0]:.2f} s/step (target >= {TARGET_SPEEDUP}x)"
              f"{mem}: {verdict}")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    if args.real_data:
        r = _run_worker(["real", str(args.real_epochs), str(args.real_steps)], 3000)
        if r:
            print(f"\nreal data, {r['epochs']} epochs x {r['steps']} steps (best epochs {r['best_epochs']}), "
                  f"{r['seconds']:.0f} s for both runs; test-fold Pearson R:")
            for name in ("trained", "untrained", "shuffled"):
                print(f"  {name:<10} CAGE {r[name]['CAGE']:.3f}  DNase {r[name]['DNASE']:.3f}")
            for assay in ("CAGE", "DNASE"):
                margin = r["trained"][assay] - max(r["untrained"][assay], r["shuffled"][assay])
                print(f"  {assay} margin over the better control: {margin:+.3f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
