"""Human SNPs with known effects: motif-breaking and motif-creating causal variants in active
elements, and neutral variants (in background sequence and inside elements but off motifs).

Each variant's expected effect is computed exactly with the simulator's own activity model:
accessibility is recomputed on a local window for the reference and the alternative allele
(:meth:`ActivityModel.local_accessibility`), giving per cell type the change in expected DNase
coverage summed over the locus (``dnase_delta_<cell>``, units of summed per-base coverage at
depth 1, i.e. of a 128-bp ``sum`` bin) and the change in expected CAGE reads summed over TSSs
within ``max_link_distance`` (``cage_delta_<cell>``).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from crossreg.simulate.evolution import Genome
from crossreg.simulate.features import GenomeFeatures
from crossreg.simulate.sequence import ALPHABET, N
from crossreg.simulate.signals import ActivityModel, ChromActivity

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ChromGenes:
    """Expected CAGE inputs of the genes on one chromosome (arrays over its n_g genes).

    Attributes:
        gene_id: list of str.
        tss: int64 (n_g,).
        strength: float64 (n_g,).
        P: float64 (n_g, n_cells) promoter accessibility.
        E: float64 (n_g, n_cells) enhancer input.
    """

    gene_id: list[str]
    tss: np.ndarray
    strength: np.ndarray
    P: np.ndarray
    E: np.ndarray


class EffectModel:
    """Exact expected effects of single-base changes on one genome."""

    def __init__(self, params: dict, model: ActivityModel, genome: Genome, genes: list[ChromGenes]):
        self.params = params
        self.model = model
        self.genome = genome
        self.genes = genes
        mw = int(model.widths.max())
        self.reach = model.coop_bins // 2 + model.cpg_bins // 2 + mw // model.r + 3
        self.peak = params["assays"]["dnase"]["peak"]
        self.cage_scale = params["assays"]["cage"]["strength_median"]

    def effect(self, ci: int, pos: int, alt: int) -> tuple[np.ndarray, np.ndarray, str]:
        """Expected change of DNase and CAGE per cell type when base ``pos`` becomes ``alt``.

        Returns:
            (dnase_delta float64 (n_cells,), cage_delta float64 (n_cells,), most affected gene id or '.').
        """
        m = self.model
        seq = self.genome.chroms[ci].seq
        kb = pos // m.r
        lo = max(0, kb - self.reach)
        hi = min(m.n_fine(seq.size), kb + self.reach + 1)
        ref_base = seq[pos]
        ref_a = m.local_accessibility(seq, lo, hi).astype(np.float64)
        seq[pos] = alt
        try:
            alt_a = m.local_accessibility(seq, lo, hi).astype(np.float64)
        finally:
            seq[pos] = ref_base
        da = alt_a - ref_a
        dnase = da.sum(axis=1) * self.peak * m.r
        cage = np.zeros(da.shape[0])
        best, best_val = ".", 0.0
        cg = self.genes[ci]
        if cg.tss.size:
            tb = cg.tss // m.r
            near = np.flatnonzero(np.abs(tb - kb) <= m.link_bins + self.reach)
            basal, gain = self.params["regulation"]["promoter_basal"], self.params["regulation"]["link_gain"]
            for g in near:
                k0 = (lo - tb[g]) + m.link_bins
                kern = np.zeros(hi - lo)
                valid = (np.arange(hi - lo) + k0 >= 0) & (np.arange(hi - lo) + k0 < m.link_kernel.size)
                kern[valid] = m.link_kernel[np.arange(hi - lo)[valid] + k0]
                dE = da @ kern
                dP = da[:, tb[g] - lo] if lo <= tb[g] < hi else np.zeros(da.shape[0])
                P, E = cg.P[g], cg.E[g]
                x0 = P * (basal + gain * E)
                x1 = (P + dP) * (basal + gain * (E + dE))
                d = cg.strength[g] * (x1 - x0) * self.cage_scale
                cage += d
                if np.abs(d).max() > abs(best_val):
                    best, best_val = cg.gene_id[g], float(np.abs(d).max())
        return dnase, cage, best


def _element_index(features: GenomeFeatures, chrom: str):
    el = features.elements[features.elements.chrom == chrom]
    return el.start.to_numpy(np.int64), el.end.to_numpy(np.int64), el.element_id.tolist()


def _which_element(starts, ends, ids, pos: int, flank: int = 150) -> str:
    """The element containing ``pos``, else the nearest one within ``flank`` bp, else '.'."""
    i = int(np.searchsorted(starts, pos, side="right")) - 1
    best, best_d = ".", flank + 1
    for j in range(max(0, i - 2), min(len(ids), i + 3)):
        d = 0 if starts[j] <= pos < ends[j] else min(abs(pos - starts[j]), abs(pos - (ends[j] - 1)))
        if d < best_d:
            best, best_d = ids[j], d
    return best


def plant_variants(params: dict, model: ActivityModel, genome: Genome, features: GenomeFeatures,
                   acts: list[ChromActivity], genes: list[ChromGenes], rng: np.random.Generator) -> pd.DataFrame:
    """Choose causal and neutral SNPs and compute their expected effects.

    Args:
        params: resolved params.
        model: the genome's activity model.
        genome: the genome (its sequence is the VCF reference).
        features: its annotation.
        acts: per-chromosome activity.
        genes: per-chromosome CAGE inputs.
        rng: random generator.

    Returns:
        One row per variant, sorted by chromosome and position, with columns id, chrom, pos
        (1-based), ref, alt, label (causal_break | causal_create | neutral), context, tf,
        site_start, site_strand, ref_score, alt_score, element_id, expected_sign, best_cell,
        dnase_delta_<cell>..., cage_delta_<cell>..., cage_gene.
    """
    vp = params["variants"]
    em = EffectModel(params, model, genome, genes)
    cells = model.cells
    tfs = model.grammar.tfs
    used: set[tuple[int, int]] = set()
    rows: list[dict] = []
    lengths = np.asarray([len(c) for c in genome.chroms], dtype=np.float64)
    el_idx = [_element_index(features, c.name) for c in genome.chroms]
    active_tf = (model.activity >= 0.5).any(axis=1)

    def record(ci, pos, alt, label, context, tf=None, s_start=-1, s_strand=0, ref_score=np.nan, alt_score=np.nan,
               dnase=None, cage=None, gene="."):
        seq = genome.chroms[ci].seq
        best = int(np.argmax(np.abs(dnase)))
        sign = 0 if label == "neutral" else int(np.sign(dnase[best]))
        row = {"chrom": genome.chroms[ci].name, "pos": pos + 1, "ref": chr(ALPHABET[seq[pos]]), "alt": chr(ALPHABET[alt]),
               "label": label, "context": context, "tf": tf or ".", "site_start": s_start,
               "site_strand": {1: "+", -1: "-"}.get(s_strand, "."), "ref_score": round(float(ref_score), 4),
               "alt_score": round(float(alt_score), 4), "element_id": _which_element(*el_idx[ci], pos),
               "expected_sign": sign, "best_cell": cells[best]}
        for c, name in enumerate(cells):
            row[f"dnase_delta_{name}"] = round(float(dnase[c]), 4)
        for c, name in enumerate(cells):
            row[f"cage_delta_{name}"] = round(float(cage[c]), 4)
        row["cage_gene"] = gene
        rows.append(row)
        used.add((ci, pos))

    # motif-breaking: strong sites of active TFs inside accessible elements
    cand = []
    for ci, act in enumerate(acts):
        s = act.sites
        st, en, _ = el_idx[ci]
        if st.size == 0 or len(s) == 0:
            continue
        centre = s.start + model.widths[s.tf] // 2
        j = np.searchsorted(st, centre, side="right") - 1
        inside = (j >= 0) & (centre < en[np.clip(j, 0, None)])
        strong = (s.occupancy >= 0.7) & active_tf[s.tf] & inside
        kb = centre // model.r
        acc = act.access[:, np.clip(kb, 0, act.access.shape[1] - 1)].max(axis=0)
        for k in np.flatnonzero(strong & (acc >= 0.3)):
            cand.append((ci, k))
    order = rng.permutation(len(cand))
    n_done = 0
    for o in order:
        if n_done >= vp["causal_break"]:
            break
        ci, k = cand[o]
        s = acts[ci].sites
        tf = tfs[int(s.tf[k])]
        strand = int(s.strand[k])
        lo = tf.lo if strand > 0 else tf.lo[::-1, ::-1]
        seq = genome.chroms[ci].seq
        start = int(s.start[k])
        win = seq[start:start + tf.width]
        info = lo.max(axis=1) - lo.min(axis=1)
        cols = [c for c in np.argsort(-info)[:4] if win[c] == lo[c].argmax()]
        if not cols:
            continue
        col = int(cols[0])
        pos, alt = start + col, int(lo[col].argmin())
        if (ci, pos) in used:
            continue
        dn, cg, gene = em.effect(ci, pos, alt)
        best = int(np.argmax(np.abs(dn)))
        if dn[best] <= -vp["min_abs_effect"]:
            ref_score = float(lo[np.arange(tf.width), win].sum())
            alt_score = ref_score + float(lo[col, alt] - lo[col, win[col]])
            record(ci, pos, alt, "causal_break", "motif", tf.name, start, strand, ref_score, alt_score, dn, cg, gene)
            n_done += 1

    # motif-creating: one substitution lifts a sub-threshold window of an active TF over threshold
    n_done, tries = 0, 0
    enh = features.elements[features.elements.kind == "enhancer"]
    chrom_index = {c.name: i for i, c in enumerate(genome.chroms)}
    active_names = [t for i, t in enumerate(tfs) if active_tf[i] and t.name != "CTCF"]
    while n_done < vp["causal_create"] and tries < 40 * max(1, vp["causal_create"]) and len(enh) and active_names:
        tries += 1
        row = enh.iloc[int(rng.integers(0, len(enh)))]
        ci = chrom_index[row.chrom]
        seq = genome.chroms[ci].seq
        a, b = int(row.start) - 50, int(row.end) + 50
        if a < 0 or b > seq.size:
            continue
        tf = active_names[int(rng.integers(0, len(active_names)))]
        strand = int(rng.choice([-1, 1]))
        lo = tf.lo if strand > 0 else tf.lo[::-1, ::-1]
        region = seq[a:b]
        if (region >= N).any():
            continue
        win = np.lib.stride_tricks.sliding_window_view(region, tf.width)
        score = lo[np.arange(tf.width)[None, :], win].sum(axis=1)
        gain = lo.max(axis=1)[None, :] - lo[np.arange(tf.width)[None, :], win]
        best_gain = gain.max(axis=1)
        ok = np.flatnonzero((score < tf.threshold - 1.0) & (score + best_gain >= tf.threshold + 1.0))
        if ok.size == 0:
            continue
        w0 = int(rng.choice(ok))
        col = int(gain[w0].argmax())
        pos, alt = a + w0 + col, int(lo[col].argmax())
        if (ci, pos) in used:
            continue
        dn, cg, gene = em.effect(ci, pos, alt)
        best = int(np.argmax(np.abs(dn)))
        if dn[best] >= vp["min_abs_effect"]:
            record(ci, pos, alt, "causal_create", "motif", tf.name, a + w0, strand, float(score[w0]),
                   float(score[w0] + best_gain[w0]), dn, cg, gene)
            n_done += 1

    # neutral: background and in-element (off-motif) positions with ~no effect
    n_el = int(round(vp["neutral"] * vp["neutral_in_element_fraction"]))
    n_bg = int(vp["neutral"]) - n_el
    for want, context in ((n_bg, "background"), (n_el, "element")):
        n_done, tries = 0, 0
        while n_done < want and tries < 40 * max(1, want):
            tries += 1
            if context == "background":
                ci = int(rng.choice(len(lengths), p=lengths / lengths.sum()))
                pos = int(rng.integers(0, len(genome.chroms[ci])))
            else:
                if features.elements.empty:
                    break
                row = features.elements.iloc[int(rng.integers(0, len(features.elements)))]
                ci = chrom_index[row.chrom]
                pos = int(rng.integers(int(row.start), int(row.end)))
            c = genome.chroms[ci]
            if c.seq[pos] >= N or c.unmap[pos] or (ci, pos) in used:
                continue
            kb = pos // model.r
            acc = acts[ci].access[:, max(0, kb - 60):kb + 61].max()
            if context == "background":
                st, en, _ = el_idx[ci]
                near = (st < pos + 1000) & (en > pos - 1000)
                if acc >= 0.05 or near.any():
                    continue
            else:
                s = acts[ci].sites
                if acc < 0.5:
                    continue
                hit = (s.start <= pos + 2) & (s.start + model.widths[s.tf] > pos - 2) & (s.occupancy >= 0.02)
                if hit.any():
                    continue
            alt = int((c.seq[pos] + rng.integers(1, 4)) % 4)
            dn, cg, gene = em.effect(ci, pos, alt)
            if np.abs(dn).max() <= vp["max_neutral_effect"]:
                record(ci, pos, alt, "neutral", context, dnase=dn, cage=cg, gene=gene)
                n_done += 1

    df = pd.DataFrame(rows)
    if df.empty:
        return df
    order_c = {c.name: i for i, c in enumerate(genome.chroms)}
    df = df.assign(_o=df.chrom.map(order_c)).sort_values(["_o", "pos"], kind="stable").drop(columns="_o")
    df = df.reset_index(drop=True)
    df.insert(0, "id", [f"sim{i + 1:06d}" for i in range(len(df))])
    counts = df.label.value_counts().to_dict()
    log.info("variants: %s", counts)
    return df
