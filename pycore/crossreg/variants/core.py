"""The steps: ``score_variants`` (SAD of a VCF's SNPs), ``gather_scores`` (chunks -> one
file) and ``saturation_mutagenesis`` (ISM of a region).

Every check that does not need the model's weights (head, geometry, manifest, shifts, stats,
tracks, VCF, chromosomes) runs before Keras is loaded. Outputs are written atomically.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from crossreg import __version__
from crossreg.errors import InputError
from crossreg.io.track_select import resolve_tracks
from crossreg.variants.output import (
    SCORES_FORMAT,
    SCORES_FORMAT_VERSION,
    ScoreWriter,
    SnpTable,
    default_tsv_tracks,
    json_attr,
    open_scores,
    read_table,
    write_tsv,
)
from crossreg.variants.sad import Predictor, keras_predictor, parse_stats, score_stream
from crossreg.variants.vcf import SkipReport, check_chromosomes, check_ref, chunk_records, read_vcf
from crossreg.variants.windows import SnpWindows, parse_shifts

log = logging.getLogger(__name__)

ISM_FORMAT = "crossreg-ism"
ISM_FORMAT_VERSION = 1


# ---------------------------------------------------------------------- the model
def load_predictor(model_dir: str | os.PathLike, head: str) -> Predictor:
    """A saved model's head as a :class:`Predictor`; Keras is loaded on the first prediction.

    Raises:
        InputError: missing model files, invalid params, or no head ``head``.
    """
    from crossreg.data.manifest import sha256_file
    from crossreg.model.checkpoint import ModelDirectory

    described = ModelDirectory(model_dir)
    n_tracks = described.tracks_of(head)
    geo = described.geometry
    loaded: dict = {}

    def predict_fn(x: np.ndarray) -> np.ndarray:
        if "fn" not in loaded:
            from crossreg.model import load_model

            loaded["fn"] = keras_predictor(load_model(model_dir).model_for(head))
        return loaded["fn"](x)

    return Predictor(
        predict_fn=predict_fn, seq_length=geo.seq_length, n_tracks=int(n_tracks), head=head,
        model_dir=str(model_dir), params_sha256=described.params_sha256,
        weights_sha256=sha256_file(described.weights_path), bins=geo.bins, bin_width=geo.bin_width,
    )


def _predictor(model, head: str | None) -> Predictor:
    if isinstance(model, Predictor):
        if head is not None and head != model.head:
            raise InputError(f"head {head!r} asked, but the predictor given is head {model.head!r}")
        return model
    if head is None:
        raise InputError("give the head (genome) to score with")
    return load_predictor(model, head)


def _track_names(manifest, predictor: Predictor) -> tuple[list[str], list[str], str]:
    """(identifiers, descriptions, manifest path text) of the head's tracks."""
    if manifest is None:
        return [f"track_{i}" for i in range(predictor.n_tracks)], [""] * predictor.n_tracks, ""
    from crossreg.data.manifest import load_manifest

    path = Path(manifest)
    data = load_manifest(path)
    if int(data["seq_length"]) != predictor.seq_length:
        raise InputError(
            f"manifest {path}: windows of {data['seq_length']} bp, but the model takes {predictor.seq_length} bp; "
            "give the manifest of the shards this model was trained on"
        )
    targets = data["targets"]
    if len(targets) != predictor.n_tracks:
        raise InputError(
            f"manifest {path} lists {len(targets)} tracks but the head {predictor.head!r} predicts {predictor.n_tracks}"
        )
    if data.get("genome") != predictor.head:
        log.warning("manifest %s is for genome %r; its track names are used for head %r", path, data.get("genome"), predictor.head)
    return [str(t["identifier"]) for t in targets], [str(t.get("description", "")) for t in targets], str(path)


def _progress_bar(total: int, desc: str, enabled: bool | None, unit: str):
    from tqdm import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, leave=False)


def _fasta_checksum(path: Path) -> dict:
    from crossreg.data.manifest import file_checksum

    entry = file_checksum(path)
    entry.pop("path", None)
    return entry


# ---------------------------------------------------------------------- score-variants
def score_variants(
    model: str | os.PathLike | Predictor,
    head: str | None,
    fasta: str | os.PathLike,
    vcf: str | os.PathLike,
    out: str | os.PathLike,
    *,
    chunk: int = 0,
    of: int = 1,
    rc: bool = True,
    shifts: str | Sequence[int] = (0,),
    stats: str | Sequence[str] = ("SAD",),
    ref_mismatch: str = "skip",
    batch_size: int = 8,
    tsv: str | os.PathLike | None = None,
    tsv_tracks: Sequence[str | int] | None = None,
    manifest: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> dict:
    """Score the biallelic SNPs of a VCF (or one chunk of them) with one head of a model.

    For each SNP the window of the model's ``seq_length`` centred on it (the SNP at index
    ``seq_length // 2 + shift``) is predicted with REF and with ALT; the scores per track
    are in :mod:`crossreg.variants.sad` (ALT - REF in the VCF's orientation, summed over
    bins, averaged over the shifts and, unless ``rc`` is off, the reverse complements).
    Windows past a chromosome end are padded with N. Records that are not scored are
    counted per reason with examples (:mod:`crossreg.variants.vcf`), logged and stored.

    Args:
        model: a model directory (``params.json`` + ``model.weights.h5``) or a
            :class:`~crossreg.variants.sad.Predictor`.
        head: the head to predict with (any head may score any genome's variants).
        fasta: reference FASTA of the VCF (plain or bgzip, with .fai).
        vcf: plain or bgzipped VCF.
        out: output HDF5 (layout: :mod:`crossreg.variants.output`).
        chunk, of: score the ``chunk``-th of ``of`` contiguous, balanced pieces of the SNP
            list (after classification, before the REF check); every record is reported by
            exactly one chunk.
        rc: average with reverse-complemented windows.
        shifts: shifts in bp (``"0,-1,1"`` or ints).
        stats: ``SAD`` plus optionally ``logSAD`` and ``L2``.
        ref_mismatch: ``skip`` or ``flip`` (see :func:`crossreg.variants.vcf.check_ref`).
        batch_size: windows per model call (REF and ALT of several SNPs and members).
        tsv: also write a TSV (``snp chr pos ref alt flipped SAD_<id>...``).
        tsv_tracks: tracks of the TSV (identifiers or indices); default the first 10.
        manifest: the head's shard manifest: track identifiers and descriptions (else
            ``track_<i>`` and empty); its ``seq_length`` must be the model's.
        progress: tqdm bar on stderr; None: only when stderr is a terminal.

    Returns:
        Summary: ``out``, ``tsv``, ``chunk``, ``of``, ``records`` (VCF records this chunk
        reports), ``records_total``, ``snps`` (scored), ``skipped`` (reason -> count),
        ``skipped_examples``, ``flipped``, ``tracks``, ``saturated_values``, ``seconds``.

    Raises:
        InputError: bad arguments, a head the model lacks, an unreadable VCF, a VCF
            chromosome missing from the FASTA or a position past its end (naming the line),
            a manifest of another window length or track count, an unknown TSV track.
    """
    from crossreg.data.manifest import sha256_file
    from crossreg.io.atomic import atomic_path
    from crossreg.io.fasta import FastaGenome

    t0 = time.perf_counter()
    fasta, vcf, out = Path(fasta), Path(vcf), Path(out)
    tsv = Path(tsv) if tsv is not None else None
    if batch_size <= 0:
        raise InputError(f"--batch-size must be positive, got {batch_size}")
    if ref_mismatch not in ("skip", "flip"):
        raise InputError(f"--ref-mismatch must be skip or flip, got {ref_mismatch!r}")
    stats = parse_stats(stats)
    predictor = _predictor(model, head)
    shifts = parse_shifts(shifts, predictor.seq_length)
    track_ids, track_labels, manifest_text = _track_names(manifest, predictor)
    tsv_cols = resolve_tracks(list(tsv_tracks), track_ids, "--tsv-track") if tsv_tracks else default_tsv_tracks(len(track_ids))

    records = read_vcf(vcf)
    snps, owned_skips, record_range = chunk_records(records, chunk, of)
    with FastaGenome(fasta) as genome:
        check_chromosomes(records.snps, genome.chrom_sizes, vcf, fasta)
        kept, flipped, mismatches = check_ref(snps, genome, ref_mismatch)
        report = SkipReport()
        for item in sorted(owned_skips + mismatches, key=lambda s: s.index):
            report.add(item)
        n_records = record_range[1] - record_range[0]
        if len(kept) + report.total != n_records:
            raise RuntimeError(f"record accounting: {len(kept)} scored + {report.total} skipped != {n_records} records")
        where = f"{vcf} (chunk {chunk} of {of})" if of > 1 else str(vcf)
        log.info("score-variants: %s: %d record(s), %d SNP(s) to score (%d flipped), %d skipped: %s",
                 where, n_records, len(kept), sum(flipped), report.total, report.text())
        if mismatches:
            log.warning("score-variants: %s: %d SNP(s) whose REF is not the FASTA's base (%s) skipped, e.g. %s; "
                        "is the VCF on the FASTA's assembly?%s", where, len(mismatches), fasta,
                        ", ".join(m.text() for m in mismatches[:3]),
                        "" if ref_mismatch == "flip" else " (--ref-mismatch flip scores those whose ALT matches)")
        if not kept:
            log.warning("score-variants: no SNP to score in %s; writing an empty result", where)

        options = {"ref_mismatch": ref_mismatch, "rc": bool(rc), "shifts": shifts, "stats": stats,
                   "seq_length": predictor.seq_length}
        counts_json, examples_json = report.to_json()
        attrs = {
            "format": SCORES_FORMAT,
            "format_version": SCORES_FORMAT_VERSION,
            "model_dir": predictor.model_dir,
            "params_sha256": predictor.params_sha256,
            "weights_sha256": predictor.weights_sha256,
            "head": predictor.head,
            "seq_length": predictor.seq_length,
            "tracks": len(track_ids),
            "vcf": str(vcf),
            "vcf_name": vcf.name,
            "vcf_sha256": sha256_file(vcf),
            "fasta": str(fasta),
            "fasta_checksum": json_attr(_fasta_checksum(fasta)),
            "manifest": manifest_text,
            "options": json_attr(options),
            "batch_size": int(batch_size),
            "chunk": int(chunk),
            "of": int(of),
            "record_range": json_attr(list(record_range)),
            "records": int(n_records),
            "records_total": int(records.n_records),
            "snps": len(kept),
            "skipped": counts_json,
            "skipped_examples": examples_json,
            "skipped_total": report.total,
            "flipped": int(sum(flipped)),
            "gathered_from": "[]",
            "crossreg_version": __version__,
        }
        table = SnpTable(
            [s.id for s in kept], [s.chrom for s in kept], [s.pos for s in kept],
            [s.ref for s in kept], [s.alt for s in kept], list(flipped),
        )
        maker = SnpWindows(genome, predictor.seq_length, shifts, rc)
        with atomic_path(out, suffix=".h5") as tmp_h5:
            with h5py.File(tmp_h5, "w", track_order=True) as h5:
                writer = ScoreWriter(h5, table, track_ids, track_labels, stats, attrs)
                with _progress_bar(len(kept), f"score-variants {predictor.head}", progress, "SNP") as bar:
                    inputs = (maker.inputs(s.chrom, s.pos, s.ref, s.alt) for s in kept)
                    for scores in score_stream(predictor, inputs, maker.members, batch_size, stats):
                        writer.add(scores)
                        bar.update(1)
                writer.close()
                saturated = dict(writer.saturated)
                h5.attrs["saturated_values"] = int(sum(saturated.values()))
                h5.attrs["saturated_by_stat"] = json_attr(saturated)
            if tsv is not None:
                _write_tsv_file(tmp_h5, tsv, tsv_cols)
    if saturated and sum(saturated.values()):
        log.warning("score-variants: %d score(s) beyond the float16 range stored as +-65504: %s", sum(saturated.values()), saturated)
    return {
        "out": str(out), "tsv": str(tsv) if tsv else None, "chunk": chunk, "of": of,
        "records": n_records, "records_total": records.n_records, "snps": len(kept),
        "skipped": dict(report.counts), "skipped_examples": dict(report.examples), "flipped": int(sum(flipped)),
        "tracks": len(track_ids), "saturated_values": int(sum(saturated.values())),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def _write_tsv_file(h5_path: Path, tsv: Path, tracks: Sequence[int]) -> int:
    from crossreg.io.atomic import atomic_open

    with h5py.File(h5_path, "r") as h5, atomic_open(tsv, "w", newline="\n") as handle:
        return write_tsv(h5, handle, tracks)


# ---------------------------------------------------------------------- gather-scores
_MUST_AGREE = ("params_sha256", "weights_sha256", "head", "seq_length", "tracks", "vcf_name", "vcf_sha256",
               "fasta_checksum", "options", "of", "records_total")


def gather_scores(
    inputs: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    tsv: str | os.PathLike | None = None,
    tsv_tracks: Sequence[str | int] | None = None,
) -> dict:
    """Concatenate the chunk files of one ``score_variants`` scatter into one file.

    The chunks are put in chunk-index order (whatever the order given); they must come from
    the same model (params and weights digests), head, VCF (file name and SHA-256), FASTA
    (checksum), options and track names, and hold the chunk indices ``0..of-1`` exactly
    once, covering the VCF's records without gap or overlap. The result has the layout of a
    single run over the whole VCF (``chunk`` 0, ``of`` 1; skip reports summed, examples
    the first of each reason; ``gathered_from`` lists the inputs).

    Args:
        inputs: chunk files.
        out: output HDF5.
        tsv: also write the TSV; ``tsv_tracks`` as for :func:`score_variants`.

    Returns:
        Summary: ``out``, ``tsv``, ``chunks``, ``snps``, ``records``, ``skipped``, ``seconds``.

    Raises:
        InputError: naming the file: not a score file, a mismatch with the first file, a
            chunk index out of range or given twice, a missing chunk, records not contiguous.
    """
    from crossreg.io.atomic import atomic_path

    t0 = time.perf_counter()
    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputError("gather-scores: give the chunk files (--in)")
    handles: list[h5py.File] = []
    try:
        for p in paths:
            handles.append(open_scores(p))
        first, first_path = handles[0], paths[0]
        ids0 = first["target_ids"].asstr()[:].tolist()
        labels0 = first["target_labels"].asstr()[:].tolist()
        stats0 = json.loads(first.attrs["options"])["stats"]
        by_chunk: dict[int, int] = {}
        for k, (h5, p) in enumerate(zip(handles, paths)):
            for key in _MUST_AGREE:
                a, b = first.attrs.get(key), h5.attrs.get(key)
                if a != b:
                    raise InputError(
                        f"gather-scores: {p}: {key} is {b!r} but {first_path} has {a!r}; "
                        "all chunks must come from one model, head, VCF, FASTA and options"
                    )
            if h5["target_ids"].asstr()[:].tolist() != ids0 or h5["target_labels"].asstr()[:].tolist() != labels0:
                raise InputError(f"gather-scores: {p}: track names differ from those of {first_path} (another --manifest?)")
            c, n_of = int(h5.attrs["chunk"]), int(h5.attrs["of"])
            if not 0 <= c < n_of:
                raise InputError(f"gather-scores: {p}: chunk {c} is outside 0..{n_of - 1}")
            if c in by_chunk:
                raise InputError(f"gather-scores: {p}: chunk {c} of {n_of} is given twice (also {paths[by_chunk[c]]})")
            by_chunk[c] = k
        n_of = int(first.attrs["of"])
        missing = [c for c in range(n_of) if c not in by_chunk]
        if missing:
            raise InputError(
                f"gather-scores: chunk(s) {', '.join(map(str, missing))} of {n_of} missing; "
                f"given {len(paths)} file(s): {', '.join(str(p) for p in paths)}"
            )
        order = [by_chunk[c] for c in range(n_of)]
        expected_lo = 0
        for k in order:
            lo, hi = json.loads(handles[k].attrs["record_range"])
            if lo != expected_lo:
                raise InputError(f"gather-scores: {paths[k]}: starts at VCF record {lo}, expected {expected_lo}")
            expected_lo = hi
        total = int(first.attrs["records_total"])
        if expected_lo != total:
            raise InputError(f"gather-scores: the chunks cover VCF records 0..{expected_lo}, but the VCF has {total}")

        table = SnpTable()
        report = SkipReport()
        saturated = {s: 0 for s in stats0}
        for k in order:
            part = read_table(handles[k])
            for name in ("snp", "chr", "pos", "ref_allele", "alt_allele", "flipped"):
                getattr(table, name).extend(getattr(part, name))
            report.merge(SkipReport.from_json(handles[k].attrs["skipped"], handles[k].attrs["skipped_examples"]))
            for s, v in json.loads(handles[k].attrs["saturated_by_stat"]).items():
                saturated[s] += int(v)
        attrs = {key: first.attrs[key] for key in first.attrs}
        counts_json, examples_json = report.to_json()
        attrs.update(
            chunk=0, of=1, record_range=json_attr([0, total]), records=total, snps=len(table),
            skipped=counts_json, skipped_examples=examples_json, skipped_total=report.total,
            flipped=int(sum(table.flipped)), saturated_values=int(sum(saturated.values())),
            saturated_by_stat=json_attr(saturated), gathered_from=json.dumps([str(paths[k]) for k in order]),
        )
        if len(table) + report.total != total:
            raise InputError(f"gather-scores: {len(table)} scored + {report.total} skipped != {total} VCF records")
        tsv_path = Path(tsv) if tsv is not None else None
        tsv_cols = resolve_tracks(list(tsv_tracks), ids0, "--tsv-track") if tsv_tracks else default_tsv_tracks(len(ids0))
        with atomic_path(out, suffix=".h5") as tmp_h5:
            with h5py.File(tmp_h5, "w", track_order=True) as h5:
                writer = ScoreWriter(h5, table, ids0, labels0, stats0, attrs)
                for k in order:
                    n = len(handles[k]["SAD"])
                    step = 8 * writer.rows
                    for lo in range(0, n, step):
                        writer.add_float16({s: handles[k][s][lo : lo + step] for s in stats0})
                writer.close()
            if tsv_path is not None:
                _write_tsv_file(tmp_h5, tsv_path, tsv_cols)
    finally:
        for h5 in handles:
            h5.close()
    log.info("gather-scores: %d chunk(s) -> %s: %d SNP(s), %d record(s) skipped", n_of, out, len(table), report.total)
    return {"out": str(out), "tsv": str(tsv_path) if tsv_path else None, "chunks": n_of, "snps": len(table),
            "records": total, "skipped": dict(report.counts), "seconds": round(time.perf_counter() - t0, 3)}


# ---------------------------------------------------------------------- ism
def saturation_mutagenesis(
    model: str | os.PathLike | Predictor,
    head: str | None,
    fasta: str | os.PathLike,
    region: str,
    out: str | os.PathLike,
    *,
    plot: str | os.PathLike | None = None,
    tracks: Sequence[str | int] | None = None,
    manifest: str | os.PathLike | None = None,
    rc: bool = True,
    batch_size: int = 8,
    max_length: int = 1000,
    progress: bool | None = None,
) -> dict:
    """In-silico saturation mutagenesis of a region (see :mod:`crossreg.variants.ism`).

    Args:
        model, head: as for :func:`score_variants`.
        fasta: reference FASTA.
        region: ``CHROM:START-END``, 1-based inclusive, at most ``max_length`` bp; centred
            in the model's window.
        out: output HDF5 (``crossreg-ism``): ``scores`` float32 [positions, 4 (A,C,G,T),
            tracks] (0 at the reference base), ``positions`` int64 [positions] (1-based),
            ``reference`` (the region's sequence, scalar string), ``chr``, ``start``, ``end``
            (scalars, 1-based inclusive), ``track_index`` int64 [tracks] (rows of the head's
            outputs), ``target_ids``, ``target_labels``.
        plot: PNG of the first chosen track (heat map and logo row).
        tracks: identifiers or indices (default: all the head's tracks).
        manifest: names the tracks, as for :func:`score_variants`.
        rc: average with the reverse-complemented windows.
        batch_size: windows per model call.
        max_length: longest region accepted, bp.
        progress: tqdm bar; None: only when stderr is a terminal.

    Returns:
        Summary: ``out``, ``plot``, ``region``, ``positions``, ``tracks``, ``windows``
        (model inputs predicted), ``seconds``.
    """
    from crossreg.io.atomic import atomic_path
    from crossreg.io.fasta import FastaGenome
    from crossreg.variants.ism import ism_scores, parse_region, plot_ism
    from crossreg.variants.output import _create, _utf8
    from crossreg.variants.windows import one_hot_rows

    t0 = time.perf_counter()
    out = Path(out)
    fasta = Path(fasta)
    if batch_size <= 0:
        raise InputError(f"--batch-size must be positive, got {batch_size}")
    predictor = _predictor(model, head)
    track_ids, track_labels, manifest_text = _track_names(manifest, predictor)
    cols = resolve_tracks(list(tracks), track_ids, "--track") if tracks else list(range(len(track_ids)))
    L = predictor.seq_length
    with FastaGenome(fasta) as genome:
        chrom, start, end = parse_region(region, genome.chrom_sizes, min(max_length, L))
        n = end - start + 1
        s0 = start - 1
        w0 = s0 + n // 2 - L // 2
        window = genome.fetch(chrom, w0, w0 + L)
    reference = window[s0 - w0 : s0 - w0 + n].decode("ascii").upper()
    ref_onehot = one_hot_rows(window)
    n_windows = (2 if rc else 1) * (1 + sum(3 if b in "ACGT" else 4 for b in reference))
    log.info("ism: %s:%d-%d (%d bp) with head %s, %d track(s), %d model inputs", chrom, start, end, n, predictor.head,
             len(cols), n_windows)
    with _progress_bar(n, f"ism {predictor.head}", progress, "bp") as bar:
        scores = ism_scores(predictor.predict_fn, ref_onehot, s0 - w0, n, cols, rc=rc, batch_size=batch_size,
                            progress=bar.update)
    with atomic_path(out, suffix=".h5") as tmp:
        with h5py.File(tmp, "w", track_order=True) as h5:
            h5.create_dataset("scores", data=scores, chunks=(max(1, min(n, 256)), 4, max(1, len(cols))),
                              fletcher32=True, compression="lzf", shuffle=True)
            _create(h5, "positions", np.arange(start, end + 1, dtype=np.int64), rows=65536)
            h5.create_dataset("reference", data=np.bytes_(reference.encode("ascii")))
            h5.create_dataset("chr", data=np.bytes_(chrom.encode("utf-8")))
            h5.create_dataset("start", data=np.int64(start))
            h5.create_dataset("end", data=np.int64(end))
            _create(h5, "track_index", np.asarray(cols, dtype=np.int64), rows=65536)
            _create(h5, "target_ids", _utf8([track_ids[i] for i in cols]), rows=65536)
            _create(h5, "target_labels", _utf8([track_labels[i] for i in cols]), rows=65536)
            h5.attrs.update(
                format=ISM_FORMAT, format_version=ISM_FORMAT_VERSION, model_dir=predictor.model_dir,
                params_sha256=predictor.params_sha256, weights_sha256=predictor.weights_sha256,
                head=predictor.head, seq_length=L, fasta=str(fasta), manifest=manifest_text,
                region=f"{chrom}:{start}-{end}", window_start=int(w0),
                options=json_attr({"rc": bool(rc), "tracks": [track_ids[i] for i in cols]}),
                batch_size=int(batch_size), plot_track=track_ids[cols[0]] if cols else "",
                crossreg_version=__version__,
            )
    if plot is not None and cols:
        label = track_labels[cols[0]]
        title = (f"ISM {chrom}:{start:,}-{end:,}, head {predictor.head}, track {track_ids[cols[0]]}"
                 + (f" ({label})" if label else "") + (", forward + reverse complement" if rc else ""))
        plot_ism(plot, scores[:, :, 0], reference, chrom, start, title)
    return {"out": str(out), "plot": str(plot) if plot is not None else None, "region": f"{chrom}:{start}-{end}",
            "positions": n, "tracks": len(cols), "windows": n_windows, "seconds": round(time.perf_counter() - t0, 3)}


def ism_regions_table(
    model: str | os.PathLike | Predictor,
    head: str | None,
    fasta: str | os.PathLike,
    table: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    top: int = 3,
    tracks: Sequence[str | int] | None = None,
    manifest: str | os.PathLike | None = None,
    rc: bool = True,
    batch_size: int = 8,
    max_length: int = 1000,
    progress: bool | None = None,
) -> dict:
    """Saturation mutagenesis of the first ``top`` regions of a table (e.g. ``crossreg denovo``'s
    ``top_variants.tsv``), one model load for all of them.

    Args:
        model, head, fasta, tracks, manifest, rc, batch_size, max_length, progress: as for
            :func:`saturation_mutagenesis`.
        table: TSV with a header and an ``ism_region`` column (``CHROM:START-END``, 1-based);
            other columns are copied to the index.
        out_dir: folder receiving ``ism_<k>.h5`` and ``ism_<k>.png`` (k = 1..top, table order)
            and ``index.tsv`` (the table's first ``top`` rows plus ``ism_h5`` and ``ism_png``).
        top: regions to run (fewer when the table is shorter; 0 rows -> only the index).

    Returns:
        Summary: ``out_dir``, ``regions`` (list of the per-region summaries), ``index``.

    Raises:
        InputError: missing table or ``ism_region`` column, a malformed region (row named),
            ``top`` < 0.
    """
    import pandas as pd

    from crossreg.io.atomic import atomic_open

    table = Path(table)
    if top < 0:
        raise InputError(f"--top must be >= 0, got {top}")
    if not table.is_file():
        raise InputError(f"regions table {table}: no such file")
    rows = pd.read_csv(table, sep="\t", dtype=str, keep_default_na=False)
    if "ism_region" not in rows.columns:
        raise InputError(f"regions table {table}: no 'ism_region' column (columns: {', '.join(rows.columns)})")
    rows = rows.head(top).reset_index(drop=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    predictor = _predictor(model, head) if len(rows) else None
    done = []
    for k, region in enumerate(rows["ism_region"], start=1):
        try:
            done.append(saturation_mutagenesis(
                predictor, None, fasta, region, out_dir / f"ism_{k}.h5", plot=out_dir / f"ism_{k}.png",
                tracks=tracks, manifest=manifest, rc=rc, batch_size=batch_size, max_length=max_length,
                progress=progress))
        except InputError as err:
            raise InputError(f"regions table {table}, data row {k}: {err}") from None
    index = rows.assign(ism_h5=[f"ism_{k}.h5" for k in range(1, len(rows) + 1)],
                        ism_png=[f"ism_{k}.png" for k in range(1, len(rows) + 1)])
    with atomic_open(out_dir / "index.tsv", "w") as fh:
        index.to_csv(fh, sep="\t", index=False)
    return {"out_dir": str(out_dir), "regions": done, "index": str(out_dir / "index.tsv")}
