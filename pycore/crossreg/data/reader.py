"""Streaming reader of HDF5 shards for training and evaluation.

A split is never loaded whole: windows are read in blocks of consecutive windows from one
shard at a time (contiguous HDF5 reads), and shuffling permutes the order of blocks and then
of windows inside a small buffer of blocks. Each shard is checked against the manifest when
it is first opened (size, and optionally SHA-256), and HDF5's fletcher32 checksums catch
altered bytes as they are read; either problem raises :class:`IntegrityError` naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

from crossreg import _native
from crossreg.data.manifest import load_manifest, sha256_file
from crossreg.errors import InputError, IntegrityError


@dataclass
class Batch:
    """A batch of windows.

    Attributes:
        sequence: float32 [batch, seq_length, 4] one-hot (A, C, G, T; N = zeros), or
            uint8 [batch, seq_length] base codes when the stream was asked for codes.
        targets: float32 [batch, bins, tracks].
        window_index: int64 [batch] rows of the windows BED.
    """

    sequence: np.ndarray
    targets: np.ndarray
    window_index: np.ndarray


class ShardSplit:
    """The windows of one split of one genome, streamed from its shards.

    Args:
        manifest_path: the genome's ``manifest.json``.
        split: train, valid or test.
        verify_checksums: compute each shard's SHA-256 when first opened (reads the file
            once more; the size check and fletcher32 are always on).
    """

    def __init__(self, manifest_path: str | os.PathLike, split: str, verify_checksums: bool = False):
        self.manifest_path = Path(manifest_path)
        self.manifest = load_manifest(self.manifest_path)
        if split not in self.manifest["splits"]:
            raise InputError(f"manifest {self.manifest_path}: no split {split!r} (has {list(self.manifest['splits'])})")
        self.split = split
        self.genome: str = self.manifest["genome"]
        self.shards: list[dict] = self.manifest["splits"][split]["shards"]
        self.verify_checksums = verify_checksums
        self._verified: set[str] = set()

    @property
    def num_windows(self) -> int:
        return int(sum(s["windows"] for s in self.shards))

    @property
    def seq_length(self) -> int:
        return int(self.manifest["seq_length"])

    @property
    def bins(self) -> int:
        return int(self.manifest["bins"])

    @property
    def num_tracks(self) -> int:
        return int(self.manifest["tracks"])

    def _path(self, shard: dict) -> Path:
        return self.manifest_path.parent / shard["file"]

    def _open(self, shard: dict) -> h5py.File:
        path = self._path(shard)
        if not path.is_file():
            raise IntegrityError(f"shard {path} listed in {self.manifest_path} is missing")
        size = path.stat().st_size
        if size != shard["bytes"]:
            raise IntegrityError(
                f"shard {path} is {size} bytes but the manifest recorded {shard['bytes']}: truncated or rewritten"
            )
        if self.verify_checksums and shard["file"] not in self._verified:
            if sha256_file(path) != shard["sha256"]:
                raise IntegrityError(f"shard {path}: SHA-256 differs from the manifest: the file was altered")
            self._verified.add(shard["file"])
        try:
            return h5py.File(path, "r")
        except OSError as err:
            raise IntegrityError(f"shard {path}: unreadable HDF5 ({err})") from None

    def _read_block(self, shard: dict, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        path = self._path(shard)
        with self._open(shard) as h5:
            try:
                codes = h5["sequence"][lo:hi]
                targets = h5["targets"][lo:hi]
                index = h5["window_index"][lo:hi]
            except OSError as err:
                raise IntegrityError(f"shard {path}: corrupt data in windows {lo}-{hi} ({err})") from None
        return codes, targets, index

    def blocks(self, block_size: int) -> list[tuple[int, int, int]]:
        """All (shard position, lo, hi) blocks of consecutive windows, in file order."""
        return [
            (i, lo, min(lo + block_size, s["windows"]))
            for i, s in enumerate(self.shards)
            for lo in range(0, s["windows"], block_size)
        ]

    def windows(
        self,
        shuffle: bool = False,
        seed: int = 0,
        block_size: int = 16,
        buffer_blocks: int = 8,
    ) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """Yield windows one at a time: (codes uint8 [seq_length], targets float16 [bins, tracks], window index).

        Args:
            shuffle: permute blocks, then windows within a buffer of ``buffer_blocks`` blocks.
            seed: the permutation's seed (vary it per epoch).
            block_size: windows read at once from a shard.
            buffer_blocks: blocks mixed together when shuffling.
        """
        rng = np.random.default_rng(seed)
        blocks = self.blocks(block_size)
        if shuffle:
            blocks = [blocks[i] for i in rng.permutation(len(blocks))]
        step = buffer_blocks if shuffle else 1
        for b in range(0, len(blocks), step):
            parts = [self._read_block(self.shards[i], lo, hi) for i, lo, hi in blocks[b : b + step]]
            codes = np.concatenate([p[0] for p in parts])
            targets = np.concatenate([p[1] for p in parts])
            index = np.concatenate([p[2] for p in parts])
            order = rng.permutation(len(codes)) if shuffle else np.arange(len(codes))
            for k in order:
                yield codes[k], targets[k], int(index[k])

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        one_hot: bool = True,
        drop_remainder: bool = False,
        block_size: int = 16,
        buffer_blocks: int = 8,
    ) -> Iterator[Batch]:
        """Yield :class:`Batch` objects of ``batch_size`` windows (the last may be smaller)."""
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        pending: list[tuple[np.ndarray, np.ndarray, int]] = []

        def emit(items) -> Batch:
            codes = np.stack([c for c, _, _ in items])
            seq = _native.codes_to_one_hot(codes, np.float32) if one_hot else codes
            targets = np.stack([t for _, t, _ in items]).astype(np.float32)
            return Batch(seq, targets, np.array([i for _, _, i in items], dtype=np.int64))

        for item in self.windows(shuffle=shuffle, seed=seed, block_size=block_size, buffer_blocks=buffer_blocks):
            pending.append(item)
            if len(pending) == batch_size:
                yield emit(pending)
                pending = []
        if pending and not drop_remainder:
            yield emit(pending)
