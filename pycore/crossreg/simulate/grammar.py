"""The shared regulatory grammar: TFs, cell types, genes, promoters, enhancers and CTCF sites.

The grammar is laid out once on the ancestral genome (so both descendants inherit it) and
written into the ancestral sequence as sampled PWM instances. Each descendant later loses some
of it (turnover: sites destroyed) and gains new enhancers of its own (:func:`plant_gained`).
Which elements are active in which cell type is *not* stored here: the signal model reads it
back from the final sequence by scanning (:mod:`crossreg.simulate.signals`).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from crossreg.simulate import motifs as motif_mod
from crossreg.simulate.params import GENOMES
from crossreg.simulate.sequence import random_sequence, reverse_complement

log = logging.getLogger(__name__)

UBIQUITOUS = "ubiquitous"


@dataclasses.dataclass
class CellType:
    """A cell type.

    Attributes:
        name: identifier used in track names (``liver``).
        genomes: genomes in which it is assayed.
        tfs: TF name -> activity in [0, 1] (ubiquitous TFs are added on top).
    """

    name: str
    genomes: tuple[str, ...]
    tfs: dict[str, float]


@dataclasses.dataclass
class Grammar:
    """TF models, cell types and TF activities.

    Attributes:
        tfs: every TF the simulator scans for, in a fixed order.
        cell_types: all cell types (union over genomes).
        activity: genome -> float32 (n_tfs, n_cells_of_genome) TF activity.
        cells: genome -> names of the cell types of that genome (column order of ``activity``).
        tissue_tfs: names of TFs that belong to some cell type's program (not ubiquitous only).
    """

    tfs: list[motif_mod.TFModel]
    cell_types: list[CellType]
    activity: dict[str, np.ndarray]
    cells: dict[str, list[str]]
    tissue_tfs: list[str]

    def tf_index(self, name: str) -> int:
        """Position of TF ``name`` in :attr:`tfs`."""
        return [t.name for t in self.tfs].index(name)

    def cell(self, name: str) -> CellType:
        """The :class:`CellType` called ``name``."""
        return next(c for c in self.cell_types if c.name == name)


def build_grammar(params: dict, rng: np.random.Generator, motif_path=None) -> Grammar:
    """Resolve TFs (real JASPAR motifs), cell types (named + synthetic) and TF activities.

    Args:
        params: resolved simulator params.
        rng: random generator (synthetic cell types, activity jitter).
        motif_path: MEME file; defaults to the copy shipped in the package.

    Returns:
        The :class:`Grammar`.
    """
    motifs = motif_mod.read_meme(motif_path or motif_mod.default_motif_path())
    reg = params["regulation"]
    cell_types = [CellType(c["name"], tuple(c["genomes"]), dict(c["tfs"])) for c in params["cell_types"]]
    tissue = sorted({tf for c in cell_types for tf in c.tfs})
    lo, hi = params["synthetic_tfs"]
    for i in range(params["synthetic_cell_types"]):
        k = int(rng.integers(int(lo), int(hi) + 1))
        chosen = rng.choice(len(tissue), size=min(k, len(tissue)), replace=False)
        tfs = {tissue[j]: round(float(rng.uniform(0.6, 1.0)), 3) for j in sorted(chosen)}
        cell_types.append(CellType(f"ct{i + 1:02d}", GENOMES, tfs))
    chip_tfs = {a.split(":", 1)[1] for a in params["assays"]["per_cell_type"] if a.startswith("CHIP:")}
    chip_tfs |= {e[0].split(":", 1)[1] for e in params["assays"]["extra"] if e[0].startswith("CHIP:")}
    names = list(dict.fromkeys(list(params["ubiquitous_tfs"]) + list(params["promoter_tfs"]) + tissue
                               + sorted(chip_tfs)))
    weights = params["regulation"]["tf_weights"]
    tf_models = []
    for name in names:
        motif = motif_mod.find_motif(motifs, str(params["tfs"][name]), f"params: 'tfs.{name}'")
        tf_models.append(motif_mod.build_tf(name, motif, reg["occupancy_pvalue"], weights.get(name, 1.0),
                                            reg["occupancy_tau"], reg["background_occupancy_per_kb"]))
    activity, cells = {}, {}
    jitter = reg["tf_activity_jitter"]
    for genome in GENOMES:
        cts = [c for c in cell_types if genome in c.genomes]
        cells[genome] = [c.name for c in cts]
        mat = np.zeros((len(names), len(cts)), dtype=np.float64)
        for j, ct in enumerate(cts):
            for tf, act in params["ubiquitous_tfs"].items():
                mat[names.index(tf), j] = act
            for tf, act in ct.tfs.items():
                mat[names.index(tf), j] = max(mat[names.index(tf), j], act)
        mat = np.clip(mat * np.exp(rng.normal(0.0, jitter, mat.shape)), 0.0, 1.0)
        activity[genome] = mat.astype(np.float32)
    return Grammar(tf_models, cell_types, activity, cells, tissue)


@dataclasses.dataclass
class Layout:
    """Genes, elements and planted sites in one coordinate system (ancestral or descendant).

    Genes (arrays of shape (n_genes,)): ``gene_start``, ``gene_end`` (int64, 0-based half-open),
    ``gene_strand`` (int8 +1/-1), ``gene_tss`` (int64), ``gene_program`` (list of str: a cell type
    or ``ubiquitous``), ``gene_strength`` (float64, relative CAGE output), ``exons`` (list of
    int64 (n_exons, 2) arrays).

    Elements (lists of length n_elements): ``el_kind`` (promoter | enhancer | ctcf), ``el_start``,
    ``el_end``, ``el_program`` (cell types joined by ``+`` or ``ubiquitous``), ``el_gene`` (target
    gene index or -1).

    Sites (arrays (n_sites,)): ``site_el`` (element index), ``site_tf`` (TF index), ``site_start``,
    ``site_strand`` (+1/-1), ``site_width``.
    """

    gene_start: np.ndarray
    gene_end: np.ndarray
    gene_strand: np.ndarray
    gene_tss: np.ndarray
    gene_program: list[str]
    gene_strength: np.ndarray
    exons: list[np.ndarray]
    el_kind: list[str]
    el_start: list[int]
    el_end: list[int]
    el_program: list[str]
    el_gene: list[int]
    site_el: np.ndarray
    site_tf: np.ndarray
    site_start: np.ndarray
    site_strand: np.ndarray
    site_width: np.ndarray


class _SiteBuffer:
    """Accumulates planted sites and writes them into a sequence."""

    def __init__(self) -> None:
        self.el: list[int] = []
        self.tf: list[int] = []
        self.start: list[int] = []
        self.strand: list[int] = []
        self.width: list[int] = []

    def plant(self, rng, seq: np.ndarray, grammar: Grammar, el: int, tf_idx: int, start: int, strand: int,
              margin: float = 1.5) -> None:
        tf = grammar.tfs[tf_idx]
        codes = motif_mod.sample_sites(rng, tf, 1, tf.threshold + margin)[0]
        if strand < 0:
            codes = reverse_complement(codes)
        seq[start:start + tf.width] = codes
        self.el.append(el)
        self.tf.append(tf_idx)
        self.start.append(start)
        self.strand.append(strand)
        self.width.append(tf.width)

    def arrays(self):
        return (np.asarray(self.el, np.int64), np.asarray(self.tf, np.int64), np.asarray(self.start, np.int64),
                np.asarray(self.strand, np.int8), np.asarray(self.width, np.int64))


def _program_tfs(grammar: Grammar, params: dict, program: str) -> tuple[list[int], np.ndarray]:
    """TF indices and sampling weights for the sites of an element of ``program``."""
    acts: dict[str, float] = {}
    if program == UBIQUITOUS:
        acts = {"AP1": 1.0, "CREB": 1.0, "ETS": 0.7, "SP_KLF": 0.5}
        acts = {k: v for k, v in acts.items() if k in [t.name for t in grammar.tfs]}
        if not acts:
            acts = dict(params["ubiquitous_tfs"])
            acts.pop("CTCF", None)
    else:
        for name in program.split("+"):
            for tf, a in grammar.cell(name).tfs.items():
                acts[tf] = max(acts.get(tf, 0.0), a)
    idx = [grammar.tf_index(k) for k in acts]
    w = np.asarray(list(acts.values()), dtype=np.float64)
    return idx, w / w.sum()


def _place_sites(rng, width: int, n: int, max_w: int) -> np.ndarray:
    """Non-overlapping site offsets within an element of ``width`` bp (as many as fit, up to n)."""
    slot = max_w + 2
    n_slots = max(1, (width - max_w) // slot)
    chosen = np.sort(rng.choice(n_slots, size=min(n, n_slots), replace=False))
    jitter = rng.integers(0, 3, chosen.size)
    return chosen * slot + jitter


def plan_ancestor(params: dict, grammar: Grammar, anc: np.ndarray, rng: np.random.Generator) -> Layout:
    """Lay genes, promoters, enhancers and CTCF sites on the ancestral sequence and plant them.

    Args:
        params: resolved params.
        grammar: TFs and cell types.
        anc: ancestral uint8 sequence (L,), modified in place (CpG-island promoters, sites).
        rng: random generator.

    Returns:
        The ancestral :class:`Layout`.
    """
    reg = params["regulation"]
    L = anc.size
    n_genes = int(reg["genes"])
    pw = int(reg["promoter_width"])
    glo, ghi = reg["gene_length"]
    cells = [c.name for c in grammar.cell_types]
    busy = np.zeros(L, dtype=bool)  # element footprint (+ spacing)

    # genes in slots of random length
    margin = 5000
    slots = rng.dirichlet(np.full(n_genes, 2.0)) * (L - 2 * margin)
    slot_start = margin + np.concatenate([[0.0], np.cumsum(slots)[:-1]])
    glen = np.exp(rng.uniform(np.log(max(glo, 500)), np.log(max(ghi, glo + 1)), n_genes))
    glen = np.minimum(glen, 0.6 * slots - pw).clip(min=300).astype(np.int64)
    gstart = (slot_start + pw + rng.random(n_genes) * np.maximum(slots - glen - 2 * pw, 1)).astype(np.int64)
    gend = gstart + glen
    gstrand = np.where(rng.random(n_genes) < 0.5, 1, -1).astype(np.int8)
    gtss = np.where(gstrand > 0, gstart, gend - 1)
    tissue = rng.random(n_genes) < reg["tissue_gene_fraction"]
    gprog = [str(rng.choice(cells)) if t else UBIQUITOUS for t in tissue]
    gstrength = np.exp(rng.normal(0.0, reg["gene_strength_sd"], n_genes))
    exons = []
    elo, ehi = reg["exons"]
    for g in range(n_genes):
        k = int(rng.integers(int(elo), int(ehi) + 1))
        bounds = np.linspace(gstart[g], gend[g], k + 1).astype(np.int64)
        seg = np.diff(bounds)
        ex_len = np.minimum(rng.integers(60, 400, k), np.maximum(seg // 2, 1))
        ex_start = bounds[:-1] + (rng.random(k) * np.maximum(seg - ex_len, 0) * 0.5).astype(np.int64)
        ex_start[0] = gstart[g]
        ex_end = ex_start + ex_len
        ex_end[-1] = gend[g]
        ex_start[-1] = min(ex_start[-1], gend[g] - 1)
        exons.append(np.stack([ex_start, ex_end], axis=1))

    sites = _SiteBuffer()
    el_kind, el_start, el_end, el_prog, el_gene = [], [], [], [], []
    max_w = max(t.width for t in grammar.tfs)
    prom_names = [n for n in params["promoter_tfs"] if n in [t.name for t in grammar.tfs]]
    prom_idx = [grammar.tf_index(n) for n in prom_names]
    prom_w = np.asarray([params["promoter_tfs"][n] for n in prom_names], dtype=np.float64)
    prom_w = prom_w / prom_w.sum() if prom_w.sum() > 0 else prom_w
    tata = grammar.tf_index("TBP") if "TBP" in [t.name for t in grammar.tfs] else None

    # promoters: CpG island (most ubiquitous genes, half of tissue genes) + sites in the core
    plo, phi = reg["promoter_sites"]
    for g in range(n_genes):
        s, e = int(gtss[g] - pw // 2), int(gtss[g] + pw // 2)
        e_id = len(el_kind)
        island = gprog[g] == UBIQUITOUS or rng.random() < 0.5
        if island:
            anc[s:e] = random_sequence(rng, reg["promoter_gc"], e - s)
        core_lo = gtss[g] - 350 if gstrand[g] > 0 else gtss[g] - 150
        core = (int(core_lo), int(core_lo) + 500)
        n_ub = int(rng.integers(int(plo), int(phi) + 1))
        idx = list(rng.choice(prom_idx, size=n_ub, p=prom_w)) if prom_idx else []
        if gprog[g] != UBIQUITOUS:
            idx = idx[: max(1, n_ub // 3)]
            t_idx, t_w = _program_tfs(grammar, params, gprog[g])
            idx += list(rng.choice(t_idx, size=int(rng.integers(2, 4)), p=t_w))
        offs = _place_sites(rng, core[1] - core[0], len(idx), max_w)
        for off, ti in zip(offs, idx):
            sites.plant(rng, anc, grammar, e_id, int(ti), core[0] + int(off), int(rng.choice([-1, 1])))
        if tata is not None and rng.random() < reg["tata_fraction"]:
            w = grammar.tfs[tata].width
            pos = int(gtss[g] - 30 - w) if gstrand[g] > 0 else int(gtss[g] + 30)
            sites.plant(rng, anc, grammar, e_id, tata, pos, int(gstrand[g]))
        el_kind.append("promoter"); el_start.append(s); el_end.append(e); el_prog.append(gprog[g]); el_gene.append(g)
        busy[max(0, s - 300):e + 300] = True

    # enhancers
    ew = int(reg["enhancer_width"])
    n_enh = int(round(reg["enhancers_per_gene"] * n_genes))
    slo, shi = reg["enhancer_sites"]
    max_link = int(reg["max_link_distance"])
    for _ in range(n_enh):
        u = rng.random()
        if u < reg["ubiquitous_enhancer_fraction"]:
            prog = UBIQUITOUS
        elif u < reg["ubiquitous_enhancer_fraction"] + reg["shared_enhancer_fraction"] and len(cells) > 1:
            prog = "+".join(sorted(rng.choice(cells, size=2, replace=False)))
        else:
            prog = None
        target = -1
        for _try in range(20):
            if rng.random() < reg["orphan_enhancer_fraction"]:
                target = -1
                pos = int(rng.integers(margin, L - margin - ew))
            else:
                target = int(rng.integers(0, n_genes))
                d = 2000 + rng.exponential(reg["link_decay"])
                if d > max_link:
                    d = rng.uniform(2000, max_link)
                pos = int(gtss[target] + (d if rng.random() < 0.5 else -d) - ew // 2)
            if margin <= pos < L - margin - ew and not busy[pos:pos + ew].any():
                break
        else:
            continue
        if prog is None:
            if target >= 0 and gprog[target] != UBIQUITOUS and rng.random() < 0.7:
                prog = gprog[target]
            else:
                prog = str(rng.choice(cells))
        e_id = len(el_kind)
        t_idx, t_w = _program_tfs(grammar, params, prog)
        n_sites = int(rng.integers(int(slo), int(shi) + 1))
        idx = rng.choice(t_idx, size=n_sites, p=t_w)
        offs = _place_sites(rng, ew, n_sites, max_w)
        for off, ti in zip(offs, idx):
            sites.plant(rng, anc, grammar, e_id, int(ti), pos + int(off), int(rng.choice([-1, 1])))
        el_kind.append("enhancer"); el_start.append(pos); el_end.append(pos + ew); el_prog.append(prog)
        el_gene.append(target)
        busy[pos - 200:pos + ew + 200] = True

    # CTCF sites (insulators), one strong site each
    if "CTCF" in [t.name for t in grammar.tfs]:
        ci = grammar.tf_index("CTCF")
        n_ctcf = int(round(reg["ctcf_per_mb"] * L / 1e6))
        w = grammar.tfs[ci].width
        for pos in rng.integers(margin, L - margin - 80, n_ctcf):
            pos = int(pos)
            if busy[pos:pos + 80].any():
                continue
            e_id = len(el_kind)
            sites.plant(rng, anc, grammar, e_id, ci, pos + 40 - w // 2, int(rng.choice([-1, 1])), margin=3.0)
            el_kind.append("ctcf"); el_start.append(pos); el_end.append(pos + 80); el_prog.append(UBIQUITOUS)
            el_gene.append(-1)
            busy[pos - 200:pos + 280] = True

    s_el, s_tf, s_start, s_strand, s_width = sites.arrays()
    return Layout(gstart, gend, gstrand, gtss, gprog, gstrength, exons, el_kind, el_start, el_end, el_prog,
                  el_gene, s_el, s_tf, s_start, s_strand, s_width)


def constrained_mask(layout: Layout, length: int) -> np.ndarray:
    """Bool mask (length,) of ancestral bases under purifying selection: sites, promoter cores, exons."""
    mask = np.zeros(length, dtype=bool)
    for s, w in zip(layout.site_start, layout.site_width):
        mask[s:s + w] = True
    for ex in layout.exons:
        for a, b in ex:
            mask[a:b] = True
    return mask


def turnover_losses(layout: Layout, grammar: Grammar, fraction: float, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Choose enhancers that lose their sites in one lineage and the substitutions that do it.

    Two of the most informative positions of each site of a chosen enhancer are set to the
    base the PWM likes least.

    Returns:
        positions (int64, ancestral), new bases (uint8), and the element indices that were lost.
    """
    enh = [i for i, k in enumerate(layout.el_kind) if k == "enhancer"]
    n = int(round(fraction * len(enh)))
    lost = sorted(int(x) for x in rng.choice(enh, size=n, replace=False)) if n and enh else []
    lost_set = set(lost)
    pos, base = [], []
    for j in np.flatnonzero(np.isin(layout.site_el, list(lost_set))):
        tf = grammar.tfs[layout.site_tf[j]]
        lo = tf.lo if layout.site_strand[j] > 0 else tf.lo[::-1, ::-1]
        info = lo.max(axis=1) - lo.min(axis=1)
        for col in np.argsort(-info)[:2]:
            pos.append(int(layout.site_start[j] + col))
            base.append(int(lo[col].argmin()))
    return np.asarray(pos, np.int64), np.asarray(base, np.uint8), lost


def plant_gained(params: dict, grammar: Grammar, seq: np.ndarray, free: np.ndarray, tss: np.ndarray,
                 n: int, rng: np.random.Generator) -> list[tuple[int, int, str, list[tuple[int, int, int]]]]:
    """Plant new, lineage-specific enhancers into one chromosome of a descendant genome.

    Args:
        params: resolved params.
        grammar: TFs and cell types.
        seq: the chromosome's uint8 sequence, modified in place.
        free: bool (L,), True where an element may be placed (no element, gap or repeat).
        tss: TSS positions (int64) on this chromosome; new enhancers land near them.
        n: number of enhancers to plant.
        rng: random generator.

    Returns:
        One tuple per planted enhancer: (start, end, program, [(tf_index, site_start, strand)]).
    """
    reg = params["regulation"]
    ew = int(reg["enhancer_width"])
    slo, shi = reg["enhancer_sites"]
    max_w = max(t.width for t in grammar.tfs)
    cells = [c.name for c in grammar.cell_types]
    out = []
    L = seq.size
    for _ in range(n):
        for _try in range(30):
            if tss.size and rng.random() < 0.85:
                d = 2000 + rng.exponential(reg["link_decay"])
                pos = int(rng.choice(tss) + (d if rng.random() < 0.5 else -d))
            else:
                pos = int(rng.integers(0, max(1, L - ew)))
            if 0 <= pos < L - ew and free[max(0, pos - 200):pos + ew + 200].all():
                break
        else:
            continue
        prog = str(rng.choice(cells))
        t_idx, t_w = _program_tfs(grammar, params, prog)
        n_sites = int(rng.integers(int(slo), int(shi) + 1))
        buf = _SiteBuffer()
        for off, ti in zip(_place_sites(rng, ew, n_sites, max_w), rng.choice(t_idx, size=n_sites, p=t_w)):
            buf.plant(rng, seq, grammar, 0, int(ti), pos + int(off), int(rng.choice([-1, 1])))
        free[max(0, pos - 200):pos + ew + 200] = False
        out.append((pos, pos + ew, prog, list(zip(buf.tf, buf.start, buf.strand))))
    return out
