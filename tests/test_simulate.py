"""The simulated two-species world: what was planted must be measurable in the written files."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyBigWig
import pysam
import pytest

from crossreg.errors import InputError
from crossreg.simulate import PRESETS, resolve_params, simulate
from crossreg.simulate import evolution, motifs
from crossreg.simulate import world as world_mod
from crossreg.simulate.grammar import build_grammar
from crossreg.simulate.sequence import C, G, N, decode, encode, identity_for_rates, reverse_complement

GENOMES = ("human", "mouse")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    summary = simulate(out, preset="tiny", seed=7)
    return out, summary


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def _bin_sums(bw, chrom, length, stat, width=128):
    """Per-128-bp-bin sums (or means) of a bigWig, NaN -> 0, negatives kept."""
    v = np.nan_to_num(np.asarray(bw.values(chrom, 0, length), dtype=np.float64))
    nb = length // width
    b = v[: nb * width].reshape(nb, width)
    return b.sum(axis=1) if stat == "sum" else b.mean(axis=1)


def _read_bed(path):
    return pd.read_csv(path, sep="\t", header=None, names=["chrom", "start", "end", "name"], dtype={"chrom": str})


def _bin_mask(bed, chrom, n_bins, width=128):
    m = np.zeros(n_bins, dtype=bool)
    for s, e in zip(bed.start[bed.chrom == chrom], bed.end[bed.chrom == chrom]):
        m[s // width: (e - 1) // width + 1] = True
    return m


def _read_chains(path):
    chains, cur = [], None
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "chain":
            cur = {"t": f[2], "tsize": int(f[3]), "tstart": int(f[5]), "tend": int(f[6]), "q": f[7],
                   "qsize": int(f[8]), "qstrand": f[9], "qstart": int(f[10]), "qend": int(f[11]), "blocks": []}
            chains.append(cur)
        else:
            cur["blocks"].append([int(x) for x in f])
    return chains


def _chain_pairs(chain):
    """(target start, query start (strand coords), size) of each block."""
    t, q, out = chain["tstart"], chain["qstart"], []
    for b in chain["blocks"]:
        out.append((t, q, b[0]))
        if len(b) == 3:
            t += b[0] + b[1]
            q += b[0] + b[2]
    return out


# ---- layout, formats, determinism ---------------------------------------------------------------

def test_layout_and_formats(world):
    out, summary = world
    for g in GENOMES:
        d = out / g
        for name in ("genome.fa.gz", "genome.fa.gz.fai", "genome.fa.gz.gzi", "targets.txt", "blacklist.bed",
                     "unmappable.bed", "genes.gtf", "tss.bed"):
            assert (d / name).is_file(), name
        fa = pysam.FastaFile(str(d / "genome.fa.gz"))
        refs = list(fa.references)
        assert refs == [f"chr{i + 1}" for i in range(len(refs))] and len(refs) >= 2
        total = sum(fa.lengths)
        assert 300_000 < total < 1_000_000
        t = pd.read_csv(d / "targets.txt", sep="\t")
        assert list(t.columns) == ["index", "genome", "identifier", "file", "clip", "clip_soft", "scale", "sum_stat",
                                   "description", "group"]
        assert t["index"].tolist() == list(range(len(t))) and set(t.genome) == {g}
        assert t.identifier.is_unique and set(t.sum_stat) <= {"sum", "mean"}
        assert t.description.str.match(r"^(DNASE|ATAC|CAGE|CHIP):").all()
        assert (t.groupby("group").size() > 1).any()  # replicates share a group
        for f in t.file:
            bw = pyBigWig.open(str(d / f))
            assert bw.chroms() == dict(zip(fa.references, fa.lengths))
        for bed in ("blacklist.bed", "unmappable.bed", "tss.bed"):
            b = pd.read_csv(d / bed, sep="\t", header=None)
            key = list(zip(b[0].map(refs.index), b[1]))
            assert key == sorted(key), bed  # sorted by chromosome (FASTA order) then start
            assert (b[1] < b[2]).all() and (b[2] <= b[0].map(dict(zip(refs, fa.lengths)))).all()
    assert (out / "human" / "variants.vcf.gz.tbi").is_file()
    assert (out / "alignment" / "human_to_mouse.chain").is_file()
    meta = json.loads((out / "simulation.json").read_text())
    assert meta["seed"] == 7 and meta["preset"] == "tiny" and "crossreg_version" in meta
    assert meta["params"] == resolve_params("tiny")
    readme = (out / "README.md").read_text()
    for rel in _files(out):
        if rel.parts[0] in ("truth",) or rel.name in ("README.md", "simulation.json"):
            continue
        assert rel.name.split(".")[0] in readme or rel.parent.name == "tracks", rel
    for g in GENOMES:
        for name in ("elements", "planted_sites", "motif_sites", "genes", "links", "segments", "artefacts", "tracks"):
            assert (out / "truth" / g / f"{name}.tsv").is_file()
    assert summary["genomes"]["human"]["tracks"] == len(pd.read_csv(out / "human" / "targets.txt", sep="\t"))


def test_same_seed_same_bytes_other_seed_differs(world, tmp_path):
    out, _ = world
    again = tmp_path / "again"
    simulate(again, preset="tiny", seed=7)
    assert _files(out) == _files(again)
    names = {str(r) for r in _files(out)}
    for new in ("human/ld_panel/chr1.bed", "human/ld_panel/chr1.bim", "human/ld_panel/chr1.fam", "human/ld_blocks.bed",
                "human/panel_snps.vcf.gz", "human/panel_snps.vcf.gz.tbi", "human/eqtl/Liver.pairs.tsv.gz",
                "human/denovo.tsv", "truth/eqtl_tissues.tsv", "truth/human/panel_snps.tsv",
                "truth/human/snp_gene_effects.tsv", "truth/human/eqtl_genes.tsv", "truth/human/denovo.tsv"):
        assert new in names, new  # the population outputs are compared byte for byte too
    for rel in _files(out):
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = tmp_path / "other"
    simulate(other, preset="tiny", seed=8, params={"variants": {"neutral": 2, "causal_break": 1,
                                                                 "causal_create": 1}})
    for rel in ("genome.fa.gz", "ld_panel/chr1.bed", "denovo.tsv"):
        digest = [hashlib.md5((d / "human" / rel).read_bytes()).hexdigest() for d in (out, other)]
        assert digest[0] != digest[1], rel


# ---- regulatory grammar ---------------------------------------------------------------------------

def test_motif_enrichment_in_accessible_sites(world):
    """Peaks of liver DNase are enriched for liver TF motifs, far more than for brain-only TFs."""
    out, _ = world
    p = resolve_params("tiny")
    grammar = build_grammar(p, np.random.default_rng(0))
    liver = ["HNF4", "CEBP", "HNF1", "FOXA"]
    other = ["RFX", "POU", "OLIG", "NFI"]  # brain-only TFs: inactive in liver
    tfs = [grammar.tfs[grammar.tf_index(n)] for n in liver + other]
    scanner = motifs.Scanner(tfs, p["regulation"]["occupancy_tau"])
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    bw = pyBigWig.open(str(out / "human" / "tracks" / "DNASE_liver_rep1.bw"))
    black = _read_bed(out / "human" / "blacklist.bed")
    counts = {"peak": np.zeros(len(tfs)), "back": np.zeros(len(tfs))}
    n_bins = {"peak": 0, "back": 0}
    for chrom, length in zip(fa.references, fa.lengths):
        seq = encode(fa.fetch(chrom))
        s = _bin_sums(bw, chrom, length, "sum")
        bad = _bin_mask(black, chrom, s.size)
        sites = scanner.scan(seq)
        sites = sites.select(sites.occupancy >= 0.5)
        hits = np.zeros((len(tfs), s.size))
        b = np.minimum((sites.start + 5) // 128, s.size - 1)
        np.add.at(hits, (sites.tf, b), 1)
        for kind, mask in (("peak", (s > 100) & ~bad), ("back", (s < 10) & ~bad)):
            counts[kind] += hits[:, mask].sum(axis=1)
            n_bins[kind] += int(mask.sum())
    assert n_bins["peak"] > 200 and n_bins["back"] > 1000
    rate = {k: counts[k] / n_bins[k] for k in counts}
    enrich = (rate["peak"] + 1e-3) / (rate["back"] + 1e-3)
    liver_enrich = enrich[: len(liver)].mean()
    other_enrich = enrich[len(liver):].mean()
    assert liver_enrich > 8, enrich
    assert liver_enrich > 3 * other_enrich, enrich


def test_cage_peaks_on_tss(world):
    out, _ = world
    for g in GENOMES:
        d = out / g
        tss = pd.read_csv(d / "tss.bed", sep="\t", header=None, names=["chrom", "s", "e", "gene", "score", "strand"])
        arte = pd.read_csv(out / "truth" / g / "artefacts.tsv", sep="\t")
        t = pd.read_csv(d / "targets.txt", sep="\t")
        fa = pysam.FastaFile(str(d / "genome.fa.gz"))
        for f in t.file[t.description.str.startswith("CAGE:")]:
            bw = pyBigWig.open(str(d / f))
            near = total = 0.0
            top = []
            for chrom, length in zip(fa.references, fa.lengths):
                v = np.nan_to_num(np.asarray(bw.values(chrom, 0, length)))
                for s, e in zip(arte.start[arte.chrom == chrom], arte.end[arte.chrom == chrom]):
                    v[s:e] = 0
                m = np.zeros(length, bool)
                for p in tss.s[tss.chrom == chrom]:
                    m[max(0, p - 50):p + 51] = True
                near += v[m].sum()
                total += v.sum()
                idx = np.argsort(v)[-5:]
                top += [(v[i], m[i]) for i in idx]
            assert near / total > 0.8, (f, near / total)
            top.sort(reverse=True)
            assert all(on for _, on in top[:5]), f


def test_enhancers_active_in_their_cell_type_and_conserved(world):
    out, _ = world
    h = pd.read_csv(out / "truth" / "human" / "elements.tsv", sep="\t")
    enh = h[(h.kind == "enhancer") & (h.origin == "ancestral") & ~h.lost]
    for cell in ("liver", "brain"):
        own = enh[enh.program == cell][f"access_{cell}"].median()
        other = enh[~enh.program.str.contains(cell) & (enh.program != "ubiquitous")][f"access_{cell}"].median()
        assert own > 0.4 and other < 0.1, (cell, own, other)
    lost = h[(h.kind == "enhancer") & h.lost]
    assert len(lost) > 0 and lost[["access_liver", "access_brain"]].max(axis=1).median() < 0.1
    m = pd.read_csv(out / "truth" / "mouse" / "elements.tsv", sep="\t")
    j = h.merge(m, on="element_id", suffixes=("_h", "_m"))
    both = j[~j.lost_h & ~j.lost_m]
    assert np.corrcoef(both.access_liver_h, both.access_liver_m)[0, 1] > 0.7
    assert (h.origin == "gained").any() and (m.origin == "gained").any()
    assert not set(h.element_id[h.origin == "gained"]) & set(m.element_id)


def test_signal_realism_clipping_negatives(world):
    out, _ = world
    d = out / "human"
    t = pd.read_csv(d / "targets.txt", sep="\t")
    black = _read_bed(d / "blacklist.bed")
    fa = pysam.FastaFile(str(d / "genome.fa.gz"))
    over_clip = False
    for _, row in t.iterrows():
        bw = pyBigWig.open(str(d / row.file))
        vals, runs = [], []
        for chrom, length in zip(fa.references, fa.lengths):
            s = _bin_sums(bw, chrom, length, row.sum_stat)
            vals.append(s[~_bin_mask(black, chrom, s.size)])
            iv = bw.intervals(chrom)
            runs += [e - s_ for s_, e, _ in iv]
        v = np.concatenate(vals)
        if row.description.startswith("CHIP:"):
            assert (v < 0).mean() > 0.05  # log fold change: clipping negatives matters
            assert np.median(runs) >= 64  # piecewise
        else:
            assert v.min() >= 0
        if row.description.startswith("DNASE:"):
            assert np.median(runs) <= 32  # dense, short runs
        if row.sum_stat == "sum" and (v > row["clip"]).any():
            over_clip = True
        if row.sum_stat == "sum":
            assert (v > row["clip_soft"]).mean() > 0.001
    assert over_clip


def test_chip_peaks_on_ctcf_sites(world):
    out, _ = world
    d = out / "human"
    sites = pd.read_csv(out / "truth" / "human" / "motif_sites.tsv", sep="\t")
    ctcf = sites[(sites.tf == "CTCF") & (sites.occupancy > 0.9)]
    bw = pyBigWig.open(str(d / "tracks" / "CHIP_CTCF_liver.bw"))
    def window_mean(c, s):
        v = np.asarray(bw.values(c, max(0, s - 64), s + 64))
        return v[~np.isnan(v)].mean() if (~np.isnan(v)).any() else np.nan

    at = [window_mean(c, s) for c, s in zip(ctcf.chrom, ctcf.start)]
    rng = np.random.default_rng(0)
    chroms = bw.chroms()
    bg = [window_mean(c, int(rng.integers(1000, chroms[c] - 1000))) for c in rng.choice(list(chroms), 300)]
    assert len(at) >= 5
    assert np.nanmedian(at) > np.nanmedian(bg) + 1.0


# ---- genomes and alignment ------------------------------------------------------------------------

def test_chain_blocks_homologous_at_configured_identity(world):
    out, _ = world
    identity = resolve_params("tiny")["evolution"]["identity"]
    h = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    m = pysam.FastaFile(str(out / "mouse" / "genome.fa.gz"))
    chains = _read_chains(out / "alignment" / "human_to_mouse.chain")
    assert any(c["qstrand"] == "-" for c in chains) and any(c["qstrand"] == "+" for c in chains)
    eq = n = 0
    covered = {c: np.zeros(h.get_reference_length(c), bool) for c in h.references}
    for c in chains:
        assert c["tsize"] == h.get_reference_length(c["t"]) and c["qsize"] == m.get_reference_length(c["q"])
        tseq = encode(h.fetch(c["t"]))
        qseq = encode(m.fetch(c["q"]))
        if c["qstrand"] == "-":
            qseq = reverse_complement(qseq)
        pairs = _chain_pairs(c)
        last_t, last_q, last_size = pairs[-1]
        assert last_t + last_size == c["tend"] and last_q + last_size == c["qend"]
        for ts, qs, size in pairs:
            eq += int((tseq[ts:ts + size] == qseq[qs:qs + size]).sum())
            n += size
            assert not covered[c["t"]][ts:ts + size].any()  # target bases aligned once
            covered[c["t"]][ts:ts + size] = True
    assert n > 0.7 * sum(h.lengths)
    assert abs(eq / n - identity) < 0.015, eq / n

    # unaligned lineage-specific insertions are not homologous to anything in mouse (16-mer test)
    def kmers(codes, k=16):
        if codes.size < k:
            return np.zeros(0, np.uint64)
        ok = codes < N
        c = np.where(ok, codes, 0).astype(np.uint64)
        v = np.zeros(codes.size - k + 1, np.uint64)
        for j in range(k):
            v = (v << np.uint64(2)) | c[j:j + v.size]
        bad = np.convolve(~ok, np.ones(k, int), "valid") > 0
        return v[~bad]

    mouse_k = np.unique(np.concatenate([kmers(encode(m.fetch(c))) for c in m.references]
                                       + [kmers(reverse_complement(encode(m.fetch(c)))) for c in m.references]))
    seg = pd.read_csv(out / "truth" / "human" / "segments.tsv", sep="\t")
    ins = seg[(seg.kind == "insertion") & (seg.end - seg.start >= 300)]
    assert len(ins) > 3
    unal = np.concatenate([kmers(encode(h.fetch(c, s, e))) for c, s, e in zip(ins.chrom, ins.start, ins.end)])
    assert not any(covered[c][s:e].any() for c, s, e in zip(ins.chrom, ins.start, ins.end))
    al = [kmers(encode(h.fetch(c["t"], ts, ts + size))) for c in chains[:3] for ts, _, size in _chain_pairs(c)]
    al = np.concatenate(al)
    share_unal = np.isin(unal, mouse_k).mean()
    share_al = np.isin(al, mouse_k).mean()
    assert share_al > 0.05 and share_unal < 0.01, (share_al, share_unal)


def test_blacklist_artefacts_where_bed_says(world):
    out, _ = world
    for g in GENOMES:
        d = out / g
        black = _read_bed(d / "blacklist.bed")
        arte = pd.read_csv(out / "truth" / g / "artefacts.tsv", sep="\t")
        assert len(arte) > 0
        for c, s, e in zip(arte.chrom, arte.start, arte.end):
            hit = black[(black.chrom == c) & (black.name == "artefact") & (black.start <= s) & (black.end >= e)]
            assert len(hit) == 1
        t = pd.read_csv(d / "targets.txt", sep="\t")
        fa = pysam.FastaFile(str(d / "genome.fa.gz"))
        for _, row in t.iterrows():
            bw = pyBigWig.open(str(d / row.file))
            inside, outside = [], []
            for chrom, length in zip(fa.references, fa.lengths):
                s = _bin_sums(bw, chrom, length, row.sum_stat)
                a = _bin_mask(arte.rename(columns={"source": "name"}), chrom, s.size)
                inner = a & np.roll(a, 1) & np.roll(a, -1)  # bins fully inside
                inside.append(s[inner])
                outside.append(s[~_bin_mask(black, chrom, s.size)])
            inside, outside = np.concatenate(inside), np.concatenate(outside)
            assert np.median(inside) > np.percentile(outside, 99.5), row.identifier
            if row.description.startswith(("DNASE:", "CHIP:")):
                assert np.median(inside) > outside.max(), row.identifier


def test_unmappable_regions_have_no_data(world):
    out, _ = world
    for g in GENOMES:
        d = out / g
        un = _read_bed(d / "unmappable.bed")
        length = un.end - un.start
        assert (length <= 32).any() and (length > 32).any()
        seg = pd.read_csv(out / "truth" / g / "segments.tsv", sep="\t")
        dups = seg[seg.kind.isin(["segdup", "segdup_source"])]
        assert len(dups) > 0
        for c, s, e in zip(dups.chrom, dups.start, dups.end):
            assert ((un.chrom == c) & (un.start <= s) & (un.end >= e)).any()
        bw = pyBigWig.open(str(d / "tracks" / "DNASE_liver_rep1.bw"))
        long = dups[dups.end - dups.start >= 200]
        assert len(long) > 0
        for c, s, e in zip(long.chrom, long.start, long.end):
            v = np.asarray(bw.values(c, s + 32, e - 32))
            assert np.isnan(v).mean() > 0.9


def test_genes_gtf_and_tss_agree(world):
    out, _ = world
    for g in GENOMES:
        d = out / g
        gtf = pd.read_csv(d / "genes.gtf", sep="\t", header=None,
                          names=["chrom", "src", "feature", "start", "end", "score", "strand", "frame", "attributes"])
        genes = gtf[gtf.feature == "gene"].copy()
        genes["gene_id"] = genes["attributes"].str.extract(r'gene_id "([^"]+)"')[0]
        tss = pd.read_csv(d / "tss.bed", sep="\t", header=None, names=["chrom", "s", "e", "gene_id", "score", "strand"])
        j = genes.merge(tss, on="gene_id", suffixes=("", "_t"))
        assert len(j) == len(genes) == len(tss) > 0
        assert (j.strand == j.strand_t).all()
        five = np.where(j.strand == "+", j.start - 1, j.end - 1)
        assert (five == j.s).all()
        exons = gtf[gtf.feature == "exon"]
        assert len(exons) >= 2 * len(genes)
    orth = pd.read_csv(out / "truth" / "orthologs.tsv", sep="\t")
    assert len(orth) > 0.8 * len(genes)


# ---- variants ----------------------------------------------------------------------------------------

def test_vcf_ref_matches_fasta_and_labels(world):
    out, _ = world
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    vf = pysam.VariantFile(str(out / "human" / "variants.vcf.gz"))
    assert list(vf.header.contigs) == list(fa.references)
    recs = list(vf)
    assert len(recs) > 20
    ids = [r.id for r in recs]
    assert len(set(ids)) == len(ids)
    keys = [(fa.references.index(r.chrom), r.pos) for r in recs]
    assert keys == sorted(keys)
    for r in recs:
        assert fa.fetch(r.chrom, r.pos - 1, r.pos) == r.ref and len(r.alts) == 1 and r.alts[0] != r.ref
    assert len(list(vf.fetch(recs[0].chrom, recs[0].pos - 1, recs[0].pos))) >= 1  # tabix index works
    truth = pd.read_csv(out / "truth" / "variants.tsv", sep="\t")
    assert truth.id.tolist() == ids
    assert set(truth.label) == {"causal_break", "causal_create", "neutral"}
    delta = truth[[c for c in truth.columns if c.startswith("dnase_delta_")]].to_numpy()
    best = delta[np.arange(len(truth)), np.abs(delta).argmax(axis=1)]
    brk, crt, neu = (truth.label == x for x in ("causal_break", "causal_create", "neutral"))
    assert (truth.expected_sign[brk] == -1).all() and (best[brk] < -1).all()
    assert (truth.expected_sign[crt] == 1).all() and (best[crt] > 1).all()
    assert (truth.expected_sign[neu] == 0).all() and (np.abs(best[neu]) <= 0.5).all()
    assert (truth.alt_score[brk] < truth.ref_score[brk]).all()
    assert (truth.alt_score[crt] > truth.ref_score[crt]).all()
    assert (truth.element_id[brk | crt] != ".").all()


def test_variant_effect_matches_model_recomputation(world):
    """The truth's expected DNase delta equals re-running the activity model on ref and alt sequence."""
    out, _ = world
    from crossreg.simulate.signals import ActivityModel

    p = resolve_params("tiny")
    grammar = build_grammar(p, world_mod._rng(7, world_mod._GRAMMAR))  # the simulator's grammar stream
    model = ActivityModel(p, grammar, "human")
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    truth = pd.read_csv(out / "truth" / "variants.tsv", sep="\t")
    row = truth[truth.label == "causal_break"].iloc[0]
    seq = encode(fa.fetch(row.chrom))
    ref = model.chromosome(seq).access
    pos = int(row.pos) - 1
    seq[pos] = encode(row.alt)[0]
    alt = model.chromosome(seq).access
    cell = row.best_cell
    c = model.cells.index(cell)
    want = (alt[c] - ref[c]).sum() * p["assays"]["dnase"]["peak"] * model.r
    assert want == pytest.approx(row[f"dnase_delta_{cell}"], rel=1e-3, abs=1e-2)


# ---- units: params, motifs, evolution --------------------------------------------------------------

def test_params_validation(tmp_path):
    assert set(PRESETS) == {"tiny", "demo", "bench"}
    with pytest.raises(InputError, match="evolution.idenity"):
        resolve_params("tiny", {"evolution": {"idenity": 0.9}})
    with pytest.raises(InputError, match="genome.ancestral_length"):
        resolve_params("tiny", {"genome": {"ancestral_length": "big"}})
    with pytest.raises(InputError, match="unknown preset"):
        resolve_params("huge")
    with pytest.raises(InputError, match="cell_types"):
        resolve_params("tiny", {"cell_types": [{"name": "x", "genomes": ["human"], "tfs": {"NOPE": 1.0}}]})
    with pytest.raises(InputError, match="assays.extra"):
        resolve_params("tiny", {"assays": {"extra": [["CHIP:CTCF", "kidney"]]}})
    y = tmp_path / "p.yaml"
    y.write_text("evolution:\n  identity: 0.9\n  inversions: 3\nregulation:\n  genes: 10\n")
    p = resolve_params("tiny", y)
    assert p["evolution"]["identity"] == 0.9 and p["evolution"]["inversions"] == {"human": 3, "mouse": 3}
    assert p["regulation"]["genes"] == 10
    j = tmp_path / "p.json"
    j.write_text(json.dumps({"variants": {"bogus": 1}}))
    with pytest.raises(InputError, match="variants.bogus"):
        resolve_params("tiny", j)
    with pytest.raises(InputError, match="seed"):
        simulate(tmp_path / "x", seed=-1)
    assert PRESETS["demo"]["genome"]["ancestral_length"] > 10 * 400_000
    assert PRESETS["bench"]["genome"]["ancestral_length"] >= 100_000_000


def test_bench_preset_has_100_tracks():
    p = resolve_params("bench")
    from crossreg.simulate.assays import track_specs

    grammar = build_grammar(p, np.random.default_rng(0))
    for g in GENOMES:
        assert len(track_specs(p, grammar, g, np.random.default_rng(0))) >= 100


def test_meme_parser(tmp_path):
    ms = motifs.read_meme(motifs.default_motif_path())
    assert len(ms) == 182
    ctcf = motifs.find_motif(ms, "C055", "test")
    assert ctcf.id.startswith("C055:CTCF") and np.allclose(ctcf.probs.sum(axis=1), 1)
    bad = tmp_path / "bad.meme"
    bad.write_text("MEME version 4\n\nALPHABET= ACGT\n\nMOTIF X1\nletter-probability matrix: alength= 4 w= 2\n"
                   " 0.5 0.5 0 0\n")
    with pytest.raises(InputError, match="X1"):
        motifs.read_meme(bad)
    bad.write_text("not a meme file\n")
    with pytest.raises(InputError, match="MEME"):
        motifs.read_meme(bad)
    with pytest.raises(InputError, match="tfs.FOO"):
        motifs.find_motif(ms, "C999", "params: 'tfs.FOO'")


def test_scanner_matches_brute_force():
    ms = motifs.read_meme(motifs.default_motif_path())
    tfs = [motifs.build_tf(n, motifs.find_motif(ms, k, "t"), 1e-3, 1.0, 0.5, 0.06)
           for n, k in (("CTCF", "C055"), ("SOX", "C133"), ("TBP", "C135"))]
    rng = np.random.default_rng(1)
    seq = rng.integers(0, 4, 5000).astype(np.uint8)
    seq[100:110] = N
    sites = motifs.Scanner(tfs, 0.5).scan(seq, min_occupancy=0.01)
    floor_shift = np.log(0.01 / 0.99) * 0.5
    for i, tf in enumerate(tfs):
        win = np.lib.stride_tricks.sliding_window_view(seq, tf.width)
        per_strand = []
        for lo in (tf.lo, tf.lo[::-1, ::-1]):
            per_strand.append(np.where((win >= N).any(axis=1), -np.inf,
                                       lo[np.arange(tf.width), np.minimum(win, 3)].sum(axis=1)))
        best = np.maximum(per_strand[0], per_strand[1])
        floor = tf.threshold + floor_shift
        sel = sites.tf == i
        got = sites.start[sel]
        assert set(np.flatnonzero(best >= floor + 1e-4)) <= set(got)
        assert set(got) <= set(np.flatnonzero(best >= floor - 1e-4))
        assert len(set(got)) == got.size  # one site per position
        np.testing.assert_allclose(sites.score[sel], best[got], atol=1e-4)
        strand_score = np.where(sites.strand[sel] > 0, per_strand[0][got], per_strand[1][got])
        np.testing.assert_allclose(sites.score[sel], strand_score, atol=1e-4)


def test_splice_and_sequence_helpers():
    rng = np.random.default_rng(0)
    seq = rng.integers(0, 4, 50).astype(np.uint8)
    arrays = {"seq": seq, "idx": np.arange(50)}
    delete = np.zeros(50, bool)
    delete[10:15] = True
    ins_pos = np.array([0, 20, 20, 50])
    ins_len = np.array([2, 3, 1, 2])
    ins = {"seq": np.full(8, 9, np.uint8), "idx": np.array([-1, -2, -3, -4, -5, -6, -7, -8])}
    out = evolution.splice(arrays, delete, ins_pos, ins_len, ins)
    ref = [-1, -2] + list(range(10)) + list(range(15, 20)) + [-3, -4, -5, -6] + list(range(20, 50)) + [-7, -8]
    assert out["idx"].tolist() == ref
    assert decode(reverse_complement(encode("AACGTN"))) == b"NACGTT"
    assert identity_for_rates(0.0, 0.0, 0.6) == 1.0
    q = evolution.branch_rates(resolve_params("tiny"))
    assert identity_for_rates(q["human"], q["mouse"], 0.66) == pytest.approx(0.85, abs=1e-6)
    assert q["human"] < q["mouse"]
    cpg = encode("ACGCGTTCGA" * 100)
    from crossreg.simulate.sequence import deplete_cpg

    deplete_cpg(rng, cpg, 1.0)
    assert not ((cpg[:-1] == C) & (cpg[1:] == G)).any()


def test_knobs_change_the_world(tmp_path):
    """A small custom world: ATAC, per-cell-type ChIP, synthetic cell types, more chromosomes."""
    params = {"genome": {"ancestral_length": 200_000, "chromosomes": {"human": 2, "mouse": 3}},
              "evolution": {"synteny_block_mean": 30_000, "identity": 0.9},
              "regulation": {"genes": 8},
              "synthetic_cell_types": 2,
              "assays": {"per_cell_type": ["ATAC", "CAGE", "CHIP:CTCF"], "extra": [], "replicates": []},
              "variants": {"causal_break": 3, "causal_create": 2, "neutral": 5}}
    summary = simulate(tmp_path, preset="tiny", seed=3, params=params)
    assert summary["genomes"]["human"]["chromosomes"] == 2 and summary["genomes"]["mouse"]["chromosomes"] == 3
    assert abs(summary["chain"]["identity"] - 0.9) < 0.02
    t = pd.read_csv(tmp_path / "mouse" / "targets.txt", sep="\t")
    cells = {d.split(":")[-1] for d in t.description}
    assert {"ct01", "ct02", "esc", "liver", "brain"} <= cells
    assert t.description.str.startswith("ATAC:").sum() == len(cells)
    assert t.description.str.startswith("CHIP:CTCF:").sum() == len(cells)
    for f in t.file:
        assert pyBigWig.open(str(tmp_path / "mouse" / f)).chroms()
