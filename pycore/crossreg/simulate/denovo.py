"""De novo SNPs of families with one case and one sibling control (the input of SPEC section 9).

Every individual carries ``Poisson(denovo.snvs_per_individual)`` de novo SNPs. A control's SNPs
are uniform over the mappable A/C/G/T bases of the human genome (REF = the genome base, ALT a
different base, transitions with odds ``evolution.transition_fraction``). A case has the same
number law, but each of its SNPs is, with probability ``denovo.disruptive_fraction``, a
motif-breaking mutation in an element active in ``denovo.cell_type`` (label
``disruptive_<cell>``): a mappable, highly informative consensus base of a strong site
(occupancy >= 0.7) of a TF active (>= 0.5) in that cell type, centred in an element whose mean
accessibility there is >= 0.3 and on a bin accessible there (>= 0.3), changed to the PWM's least
likely base; kept only when the expected DNase change in that cell type is at most
``-denovo.min_abs_effect`` (as ``variants.causal_break``). All other SNPs are labelled
``background``. Expected effects come from the exact effect model.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.simulate.evolution import Genome
from crossreg.simulate.features import GenomeFeatures
from crossreg.simulate.sequence import ALPHABET, N, mutate_bases
from crossreg.simulate.signals import ActivityModel, ChromActivity
from crossreg.simulate.variants import EffectModel, elements_at

log = logging.getLogger(__name__)

ROLES = ("case", "control")


def disruptive_candidates(model: ActivityModel, genome: Genome, features: GenomeFeatures,
                          acts: list[ChromActivity], cell: str, rng: np.random.Generator) -> list[tuple]:
    """Motif-breaking substitutions in elements active in ``cell``, in random order.

    Returns:
        (chrom index, 0-based pos, alt code, TF name, element id) tuples; up to four per site
        (its most informative columns whose base is the consensus), mappable bases only.
    """
    c = model.cells.index(cell)
    active = model.activity[:, c] >= 0.5
    tfs = model.grammar.tfs
    out = []
    for ci, act in enumerate(acts):
        s = act.sites
        el = features.elements[features.elements.chrom == genome.chroms[ci].name]
        st, en, ids = el.start.to_numpy(np.int64), el.end.to_numpy(np.int64), el.element_id.to_numpy()
        if st.size == 0 or len(s) == 0:
            continue
        # mean accessibility of each element in the cell type (as truth/<genome>/elements.tsv)
        cs = np.concatenate([[0.0], np.cumsum(act.access[c], dtype=np.float64)])
        b0 = st // model.r
        b1 = np.maximum((en - 1) // model.r + 1, b0 + 1)
        el_open = (cs[b1] - cs[b0]) / (b1 - b0) >= 0.3
        centre = s.start + model.widths[s.tf] // 2
        j = np.searchsorted(st, centre, side="right") - 1
        jc = np.clip(j, 0, None)
        inside = (j >= 0) & (centre < en[jc]) & el_open[jc]
        kb = np.clip(centre // model.r, 0, act.access.shape[1] - 1)
        ok = (s.occupancy >= 0.7) & active[s.tf] & inside & (act.access[c, kb] >= 0.3)
        seq = genome.chroms[ci].seq
        for k in np.flatnonzero(ok):
            tf = tfs[int(s.tf[k])]
            lo = tf.lo if s.strand[k] > 0 else tf.lo[::-1, ::-1]
            start = int(s.start[k])
            win = seq[start:start + tf.width]
            info = lo.max(axis=1) - lo.min(axis=1)
            for col in np.argsort(-info, kind="stable")[:4]:
                if win[col] == lo[col].argmax() and not genome.chroms[ci].unmap[start + int(col)]:
                    out.append((ci, start + int(col), int(lo[col].argmin()), tf.name, str(ids[j[k]])))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _uniform_sites(genome: Genome, n: int, taken: set, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``n`` distinct (chrom index, pos) uniform over mappable A/C/G/T bases, avoiding ``taken``."""
    lengths = np.asarray([len(c) for c in genome.chroms], dtype=np.float64)
    out = []
    while len(out) < n:
        ci = int(rng.choice(lengths.size, p=lengths / lengths.sum()))
        pos = int(rng.integers(0, int(lengths[ci])))
        c = genome.chroms[ci]
        if c.seq[pos] >= N or c.unmap[pos] or (ci, pos) in taken:
            continue
        taken.add((ci, pos))
        out.append((ci, pos))
    return out


def simulate_denovo(params: dict, em: EffectModel, genome: Genome, features: GenomeFeatures,
                    acts: list[ChromActivity], rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """De novo SNPs of ``denovo.families`` case/control pairs and their truth.

    Args:
        params: resolved params.
        em: the human effect model (its ``model`` gives cell types and TF activities).
        genome: the human genome.
        features: its annotation.
        acts: per-chromosome activity.
        rng: the de novo stream.

    Returns:
        (variants: family_id, individual_id, role, chrom, pos (1-based), ref, alt;
        truth: the same plus label, element_id, tf, dnase_delta_<cell>, cage_delta_<cell>, cage_gene),
        rows sorted by family, role (case first), chromosome and position.

    Raises:
        InputError: ``denovo.cell_type`` is not a human cell type, or no motif-breaking candidate
            exists while ``denovo.disruptive_fraction`` > 0.
    """
    dp = params["denovo"]
    model = em.model
    cell = dp["cell_type"]
    if cell not in model.cells:
        raise InputError(f"params: 'denovo.cell_type' {cell!r} is not a human cell type "
                         f"(expected one of: {', '.join(model.cells)})")
    label_hit = f"disruptive_{cell}"
    c_idx = model.cells.index(cell)
    cand = disruptive_candidates(model, genome, features, acts, cell, rng)
    frac = float(dp["disruptive_fraction"])
    cache: dict[tuple[int, int, int], tuple] = {}
    accepted: list[tuple] = []
    next_cand = 0

    def fill(keys: list[tuple[int, int, int]]) -> None:
        """Exact effects of substitutions (chrom index, pos, alt) not yet in the cache."""
        todo: dict[int, list[tuple[int, int]]] = {}
        for ci, pos, alt in keys:
            if (ci, pos, alt) not in cache:
                todo.setdefault(ci, []).append((pos, alt))
        for ci, items in todo.items():
            items = sorted(set(items))
            pos = np.asarray([x[0] for x in items], np.int64)
            alt = np.asarray([x[1] for x in items], np.uint8)
            dn, cg, best = em.batch_effect(ci, pos, alt)
            for j, (p_, a_) in enumerate(items):
                cache[(ci, p_, a_)] = (dn[j], cg[j], best[j])

    def draw_disruptive(taken: set) -> tuple:
        nonlocal next_cand
        while next_cand < len(cand):
            if (cand[next_cand][0], cand[next_cand][1], cand[next_cand][2]) not in cache:
                fill([c_[:3] for c_ in cand[next_cand:next_cand + 64]])
            cnd = cand[next_cand]
            next_cand += 1
            if (cnd[0], cnd[1]) in taken:
                continue
            dn = cache[cnd[:3]][0]
            if dn[c_idx] <= -float(dp["min_abs_effect"]):
                accepted.append(cnd)
                taken.add((cnd[0], cnd[1]))
                return cnd
        free = [a for a in accepted if (a[0], a[1]) not in taken]  # reuse across individuals
        if not free:
            raise InputError(f"params: no motif-breaking mutation in elements active in {cell!r} reaches "
                             f"'denovo.min_abs_effect' ({dp['min_abs_effect']}); lower it or "
                             "'denovo.disruptive_fraction'")
        cnd = free[int(rng.integers(0, len(free)))]
        taken.add((cnd[0], cnd[1]))
        return cnd

    tf_frac = float(params["evolution"]["transition_fraction"])
    rows = []
    for f in range(int(dp["families"])):
        fam = f"F{f + 1:03d}"
        for role in ROLES:
            ind = f"{fam}.p1" if role == "case" else f"{fam}.s1"
            n = int(rng.poisson(float(dp["snvs_per_individual"])))
            k = int(rng.binomial(n, frac)) if role == "case" and frac > 0 else 0
            taken: set = set()
            for ci, pos, alt, tf, eid in (draw_disruptive(taken) for _ in range(k)):
                rows.append((fam, ind, role, ci, pos, alt, label_hit, tf, eid))
            sites = _uniform_sites(genome, n - k, taken, rng)
            alts = mutate_bases(rng, np.asarray([genome.chroms[ci].seq[p] for ci, p in sites], np.uint8), tf_frac) \
                if sites else []
            for (ci, pos), alt in zip(sites, alts):
                rows.append((fam, ind, role, ci, pos, int(alt), "background", ".", None))
    log.info("denovo: %d variants, %d disruptive", len(rows), sum(r[6] == label_hit for r in rows))

    # effects: exact (EffectModel.batch_effect)
    n_cells = len(model.cells)
    dnase = np.zeros((len(rows), n_cells))
    cage = np.zeros((len(rows), n_cells))
    gene = np.full(len(rows), ".", dtype=object)
    fill([(r[3], r[4], r[5]) for r in rows])
    by_chrom: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_chrom.setdefault(r[3], []).append(i)
        dnase[i], cage[i], gene[i] = cache[(r[3], r[4], r[5])]
    names = [c.name for c in genome.chroms]
    df = pd.DataFrame({"family_id": [r[0] for r in rows], "individual_id": [r[1] for r in rows],
                       "role": [r[2] for r in rows], "chrom": [names[r[3]] for r in rows],
                       "pos": [r[4] + 1 for r in rows],
                       "ref": [chr(ALPHABET[genome.chroms[r[3]].seq[r[4]]]) for r in rows],
                       "alt": [chr(ALPHABET[r[5]]) for r in rows], "label": [r[6] for r in rows],
                       "tf": [r[7] for r in rows], "_ci": [r[3] for r in rows]},
                      columns=["family_id", "individual_id", "role", "chrom", "pos", "ref", "alt", "label", "tf",
                               "_ci"])
    eid = np.full(len(rows), ".", dtype=object)
    for ci, idx in by_chrom.items():
        eid[idx] = elements_at(features, names[ci], np.asarray([rows[i][4] for i in idx], np.int64))
    for i, r in enumerate(rows):
        if r[8] is not None:
            eid[i] = r[8]
    df.insert(9, "element_id", eid)
    for c, name in enumerate(model.cells):
        df[f"dnase_delta_{name}"] = np.round(dnase[:, c], 4)
    for c, name in enumerate(model.cells):
        df[f"cage_delta_{name}"] = np.round(cage[:, c], 4)
    df["cage_gene"] = gene
    df["_r"] = df.role.map({r: i for i, r in enumerate(ROLES)})
    df = df.sort_values(["family_id", "_r", "_ci", "pos"], kind="stable").drop(columns=["_r", "_ci"])
    df = df.reset_index(drop=True)
    public = df[["family_id", "individual_id", "role", "chrom", "pos", "ref", "alt"]]
    return public, df
