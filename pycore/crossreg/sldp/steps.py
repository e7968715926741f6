"""The file-level SLDP steps behind ``crossreg sldp-*``: each reads files, calls the library, writes files.

A run over many tracks and phenotypes::

    sldp-panel      PLINK panel per chromosome + LD blocks -> panel cache      (once per panel)
    sldp-aggregate  per-gene eQTL pairs of one tissue -> per-SNP sumstats      (per tissue)
    sldp-profiles   variant scores (+ background) -> signed LD profiles        (once per score file)
    sldp            profiles + one phenotype's sumstats -> one row per track   (per phenotype; scattered)
    sldp-gather     every phenotype's rows -> one table, FDR, heat map, track clusters

Output table of ``sldp`` (tab-separated, one row per track): ``phenotype``, ``annotation``
(track identifier) and :data:`crossreg.sldp.core.RESULT_COLUMNS` after it (mu, se, z, p,
z_fast, p_fast, rf, h2g, sigma2g, h2v_h2g, h2v, supp_over_M, sqnorm, M, n_typed, n_blocks,
n_chunks, draws); a ``.json`` beside it holds the allele-reconciliation reports, the
heritability estimate and the settings.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from crossreg import __version__
from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open

log = logging.getLogger(__name__)

GATHER_FORMAT = "crossreg-sldp"
GATHER_FORMAT_VERSION = 1


def parse_chroms(text: str | Sequence[str]) -> list[str]:
    """``"1-22"``, ``"1,2,X"``, ``"chr1,chr2"`` or a list -> chromosome names in order.

    A range ``A-B`` of integers expands to A..B (with the prefix of A, e.g. ``chr1-chr3``).
    """
    items = list(text) if not isinstance(text, str) else [t.strip() for t in text.split(",") if t.strip()]
    out: list[str] = []
    for item in items:
        lo, sep, hi = item.partition("-")
        if sep:
            prefix = lo.rstrip("0123456789")
            a, b = lo[len(prefix):], hi[len(prefix):] if hi.startswith(prefix) else hi
            if not (a.isdigit() and b.isdigit()) or int(a) > int(b):
                raise InputError(f"chromosomes: cannot read the range {item!r} (expected e.g. 1-22 or chr1-chr5)")
            out += [f"{prefix}{k}" for k in range(int(a), int(b) + 1)]
        else:
            out.append(item)
    if not out:
        raise InputError("chromosomes: none given")
    return list(dict.fromkeys(out))


def panel_step(panel_prefix: str | os.PathLike, chroms: str | Sequence[str], blocks: str | os.PathLike,
               out_dir: str | os.PathLike, *, print_snps: str | os.PathLike | None = None, window_cm: float = 1.0,
               rebuild: bool = False) -> dict:
    """``crossreg sldp-panel``: preprocess a PLINK panel once (eigenbases per LD block, LD scores).

    Args:
        panel_prefix: ``{prefix}{chrom}.bed/.bim/.fam`` per chromosome.
        chroms: chromosomes (:func:`parse_chroms`).
        blocks: LD-block BED (or the reference's ``chr start end`` table).
        out_dir: cache folder.
        print_snps: file of regression SNP ids (one per line), default every panel SNP.
        window_cm: LD-score window in cM.
        rebuild: rebuild even when a valid cache exists.

    Returns:
        Summary: cache folder, chromosomes, SNPs, print SNPs, blocks, people.
    """
    from crossreg.io.plink import read_panel
    from crossreg.sldp.panel import preprocess_panel, read_print_snps

    panels = read_panel(panel_prefix, parse_chroms(chroms))
    snps = read_print_snps(print_snps) if print_snps is not None else None
    cache = preprocess_panel(panels, blocks, print_snps=snps, cache_dir=out_dir, window_cm=window_cm, rebuild=rebuild)
    return {"cache": str(out_dir), "chroms": cache.chroms, "snps": int(sum(p.n_snps for p in panels.values())),
            "print_snps": int(len(cache.print_snps)), "blocks": int(len(cache.block_table)), "people": cache.n_people}


def aggregate_step(pairs: str | os.PathLike, out: str | os.PathLike) -> dict:
    """``crossreg sldp-aggregate``: per-gene eQTL statistics of one tissue -> per-SNP sumstats.

    alpha_m = |G_m|^(-1/2) sum_k z_k / sqrt(n_k) over the SNP's cis-genes, written as
    ``Z = alpha_m sqrt(N_m)`` (:func:`crossreg.sldp.aggregate.aggregate_eqtl`).
    """
    from crossreg.sldp.aggregate import aggregate_eqtl, read_eqtl_pairs, write_sumstats

    table = read_eqtl_pairs(pairs)
    sumstats, counts = aggregate_eqtl(table)
    write_sumstats(sumstats, out)
    return {"out": str(out), "pairs": int(len(table)), "snps": int(len(sumstats)), **counts}


def profiles_step(cache_dir: str | os.PathLike, scores: str | os.PathLike, out: str | os.PathLike, *,
                  tracks: Sequence[str] | None = None, panel_prefix: str | os.PathLike | None = None,
                  background_gtf: str | os.PathLike | None = None, no_background: bool = False) -> dict:
    """``crossreg sldp-profiles``: signed LD profiles of variant scores (targets) and the background.

    Args:
        cache_dir: panel cache (``sldp-panel``).
        scores: ``crossreg score-variants`` HDF5 (SAD of the panel SNPs, signed to ALT).
        out: profiles ``.npz`` to write.
        tracks: track identifiers to use (default all).
        panel_prefix: the panel the cache was built from: the background's MAF bins need its
            genotypes (required unless ``no_background``).
        background_gtf: GTF for the coding / UTR / intron background (else MAF bins only).
        no_background: fit without background annotations.

    Returns:
        Summary: out, targets, background names, allele reconciliation reports (text).
    """
    from crossreg.io.plink import read_panel
    from crossreg.sldp import annotations_from_scores, compute_profiles, load_panel_cache
    from crossreg.sldp.background import background_annotations

    cache = load_panel_cache(cache_dir)
    annotations = annotations_from_scores(scores, tracks=list(tracks) if tracks else None)
    background = None
    if not no_background:
        if panel_prefix is None:
            raise InputError("sldp-profiles: the background annotations need --panel (the PLINK prefix the cache was "
                             "built from), or give --no-background")
        panels = read_panel(panel_prefix, cache.chroms)
        background = pd.concat([background_annotations(panels[c], background_gtf) for c in cache.chroms],
                               ignore_index=True)
    elif background_gtf is not None:
        raise InputError("sldp-profiles: --background-gtf and --no-background contradict each other")
    profiles = compute_profiles(cache, annotations, background=background)
    profiles.save(out)
    return {"out": str(out), "targets": len(profiles.target_names), "background": profiles.background_names,
            "reports": [r.text() for r in profiles.reports]}


def regression_step(cache_dir: str | os.PathLike, profiles: str | os.PathLike, sumstats: str | os.PathLike,
                    out: str | os.PathLike, *, phenotype: str | None = None, flips: int = 1_000_000, seed: int = 0,
                    jk_blocks: int = 300, rng: str = "fast", fastp: bool = False,
                    ldscores: str | os.PathLike | None = None, duplicates: str = "error") -> dict:
    """``crossreg sldp``: the regression of one phenotype on every target's profile.

    Args:
        cache_dir: panel cache; profiles: ``sldp-profiles`` output made on it.
        sumstats: ``SNP A1 A2 Z N`` text (.gz) or parquet.
        out: TSV to write (see the module docstring); ``<out>.json`` beside it.
        phenotype: name in the table (default: the file name without its extensions).
        flips: maximum sign flips (T); seed, rng, fastp, jk_blocks: as :func:`crossreg.sldp.run_sldp`.
        ldscores: ldsc-format prefix (default: computed from the panel).
        duplicates: repeated SNP ids in the sumstats: ``error`` or ``drop``.

    Returns:
        Summary: out, phenotype, targets, h2g, the smallest p and its track.
    """
    from crossreg.io.sumstats import read_sumstats
    from crossreg.sldp import load_panel_cache, load_profiles, run_sldp

    out = Path(out)
    name = phenotype or Path(sumstats).name.split(".")[0]
    cache = load_panel_cache(cache_dir)
    prof = load_profiles(profiles, cache=cache)
    table = read_sumstats(sumstats, duplicates=duplicates)
    res = run_sldp(cache, None, table, profiles=prof, T=int(flips), seed=seed, jk_blocks=jk_blocks, rng=rng,
                   fastp=fastp, ldscores=ldscores, chroms=prof.chroms, sumstats_name=name)
    res.insert(0, "phenotype", name)
    with atomic_open(out, "w") as fh:
        res.to_csv(fh, sep="\t", index=False, float_format="%.10g", na_rep="NA")
    side = {"format": "crossreg-sldp-phenotype", "format_version": 1, "crossreg_version": __version__,
            "phenotype": name, "sumstats": str(sumstats), "profiles": str(profiles), "cache": str(cache_dir),
            "dropped_duplicate_rows": int(table.attrs.get("dropped_duplicates", 0)),
            "heritability": res.attrs.get("heritability"), "settings": res.attrs.get("settings"),
            "reports": [r.text() for r in res.attrs.get("reports", [])]}
    with atomic_open(out.with_suffix(out.suffix + ".json"), "w") as fh:
        json.dump(side, fh, indent=1, sort_keys=True, default=str)
        fh.write("\n")
    best = res.loc[res["p"].idxmin()] if len(res) else None
    return {"out": str(out), "phenotype": name, "targets": int(len(res)), "h2g": float(res["h2g"].iloc[0]) if len(res) else None,
            "best": None if best is None else {"annotation": best["annotation"], "z": float(best["z"]),
                                               "p": float(best["p"])}}


def gather_step(inputs: Sequence[str | os.PathLike], out_dir: str | os.PathLike, *, fdr: float = 0.05,
                scores: str | os.PathLike | None = None, n_clusters: int | None = None) -> dict:
    """``crossreg sldp-gather``: every phenotype's table -> one table with FDR, z heat map, track clusters.

    Args:
        inputs: ``sldp`` TSVs (one per phenotype; any order).
        out_dir: folder for ``results.tsv`` (all rows, plus ``q`` = Benjamini-Hochberg over
            every track x phenotype test, and ``description``), ``z.tsv`` (tracks x
            phenotypes signed z), ``z_heatmap.png`` (cells with q <= fdr marked),
            ``clusters.tsv`` (track, cluster, order), ``z_clusters.png`` and ``summary.json``.
        fdr: level at which cells are marked and counted.
        scores: the score HDF5 the profiles came from: its track descriptions label the rows.
        n_clusters: clusters to cut the track tree into (default: automatic cut).

    Returns:
        Summary (also ``summary.json``): phenotypes, tracks, tests, significant, per
        phenotype the best track.
    """
    from statsmodels.stats.multitest import multipletests

    from crossreg.sldp.plots import cluster_tracks, plot_track_clusters, plot_z_heatmap

    if not inputs:
        raise InputError("sldp-gather: no input tables")
    frames = []
    for path in inputs:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"sldp-gather: {path}: no such file")
        frame = pd.read_csv(path, sep="\t", dtype={"phenotype": str, "annotation": str})
        missing = {"phenotype", "annotation", "z", "p", "mu", "se", "rf"} - set(frame.columns)
        if missing:
            raise InputError(f"sldp-gather: {path} is not an sldp table (missing column(s) {', '.join(sorted(missing))})")
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    dup = table.duplicated(["phenotype", "annotation"])
    if dup.any():
        row = table.loc[dup].iloc[0]
        raise InputError(f"sldp-gather: phenotype {row['phenotype']!r} and track {row['annotation']!r} appear twice")
    table = table.sort_values(["phenotype", "annotation"], kind="stable").reset_index(drop=True)
    p = table["p"].to_numpy(np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    table.insert(table.columns.get_loc("p") + 1, "q", q)
    labels = _track_labels(scores) if scores is not None else {}
    table.insert(2, "description", [labels.get(a, "") for a in table["annotation"]])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_open(out_dir / "results.tsv", "w") as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.10g", na_rep="NA")
    z = table.pivot(index="annotation", columns="phenotype", values="z")
    qm = table.pivot(index="annotation", columns="phenotype", values="q")
    row_names = {a: (f"{a} {labels[a]}" if labels.get(a) else a) for a in z.index}
    with atomic_open(out_dir / "z.tsv", "w") as fh:
        z.to_csv(fh, sep="\t", float_format="%.10g", na_rep="NA")
    shown = z.rename(index=row_names)
    mark = (qm <= fdr).rename(index=row_names)
    plot_z_heatmap(shown, out_dir / "z_heatmap.png", title=f"SLDP signed z (cells with q <= {fdr:g} marked)", mark=mark)
    outputs = ["results.tsv", "z.tsv", "z_heatmap.png"]
    if len(z) >= 2:
        clusters = cluster_tracks(z.fillna(0.0), n_clusters=n_clusters)
        with atomic_open(out_dir / "clusters.tsv", "w") as fh:
            clusters.to_csv(fh, sep="\t")
        plot_track_clusters(z.fillna(0.0), clusters, out_dir / "z_clusters.png", title="tracks clustered by SLDP z profile")
        outputs += ["clusters.tsv", "z_clusters.png"]
    best = {}
    for phen, rows in table.groupby("phenotype", sort=True):
        r = rows.loc[rows["p"].idxmin()]
        best[phen] = {"annotation": r["annotation"], "description": r["description"], "z": float(r["z"]),
                      "p": float(r["p"]), "q": float(r["q"]), "rf": float(r["rf"])}
    summary = {"format": GATHER_FORMAT, "format_version": GATHER_FORMAT_VERSION, "crossreg_version": __version__,
               "phenotypes": sorted(table["phenotype"].unique().tolist()), "tracks": int(z.shape[0]),
               "tests": int(len(table)), "fdr": fdr, "significant": int(np.nansum(q <= fdr)),
               "best_track_per_phenotype": best, "outputs": outputs}
    with atomic_open(out_dir / "summary.json", "w") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return summary


def _track_labels(scores: str | os.PathLike) -> dict[str, str]:
    """Track identifier -> description from a score HDF5."""
    from crossreg.io.scores import open_scores

    with open_scores(scores) as h5:
        ids = h5["target_ids"].asstr()[:]
        labels = h5["target_labels"].asstr()[:]
    return dict(zip(ids.tolist(), labels.tolist()))
