"""Genome evolution: an ancestral genome and its human-like and mouse-like descendants.

The ancestor is one long sequence with GC isochores and CpG depletion. It is cut into
syntenic blocks; each lineage substitutes bases (rates solved so that aligned human-mouse
bases reach the configured identity; constrained bases evolve slower), makes small indels,
large deletions and lineage-specific insertions, simple repeats and internal N gaps inside each
block, rearranges the blocks (inversions, transpositions), assembles them into chromosomes with
telomeric N runs, a centromeric satellite array and N gap, and duplicates a few segments.

Every descendant base remembers its ancestral position (``anc``, -1 for new sequence) and
orientation (``ori``), from which the chain alignment and the mapping of the regulatory
layout follow exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crossreg.simulate.sequence import (
    N,
    deplete_cpg,
    identity_for_rates,
    microsatellite,
    random_sequence,
    reverse_complement,
    substitute,
    tandem_repeat,
)

# per-base provenance codes (Chrom.kind)
ANCESTRAL, INDEL_INSERTION, SATELLITE, GAP, SEGDUP, SIMPLE_REPEAT, INSERTION = range(7)
KIND_NAMES = {ANCESTRAL: "ancestral", INDEL_INSERTION: "indel_insertion", SATELLITE: "satellite", GAP: "gap",
              SEGDUP: "segdup", SIMPLE_REPEAT: "simple_repeat", INSERTION: "insertion"}
_FIELDS = ("seq", "anc", "ori", "kind", "unmap")


@dataclasses.dataclass
class Chrom:
    """One descendant chromosome, all arrays of shape (L,).

    Attributes:
        name: ``chr1``, ``chr2``, ...
        seq: uint8 codes (A, C, G, T, N = 0..4).
        anc: int32 ancestral position of each base, -1 for sequence new in this lineage.
        ori: int8 +1/-1 orientation relative to the ancestor (0 for new sequence).
        kind: uint8 provenance code (see ``KIND_NAMES``).
        unmap: bool, True where short reads would not map uniquely (duplications, repeats).
    """

    name: str
    seq: np.ndarray
    anc: np.ndarray
    ori: np.ndarray
    kind: np.ndarray
    unmap: np.ndarray

    def __len__(self) -> int:
        return int(self.seq.size)


@dataclasses.dataclass
class Genome:
    """A descendant genome.

    Attributes:
        name: ``human`` or ``mouse``.
        chroms: chromosomes in order.
        blocks: (block_id, chrom index, orientation) in assembly order.
        inv_chrom: int16 (L_anc,) chromosome index of each ancestral base, -1 if deleted.
        inv_pos: int32 (L_anc,) its position there.
        inv_ori: int8 (L_anc,) its orientation there.
    """

    name: str
    chroms: list[Chrom]
    blocks: list[tuple[int, int, int]]
    inv_chrom: np.ndarray | None = None
    inv_pos: np.ndarray | None = None
    inv_ori: np.ndarray | None = None

    @property
    def sizes(self) -> list[tuple[str, int]]:
        """(chromosome name, length in bp) pairs in order."""
        return [(c.name, len(c)) for c in self.chroms]

    def build_inverse(self, anc_length: int) -> None:
        """Fill ``inv_*``: where each ancestral base ended up (deleted bases get -1)."""
        self.inv_chrom = np.full(anc_length, -1, dtype=np.int16)
        self.inv_pos = np.full(anc_length, -1, dtype=np.int32)
        self.inv_ori = np.zeros(anc_length, dtype=np.int8)
        for ci, c in enumerate(self.chroms):
            ok = np.flatnonzero(c.anc >= 0)
            self.inv_chrom[c.anc[ok]] = ci
            self.inv_pos[c.anc[ok]] = ok
            self.inv_ori[c.anc[ok]] = c.ori[ok]


def make_ancestor(params: dict, rng: np.random.Generator) -> np.ndarray:
    """Ancestral sequence with GC isochores and CpG depletion.

    Returns:
        uint8 codes (ancestral_length,).
    """
    g = params["genome"]
    L = int(g["ancestral_length"])
    n_iso = max(1, int(np.ceil(L / g["isochore_mean_length"] * 2)))
    lens = rng.exponential(g["isochore_mean_length"], n_iso).astype(np.int64) + 1000
    gc = np.clip(rng.normal(g["gc_mean"], g["gc_sd"], lens.size), 0.3, 0.65)
    per_base = np.repeat(gc, lens)
    while per_base.size < L:  # pragma: no cover - the draw above almost always suffices
        per_base = np.concatenate([per_base, per_base])
    seq = random_sequence(rng, per_base[:L])
    deplete_cpg(rng, seq, g["cpg_depletion"])
    return seq


def branch_rates(params: dict, constrained_fraction: float = 0.0) -> dict[str, float]:
    """Neutral substitution probability per base on each branch, solved for the target identity.

    Args:
        params: resolved params.
        constrained_fraction: share of bases evolving at ``evolution.constraint`` times the
            neutral rate; the rates are solved so that the average over all bases hits the target.

    Returns:
        ``{"human": q_h, "mouse": q_m}`` with q_h / (q_h + q_m) = ``human_branch_share``.
    """
    ev = params["evolution"]
    share, t, target = ev["human_branch_share"], ev["transition_fraction"], ev["identity"]
    f, c = constrained_fraction, ev["constraint"]

    def ident(d: float) -> float:
        return ((1 - f) * identity_for_rates(share * d, (1 - share) * d, t)
                + f * identity_for_rates(c * share * d, c * (1 - share) * d, t))

    lo, hi = 0.0, 1.4
    for _ in range(60):
        mid = (lo + hi) / 2
        if ident(mid) > target:
            lo = mid
        else:
            hi = mid
    d = (lo + hi) / 2
    return {"human": min(share * d, 0.75), "mouse": min((1 - share) * d, 0.75)}


def synteny_blocks(length: int, mean: float, forbidden: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cut the ancestor into syntenic blocks with breakpoints outside ``forbidden`` positions.

    Args:
        length: ancestral length L.
        mean: mean block length (bp).
        forbidden: bool (L,), True where a breakpoint may not fall (genes, elements).
        rng: random generator.

    Returns:
        int64 (n_blocks, 2) [start, end) intervals tiling [0, L).
    """
    n = max(2, int(round(length / mean)))
    allowed = np.flatnonzero(~forbidden)
    cuts = np.unique(rng.integers(5000, length - 5000, size=n - 1))
    snap = allowed[np.clip(np.searchsorted(allowed, cuts), 0, allowed.size - 1)]
    snap = np.unique(snap)
    edges = [0]
    for c in snap:
        if c - edges[-1] >= 5000 and length - c >= 5000:
            edges.append(int(c))
    edges.append(length)
    e = np.asarray(edges, dtype=np.int64)
    return np.stack([e[:-1], e[1:]], axis=1)


def rearrange(n_blocks: int, inversions: int, transpositions: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Lineage order of the blocks after inversions (reversed runs) and transpositions (moves).

    Returns:
        (block_id, orientation +1/-1) in the descendant's order.
    """
    order = [(b, 1) for b in range(n_blocks)]
    for _ in range(int(inversions)):
        i = int(rng.integers(0, n_blocks))
        j = min(n_blocks, i + int(rng.integers(1, 4)))
        order[i:j] = [(b, -o) for b, o in reversed(order[i:j])]
    for _ in range(int(transpositions)):
        if n_blocks < 3:
            break
        i = int(rng.integers(0, n_blocks))
        item = order.pop(i)
        j = int(rng.integers(0, n_blocks - 1))
        if rng.random() < 0.5:
            item = (item[0], -item[1])
        order.insert(j, item)
    return order


def splice(arrays: dict[str, np.ndarray], delete: np.ndarray, ins_pos: np.ndarray, ins_len: np.ndarray,
           ins_arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Apply deletions and insertions to parallel per-base arrays in one pass.

    Args:
        arrays: name -> array (L,), all the same length.
        delete: bool (L,), bases to remove.
        ins_pos: int64 (k,), sorted; insertion i goes before original base ``ins_pos[i]`` (0..L).
        ins_len: int64 (k,) lengths.
        ins_arrays: name -> concatenated inserted values (sum(ins_len),) in ``ins_pos`` order.

    Returns:
        name -> new array.
    """
    L = delete.size
    keep = ~delete
    added = np.bincount(ins_pos, weights=ins_len, minlength=L + 1).astype(np.int64)
    cum_added = np.cumsum(added)
    kept_before = np.cumsum(keep) - keep
    out_idx = kept_before + cum_added[:L]
    total = int(keep.sum() + ins_len.sum())
    is_base = np.zeros(total, dtype=bool)
    is_base[out_idx[keep]] = True
    out = {}
    for name, arr in arrays.items():
        new = np.empty(total, dtype=arr.dtype)
        new[out_idx[keep]] = arr[keep]
        new[~is_base] = ins_arrays[name]
        out[name] = new
    return out


def _novel(seq: np.ndarray, kind: int, unmap: bool = False) -> dict[str, np.ndarray]:
    n = seq.size
    return {"seq": seq.astype(np.uint8), "anc": np.full(n, -1, np.int32), "ori": np.zeros(n, np.int8),
            "kind": np.full(n, kind, np.uint8), "unmap": np.full(n, unmap, bool)}


def _concat(pieces: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not pieces:
        return _novel(np.zeros(0, np.uint8), INSERTION)
    return {f: np.concatenate([p[f] for p in pieces]) for f in _FIELDS}


def _interval_mask(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, np.clip(starts, 0, n), 1)
    np.add.at(diff, np.clip(ends, 0, n), -1)
    return np.cumsum(diff[:-1]) > 0


def _rand_range(rng, lohi, size=None):
    lo, hi = lohi
    return rng.integers(int(lo), int(hi) + 1, size=size)


def _evolve_block(params: dict, species: str, seq: np.ndarray, a0: int, protect_del: np.ndarray,
                  protect_ins: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Indels, large deletions/insertions, simple repeats and N gaps inside one block."""
    ev, rp, g = params["evolution"], params["repeats"], params["genome"]
    n = seq.size
    base = {"seq": seq, "anc": np.arange(a0, a0 + n, dtype=np.int32), "ori": np.ones(n, np.int8),
            "kind": np.zeros(n, np.uint8), "unmap": np.zeros(n, bool)}
    pcum = np.concatenate([[0], np.cumsum(protect_del)])

    def free_of(starts, lens):
        ends = np.minimum(starts + lens, n)
        return pcum[ends] - pcum[starts] == 0

    # deletions: small indels and large lineage-specific deletions
    n_small = rng.poisson(ev["indel_rate"] * n)
    is_del = rng.random(n_small) < 0.5
    small_len = rng.geometric(1.0 / ev["indel_mean_length"], n_small).astype(np.int64)
    small_pos = rng.integers(0, n, n_small)
    n_large = rng.poisson(ev["deletions_per_mb"][species] * n / 1e6)
    large_len = np.clip(rng.exponential(ev["deletion_mean_length"], n_large), 100, n / 4).astype(np.int64)
    large_pos = rng.integers(0, n, n_large)
    d_pos = np.concatenate([small_pos[is_del], large_pos])
    d_len = np.concatenate([small_len[is_del], large_len])
    ok = free_of(d_pos, d_len)
    delete = _interval_mask(n, d_pos[ok], d_pos[ok] + d_len[ok])

    # insertions
    inserts: list[tuple[int, dict[str, np.ndarray]]] = []
    for p, ln in zip(small_pos[~is_del], small_len[~is_del]):
        inserts.append((int(p), _novel(random_sequence(rng, g["gc_mean"], int(ln)), INDEL_INSERTION)))
    for p in rng.integers(0, n, rng.poisson(ev["insertions_per_mb"][species] * n / 1e6)):
        ln = int(max(100, rng.exponential(ev["insertion_mean_length"])))
        s = random_sequence(rng, float(np.clip(rng.normal(g["gc_mean"], g["gc_sd"]), 0.3, 0.6)), ln)
        deplete_cpg(rng, s, g["cpg_depletion"])
        inserts.append((int(p), _novel(s, INSERTION)))
    for p in rng.integers(0, n, rng.poisson(rp["simple_repeats_per_mb"] * n / 1e6)):
        inserts.append((int(p), _novel(microsatellite(rng, int(_rand_range(rng, rp["simple_repeat_length"]))),
                                       SIMPLE_REPEAT, unmap=True)))
    for p in rng.integers(0, n, rng.poisson(g["internal_gaps_per_mb"] * n / 1e6)):
        inserts.append((int(p), _novel(np.full(int(_rand_range(rng, g["internal_gap_length"])), N, np.uint8), GAP)))
    inserts = [(p, d) for p, d in inserts if not protect_ins[min(p, n - 1)] and not protect_ins[max(p - 1, 0)]]
    inserts.sort(key=lambda x: x[0])
    ins_pos = np.asarray([p for p, _ in inserts], dtype=np.int64)
    ins_len = np.asarray([d["seq"].size for _, d in inserts], dtype=np.int64)
    return splice(base, delete, ins_pos, ins_len, _concat([d for _, d in inserts]))


def _flip(piece: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"seq": reverse_complement(piece["seq"]), "anc": piece["anc"][::-1].copy(),
            "ori": (-piece["ori"][::-1]).astype(np.int8), "kind": piece["kind"][::-1].copy(),
            "unmap": piece["unmap"][::-1].copy()}


def _split_chromosomes(lengths: list[int], n_chrom: int) -> list[list[int]]:
    """Partition consecutive items into ``n_chrom`` groups of similar total length."""
    n_chrom = max(1, min(n_chrom, len(lengths)))
    cum = np.cumsum(lengths)
    targets = cum[-1] * np.arange(1, n_chrom) / n_chrom
    cuts = sorted(set(int(np.argmin(np.abs(cum - t))) + 1 for t in targets))
    cuts = [c for c in cuts if 0 < c < len(lengths)]
    groups, prev = [], 0
    for c in cuts + [len(lengths)]:
        if c > prev:
            groups.append(list(range(prev, c)))
            prev = c
    return groups


def evolve_species(params: dict, species: str, anc: np.ndarray, blocks: np.ndarray, protect_del: np.ndarray,
                   protect_ins: np.ndarray, constrained: np.ndarray, forced: tuple[np.ndarray, np.ndarray],
                   rng: np.random.Generator) -> Genome:
    """Derive one descendant genome from the ancestor.

    Args:
        params: resolved params.
        species: ``human`` or ``mouse``.
        anc: ancestral uint8 sequence (L,).
        blocks: int64 (n_blocks, 2) syntenic blocks of the ancestor.
        protect_del: bool (L,), ancestral bases no deletion may remove (exons, promoters).
        protect_ins: bool (L,), ancestral bases no insertion may split (genes' exons, elements).
        constrained: bool (L,), bases under purifying selection (rate x ``evolution.constraint``).
        forced: (positions, bases) lineage-specific substitutions (regulatory turnover).
        rng: random generator.

    Returns:
        The descendant :class:`Genome` with ``inv_*`` filled.
    """
    ev, g, rp = params["evolution"], params["genome"], params["repeats"]
    q = branch_rates(params, float(constrained.mean()))[species]
    rate = np.where(constrained, q * ev["constraint"], q)
    seq = substitute(rng, anc, rate, ev["transition_fraction"])
    pos, new = forced
    seq[pos] = new

    order = rearrange(len(blocks), ev["inversions"][species], ev["transpositions"][species], rng)
    pieces = []
    for b, o in order:
        a0, a1 = (int(x) for x in blocks[b])
        piece = _evolve_block(params, species, seq[a0:a1], a0, protect_del[a0:a1], protect_ins[a0:a1], rng)
        pieces.append(_flip(piece) if o < 0 else piece)
    groups = _split_chromosomes([p["seq"].size for p in pieces], int(g["chromosomes"][species]))
    sat_unit = random_sequence(rng, 0.38, int(rp["satellite_unit_length"]))

    chroms, placed = [], []
    for ci, grp in enumerate(groups):
        parts = [_novel(np.full(int(_rand_range(rng, g["telomere_gap"])), N, np.uint8), GAP)]
        for k, bi in enumerate(grp):
            if k > 0 and rng.random() < 0.5:
                ln = int(max(200, rng.exponential(ev["insertion_mean_length"])))
                parts.append(_novel(random_sequence(rng, g["gc_mean"], ln), INSERTION))
            parts.append(pieces[bi])
            placed.append((order[bi][0], ci, order[bi][1]))
        parts.append(_novel(np.full(int(_rand_range(rng, g["telomere_gap"])), N, np.uint8), GAP))
        chroms.append(_concat(parts))

    # chromosome-level insertions: centromere (satellite + N gap) near the middle, segmental duplications
    total = sum(c["seq"].size for c in chroms)
    n_dup = rng.poisson(rp["segdups_per_mb"] * total / 1e6)
    if rp["segdups_per_mb"] > 0:
        n_dup = max(1, n_dup)
    inserts: list[list[tuple[int, dict]]] = [[] for _ in chroms]

    def insertable(c: dict) -> np.ndarray:
        a = c["anc"]
        bad = (c["kind"] == GAP) | (c["kind"] == SATELLITE) | c["unmap"]
        bad |= (a >= 0) & protect_ins[np.maximum(a, 0)]
        return ~bad

    for ci, c in enumerate(chroms):
        ok = np.flatnonzero(insertable(c))
        mid = c["seq"].size // 2
        p = int(ok[np.argmin(np.abs(ok - mid))])
        sat = tandem_repeat(rng, sat_unit, int(_rand_range(rng, rp["satellite_length"])), rp["satellite_divergence"])
        gap = np.full(int(_rand_range(rng, g["centromere_gap"])), N, np.uint8)
        inserts[ci].append((p, _concat([_novel(sat, SATELLITE, unmap=True), _novel(gap, GAP)])))
    for _ in range(n_dup):
        for _try in range(10):
            src_c = int(rng.integers(0, len(chroms)))
            c = chroms[src_c]
            ln = int(_rand_range(rng, rp["segdup_length"]))
            if c["seq"].size < 4 * ln:
                continue
            s = int(rng.integers(ln, c["seq"].size - 2 * ln))
            if (c["kind"][s:s + ln] == GAP).any() or c["unmap"][s:s + ln].any():
                continue
            copy = substitute(rng, c["seq"][s:s + ln], rp["segdup_divergence"], 0.66)
            if rng.random() < 0.5:
                copy = reverse_complement(copy)
            c["unmap"][s:s + ln] = True
            dst = int(rng.integers(0, len(chroms)))
            ok = np.flatnonzero(insertable(chroms[dst]))
            inserts[dst].append((int(rng.choice(ok)), _novel(copy, SEGDUP, unmap=True)))
            break

    out = []
    for ci, c in enumerate(chroms):
        ins = sorted(inserts[ci], key=lambda x: x[0])
        ins_pos = np.asarray([p for p, _ in ins], dtype=np.int64)
        ins_len = np.asarray([d["seq"].size for _, d in ins], dtype=np.int64)
        c = splice(c, np.zeros(c["seq"].size, bool), ins_pos, ins_len, _concat([d for _, d in ins]))
        out.append(Chrom(f"chr{ci + 1}", c["seq"], c["anc"], c["ori"], c["kind"], c["unmap"]))
    genome = Genome(species, out, placed)
    genome.build_inverse(anc.size)
    return genome


def runs(mask: np.ndarray) -> np.ndarray:
    """[start, end) runs of True in a bool array, int64 (n_runs, 2)."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return d.reshape(-1, 2).astype(np.int64)


def segments_table(genome: Genome, blocks: np.ndarray) -> list[dict]:
    """Provenance of the genome: each syntenic block's span and each inserted non-ancestral run.

    Returns:
        Rows with chrom, start, end, kind, block, anc_start, anc_end, orientation. Small indel
        insertions (< 50 bp) are left out.
    """
    rows = []
    for b, ci, o in genome.blocks:
        a0, a1 = (int(x) for x in blocks[b])
        pos = genome.inv_pos[a0:a1]
        ok = pos >= 0
        if not ok.any():
            continue
        rows.append({"chrom": genome.chroms[ci].name, "start": int(pos[ok].min()), "end": int(pos[ok].max()) + 1,
                     "kind": "syntenic_block", "block": b, "anc_start": a0, "anc_end": a1,
                     "orientation": "+" if o > 0 else "-"})
    for c in genome.chroms:
        for kind in (INSERTION, INDEL_INSERTION, SATELLITE, GAP, SEGDUP, SIMPLE_REPEAT):
            for s, e in runs(c.kind == kind):
                if kind == INDEL_INSERTION and e - s < 50:
                    continue
                rows.append({"chrom": c.name, "start": int(s), "end": int(e), "kind": KIND_NAMES[kind],
                             "block": -1, "anc_start": -1, "anc_end": -1, "orientation": "."})
        src = c.unmap & (c.kind == ANCESTRAL)
        for s, e in runs(src):
            rows.append({"chrom": c.name, "start": int(s), "end": int(e), "kind": "segdup_source",
                         "block": -1, "anc_start": -1, "anc_end": -1, "orientation": "."})
    order = {c.name: i for i, c in enumerate(genome.chroms)}
    rows.sort(key=lambda r: (order[r["chrom"]], r["start"], r["end"]))
    return rows
