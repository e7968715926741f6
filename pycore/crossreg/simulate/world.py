"""``simulate()``: build the two-genome world and write it, with its truth, to a folder.

Random streams are derived from ``(seed, component, ...)`` so every component draws from its
own generator: the same seed and params always give the same bytes.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crossreg
from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open
from crossreg.io.writers import bigwig_writers, write_bed, write_chain, write_fasta, write_gtf, write_vcf
from crossreg.simulate import alignment, assays, coding, denovo, eqtl, evolution, features as feat, grammar as gram, \
    population, truth, variants
from crossreg.simulate.params import GENOMES, resolve_params
from crossreg.simulate.signals import ActivityModel

log = logging.getLogger(__name__)

# component ids of the random streams
_GRAMMAR, _ANCESTOR, _LAYOUT, _BLOCKS, _SPECIES, _GAINS, _TRACKS, _RENDER, _ARTEFACTS, _VARIANTS = range(10)
_CODING, _POPULATION, _EQTL, _DENOVO = range(10, 14)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _intervals_mask(n: int, starts, ends, pad: int = 0) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for s, e in zip(starts, ends):
        m[max(0, int(s) - pad):int(e) + pad] = True
    return m


def simulate(out_dir: str | Path, preset: str = "tiny", seed: int = 0, params: dict | str | Path | None = None
             ) -> dict[str, Any]:
    """Simulate a human-like and a mouse-like genome with tracks, alignment, variants and truth.

    Args:
        out_dir: output folder (created; files in it are overwritten).
        preset: ``tiny`` (< 1 Mb per genome, seconds), ``demo`` (~6 Mb, ~14 tracks per genome)
            or ``bench`` (100+ Mb, 100+ tracks).
        seed: non-negative integer; the same seed and params give byte-identical outputs.
        params: overrides of the preset (nested dict, or a YAML/JSON file path); unknown keys
            raise :class:`~crossreg.errors.InputError`.

    Returns:
        Summary: ``out_dir``, ``preset``, ``seed``, per genome ``{"fasta", "targets", "chromosomes",
        "length", "tracks", "genes", "elements"}``, ``chain`` (path, chains, aligned_bp,
        identity), ``vcf`` (path, variants by label), ``population`` (ld_panel folder, ld_blocks,
        blocks, panel_vcf, snps, panel_size, cohort_size), ``eqtl`` (dir, tissues: name -> pairs
        file, pairs), ``denovo`` (path, families, variants by ``role:label``), ``truth`` folder
        and ``seconds``.

    Raises:
        InputError: bad preset, seed or params.
    """
    t0 = time.perf_counter()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"simulate: seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    p = resolve_params(preset, params)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    grammar = gram.build_grammar(p, _rng(seed, _GRAMMAR))
    anc = evolution.make_ancestor(p, _rng(seed, _ANCESTOR))
    layout = gram.plan_ancestor(p, grammar, anc, _rng(seed, _LAYOUT))
    L = anc.size
    constrained = gram.constrained_mask(layout, L)
    prom = [(s, e) for k, s, e in zip(layout.el_kind, layout.el_start, layout.el_end) if k == "promoter"]
    exon_iv = [(a, b) for ex in layout.exons for a, b in ex]
    protect_del = _intervals_mask(L, *zip(*(prom + exon_iv)))
    protect_ins = protect_del | _intervals_mask(L, layout.el_start, layout.el_end, pad=50)
    forbidden = _intervals_mask(L, layout.gene_start, layout.gene_end, pad=int(p["regulation"]["promoter_width"]))
    forbidden |= _intervals_mask(L, layout.el_start, layout.el_end, pad=1000)
    blocks = evolution.synteny_blocks(L, p["evolution"]["synteny_block_mean"], forbidden, _rng(seed, _BLOCKS))
    most = max(p["genome"]["chromosomes"].values())
    if len(blocks) < most:
        raise InputError(f"params: 'evolution.synteny_block_mean' ({p['evolution']['synteny_block_mean']}) leaves "
                         f"{len(blocks)} syntenic blocks, fewer than the {most} chromosomes asked for in "
                         "'genome.chromosomes'; lower it or raise 'genome.ancestral_length'")
    log.info("ancestor: %d bp, %d genes, %d elements, %d blocks", L, layout.gene_start.size, len(layout.el_kind),
             len(blocks))

    genomes: dict[str, evolution.Genome] = {}
    feats: dict[str, feat.GenomeFeatures] = {}
    n_enh = sum(k == "enhancer" for k in layout.el_kind)
    for gi, name in enumerate(GENOMES):
        rng = _rng(seed, _SPECIES, gi)
        pos, base, lost = gram.turnover_losses(layout, grammar, p["evolution"]["turnover_loss"], rng)
        genome = evolution.evolve_species(p, name, anc, blocks, protect_del, protect_ins, constrained,
                                          (pos, base), rng)
        f = feat.map_features(layout, genome, grammar, lost)
        feat.add_gained(f, genome, p, grammar, int(round(p["evolution"]["turnover_gain"] * n_enh)),
                        _rng(seed, _GAINS, gi))
        genomes[name], feats[name] = genome, f
        log.info("%s: %d chromosomes, %d bp", name, len(genome.chroms), sum(len(c) for c in genome.chroms))

    chains = alignment.build_chains(genomes["human"], genomes["mouse"], int(p["evolution"]["chain_max_gap"]))
    aligned = sum(c.aligned for c in chains)
    identity = sum(c.matches for c in chains) / max(1, aligned)

    summary: dict[str, Any] = {"out_dir": str(out), "preset": preset, "seed": seed, "genomes": {}}
    truth_dir = out / "truth"
    tfs_t, cts_t, act_t = truth.tf_tables(grammar)
    truth.write_tsv(truth_dir / "tfs.tsv", tfs_t)
    truth.write_tsv(truth_dir / "cell_types.tsv", cts_t)
    truth.write_tsv(truth_dir / "tf_activity.tsv", act_t)

    human_state = None
    for gi, name in enumerate(GENOMES):
        genome, f = genomes[name], feats[name]
        gdir = out / name
        tdir = truth_dir / name
        sizes = genome.sizes
        write_fasta(gdir / "genome.fa.gz", [(c.name, c.seq) for c in genome.chroms])
        model = ActivityModel(p, grammar, name)
        specs = assays.track_specs(p, grammar, name, _rng(seed, _TRACKS, gi))
        forbid = []
        for c in genome.chroms:
            el = f.elements[f.elements.chrom == c.name]
            m = _intervals_mask(len(c), el.start, el.end, pad=500)
            g = f.genes[f.genes.chrom == c.name] if len(f.genes) else f.genes
            if len(g):
                m |= _intervals_mask(len(c), g.tss, g.tss + 1, pad=2000)
            forbid.append(m)
        artefacts = assays.choose_artefacts(genome, p, forbid, _rng(seed, _ARTEFACTS, gi))

        el_act, site_rows, gene_rows, link_rows, acts, chrom_genes = [], [], [], [], [], []
        with bigwig_writers([(gdir / s.file, sizes) for s in specs]) as writers:
            for ci, chrom in enumerate(genome.chroms):
                act = model.chromosome(chrom.seq)
                g = f.genes[f.genes.chrom == chrom.name] if len(f.genes) else pd.DataFrame(
                    columns=["gene_id", "tss", "strength"])
                tss = g.tss.to_numpy(np.int64)
                strength = g.strength.to_numpy(np.float64)
                X, P, E = model.cage_expected(act.access, tss // model.r, strength)
                masks = assays.chrom_masks(chrom, artefacts, ci, model.r)
                for ti, spec in enumerate(specs):
                    s, e, v = assays.render_track(spec, p, model, act, chrom, masks, tss, X,
                                                  _rng(seed, _RENDER, gi, ti, ci))
                    writers[ti].add(chrom.name, s, e, v)
                el_act.append(truth.element_activity(f, chrom.name, act, model.r, model.cells))
                site_rows.append(truth.site_table(f, chrom.name, act, model))
                link_rows.append(truth.link_table(f, chrom.name, act, model, tss, g.gene_id.tolist()))
                gt = g.drop(columns=["anc_gene"]).reset_index(drop=True) if len(g) else g
                for c_i, cell in enumerate(model.cells):
                    gt[f"P_{cell}"] = np.round(P[:, c_i], 4)
                for c_i, cell in enumerate(model.cells):
                    gt[f"E_{cell}"] = np.round(E[:, c_i], 4)
                for c_i, cell in enumerate(model.cells):
                    gt[f"cage_{cell}"] = np.round(X[:, c_i] * p["assays"]["cage"]["strength_median"], 3)
                gene_rows.append(gt)
                if name == "human":
                    acts.append(act)
                    chrom_genes.append(variants.ChromGenes(g.gene_id.tolist(), tss, strength, P, E))

        targets = pd.DataFrame([{"index": i, "genome": name, "identifier": s.identifier, "file": s.file,
                                 "clip": s.clip, "clip_soft": s.clip_soft, "scale": s.scale, "sum_stat": s.sum_stat,
                                 "description": s.description, "group": s.group} for i, s in enumerate(specs)])
        truth.write_tsv(gdir / "targets.txt", targets)
        _write_annotation(gdir, genome, f, artefacts, p, _rng(seed, _CODING, gi))

        elements = f.elements.merge(pd.concat(el_act, ignore_index=True), on="element_id", how="left")
        truth.write_tsv(tdir / "elements.tsv", elements)
        truth.write_tsv(tdir / "planted_sites.tsv", f.planted)
        truth.write_tsv(tdir / "motif_sites.tsv", pd.concat(site_rows, ignore_index=True))
        truth.write_tsv(tdir / "genes.tsv", pd.concat(gene_rows, ignore_index=True))
        truth.write_tsv(tdir / "links.tsv", pd.concat([x for x in link_rows if len(x)], ignore_index=True)
                        if any(len(x) for x in link_rows) else pd.DataFrame())
        truth.write_tsv(tdir / "segments.tsv", pd.DataFrame(evolution.segments_table(genome, blocks)))
        truth.write_tsv(tdir / "artefacts.tsv", pd.DataFrame(
            [{"chrom": genome.chroms[a.chrom].name, "start": a.start, "end": a.end, "source": a.source,
              "fold": round(a.fold, 3)} for a in artefacts], columns=["chrom", "start", "end", "source", "fold"]))
        truth.write_tsv(tdir / "tracks.tsv", pd.DataFrame(
            [{"identifier": s.identifier, "assay": s.assay, "cell_type": s.cell, "tf": s.tf or ".",
              "replicate": s.replicate, "group": s.group, "depth": round(s.depth, 4)} for s in specs]))
        summary["genomes"][name] = {
            "dir": str(gdir), "fasta": str(gdir / "genome.fa.gz"), "targets": str(gdir / "targets.txt"),
            "chromosomes": len(genome.chroms), "length": sum(n for _, n in sizes), "tracks": len(specs),
            "genes": len(f.genes), "elements": len(f.elements)}
        if name == "human":
            human_state = (model, acts, chrom_genes)

    # alignment
    chain_path = out / "alignment" / "human_to_mouse.chain"
    write_chain(chain_path, chains)
    summary["chain"] = {"path": str(chain_path), "chains": len(chains), "aligned_bp": int(aligned),
                        "identity": round(identity, 4),
                        "minus_strand_chains": sum(c.q_strand == "-" for c in chains)}

    # variants on the human genome
    model, acts, chrom_genes = human_state
    var = variants.plant_variants(p, model, genomes["human"], feats["human"], acts, chrom_genes,
                                  _rng(seed, _VARIANTS))
    truth.write_tsv(truth_dir / "variants.tsv", var)
    af_rng = _rng(seed, _VARIANTS, 1)
    recs = [(r.chrom, int(r.pos), r.id, r.ref, r.alt, ".", "PASS", f"AF={af:.3f}")
            for r, af in zip(var.itertuples(index=False), af_rng.uniform(0.01, 0.5, len(var)))]
    vcf_path = out / "human" / "variants.vcf.gz"
    write_vcf(vcf_path, genomes["human"].sizes, recs,
              meta=["source=crossreg simulate", "reference=genome.fa.gz"],
              info=['ID=AF,Number=A,Type=Float,Description="Simulated allele frequency"'])
    summary["vcf"] = {"path": str(vcf_path), "variants": var.label.value_counts().sort_index().to_dict()
                      if len(var) else {}}

    # population: LD panel, eQTL statistics, de novo variants (human)
    em = variants.EffectModel(p, model, genomes["human"], chrom_genes, acts)
    hdir, htruth = out / "human", truth_dir / "human"
    panels = population.simulate_population(p, genomes["human"], feats["human"],
                                            [_rng(seed, _POPULATION, ci) for ci in range(len(genomes["human"].chroms))])
    pop = population.write_panel(hdir, panels, genomes["human"].sizes, int(p["population"]["snps_per_block"]))
    pop.update({"panel_size": int(p["population"]["panel_size"]), "cohort_size": int(p["population"]["cohort_size"])})
    tissues = eqtl.tissue_map(p, model.cells)
    eq, eq_truth = eqtl.simulate_eqtl(p, em, panels, chrom_genes, feats["human"], hdir,
                                      {t: _rng(seed, _EQTL, i) for i, (t, _) in enumerate(tissues)})
    truth.write_tsv(htruth / "panel_snps.tsv", eq_truth["panel_snps"])
    truth.write_tsv(htruth / "snp_gene_effects.tsv", eq_truth["snp_gene_effects"])
    truth.write_tsv(htruth / "eqtl_genes.tsv", eq_truth["eqtl_genes"])
    truth.write_tsv(truth_dir / "eqtl_tissues.tsv", eq_truth["eqtl_tissues"])
    dn_public, dn_truth = denovo.simulate_denovo(p, em, genomes["human"], feats["human"], acts, _rng(seed, _DENOVO))
    truth.write_tsv(hdir / "denovo.tsv", dn_public)
    truth.write_tsv(htruth / "denovo.tsv", dn_truth)
    summary["population"] = pop
    summary["eqtl"] = eq
    summary["denovo"] = {"path": str(hdir / "denovo.tsv"), "families": int(p["denovo"]["families"]),
                         "variants": {f"{role}:{label}": int(n) for (role, label), n
                                      in dn_truth.groupby(["role", "label"]).size().items()}}

    # orthologs
    h, m = feats["human"].genes, feats["mouse"].genes
    orth = h[["gene_name", "gene_id", "chrom", "tss", "strand"]].merge(
        m[["gene_name", "gene_id", "chrom", "tss", "strand"]], on="gene_name", suffixes=("_human", "_mouse"))
    orth = orth.rename(columns={"gene_id_human": "human_gene_id", "chrom_human": "human_chrom",
                                "tss_human": "human_tss", "gene_id_mouse": "mouse_gene_id",
                                "chrom_mouse": "mouse_chrom", "tss_mouse": "mouse_tss",
                                "strand_human": "human_strand", "strand_mouse": "mouse_strand"})
    truth.write_tsv(truth_dir / "orthologs.tsv", orth[["gene_name", "human_gene_id", "human_chrom", "human_tss",
                                                       "mouse_gene_id", "mouse_chrom", "mouse_tss", "human_strand",
                                                       "mouse_strand"]])
    summary["truth"] = str(truth_dir)

    record = {"crossreg_version": crossreg.__version__, "preset": preset, "seed": seed, "params": p,
              "genomes": {g: {"chromosomes": [[n, ln] for n, ln in genomes[g].sizes],
                              "tracks": summary["genomes"][g]["tracks"]} for g in GENOMES},
              "alignment": {k: v for k, v in summary["chain"].items() if k != "path"},
              "variants": summary["vcf"]["variants"],
              "population": {k: pop[k] for k in ("snps", "blocks", "panel_size", "cohort_size")},
              "eqtl": {"pairs": eq["pairs"], "tissues": {
                  r.tissue: {"cell_type": r.cell_type, "n_samples": int(r.n_samples), "n_genes": int(r.n_genes),
                             "n_genes_with_effects": int(r.n_genes_with_effects),
                             "mean_cis_h2": float(r.mean_cis_h2)} for r in eq_truth["eqtl_tissues"].itertuples()}},
              "denovo": summary["denovo"]["variants"]}
    with atomic_open(out / "simulation.json", "w") as fh:
        json.dump(record, fh, indent=2, sort_keys=True)
        fh.write("\n")
    stats = "\n".join(
        [f"- {g}: {len(genomes[g].chroms)} chromosomes, {summary['genomes'][g]['length']:,} bp, "
         f"{summary['genomes'][g]['tracks']} tracks, {summary['genomes'][g]['genes']} genes, "
         f"{summary['genomes'][g]['elements']} elements" for g in GENOMES]
        + [f"- alignment: {len(chains)} chains ({summary['chain']['minus_strand_chains']} on the minus strand), "
           f"{aligned:,} aligned bp at {identity:.1%} identity (target {p['evolution']['identity']:.0%})",
           f"- variants: {summary['vcf']['variants']}",
           f"- population: {pop['snps']:,} panel SNPs in {pop['blocks']} LD blocks; LD panel {pop['panel_size']} "
           f"people, eQTL cohort {pop['cohort_size']} people; SNPs per chromosome: "
           + ", ".join(f"{c.chrom} {c.pos.size}" for c in panels),
           "- eQTL tissues: " + ", ".join(f"{r.tissue} ({r.cell_type}: {r.n_genes_with_effects} of {r.n_genes} "
                                          f"genes with effects, mean cis h2 {r.mean_cis_h2:.2f})"
                                          for r in eq_truth["eqtl_tissues"].itertuples()),
           f"- de novo: {p['denovo']['families']} families, {summary['denovo']['variants']}"])
    truth.write_readme(out / "README.md", p, preset, seed, crossreg.__version__, stats)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    log.info("simulate: wrote %s in %.1f s", out, summary["seconds"])
    return summary


def _write_annotation(gdir: Path, genome: evolution.Genome, f: feat.GenomeFeatures,
                      artefacts: list[assays.Artefact], params: dict, rng: np.random.Generator) -> None:
    """blacklist.bed, unmappable.bed, genes.gtf (with CDS, codons and UTRs) and tss.bed of one genome."""
    black, unmap = [], []
    for ci, c in enumerate(genome.chroms):
        rows = [(a.start, a.end, "artefact") for a in artefacts if a.chrom == ci]
        rows += [(int(s), int(e), "satellite") for s, e in evolution.runs(c.kind == evolution.SATELLITE)]
        rows += [(int(s), int(e), "simple_repeat") for s, e in evolution.runs(c.kind == evolution.SIMPLE_REPEAT)]
        black += [(c.name, s, e, n) for s, e, n in sorted(rows)]
        unmap += [(c.name, int(s), int(e), "unmappable") for s, e in evolution.runs(c.unmap)]
    write_bed(gdir / "blacklist.bed", black)
    write_bed(gdir / "unmappable.bed", unmap)
    recs, tss = [], []
    utr5, utr3 = params["regulation"]["utr5_length"], params["regulation"]["utr3_length"]
    for row in f.genes.itertuples(index=False):
        attrs = {"gene_id": row.gene_id, "gene_name": row.gene_name, "gene_type": "protein_coding"}
        tattrs = {"gene_id": row.gene_id, "transcript_id": f"{row.gene_id}.1", "gene_name": row.gene_name,
                  "gene_type": "protein_coding"}
        ex = f.exons[row.gene_id]
        n = len(ex)
        u5 = int(rng.integers(int(utr5[0]), int(utr5[1]) + 1))
        u3 = int(rng.integers(int(utr3[0]), int(utr3[1]) + 1))
        lens = [int(b - a) for a, b in (ex if row.strand == "+" else ex[::-1])]
        plan = coding.plan_cds(lens, u5, u3)
        if plan is None:
            attrs["gene_type"] = tattrs["gene_type"] = "lncRNA"
        recs.append((row.chrom, "crossreg_sim", "gene", row.start + 1, row.end, ".", row.strand, ".", attrs))
        recs.append((row.chrom, "crossreg_sim", "transcript", row.start + 1, row.end, ".", row.strand, ".", tattrs))
        for k, (a, b) in enumerate(ex):
            num = k + 1 if row.strand == "+" else n - k
            recs.append((row.chrom, "crossreg_sim", "exon", int(a) + 1, int(b), ".", row.strand, ".",
                         {**tattrs, "exon_number": num}))
        if plan is not None:
            recs += coding.coding_records(row.chrom, row.strand, ex, plan, tattrs)
        tss.append((row.chrom, int(row.tss), int(row.tss) + 1, row.gene_id, 0, row.strand))
    write_gtf(gdir / "genes.gtf", recs)
    order = {c.name: i for i, c in enumerate(genome.chroms)}
    write_bed(gdir / "tss.bed", sorted(tss, key=lambda r: (order[r[0]], r[1], r[3])))
