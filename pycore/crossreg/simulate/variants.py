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
from crossreg.simulate.sequence import ALPHABET, C, G, N
from crossreg.simulate.motifs import Sites
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

    def __init__(self, params: dict, model: ActivityModel, genome: Genome, genes: list[ChromGenes],
                 acts: list[ChromActivity] | None = None):
        self.params = params
        self.model = model
        self.genome = genome
        self.genes = genes
        self.acts = acts  # genome-wide scans, needed by batch_gene_effects
        mw = int(model.widths.max())
        self.reach = model.coop_bins // 2 + model.cpg_bins // 2 + mw // model.r + 3
        self.peak = params["assays"]["dnase"]["peak"]
        self.cage_scale = params["assays"]["cage"]["strength_median"]

    def effect(self, ci: int, pos: int, alt: int) -> tuple[np.ndarray, np.ndarray, str]:
        """Expected change of DNase and CAGE per cell type when base ``pos`` becomes ``alt``.

        Returns:
            (dnase_delta float64 (n_cells,), cage_delta float64 (n_cells,), most affected gene id or '.').
        """
        dnase, genes, per_gene = self.gene_effects(ci, pos, alt)
        cage, best = self.summarise(ci, genes, per_gene, dnase.shape[0])
        return dnase, cage, best

    def summarise(self, ci: int, genes: np.ndarray, per_gene: np.ndarray, n_cells: int) -> tuple[np.ndarray, str]:
        """(cage_delta float64 (n_cells,) summed over genes, id of the most affected gene or '.')."""
        cage = np.zeros(n_cells)
        best, best_val = ".", 0.0
        cg = self.genes[ci]
        for g, d in zip(genes, per_gene):
            cage += d
            if np.abs(d).max() > abs(best_val):
                best, best_val = cg.gene_id[g], float(np.abs(d).max())
        return cage, best

    def batch_effect(self, ci: int, pos: np.ndarray, alt: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """:meth:`effect` of many substitutions on one chromosome (via :meth:`batch_gene_effects`).

        Returns:
            (dnase_delta float64 (n, n_cells), cage_delta float64 (n, n_cells), most affected gene ids).
        """
        _, dnase, per = self.batch_gene_effects(ci, pos, alt)
        cage = np.zeros_like(dnase)
        best = ["."] * len(per)
        for j, item in enumerate(per):
            if item is not None:
                cage[j], best[j] = self.summarise(ci, item[0], item[1], dnase.shape[1])
        return dnase, cage, best

    def gene_effects(self, ci: int, pos: int, alt: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`effect`, with the CAGE change broken down by gene.

        Args:
            ci: chromosome index.
            pos: 0-based position.
            alt: new base code (0-3).

        Returns:
            (dnase_delta float64 (n_cells,), gene indices int64 (k,) into ``genes[ci]`` (every gene
            whose TSS is within reach, in TSS order), cage_delta float64 (k, n_cells) expected
            change of each gene's CAGE reads at depth 1).
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
        return self._deltas(ci, kb, lo, hi, alt_a - ref_a)

    def _deltas(self, ci: int, kb: int, lo: int, hi: int, da: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """DNase and per-gene CAGE changes from the accessibility change ``da`` (n_cells, hi - lo)."""
        m = self.model
        dnase = da.sum(axis=1) * self.peak * m.r
        cg = self.genes[ci]
        if not cg.tss.size:
            return dnase, np.zeros(0, np.int64), np.zeros((0, da.shape[0]))
        tb = cg.tss // m.r
        near = np.flatnonzero(np.abs(tb - kb) <= m.link_bins + self.reach)
        basal, gain = self.params["regulation"]["promoter_basal"], self.params["regulation"]["link_gain"]
        out = np.zeros((near.size, da.shape[0]))
        for j, g in enumerate(near):
            k0 = (lo - tb[g]) + m.link_bins
            kern = np.zeros(hi - lo)
            valid = (np.arange(hi - lo) + k0 >= 0) & (np.arange(hi - lo) + k0 < m.link_kernel.size)
            kern[valid] = m.link_kernel[np.arange(hi - lo)[valid] + k0]
            dE = da @ kern
            dP = da[:, tb[g] - lo] if lo <= tb[g] < hi else np.zeros(da.shape[0])
            P, E = cg.P[g], cg.E[g]
            x0 = P * (basal + gain * E)
            x1 = (P + dP) * (basal + gain * (E + dE))
            out[j] = cg.strength[g] * (x1 - x0) * self.cage_scale
        return dnase, near.astype(np.int64), out

    def _window_scan(self, ci: int, pos: np.ndarray, alt: np.ndarray) -> tuple[np.ndarray, Sites, np.ndarray]:
        """Scan short windows around many substitutions at once, with the reference and the alternative base.

        Returns:
            (changed bool (n,) (see :meth:`changed`), the alternative-allele sites overlapping each
            substitution (chromosome coordinates), int64 owner index of each of those sites).
        """
        pos = np.asarray(pos, dtype=np.int64)
        alt = np.asarray(alt, dtype=np.uint8)
        n = pos.size
        if n == 0:
            return np.zeros(0, dtype=bool), Sites.empty(), np.zeros(0, np.int64)
        seq = self.genome.chroms[ci].seq
        w = int(self.model.widths.max())
        padded = np.concatenate([np.full(w, N, np.uint8), seq, np.full(w, N, np.uint8)])
        win = 2 * w - 1
        stride = win + w  # each window is followed by w N bases: no site spans two windows
        idx = (pos + 1)[:, None] + np.arange(win)[None, :]  # padded coordinates of [pos - w + 1, pos + w)
        ref_w = np.full((n, stride), N, np.uint8)
        ref_w[:, :win] = padded[idx]
        alt_w = ref_w.copy()
        alt_w[:, w - 1] = alt
        hit = np.zeros(n, dtype=bool)
        alt_sites, owner = Sites.empty(), np.zeros(0, np.int64)
        for kind, block in (("ref", ref_w), ("alt", alt_w)):
            sites = self.model.scanner.scan(block.ravel())
            if not len(sites):
                continue
            k = sites.start // stride
            off = sites.start % stride
            over = (off <= w - 1) & (off + self.model.widths[sites.tf] > w - 1)
            hit[k[over]] = True
            if kind == "alt":
                alt_sites = sites.select(over)
                owner = k[over]
                alt_sites.start = pos[owner] - (w - 1) + off[over]
        # CpG made or broken (the model counts a CpG at the position of its C)
        left, ref_b, right = padded[pos + w - 1], padded[pos + w], padded[pos + w + 1]
        c1 = ((left == C) & (ref_b == G)) != ((left == C) & (alt == G))
        c2 = ((ref_b == C) & (right == G)) != ((alt == C) & (right == G))
        return hit | c1 | c2, alt_sites, owner

    def changed(self, ci: int, pos: np.ndarray, alt: np.ndarray) -> np.ndarray:
        """Which substitutions change the activity model at all (the others have exactly zero effect).

        A substitution can only change accessibility through a scanned site (occupancy >= the
        scanner's floor) overlapping it, with the reference or the alternative base, or through a
        CpG it makes or breaks; every other input of :meth:`ActivityModel.accessibility` is
        unchanged, so its effect is exactly 0. The test scans short windows around all
        substitutions at once.

        Args:
            ci: chromosome index.
            pos: int64 (n,) 0-based positions.
            alt: uint8 (n,) new base codes.

        Returns:
            bool (n,): True where :meth:`gene_effects` may be non-zero.
        """
        return self._window_scan(ci, pos, alt)[0]

    def batch_gene_effects(self, ci: int, pos: np.ndarray, alt: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray] | None]]:
        """:meth:`gene_effects` of many substitutions on one chromosome, bit for bit, much faster.

        Substitutions that change nothing (:meth:`changed`) get exact zeros without any work. For
        the others the reference sites of the local window are taken from the genome-wide scan
        (``acts``), and the alternative sites are those with the sites overlapping the
        substitution replaced by a rescan of a short window: the same site list, in the same
        order, as :meth:`ActivityModel.local_accessibility` would scan, so the result equals
        :meth:`gene_effects`.

        Args:
            ci: chromosome index.
            pos: int64 (n,) 0-based positions.
            alt: uint8 (n,) new base codes (different from the reference base).

        Returns:
            (changed bool (n,), dnase_delta float64 (n, n_cells), per substitution ``None`` (no
            change) or (gene indices int64 (k,), cage_delta float64 (k, n_cells))).
        """
        if self.acts is None:
            raise ValueError("EffectModel.batch_gene_effects needs the genome-wide scans (acts)")
        m = self.model
        pos = np.asarray(pos, dtype=np.int64)
        alt = np.asarray(alt, dtype=np.uint8)
        changed, alt_sites, owner = self._window_scan(ci, pos, alt)
        n_cells = len(m.cells)
        dnase = np.zeros((pos.size, n_cells))
        genes: list[tuple[np.ndarray, np.ndarray] | None] = [None] * pos.size
        seq = self.genome.chroms[ci].seq
        sites = self.acts[ci].sites
        nf = m.n_fine(seq.size)
        by_owner = np.argsort(owner, kind="stable")
        first = np.searchsorted(owner[by_owner], np.arange(pos.size + 1))
        for j in np.flatnonzero(changed):
            p = int(pos[j])
            kb = p // m.r
            lo, hi = max(0, kb - self.reach), min(nf, kb + self.reach + 1)
            slo, shi = max(0, lo - m.margin_bins), min(nf, hi + m.margin_bins)
            s0 = slo * m.r
            sub = seq[s0:shi * m.r]
            s1 = s0 + sub.size
            i0, i1 = np.searchsorted(sites.start, [s0, s1])
            ref = sites.select(slice(i0, i1))
            ref = ref.select(ref.start + m.widths[ref.tf] <= s1)
            over = (ref.start <= p) & (ref.start + m.widths[ref.tf] > p)
            new = alt_sites.select(by_owner[first[j]:first[j + 1]])
            new = new.select((new.start >= s0) & (new.start + m.widths[new.tf] <= s1))
            kept = ref.select(~over)
            alt_s = Sites(*(np.concatenate([a, b]) for a, b in
                            zip((kept.tf, kept.start, kept.strand, kept.score, kept.occupancy),
                                (new.tf, new.start, new.strand, new.score, new.occupancy))))
            alt_s = alt_s.select(np.lexsort((alt_s.strand, alt_s.tf, alt_s.start)))
            ref.start = ref.start - s0
            alt_s.start = alt_s.start - s0
            sub_alt = sub.copy()
            sub_alt[p - s0] = alt[j]
            ref_a = m.accessibility(sub, ref)[0][:, lo - slo:hi - slo].astype(np.float64)
            alt_a = m.accessibility(sub_alt, alt_s)[0][:, lo - slo:hi - slo].astype(np.float64)
            dn, gidx, per = self._deltas(ci, kb, lo, hi, alt_a - ref_a)
            dnase[j] = dn
            genes[j] = (gidx, per)
        return changed, dnase, genes


def _element_index(features: GenomeFeatures, chrom: str):
    el = features.elements[features.elements.chrom == chrom]
    return el.start.to_numpy(np.int64), el.end.to_numpy(np.int64), el.element_id.tolist()


def elements_at(features: GenomeFeatures, chrom: str, pos: np.ndarray) -> np.ndarray:
    """Id of the element containing each 0-based position of ``chrom`` ('.' outside), object (n,)."""
    st, en, ids = _element_index(features, chrom)
    pos = np.asarray(pos, dtype=np.int64)
    if st.size == 0:
        return np.full(pos.size, ".", dtype=object)
    j = np.searchsorted(st, pos, side="right") - 1
    jc = np.clip(j, 0, None)
    inside = (j >= 0) & (pos < en[jc])
    # elements may overlap: an earlier, longer element can contain pos when the nearest does not
    out = np.where(inside, np.asarray(ids, dtype=object)[jc], ".")
    reach = np.maximum.accumulate(en)  # furthest end among elements starting at or before each
    for k in np.flatnonzero(~inside & (j > 0) & (reach[jc] > pos)):
        back = np.flatnonzero((st[:j[k]] <= pos[k]) & (en[:j[k]] > pos[k]))
        if back.size:
            out[k] = ids[int(back[-1])]
    return out


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
