"""``evaluate_model``: accuracy of a saved model on held-out windows of each genome.

What is measured (Kelley 2020, *Cross-species regulatory sequence activity prediction*):

a. **Tracks**: per track, Pearson R (and R^2) of the genome's own head over all bins of all
   split windows pooled (not averaged per window), as baskerville's ``PearsonR`` metric.
   The assay of a track is its description before the first ``:``, upper-cased
   (``CAGE:liver`` -> ``CAGE``; no ``:`` -> ``OTHER``).
b. **Genes** (genomes with a TSS file): per TSS located in a window (see
   :mod:`crossreg.evaluate.tss`), the sum over its bin and the two neighbours (3 bins of
   128 bp, clipped at the window edge) of predictions and of observed targets. Per CAGE
   track: Pearson R across TSSs of ``log2(1 + pred)`` vs ``log2(1 + obs)`` ("gene R"), and
   after tissue normalisation - subtracting, per TSS, the mean of ``log2(1 + x)`` over all
   CAGE tracks of the genome (separately for predictions and observations) - the same R
   ("gene R normalised"), which measures tissue specificity. This follows the paper's Fig. 3,
   where matched tissues reach about 0.75 raw and 0.40 normalised. A TSS is counted per
   base (identical chrom/position/strand/name records once), not aggregated per gene.
c. **DNase variable sites** (genomes with >= 2 DNASE/ATAC tracks): among all split bins,
   the 10% (``round(0.1 * bins)``) with the largest population variance of observed
   ``log2(1 + x)`` across the DNase/ATAC tracks (ties to the earlier bin); per DNase track,
   Pearson R over those sites of the log values, raw and after subtracting each site's mean
   over the DNase/ATAC tracks (predictions and observations separately).
d. **Cross-species transfer** (with ``track_matches`` and TSS files of >= 2 genomes): head B
   run on genome A's windows, B's predictions at A's TSSs against A's observations, for every
   pair of A CAGE track and B CAGE track, raw and tissue-normalised (B's predictions over B's
   CAGE tracks, A's observations over A's CAGE tracks). The own-head diagonal (B = A; a track
   matched with itself) is included for reference.

Predictions are clipped at 0 before the log (``log2(1 + max(x, 0))``). A constant track (or
a constant normalised column, e.g. with one CAGE track) gives R = NaN.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from crossreg.errors import InputError
from crossreg.evaluate import plots, stats
from crossreg.evaluate.collect import GenomeCollection, Predictor, collect_genome
from crossreg.evaluate.inputs import (
    GenomeInput,
    ModelInfo,
    TrackMatches,
    attach_tss,
    check_genome,
    check_model,
    read_track_matches,
)
from crossreg.evaluate.tables import json_safe, write_json, write_tsv

log = logging.getLogger(__name__)

EVALUATION_FORMAT = "crossreg-evaluation"
EVALUATION_FORMAT_VERSION = 1

TRACKS_COLUMNS = ("genome", "index", "identifier", "description", "assay", "pearson_r", "r2", "bins")
ASSAYS_COLUMNS = ("genome", "assay", "tracks", "mean_r", "median_r")
GENES_COLUMNS = ("genome", "index", "identifier", "description", "tss", "gene_r", "gene_r_normalized")
DNASE_COLUMNS = ("genome", "index", "identifier", "sites", "r", "r_normalized")
TRANSFER_COLUMNS = (
    "data_genome", "data_identifier", "head_genome", "head_identifier", "matched", "tss", "r", "r_normalized",
)
TRANSFER_SUMMARY_COLUMNS = ("data_genome", "head_genome", "matched", "pairs", "mean_r", "mean_r_normalized")


def versions(with_keras: bool = True) -> dict[str, str]:
    """Versions of crossreg, Python and the libraries (as in shard manifests), plus Keras and its backend."""
    from importlib.metadata import PackageNotFoundError, version

    from crossreg.data.manifest import versions as data_versions

    out = dict(data_versions())
    for name in ("scipy", "matplotlib"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    if with_keras:
        import keras

        backend = keras.backend.backend()
        out["keras"] = keras.__version__
        out["keras_backend"] = backend
        try:
            out[backend] = version(backend)
        except PackageNotFoundError:
            pass
    return out


def _make_predictor(model: ModelInfo, predict_fn, batch_size: int, rc_average: bool) -> Predictor:
    from crossreg.predict.core import predict_batch, reverse_complement_one_hot

    if predict_fn is not None:

        def run_fn(head: str, one_hot: np.ndarray) -> np.ndarray:
            out = np.asarray(predict_fn(head, one_hot), dtype=np.float32)
            if rc_average:
                rc = np.asarray(predict_fn(head, reverse_complement_one_hot(one_hot)), dtype=np.float32)
                out = 0.5 * (out + rc[:, ::-1, :])
            return out

        return run_fn

    from crossreg.model import load_model

    network = load_model(model.model_dir)
    per_head: dict[str, object] = {}

    def run_model(head: str, one_hot: np.ndarray) -> np.ndarray:
        if head not in per_head:
            per_head[head] = network.model_for(head)
        return predict_batch(per_head[head], one_hot, batch_size, rc_average)

    return run_model


def _transfer_plan(genomes: dict[str, GenomeInput], matches: TrackMatches | None) -> dict[str, list[str]]:
    """data genome -> other heads to run at its TSSs (empty dict: no transfer)."""
    if matches is None:
        return {}
    with_tss = [g for g, gi in genomes.items() if gi.tss is not None]
    if len(with_tss) < 2:
        log.warning("track matches %s: cross-species transfer needs TSS files of >= 2 genomes (got %d); skipped",
                    matches.path, len(with_tss))
        return {}
    plan = {}
    for a in with_tss:
        if not len(genomes[a].cage):
            log.warning("genome %s has no CAGE track: no cross-species transfer on its TSSs", a)
            continue
        heads = [b for b, gb in genomes.items() if b != a and len(gb.cage)]
        if heads:
            plan[a] = heads
    return plan


def _track_rows(gi: GenomeInput, col: GenomeCollection) -> list[dict]:
    return [
        {
            "genome": gi.genome, "index": i, "identifier": gi.track_ids[i], "description": gi.descriptions[i],
            "assay": gi.assays[i], "pearson_r": col.pearson_r[i], "r2": col.r2[i], "bins": col.bins,
        }
        for i in range(len(gi.track_ids))
    ]


def _assay_rows(track_rows: list[dict]) -> list[dict]:
    rows = []
    for genome in dict.fromkeys(r["genome"] for r in track_rows):
        mine = [r for r in track_rows if r["genome"] == genome]
        for assay in sorted({r["assay"] for r in mine}):
            r = np.array([t["pearson_r"] for t in mine if t["assay"] == assay], dtype=np.float64)
            rows.append({
                "genome": genome, "assay": assay, "tracks": len(r),
                "mean_r": stats.finite_mean(r), "median_r": stats.finite_median(r),
            })
    return rows


def _gene_part(gi: GenomeInput, col: GenomeCollection):
    """(rows, obs_log, pred_log, r, r_norm) of the gene-level part, or None when skipped."""
    if gi.tss is None:
        return None
    if col.locations is None:
        log.warning("TSS file %s: no TSS lies in a %s window of genome %s; gene-level evaluation skipped",
                    gi.tss.path, gi.split.split, gi.genome)
        return None
    if not len(gi.cage):
        log.warning("genome %s has no CAGE track; gene-level evaluation skipped", gi.genome)
        return None
    obs_log = stats.log_values(col.tss_obs)
    pred_log = stats.log_values(col.tss_pred[gi.genome])
    r = stats.pearson_columns(pred_log, obs_log)
    r_norm = stats.pearson_columns(stats.normalize_rows(pred_log), stats.normalize_rows(obs_log))
    rows = [
        {
            "genome": gi.genome, "index": int(t), "identifier": gi.track_ids[t], "description": gi.descriptions[t],
            "tss": len(col.locations), "gene_r": r[k], "gene_r_normalized": r_norm[k],
        }
        for k, t in enumerate(gi.cage)
    ]
    return rows, obs_log, pred_log, r, r_norm


def _dnase_rows(gi: GenomeInput, col: GenomeCollection) -> list[dict]:
    if col.sites is None or not len(col.sites):
        return []
    r = stats.pearson_columns(col.sites_pred, col.sites_obs)
    r_norm = stats.pearson_columns(stats.normalize_rows(col.sites_pred), stats.normalize_rows(col.sites_obs))
    return [
        {"genome": gi.genome, "index": int(t), "identifier": gi.track_ids[t], "sites": len(col.sites),
         "r": r[k], "r_normalized": r_norm[k]}
        for k, t in enumerate(gi.dnase)
    ]


def _transfer_part(genomes, collections, plan, matches):
    """(rows, heatmaps) of the cross-species part; heatmaps: (data, head, r_norm, matched) for head != data."""
    rows, heatmaps = [], []
    for a, heads in plan.items():
        ga, col = genomes[a], collections[a]
        if col.locations is None:
            continue
        obs_log = stats.log_values(col.tss_obs)
        obs_norm = stats.normalize_rows(obs_log)
        a_ids = [ga.track_ids[t] for t in ga.cage]
        for b in [a] + heads:
            gb = genomes[b]
            b_ids = [gb.track_ids[t] for t in gb.cage]
            pred_log = stats.log_values(col.tss_pred[b])
            r = stats.pearson_matrix(obs_log, pred_log)
            r_norm = stats.pearson_matrix(obs_norm, stats.normalize_rows(pred_log))
            matched = np.array([[matches.matched(a, ia, b, ib) for ib in b_ids] for ia in a_ids], dtype=bool)
            for i, ia in enumerate(a_ids):
                for j, ib in enumerate(b_ids):
                    rows.append({
                        "data_genome": a, "data_identifier": ia, "head_genome": b, "head_identifier": ib,
                        "matched": bool(matched[i, j]), "tss": len(col.locations), "r": r[i, j], "r_normalized": r_norm[i, j],
                    })
            if b != a:
                heatmaps.append((a, b, a_ids, b_ids, r_norm, matched))
    return rows, heatmaps


def _transfer_summary(rows: list[dict]) -> list[dict]:
    """One row per (data genome, head genome, matched), matched pairs first."""
    out = []
    for a, b in dict.fromkeys((r["data_genome"], r["head_genome"]) for r in rows):
        for m in (True, False):
            sel = [r for r in rows if r["data_genome"] == a and r["head_genome"] == b and r["matched"] == m]
            if not sel:
                continue
            out.append({
                "data_genome": a, "head_genome": b, "matched": m, "pairs": len(sel),
                "mean_r": stats.finite_mean([r["r"] for r in sel]),
                "mean_r_normalized": stats.finite_mean([r["r_normalized"] for r in sel]),
            })
    return out


def evaluate_model(
    model_dir: str | os.PathLike,
    manifests: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    tss: Mapping[str, str | os.PathLike] | None = None,
    track_matches: str | os.PathLike | None = None,
    split: str = "test",
    batch_size: int = 4,
    rc_average: bool = False,
    progress: bool | None = None,
    predict_fn: Callable[[str, np.ndarray], np.ndarray] | None = None,
) -> dict:
    """Evaluate a saved multi-genome model on a split of each genome's shards.

    Every input is validated (model params, each manifest against its head, split, geometry,
    track counts, TSS files, track-matches table) before the model is loaded; outputs are
    written only after every prediction was made, each file atomically, ``summary.json``
    last. The metrics are described in the module docstring of :mod:`crossreg.evaluate.core`.

    Args:
        model_dir: model directory (``params.json`` + ``model.weights.h5``).
        manifests: genome -> its shard ``manifest.json``; each genome must be a head of the
            model, and the manifest must be for that genome.
        out_dir: output folder (created).
        tss: genome -> TSS file (6-column BED or GTF) for the gene-level part; a genome whose
            TSSs all lie outside the split's windows is skipped with a warning.
        track_matches: TSV ``genome_a identifier_a genome_b identifier_b`` of matched tracks
            (symmetric) for the cross-species part, which runs when TSS files of >= 2 genomes
            are given.
        split: shard split to evaluate (``train``, ``valid`` or ``test``).
        batch_size: windows per model call.
        rc_average: average each prediction with the reverse complement's (flipped back).
        progress: tqdm progress bar on stderr; None: only when stderr is a terminal.
        predict_fn: optional stand-in for the model: ``predict_fn(head, one_hot)`` with
            ``one_hot`` float32 [n, seq_length, 4] returns [n, bins, tracks of that head];
            the model's weights are then not loaded (its params still define geometry,
            heads and tracks). For tests and for external predictors.

    Returns:
        The summary also written to ``summary.json``: ``format``, ``format_version``,
        ``model_dir``, ``params_sha256``, ``split``, ``rc_average``, ``genomes`` (per genome:
        ``windows``, ``bins`` pooled per track, ``tracks``, ``mean_r_by_assay``,
        ``gene_r_mean``, ``gene_r_normalized_mean``), ``transfer`` (rows of
        ``transfer_summary.tsv`` or None), ``tables`` and ``plots`` (``file``, ``title``),
        ``versions``, ``seconds``. NaN values are None (JSON null).

    Output files in ``out_dir``: ``tracks.tsv``, ``assays.tsv``, ``genes.tsv`` (with TSSs),
    ``dnase_variable.tsv`` (genomes with >= 2 DNase/ATAC tracks), ``transfer.tsv`` and
    ``transfer_summary.tsv`` (cross-species part), ``track_r_by_assay.png``,
    ``genes_<genome>.png``, ``transfer_<data>_by_<head>.png``, ``summary.json``.

    Raises:
        InputError: a manifest genome that is not a head of the model or differs from its
            key; a missing or empty split; shards whose geometry does not fit the model; a
            manifest whose track count differs from its head's; a TSS file for a genome
            without manifest, or a malformed TSS line (naming file and line); a malformed
            track-matches table or one naming an unknown genome or identifier.
        IntegrityError: a shard is missing, truncated or corrupt.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if batch_size <= 0:
        raise InputError(f"batch_size must be positive, got {batch_size}")
    if not manifests:
        raise InputError("give at least one genome's shard manifest to evaluate")

    # -- validation, before Keras and before any output
    model = check_model(model_dir, rc_average)
    genomes: dict[str, GenomeInput] = {g: check_genome(model, g, path, split) for g, path in manifests.items()}
    attach_tss(genomes, tss)
    matches = read_track_matches(track_matches, genomes) if track_matches is not None else None
    plan = _transfer_plan(genomes, matches)

    # -- one streaming pass per genome
    from crossreg.predict.core import _progress_bar

    predictor = _make_predictor(model, predict_fn, batch_size, rc_average)
    geo = model.geometry
    collections: dict[str, GenomeCollection] = {}
    total = sum(gi.num_windows for gi in genomes.values())
    with _progress_bar(total, "evaluate", progress) as bar:
        for genome, gi in genomes.items():
            other = {b: genomes[b].cage for b in plan.get(genome, [])}
            collections[genome] = collect_genome(
                gi, geo.bins, geo.bin_width, predictor, other, model.heads, batch_size, on_batch=bar.update,
            )
            log.info("evaluate %s: %d windows, mean track R %.4f", genome, gi.num_windows,
                     stats.finite_mean(collections[genome].pearson_r))

    # -- results
    track_rows = [row for g, gi in genomes.items() for row in _track_rows(gi, collections[g])]
    assay_rows = _assay_rows(track_rows)
    gene_rows, gene_plots, dnase_rows = [], {}, []
    summary_genomes = {}
    for g, gi in genomes.items():
        part = _gene_part(gi, collections[g])
        if part is not None:
            rows, obs_log, pred_log, r, r_norm = part
            gene_rows += rows
            gene_plots[g] = (obs_log, pred_log, r, r_norm)
        dnase_rows += _dnase_rows(gi, collections[g])
        summary_genomes[g] = {
            "windows": gi.num_windows,
            "bins": collections[g].bins,
            "tracks": len(gi.track_ids),
            "mean_r_by_assay": {r["assay"]: r["mean_r"] for r in assay_rows if r["genome"] == g},
            "gene_r_mean": stats.finite_mean(part[3]) if part is not None else None,
            "gene_r_normalized_mean": stats.finite_mean(part[4]) if part is not None else None,
        }
    transfer_rows, heatmaps = _transfer_part(genomes, collections, plan, matches) if plan else ([], [])
    transfer_summary = _transfer_summary(transfer_rows) if transfer_rows else None

    # -- outputs: tables, plots, summary.json last
    tables, figures = [], []

    def table(name: str, title: str, columns, rows) -> None:
        write_tsv(out_dir / name, columns, rows)
        tables.append({"file": name, "title": title})

    def figure(name: str, title: str, draw, *args) -> None:
        draw(out_dir / name, *args)
        figures.append({"file": name, "title": title})

    table("tracks.tsv", f"Per-track Pearson R over all {split} bins", TRACKS_COLUMNS, track_rows)
    table("assays.tsv", "Mean and median track R per genome and assay", ASSAYS_COLUMNS, assay_rows)
    if gene_rows:
        table("genes.tsv", "Gene-level R of CAGE tracks at TSSs (raw and tissue-normalised)", GENES_COLUMNS, gene_rows)
    if dnase_rows:
        table("dnase_variable.tsv", "DNase/ATAC R at the 10% most variable sites", DNASE_COLUMNS, dnase_rows)
    if transfer_rows:
        table("transfer.tsv", "Cross-species transfer: head predictions vs data observations at TSSs",
              TRANSFER_COLUMNS, transfer_rows)
        table("transfer_summary.tsv", "Cross-species transfer, matched vs mismatched tissue pairs",
              TRANSFER_SUMMARY_COLUMNS, transfer_summary)
    figure("track_r_by_assay.png", "Per-track Pearson R by assay and genome", plots.track_r_by_assay,
           [r["genome"] for r in track_rows], [r["assay"] for r in track_rows], [r["pearson_r"] for r in track_rows])
    for g, (obs_log, pred_log, r, r_norm) in gene_plots.items():
        k = int(np.nanargmax(r)) if np.isfinite(r).any() else 0
        ident = genomes[g].track_ids[genomes[g].cage[k]]
        figure(f"genes_{g}.png", f"{g}: predicted vs observed CAGE at TSSs, best track {ident}", plots.gene_scatter,
               g, ident, obs_log[:, k], pred_log[:, k], float(r[k]), float(r_norm[k]))
    for a, b, a_ids, b_ids, r_norm, matched in heatmaps:
        figure(f"transfer_{a}_by_{b}.png", f"{b} head on {a} TSSs: tissue-normalised gene R", plots.transfer_heatmap,
               a, b, a_ids, b_ids, r_norm, matched)

    summary = {
        "format": EVALUATION_FORMAT,
        "format_version": EVALUATION_FORMAT_VERSION,
        "model_dir": str(model.model_dir),
        "params_sha256": model.digest,
        "split": split,
        "rc_average": bool(rc_average),
        "genomes": summary_genomes,
        "transfer": transfer_summary,
        "tables": tables,
        "plots": figures,
        "versions": versions(),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    write_json(out_dir / "summary.json", summary)
    return json_safe(summary)

