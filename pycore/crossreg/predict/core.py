"""``crossreg predict``: a saved model's predictions for windows, to HDF5 and bigWig.

Windows come either from a split of a genome's shards (manifest + split; the observed targets
are stored next to the predictions for evaluation) or from a windows BED over a FASTA. The
output layout is documented in the project README (section "Predicting: crossreg predict").
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import h5py
import numpy as np

from crossreg import __version__, _native
from crossreg.errors import InputError

log = logging.getLogger(__name__)

PREDICTIONS_FORMAT = "crossreg-predictions"
PREDICTIONS_FORMAT_VERSION = 1
FLOAT16_MAX = 65504.0


# ---------------------------------------------------------------------- sequences -> predictions
def reverse_complement_one_hot(one_hot: np.ndarray) -> np.ndarray:
    """Reverse complement of one-hot sequences (columns A, C, G, T).

    Args:
        one_hot: [..., L, 4] one-hot, columns A, C, G, T (N = zeros).

    Returns:
        [..., L, 4] the reverse complement (positions reversed, A<->T and C<->G swapped),
        a contiguous copy.
    """
    return np.ascontiguousarray(one_hot[..., ::-1, ::-1])


def _predict_padded(keras_model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Run the model on one batch padded to ``batch_size`` (one compiled shape throughout)."""
    n = len(x)
    if n < batch_size:
        pad = np.zeros((batch_size - n,) + x.shape[1:], dtype=x.dtype)
        x = np.concatenate([x, pad])
    out = keras_model.predict_on_batch(x)
    return np.asarray(out, dtype=np.float32)[:n]


def predict_batch(keras_model, one_hot: np.ndarray, batch_size: int | None = None, rc_average: bool = False) -> np.ndarray:
    """Predictions of one batch of sequences.

    Args:
        keras_model: a genome's model (``MultiHeadModel.model_for(genome)``):
            ``[batch, seq_length, 4]`` -> ``[batch, bins, tracks]``.
        one_hot: float32 [n, seq_length, 4] one-hot sequences (A, C, G, T), ``n <= batch_size``.
        batch_size: the model is always run on this many sequences (zero-padded), so it is
            compiled once; default ``n``.
        rc_average: average the forward prediction with the prediction of the reverse
            complement flipped back along bins (needs a symmetric crop).

    Returns:
        float32 [n, bins, tracks].
    """
    x = np.ascontiguousarray(one_hot, dtype=np.float32)
    batch_size = len(x) if batch_size is None else batch_size
    out = _predict_padded(keras_model, x, batch_size)
    if rc_average:
        rc = _predict_padded(keras_model, reverse_complement_one_hot(x), batch_size)
        out = 0.5 * (out + rc[:, ::-1, :])
    return out


def predict_sequences(
    keras_model, one_hot: np.ndarray, batch_size: int = 4, rc_average: bool = False
) -> np.ndarray:
    """Predictions for an array of sequences, batch by batch.

    Args:
        keras_model: a genome's model (see :func:`predict_batch`).
        one_hot: [n, seq_length, 4] one-hot sequences (A, C, G, T; N = zeros).
        batch_size: sequences per model call.
        rc_average: see :func:`predict_batch`.

    Returns:
        float32 [n, bins, tracks].
    """
    if batch_size <= 0:
        raise InputError(f"batch_size must be positive, got {batch_size}")
    parts = [
        predict_batch(keras_model, one_hot[i : i + batch_size], batch_size, rc_average)
        for i in range(0, len(one_hot), batch_size)
    ]
    return np.concatenate(parts)


# ---------------------------------------------------------------------- window sources
@dataclass
class _Windows:
    """Coordinates of the windows to predict, in output order."""

    chrom: list[str]
    start: np.ndarray  # int64 [n]
    end: np.ndarray  # int64 [n]
    window_index: np.ndarray  # int64 [n]


@dataclass
class _Chunk:
    """One batch from a window source: rows ``lo:lo+n`` of the output."""

    lo: int
    one_hot: np.ndarray  # float32 [n, L, 4]
    targets: np.ndarray | None  # float32 [n, bins, tracks], already aligned with the output bins


def _read_bed_windows(path: Path, chrom_sizes: dict[str, int], seq_length: int) -> _Windows:
    """Windows ``chrom start end [...]`` of exactly ``seq_length`` bp on the FASTA's chromosomes."""
    from crossreg.io.bed import iter_bed_records

    chrom, start, end = [], [], []
    for line_no, fields in iter_bed_records(path, min_fields=3):
        c, s, e = fields[0], int(fields[1]), int(fields[2])
        if e - s != seq_length:
            raise InputError(
                f"{path}:{line_no}: window {c}:{s}-{e} is {e - s} bp; the model's seq_length is {seq_length} bp "
                "(every window must have exactly that length)"
            )
        if c not in chrom_sizes:
            raise InputError(f"{path}:{line_no}: chromosome {c!r} is not in the FASTA (which has e.g. {next(iter(chrom_sizes))!r})")
        if e > chrom_sizes[c]:
            raise InputError(f"{path}:{line_no}: window {c}:{s}-{e} ends past the chromosome end {chrom_sizes[c]}")
        chrom.append(c)
        start.append(s)
        end.append(e)
    if not chrom:
        raise InputError(f"windows BED {path}: no windows")
    n = len(chrom)
    return _Windows(chrom, np.array(start, np.int64), np.array(end, np.int64), np.arange(n, dtype=np.int64))


def _bed_chunks(fasta_path: Path, windows: _Windows, batch_size: int) -> Iterator[_Chunk]:
    from crossreg.io.fasta import FastaGenome

    with FastaGenome(fasta_path) as fasta:
        for lo in range(0, len(windows.chrom), batch_size):
            hi = min(lo + batch_size, len(windows.chrom))
            seq_length = int(windows.end[lo] - windows.start[lo])
            codes = np.empty((hi - lo, seq_length, 4), dtype=np.uint8)
            for k, w in enumerate(range(lo, hi)):
                _native.one_hot_encode(fasta.fetch(windows.chrom[w], int(windows.start[w]), int(windows.end[w])), out=codes[k])
            yield _Chunk(lo, codes.astype(np.float32), None)


def _shard_windows(split) -> _Windows:
    """Window coordinates of a :class:`ShardSplit`, in the order its batches stream."""
    chrom: list[str] = []
    parts = {"start": [], "end": [], "window_index": []}
    for shard in split.shards:
        path = split.manifest_path.parent / shard["file"]
        try:
            with h5py.File(path, "r") as h5:
                chrom += [c.decode("ascii") for c in h5["chrom"][:]]
                for key in parts:
                    parts[key].append(h5[key][:].astype(np.int64))
        except (OSError, KeyError) as err:
            from crossreg.errors import IntegrityError

            raise IntegrityError(f"shard {path}: cannot read window coordinates ({err})") from None
    cat = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in parts.items()}
    return _Windows(chrom, cat["start"], cat["end"], cat["window_index"])


def _shard_chunks(split, windows: _Windows, batch_size: int, offset: int, bins: int) -> Iterator[_Chunk]:
    lo = 0
    for batch in split.batches(batch_size, shuffle=False):
        n = len(batch.window_index)
        if not np.array_equal(batch.window_index, windows.window_index[lo : lo + n]):
            from crossreg.errors import IntegrityError

            raise IntegrityError(f"manifest {split.manifest_path}: shards changed while predicting (window order differs)")
        yield _Chunk(lo, batch.sequence, batch.targets[:, offset : offset + bins, :])
        lo += n


# ---------------------------------------------------------------------- checks
def _target_offset(manifest: dict, manifest_path: Path, geo) -> int:
    """Bins to skip at the start of a shard's targets to align them with the model's output bins.

    Raises:
        InputError: different window length or bin width, or stored targets that do not
            cover the model's output bins on the same grid.
    """
    seq_length, pool, crop_bp, bins = (int(manifest[k]) for k in ("seq_length", "pool_width", "crop_bp", "bins"))
    model_text = (
        f"the model takes {geo.seq_length} bp windows and predicts {geo.bins} bins of {geo.bin_width} bp "
        f"starting {geo.crop_left * geo.bin_width} bp into the window"
    )
    shard_text = f"the shards hold {seq_length} bp windows with {bins} target bins of {pool} bp starting {crop_bp} bp in"
    if seq_length != geo.seq_length or pool != geo.bin_width:
        raise InputError(f"manifest {manifest_path}: {shard_text}, but {model_text}; make shards with the model's geometry")
    shift = geo.crop_left * geo.bin_width - crop_bp
    if shift < 0 or shift % pool or shift // pool + geo.bins > bins:
        raise InputError(
            f"manifest {manifest_path}: {shard_text}, but {model_text}: the stored targets do not cover the "
            f"model's output bins (expected crop_bp {geo.crop_left * geo.bin_width} and {geo.bins} bins, "
            f"or crop_bp 0 and {geo.positions} bins)"
        )
    return shift // pool


def _track_names(manifest: dict | None, manifest_path: Path | None, n_tracks: int, model_dir: Path, genome: str):
    if manifest is None:
        return [f"track_{i}" for i in range(n_tracks)], ["" for _ in range(n_tracks)]
    targets = manifest["targets"]
    if len(targets) != n_tracks:
        raise InputError(
            f"manifest {manifest_path} lists {len(targets)} tracks but the head {genome!r} of the model in "
            f"{model_dir} predicts {n_tracks}"
        )
    return [str(t["identifier"]) for t in targets], [str(t.get("description", "")) for t in targets]


def _resolve_chrom_sizes(chrom_sizes, fasta: Path | None, manifest: dict | None, manifest_path: Path | None) -> dict[str, int]:
    """Chromosome sizes for bigWig headers: explicit > FASTA > the FASTA recorded in the manifest."""
    from crossreg.io.fasta import chrom_sizes as fasta_chrom_sizes
    from crossreg.predict.bigwig import read_chrom_sizes

    if isinstance(chrom_sizes, dict):
        return {str(k): int(v) for k, v in chrom_sizes.items()}
    if chrom_sizes is not None:
        return read_chrom_sizes(chrom_sizes)
    if fasta is not None:
        return fasta_chrom_sizes(fasta)
    recorded = (manifest or {}).get("inputs", {}).get("fasta", {}).get("path")
    if recorded:
        for candidate in (Path(recorded), manifest_path.parent / recorded):
            if candidate.is_file():
                return fasta_chrom_sizes(candidate)
    raise InputError(
        "bigWig output needs chromosome sizes: give the FASTA or a chromosome sizes file"
        + (f" (the FASTA recorded in {manifest_path}, {recorded!r}, is not found)" if recorded else "")
    )


def _progress_bar(total: int, desc: str, enabled: bool | None):
    from tqdm import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit="window", disable=disable, leave=False)


# ---------------------------------------------------------------------- the step
def predict(
    model_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    genome: str,
    manifest: str | os.PathLike | None = None,
    split: str = "test",
    windows_bed: str | os.PathLike | None = None,
    fasta: str | os.PathLike | None = None,
    batch_size: int = 4,
    rc_average: bool = False,
    bigwig_tracks: Sequence[str | int] | None = None,
    bigwig_dir: str | os.PathLike | None = None,
    chrom_sizes: str | os.PathLike | dict[str, int] | None = None,
    progress: bool | None = None,
) -> dict:
    """Predict a genome's tracks for a set of windows and write them to HDF5 (and bigWig).

    Windows come from one split of the genome's shards (``manifest`` + ``split``; the
    observed targets are stored too) or, when ``windows_bed`` is given, from that BED over
    ``fasta`` (the manifest, if also given, then only names the tracks and may supply
    chromosome sizes). Every check (head, geometry, window lengths, track names, chromosome
    sizes) runs before the first prediction. Outputs are written atomically.

    Args:
        model_dir: model directory written by :func:`crossreg.model.save_model`.
        out_path: output HDF5 file (layout: the project README, section "Predicting: crossreg predict").
        genome: the head to use (``head_<genome>`` in the model's params).
        manifest: the genome's shard ``manifest.json``.
        split: split of the shards to predict (train, valid or test); ignored with ``windows_bed``.
        windows_bed: BED of windows (``chrom start end [fold ...]``, extra columns ignored),
            each exactly the model's ``seq_length`` bp and inside its chromosome.
        fasta: reference FASTA of the windows BED (plain or bgzip with .fai); with shards,
            only a source of chromosome sizes.
        batch_size: windows per model call.
        rc_average: average each prediction with that of the reverse complement flipped
            back along bins (strand-paired tracks are not swapped).
        bigwig_tracks: tracks (identifiers or 0-based indices) to also write as bigWig.
        bigwig_dir: folder for the bigWigs (``<identifier>.bw``); required with ``bigwig_tracks``.
        chrom_sizes: chromosome sizes for the bigWig headers: a ``chrom<TAB>size`` file or a
            dict; default: from ``fasta``, else from the FASTA recorded in the manifest.
        progress: tqdm progress bars on stderr; None: only when stderr is a terminal.

    Returns:
        Summary: ``out``, ``genome``, ``source`` (``shards`` or ``windows_bed``), ``windows``,
        ``bins``, ``tracks``, ``bin_size``, ``rc_average``, ``saturated_values`` (predictions
        beyond the float16 range, stored as +-65,504), ``bigwigs`` (identifier -> path),
        ``seconds``.

    Raises:
        InputError: no head for ``genome``; neither or both window sources; shards whose
            window length or bins do not match the model; a BED window of the wrong length;
            unknown bigWig tracks; a manifest whose track count differs from the head's.
        IntegrityError: a shard is missing, truncated or corrupt.
    """
    from crossreg.data.manifest import sha256_file
    from crossreg.model.checkpoint import PARAMS_NAME, ModelDirectory

    t0 = time.perf_counter()
    model_dir, out_path = Path(model_dir), Path(out_path)
    manifest_path = Path(manifest) if manifest is not None else None
    windows_bed = Path(windows_bed) if windows_bed is not None else None
    fasta = Path(fasta) if fasta is not None else None
    if batch_size <= 0:
        raise InputError(f"batch_size must be positive, got {batch_size}")

    # -- the model's params, checked before Keras is loaded
    described = ModelDirectory(model_dir)
    params, geo = described.params, described.geometry
    n_tracks = described.tracks_of(genome)
    if rc_average and geo.crop_left != geo.crop_right:
        raise InputError(
            f"{model_dir / PARAMS_NAME}: rc_average needs a symmetric crop, but the trunk crops "
            f"{geo.crop_left}+{geo.crop_right} positions; a flipped prediction would not line up"
        )

    # -- the windows
    manifest_data = None
    if manifest_path is not None:
        from crossreg.data.manifest import load_manifest

        manifest_data = load_manifest(manifest_path)
        if manifest_data["genome"] != genome:
            log.warning("manifest %s is for genome %r; predicting with head %r", manifest_path, manifest_data["genome"], genome)
    offset = 0
    if windows_bed is not None:
        if fasta is None:
            raise InputError(f"windows BED {windows_bed}: give the FASTA the windows are on")
        from crossreg.io.fasta import chrom_sizes as fasta_chrom_sizes

        source = "windows_bed"
        windows = _read_bed_windows(windows_bed, fasta_chrom_sizes(fasta), geo.seq_length)
        shard_split = None
    elif manifest_path is not None:
        from crossreg.data.reader import ShardSplit

        source = "shards"
        shard_split = ShardSplit(manifest_path, split)
        offset = _target_offset(manifest_data, manifest_path, geo)
        windows = _shard_windows(shard_split)
        if not windows.chrom:
            raise InputError(f"manifest {manifest_path}: split {split!r} has no windows")
    else:
        raise InputError("give the windows to predict: a shard manifest (with a split) or a windows BED with its FASTA")
    track_ids, descriptions = _track_names(manifest_data, manifest_path, n_tracks, model_dir, genome)
    n = len(windows.chrom)
    target_start = windows.start + geo.crop_left * geo.bin_width

    # -- bigWig selection, checked before predicting
    from crossreg.predict.bigwig import bigwig_names, select_tracks, write_bigwigs

    selected: list[int] = []
    bigwig_paths: list[Path] = []
    sizes: dict[str, int] = {}
    if bigwig_tracks:
        if bigwig_dir is None:
            raise InputError("bigWig tracks were chosen but no bigWig folder was given")
        selected = select_tracks(list(bigwig_tracks), track_ids)
        bigwig_paths = [Path(bigwig_dir) / name for name in bigwig_names(track_ids, selected)]
        sizes = _resolve_chrom_sizes(chrom_sizes, fasta, manifest_data, manifest_path)
        missing = sorted(set(windows.chrom) - set(sizes))
        if missing:
            raise InputError(f"window chromosome(s) {missing[:3]} are missing from the chromosome sizes used for bigWig output")
        past = [(c, int(e)) for c, e in zip(windows.chrom, windows.end) if e > sizes[c]]
        if past:
            raise InputError(f"window {past[0][0]}:..-{past[0][1]} ends past the chromosome end {sizes[past[0][0]]}")

    # -- the model
    from crossreg.model import load_model

    keras_model = load_model(model_dir).model_for(genome)

    chunks = (
        _bed_chunks(fasta, windows, batch_size)
        if shard_split is None
        else _shard_chunks(shard_split, windows, batch_size, offset, geo.bins)
    )
    from crossreg.io.atomic import atomic_path

    with atomic_path(out_path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w", track_order=True) as h5:
            common = dict(compression="lzf", fletcher32=True)
            per_window = (1, geo.bins, n_tracks)
            preds = h5.create_dataset("preds", (n, geo.bins, n_tracks), dtype="float16", chunks=per_window, shuffle=True, **common)
            targets = None
            if shard_split is not None:
                targets = h5.create_dataset(
                    "targets", (n, geo.bins, n_tracks), dtype="float16", chunks=per_window, shuffle=True, **common
                )
            h5.create_dataset("chrom", data=np.array([c.encode("ascii") for c in windows.chrom], dtype="S"))
            h5.create_dataset("start", data=windows.start)
            h5.create_dataset("end", data=windows.end)
            h5.create_dataset("target_start", data=target_start)
            h5.create_dataset("window_index", data=windows.window_index)
            text = h5py.string_dtype("utf-8")
            h5.create_dataset("track_ids", data=np.array(track_ids, dtype=object), dtype=text)
            h5.create_dataset("track_descriptions", data=np.array(descriptions, dtype=object), dtype=text)
            h5.attrs.update(
                format=PREDICTIONS_FORMAT,
                format_version=PREDICTIONS_FORMAT_VERSION,
                genome=genome,
                source=source,
                manifest="" if manifest_path is None else str(manifest_path),
                split=split if source == "shards" else "",
                windows_bed="" if windows_bed is None else str(windows_bed),
                fasta="" if fasta is None else str(fasta),
                model_dir=str(model_dir),
                params_sha256=described.params_sha256,
                weights_sha256=sha256_file(described.weights_path),
                params=json.dumps(params, sort_keys=True),
                crossreg_version=__version__,
                seq_length=geo.seq_length,
                bin_size=geo.bin_width,
                bins=geo.bins,
                tracks=n_tracks,
                crop_bp=geo.crop_left * geo.bin_width,
                rc_average=bool(rc_average),
                windows=n,
            )
            saturated = 0
            with _progress_bar(n, f"predict {genome}", progress) as bar:
                for chunk in chunks:
                    k = len(chunk.one_hot)
                    out = predict_batch(keras_model, chunk.one_hot, batch_size, rc_average)
                    saturated += int(np.count_nonzero(np.abs(out) > FLOAT16_MAX))
                    preds[chunk.lo : chunk.lo + k] = np.clip(out, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
                    if targets is not None:
                        targets[chunk.lo : chunk.lo + k] = chunk.targets.astype(np.float16)
                    bar.update(k)
            h5.attrs["saturated_values"] = saturated
            if selected:
                with _progress_bar(n, "bigWig", progress) as bar:
                    write_bigwigs(
                        preds, windows.chrom, target_start, geo.bin_width, selected, bigwig_paths, sizes,
                        progress=lambda done: bar.update(done - bar.n),
                    )
    return {
        "out": str(out_path),
        "genome": genome,
        "source": source,
        "windows": n,
        "bins": geo.bins,
        "tracks": n_tracks,
        "bin_size": geo.bin_width,
        "rc_average": bool(rc_average),
        "saturated_values": saturated,
        "bigwigs": {track_ids[i]: str(p) for i, p in zip(selected, bigwig_paths)},
        "seconds": round(time.perf_counter() - t0, 3),
    }
