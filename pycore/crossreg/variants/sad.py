"""Ensemble predictions -> variant scores (SAD, logSAD, L2), with an injectable predictor.

A *predictor* is any function ``predict_fn(x) -> y`` with ``x`` float32 ``[n, L, 4]``
(one-hot A, C, G, T; N = zeros) and ``y`` ``[n, bins, tracks]``. The Keras head of a saved
model is one (:func:`keras_predictor`); tests use exact NumPy functions. The predictor is
always called with exactly ``batch_size`` windows (the last batch zero-padded), so a
compiled model sees one input shape.

Scores per SNP and track, with ``m`` over the ensemble members (shifts, each forward and
reverse-complemented; RC predictions flipped back along bins) and ``b`` over bins:

* ``SAD    = mean_m sum_b (ALT - REF)``
* ``logSAD = mean_m sum_b (log2(ALT + 1) - log2(REF + 1))`` (predictions below 0 taken as 0)
* ``L2     = mean_m sqrt(sum_b (ALT - REF)^2)``

in the units of the predicted tracks (summed over bins). Differences are taken in float32
(so swapping REF and ALT negates SAD and logSAD exactly); sums over bins and members are
accumulated in float64 and returned as float32.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from crossreg.errors import InputError

STATS = ("SAD", "logSAD", "L2")

PredictFn = Callable[[np.ndarray], np.ndarray]


def parse_stats(text: str | Sequence[str]) -> list[str]:
    """``"SAD,logSAD"`` -> ``["SAD", "logSAD"]``; SAD is always included and comes first.

    Raises:
        InputError: an unknown statistic.
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else [str(t) for t in text]
    out = ["SAD"]
    for item in items:
        if not item:
            continue
        if item not in STATS:
            raise InputError(f"--stats: unknown statistic {item!r}; choose from {', '.join(STATS)}")
        if item not in out:
            out.append(item)
    return out


@dataclass
class Predictor:
    """A model head as a prediction function, with what the output files record about it.

    Attributes:
        predict_fn: ``x`` float32 [n, L, 4] -> [n, bins, tracks].
        seq_length: input length L, bp.
        n_tracks: output tracks.
        head: the head's genome name.
        model_dir: model directory ("" for a function not loaded from one).
        params_sha256: digest of the resolved params (``crossreg.predict`` convention).
        weights_sha256: SHA-256 of ``model.weights.h5``.
        bins: output bins (informational).
        bin_width: bp per bin (informational).
    """

    predict_fn: PredictFn
    seq_length: int
    n_tracks: int
    head: str
    model_dir: str = ""
    params_sha256: str = ""
    weights_sha256: str = ""
    bins: int = 0
    bin_width: int = 0


def keras_predictor(keras_model) -> PredictFn:
    """``predict_fn`` of a Keras model (``MultiHeadModel.model_for(genome)``), float32 out."""

    def predict_fn(x: np.ndarray) -> np.ndarray:
        return np.asarray(keras_model.predict_on_batch(x), dtype=np.float32)

    return predict_fn


def predict_stream(predict_fn: PredictFn, blocks: Iterable[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Predictions of a stream of window blocks, batched across block boundaries.

    Windows of consecutive blocks are packed into batches of exactly ``batch_size`` (the
    last one zero-padded); each block's predictions are yielded as soon as they are all
    done, in block order. A window's prediction therefore does not depend on how the
    stream is cut into blocks, only (for models with batch-dependent round-off) on the
    batch size and its slot.

    Args:
        predict_fn: the predictor.
        blocks: arrays [k, L, 4] (any numeric dtype; converted to float32).
        batch_size: windows per predictor call.

    Yields:
        float32 [k, bins, tracks] per block.
    """
    if batch_size <= 0:
        raise InputError(f"batch size must be positive, got {batch_size}")
    sizes: deque[int] = deque()
    waiting: list[np.ndarray] = []  # windows not yet predicted
    n_waiting = 0
    done: list[np.ndarray] = []  # predictions not yet yielded
    n_done = 0

    def run(x: np.ndarray) -> np.ndarray:
        n = len(x)
        if n < batch_size:
            x = np.concatenate([x, np.zeros((batch_size - n,) + x.shape[1:], dtype=x.dtype)])
        y = np.asarray(predict_fn(np.ascontiguousarray(x, dtype=np.float32)), dtype=np.float32)
        if y.ndim != 3 or len(y) != batch_size:
            raise InputError(f"the predictor returned shape {y.shape} for {batch_size} windows; expected [n, bins, tracks]")
        return y[:n]

    def emit() -> Iterator[np.ndarray]:
        nonlocal done, n_done
        while sizes and n_done >= sizes[0]:
            k = sizes.popleft()
            cat = np.concatenate(done) if len(done) > 1 else done[0]
            yield cat[:k]
            rest = cat[k:]
            done = [rest] if len(rest) else []
            n_done -= k

    for block in blocks:
        if len(block) == 0:
            continue
        sizes.append(len(block))
        waiting.append(np.asarray(block))
        n_waiting += len(block)
        while n_waiting >= batch_size:
            cat = np.concatenate(waiting) if len(waiting) > 1 else waiting[0]
            done.append(run(cat[:batch_size]))
            n_done += batch_size
            rest = cat[batch_size:]
            waiting = [rest] if len(rest) else []
            n_waiting -= batch_size
        yield from emit()
    if n_waiting:
        done.append(run(np.concatenate(waiting)))
        n_done += n_waiting
    yield from emit()


def member_scores(ref: np.ndarray, alt: np.ndarray, rc: Sequence[bool], stats: Sequence[str]) -> dict[str, np.ndarray]:
    """Scores of one variant from its ensemble's predictions.

    Args:
        ref, alt: float32 [members, bins, tracks] predictions of the REF and ALT inputs.
        rc: per member, whether its input was reverse-complemented (its predictions are
            flipped back along bins first).
        stats: statistics to compute (subset of :data:`STATS`).

    Returns:
        stat -> float64 [tracks], the mean over members.
    """
    ref = np.asarray(ref, dtype=np.float32)
    alt = np.asarray(alt, dtype=np.float32)
    flip = np.asarray(rc, dtype=bool)
    if flip.any():
        ref = ref.copy()
        alt = alt.copy()
        ref[flip] = ref[flip][:, ::-1]
        alt[flip] = alt[flip][:, ::-1]
    out: dict[str, np.ndarray] = {}
    diff = alt - ref  # float32: exactly antisymmetric in REF <-> ALT
    n = len(diff)
    if "SAD" in stats:
        out["SAD"] = diff.sum(axis=1, dtype=np.float64).sum(axis=0) / n
    if "logSAD" in stats:
        log_diff = np.log2(np.maximum(alt, 0) + 1) - np.log2(np.maximum(ref, 0) + 1)
        out["logSAD"] = log_diff.sum(axis=1, dtype=np.float64).sum(axis=0) / n
    if "L2" in stats:
        sq = np.square(diff, dtype=np.float64).sum(axis=1)
        out["L2"] = np.sqrt(sq).sum(axis=0) / n
    return out


def score_stream(
    predictor: Predictor | PredictFn,
    inputs: Iterable[np.ndarray],
    members: Sequence[tuple[int, bool]],
    batch_size: int,
    stats: Sequence[str] = ("SAD",),
) -> Iterator[dict[str, np.ndarray]]:
    """Scores of a stream of SNPs.

    Args:
        predictor: a :class:`Predictor` or a bare ``predict_fn``.
        inputs: per SNP, uint8/float [2 * members, L, 4] from
            :meth:`crossreg.variants.windows.SnpWindows.inputs` (REF, ALT per member).
        members: the ensemble members ``(shift, rc)`` (for the RC flags).
        batch_size: windows per predictor call.
        stats: statistics to compute.

    Yields:
        per SNP, stat -> float32 [tracks].
    """
    predict_fn = predictor.predict_fn if isinstance(predictor, Predictor) else predictor
    rc = [r for _, r in members]
    for preds in predict_stream(predict_fn, inputs, batch_size):
        scores = member_scores(preds[0::2], preds[1::2], rc, stats)
        yield {k: v.astype(np.float32) for k, v in scores.items()}
