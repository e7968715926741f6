"""Which genome each step trains on, and the endless shuffled batch stream of each genome.

Everything random in an epoch is a pure function of ``(run seed, phase, epoch)``: the
genome plan, the shuffling of every genome's windows and the augmentation draws. An epoch
interrupted by a crash is therefore replayed exactly when training resumes from the
checkpoint written at the end of the previous epoch; there is no sampler state to save
beyond the epoch number.

Genome choice: with ``steps_per_epoch`` unset an epoch is one pass, i.e. genome ``g`` gets
``max(1, windows_g // batch_size)`` batches and the plan is a random permutation of that
multiset; with ``steps_per_epoch`` set every step draws its genome independently with
probability ``windows_g / sum(windows)``. Either way genomes are chosen in proportion to
their number of training windows.
"""

from __future__ import annotations

import zlib
from typing import Iterator, Mapping

import numpy as np

from crossreg import _native
from crossreg.data.reader import Batch, ShardSplit


def _key(value: int | str) -> int:
    if isinstance(value, str):
        return zlib.crc32(value.encode())
    return int(value)


def derive_seed(*keys: int | str) -> int:
    """A 63-bit seed derived from a tuple of integers and strings (NumPy SeedSequence).

    Args:
        *keys: e.g. ``(run_seed, "joint", epoch, "plan")``.

    Returns:
        Non-negative int, different for different key tuples (with overwhelming probability).
    """
    state = np.random.SeedSequence([_key(k) for k in keys]).generate_state(2, np.uint32)
    return int(state[0]) << 31 ^ int(state[1])


def rng_for(*keys: int | str) -> np.random.Generator:
    """A NumPy generator seeded with :func:`derive_seed` of ``keys``."""
    return np.random.default_rng(derive_seed(*keys))


class GenomeSampler:
    """Per-epoch genome plans.

    Args:
        windows: ``{genome: training windows}`` (all > 0).
        batch_size: sequences per batch.
        seed: the run seed.
        phase: phase name mixed into every seed (``"joint"``, ``"finetune_human"``).
        steps_per_epoch: steps per epoch; None: one pass over the training windows.
    """

    def __init__(
        self,
        windows: Mapping[str, int],
        batch_size: int,
        seed: int,
        phase: str = "joint",
        steps_per_epoch: int | None = None,
    ) -> None:
        self.genomes = list(windows)
        self.windows = np.array([int(windows[g]) for g in self.genomes], dtype=np.int64)
        if (self.windows <= 0).any():
            raise ValueError(f"every genome needs training windows, got {dict(windows)}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.phase = phase
        self._steps = steps_per_epoch

    @property
    def probabilities(self) -> dict[str, float]:
        """``{genome: probability that a step trains on it}``."""
        p = self.windows / self.windows.sum()
        return {g: float(x) for g, x in zip(self.genomes, p)}

    @property
    def steps_per_epoch(self) -> int:
        """Steps in one epoch."""
        if self._steps is not None:
            return int(self._steps)
        return int(np.maximum(1, self.windows // self.batch_size).sum())

    def plan(self, epoch: int) -> list[str]:
        """The genome of every step of an epoch.

        Args:
            epoch: 0-based epoch index.

        Returns:
            ``steps_per_epoch`` genome names.
        """
        rng = rng_for(self.seed, self.phase, epoch, "plan")
        if self._steps is None:
            counts = np.maximum(1, self.windows // self.batch_size)
            order = rng.permutation(np.repeat(np.arange(len(self.genomes)), counts))
        else:
            p = self.windows / self.windows.sum()
            order = rng.choice(len(self.genomes), size=int(self._steps), p=p)
        return [self.genomes[i] for i in order]


def genome_batches(split: ShardSplit, batch_size: int, seed: int, one_hot: bool = True) -> Iterator[Batch]:
    """Endless full batches of one split: pass after pass, each shuffled with its own seed.

    Batches span pass boundaries, so every batch holds exactly ``batch_size`` windows (a
    split smaller than a batch repeats within it). Windows are streamed from the shards in
    blocks (see :meth:`ShardSplit.windows`); the split is never loaded whole.

    Args:
        split: the split (train).
        batch_size: windows per batch.
        seed: stream seed; pass ``k`` is shuffled with ``derive_seed(seed, k)``.
        one_hot: one-hot sequences (float32 ``[batch, seq_length, 4]``) or base codes
            (uint8 ``[batch, seq_length]``).

    Yields:
        :class:`Batch`: sequence ``[batch, seq_length, 4]``, targets float32
        ``[batch, bins, tracks]``, window_index ``[batch]``.
    """
    pending: list[tuple[np.ndarray, np.ndarray, int]] = []
    k = 0
    while True:
        for item in split.windows(shuffle=True, seed=derive_seed(seed, k)):
            pending.append(item)
            if len(pending) == batch_size:
                codes = np.stack([c for c, _, _ in pending])
                seq = _native.codes_to_one_hot(codes, np.float32) if one_hot else codes
                targets = np.stack([t for _, t, _ in pending]).astype(np.float32)
                yield Batch(seq, targets, np.array([i for _, _, i in pending], dtype=np.int64))
                pending = []
        k += 1
