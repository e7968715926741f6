"""Training-time augmentation and target cropping, in NumPy on the host.

Per sequence of a batch, drawn independently (Basenji2 / baskerville semantics):

* **shift**: by ``s`` bp, ``s`` uniform in ``-augment_shift..augment_shift``; positive
  moves the sequence to the right. Bases shifted in are N (all-zero one-hot rows). Targets
  do not move (the shift is far below a 128 bp bin).
* **reverse complement** with probability 1/2 (``augment_rc``): with one-hot columns in
  A, C, G, T order the complement is the column order reversed, so the reverse complement
  is the one-hot array reversed along both axes; the targets are reversed along bins (the
  model is then asked for the reverse of the profile, which is what baskerville's
  ``SwitchReverse`` compares). Strand-specific tracks are not swapped, as in Basenji2.

Evaluation never augments. :func:`crop_targets` aligns stored targets with the model's
output bins when the params count target_length before the trunk's crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def reverse_complement(sequence: np.ndarray, targets: np.ndarray | None = None):
    """Reverse complement one-hot sequences (and reverse their targets along bins).

    Args:
        sequence: ``[batch, seq_length, 4]`` one-hot, A, C, G, T (N = zeros).
        targets: ``[batch, bins, tracks]`` or None.

    Returns:
        ``(sequence, targets)`` with ``sequence[:, ::-1, ::-1]`` and ``targets[:, ::-1, :]``
        (targets None when not given). Copies, C-contiguous.
    """
    seq = np.ascontiguousarray(sequence[:, ::-1, ::-1])
    if targets is None:
        return seq, None
    return seq, np.ascontiguousarray(targets[:, ::-1, :])


def shift_sequence(sequence: np.ndarray, shift: int) -> np.ndarray:
    """Shift one-hot sequences along the length axis, filling with N (zeros).

    Args:
        sequence: ``[..., seq_length, 4]``.
        shift: bp; positive moves bases to higher positions (right), negative to the left.

    Returns:
        Array of the same shape: ``out[..., i + shift, :] = sequence[..., i, :]`` where in range.
    """
    out = np.zeros_like(sequence)
    length = sequence.shape[-2]
    if shift == 0:
        out[...] = sequence
    elif abs(shift) < length:
        if shift > 0:
            out[..., shift:, :] = sequence[..., : length - shift, :]
        else:
            out[..., : length + shift, :] = sequence[..., -shift:, :]
    return out


def crop_targets(targets: np.ndarray, crop: int) -> np.ndarray:
    """Drop ``crop`` bins from each end of the bin axis.

    Args:
        targets: ``[batch, bins, tracks]``.
        crop: bins per end (0: unchanged).

    Returns:
        ``[batch, bins - 2 * crop, tracks]``.
    """
    if crop == 0:
        return targets
    return targets[:, crop : targets.shape[1] - crop, :]


@dataclass
class AugmentDraws:
    """What was drawn for each sequence of a batch.

    Attributes:
        reverse: bool ``[batch]``, reverse-complemented.
        shift: int ``[batch]``, bp shifted (before any reverse complement).
    """

    reverse: np.ndarray
    shift: np.ndarray


def augment_batch(
    sequence: np.ndarray,
    targets: np.ndarray,
    rng: np.random.Generator,
    rc: bool,
    max_shift: int,
) -> tuple[np.ndarray, np.ndarray, AugmentDraws]:
    """Augment a training batch, each sequence with its own draws.

    The generator is used the same way whatever ``rc``/``max_shift`` say (one shift and
    one coin per sequence), so switching augmentation on or off leaves the rest of the
    random stream unchanged.

    Args:
        sequence: float32 ``[batch, seq_length, 4]`` one-hot.
        targets: float32 ``[batch, bins, tracks]`` (already cropped to the output bins).
        rng: the epoch's augmentation generator.
        rc: reverse-complement half of the sequences.
        max_shift: largest shift in bp (0: none).

    Returns:
        ``(sequence, targets, draws)``; the inputs are not modified.
    """
    batch = sequence.shape[0]
    # uniform floats mapped to -max_shift..max_shift: the generator advances by the same
    # amount whatever max_shift is (numpy's integers() skips drawing for a single value)
    shifts = np.floor(rng.random(batch) * (2 * max_shift + 1)).astype(np.int64) - max_shift
    coins = rng.random(batch) < 0.5
    reverse = coins if rc else np.zeros(batch, dtype=bool)
    if not shifts.any() and not reverse.any():
        return sequence, targets, AugmentDraws(reverse, shifts)
    seq = sequence.copy()
    tgt = targets.copy()
    for i in range(batch):
        if shifts[i]:
            seq[i] = shift_sequence(sequence[i], int(shifts[i]))
        if reverse[i]:
            seq[i] = seq[i, ::-1, ::-1].copy()
            tgt[i] = targets[i, ::-1, :]
    return seq, tgt, AugmentDraws(reverse, shifts)
