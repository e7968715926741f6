"""In-silico saturation mutagenesis of a region: every base x its 3 alternatives, and its plot.

The region (at most a few kb) is centred in one model window: with ``R`` bases starting at
0-based ``s``, the window is ``[s + R // 2 - L // 2, ... + L)`` (N-padded past chromosome
ends). Each mutant differs from the reference window at one base; its score per track is the
SAD of the substitution, ``sum over bins (mutant - reference)``, averaged over the forward
and the reverse-complemented window (RC predictions flipped back along bins) unless ``rc``
is off. The reference base scores 0. At an N in the reference all four bases are scored
against the N (all-zero) row.
"""

from __future__ import annotations

import re
from typing import Iterator, Sequence

import numpy as np

from crossreg.errors import InputError
from crossreg.variants.sad import PredictFn, predict_stream
from crossreg.variants.windows import BASES

_REGION = re.compile(r"^(?P<chrom>.+):(?P<start>[0-9,_]+)-(?P<end>[0-9,_]+)$")


def parse_region(text: str, chrom_sizes: dict[str, int] | None = None, max_length: int | None = None) -> tuple[str, int, int]:
    """``CHROM:START-END`` (1-based, inclusive; commas allowed) -> (chrom, start, end).

    Raises:
        InputError: malformed text, ``end < start``, a chromosome not in ``chrom_sizes``, a
            region past the chromosome end, or one longer than ``max_length``.
    """
    m = _REGION.match(text.strip())
    if not m:
        raise InputError(f"--region {text!r}: expected CHROM:START-END (1-based, inclusive), e.g. chr1:1,000,001-1,000,200")
    chrom = m.group("chrom")
    start, end = (int(m.group(k).replace(",", "").replace("_", "")) for k in ("start", "end"))
    if start < 1 or end < start:
        raise InputError(f"--region {text!r}: need 1 <= START <= END")
    if chrom_sizes is not None:
        if chrom not in chrom_sizes:
            raise InputError(f"--region {text!r}: chromosome {chrom!r} is not in the FASTA (it has e.g. {', '.join(list(chrom_sizes)[:5])})")
        if end > chrom_sizes[chrom]:
            raise InputError(f"--region {text!r}: ends past the chromosome end ({chrom_sizes[chrom]} bp)")
    if max_length is not None and end - start + 1 > max_length:
        raise InputError(f"--region {text!r}: {end - start + 1} bp; at most {max_length} bp (each base costs 3 model windows, 6 with RC)")
    return chrom, start, end


def ism_windows(reference: np.ndarray, offset: int, length: int, rc: bool) -> Iterator[tuple[int, list[int], np.ndarray]]:
    """Mutant inputs, one block per position of the region.

    Args:
        reference: uint8 [L, 4] the reference window.
        offset: index of the region's first base in the window.
        length: bases in the region.
        rc: also yield each mutant's reverse complement (after it).

    Yields:
        (position i in the region, the mutated base columns, uint8 [n_mut * (1 + rc), L, 4]).
    """
    eye = np.eye(4, dtype=np.uint8)
    for i in range(length):
        row = reference[offset + i]
        ref_col = int(row.argmax()) if row.any() else -1
        cols = [c for c in range(4) if c != ref_col]
        block = np.repeat(reference[None], len(cols) * (2 if rc else 1), axis=0)
        k = 0
        for c in cols:
            block[k, offset + i] = eye[c]
            if rc:
                block[k + 1] = block[k][::-1, ::-1]
                k += 2
            else:
                k += 1
        yield i, cols, block


def ism_scores(
    predict_fn: PredictFn, reference: np.ndarray, offset: int, length: int, tracks: Sequence[int],
    rc: bool = True, batch_size: int = 8, progress=None,
) -> np.ndarray:
    """Saturation mutagenesis scores of a region.

    Args:
        predict_fn: ``x`` float32 [n, L, 4] -> [n, bins, tracks].
        reference: uint8 [L, 4] the reference window (region centred).
        offset, length: the region's first index in the window and its length.
        tracks: output tracks to keep.
        rc: average with the reverse-complement ensemble member.
        batch_size: windows per predictor call.
        progress: optional callable(n) advanced by positions done.

    Returns:
        float32 [length, 4 (A, C, G, T), len(tracks)]: sum over bins of mutant - reference;
        0 at the reference base.
    """
    cols_t = np.asarray(tracks, dtype=np.int64)
    ref_block = np.stack([reference, reference[::-1, ::-1]]) if rc else reference[None]
    out = np.zeros((length, 4, len(cols_t)), dtype=np.float32)
    positions: list[tuple[int, list[int]]] = []

    def blocks():
        yield ref_block
        for i, cols, block in ism_windows(reference, offset, length, rc):
            positions.append((i, cols))
            yield block

    stream = predict_stream(predict_fn, blocks(), batch_size)
    ref_pred = next(stream)[:, :, cols_t]
    if rc:
        ref_pred[1] = ref_pred[1][::-1]
    members = 2 if rc else 1
    for k, preds in enumerate(stream):
        i, cols = positions[k]
        preds = preds[:, :, cols_t].reshape(len(cols), members, preds.shape[1], len(cols_t))
        if rc:
            preds[:, 1] = preds[:, 1][:, ::-1]
        diff = preds - ref_pred[None]  # float32 [mutants, members, bins, tracks]
        out[i, cols] = (diff.sum(axis=2, dtype=np.float64).sum(axis=1) / members).astype(np.float32)
        if progress is not None:
            progress(1)
    return out


def plot_ism(path, scores: np.ndarray, reference: str, chrom: str, start: int, title: str) -> None:
    """Heat map of one track's ISM scores with a logo row, as PNG (matplotlib, Agg).

    Args:
        path: PNG to write (atomically).
        scores: float [positions, 4] (A, C, G, T) for the plotted track.
        reference: the region's sequence (``positions`` letters).
        chrom, start: the region's chromosome and 1-based first position (axis labels).
        title: figure title.

    The top row draws each reference letter with height ``-mean`` of its 3 mutations'
    scores (Basenji's sat-mut convention: a base whose mutations lower the prediction
    stands tall; negative heights are drawn below the axis, upside down); the heat map below
    has one row per base, 0 at the reference, centred colour scale.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    from crossreg.io.atomic import atomic_path

    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    ref_cols = np.array([BASES.find(b) for b in reference.upper()])
    mut_mean = np.zeros(n)
    for i in range(n):
        others = [c for c in range(4) if c != ref_cols[i]] if ref_cols[i] >= 0 else list(range(4))
        mut_mean[i] = scores[i, others].mean()
    heights = -mut_mean
    width = float(np.clip(n * 0.12, 8, 40))
    fig, (ax_logo, ax_map) = plt.subplots(
        2, 1, figsize=(width, 4.2), sharex=True, gridspec_kw={"height_ratios": [1.2, 1], "hspace": 0.08}
    )
    colours = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839", "N": "#888888"}
    xs = start + np.arange(n)
    for i, letter in enumerate(reference.upper()):
        h = heights[i]
        if h == 0 or not np.isfinite(h):
            continue
        glyph = letter if letter in colours else "N"
        tp = TextPath((0, 0), glyph, size=1, prop={"family": "DejaVu Sans", "weight": "bold"})
        ext = tp.get_extents()
        sx = 0.9 / max(ext.width, 1e-9)
        sy = abs(h) / max(ext.height, 1e-9)
        tr = Affine2D().translate(-ext.x0, -ext.y0).scale(sx, sy)
        if h < 0:
            tr = tr.scale(1, -1)
        tr = tr.translate(xs[i] - 0.45, 0)
        ax_logo.add_patch(PathPatch(tr.transform_path(tp), color=colours[glyph], lw=0))
    lim = float(np.nanmax(np.abs(heights))) if n and np.isfinite(heights).any() else 1.0
    lim = lim or 1.0
    ax_logo.set_ylim(-lim * 1.05 if (heights < 0).any() else 0, lim * 1.05)
    ax_logo.axhline(0, color="black", lw=0.5)
    ax_logo.set_ylabel("-mean mutation\nscore")
    ax_logo.set_title(title, fontsize=10)
    vmax = float(np.nanmax(np.abs(scores))) if scores.size else 1.0
    vmax = vmax or 1.0
    im = ax_map.imshow(
        scores.T, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest",
        extent=(xs[0] - 0.5, xs[-1] + 0.5, 3.5, -0.5),
    )
    ax_map.set_yticks(range(4), list(BASES))
    ax_map.set_ylabel("mutant base")
    ax_map.set_xlabel(f"{chrom} position (1-based)")
    ax_map.set_xlim(xs[0] - 0.5, xs[-1] + 0.5)
    ax_map.ticklabel_format(axis="x", style="plain", useOffset=False)
    cbar = fig.colorbar(im, ax=[ax_logo, ax_map], fraction=0.02, pad=0.01)
    cbar.set_label("SAD (mutant - reference)")
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
