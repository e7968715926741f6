"""The simulated human population: LD panel, eQTL statistics, de novo variants and the coding GTF.

Everything is checked against the written files, the FASTA and independent recomputation (panel LD
from the PLINK files, accessibility re-run on whole chromosomes), not against the code's own
intermediate numbers.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from bed_reader import open_bed

from crossreg.errors import InputError
from crossreg.simulate import resolve_params, simulate
from crossreg.simulate import coding, world as world_mod
from crossreg.simulate.grammar import build_grammar
from crossreg.simulate.sequence import encode
from crossreg.simulate.signals import ActivityModel

SEED = 11


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny world, with the simulator's own panels and effect model captured on the way."""
    out = tmp_path_factory.mktemp("popworld")
    captured = {}
    real = world_mod.eqtl.simulate_eqtl

    def spy(params, em, panels, genes, features, out_dir, rngs):
        captured.update(params=params, em=em, panels=panels, genes=genes, features=features)
        return real(params, em, panels, genes, features, out_dir, rngs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(world_mod.eqtl, "simulate_eqtl", spy)
        summary = simulate(out, preset="tiny", seed=SEED)
    return out, summary, captured


@pytest.fixture(scope="module")
def panel(world):
    """Per chromosome: bim table and panel genotypes read back with bed_reader."""
    out, _, cap = world
    res = {}
    for p in cap["panels"]:
        with open_bed(out / "human" / "ld_panel" / f"{p.chrom}.bed") as bed:
            g = bed.read(dtype="int8")
            bim = pd.DataFrame({"chrom": bed.chromosome, "snp": bed.sid, "cm": bed.cm_position,
                                "bp": bed.bp_position, "a1": bed.allele_1, "a2": bed.allele_2})
        res[p.chrom] = (bim, g)
    return res


def _read_bed(path, names):
    return pd.read_csv(path, sep="\t", header=None, names=names, dtype={names[0]: str})


def _mask(bed, chrom, length):
    m = np.zeros(length, bool)
    for s, e in zip(bed.start[bed.chrom == chrom], bed.end[bed.chrom == chrom]):
        m[s:e] = True
    return m


# ---- panel files ---------------------------------------------------------------------------------

def test_plink_vcf_and_fasta_agree(world, panel):
    out, summary, cap = world
    p = resolve_params("tiny")["population"]
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    unmap = _read_bed(out / "human" / "unmappable.bed", ["chrom", "start", "end", "name"])
    vcf_ids = []
    total = 0
    for cp in cap["panels"]:
        bim, g = panel[cp.chrom]
        np.testing.assert_array_equal(g, cp.panel)  # the genotypes simulated, read back
        assert g.shape == (p["panel_size"], cp.pos.size) and set(np.unique(g)) <= {0, 1, 2}
        seq = fa.fetch(cp.chrom)
        assert (bim.chrom == cp.chrom).all() and bim.snp.is_unique
        assert (np.diff(bim.bp) > 0).all()
        assert [seq[b - 1] for b in bim.bp] == bim.a2.tolist()  # A2 = REF = FASTA base at bp
        assert (bim.a1 != bim.a2).all() and set(bim.a1) <= set("ACGT")
        assert bim.snp.tolist() == [f"hs{cp.chrom[3:]}_{b}" for b in bim.bp]
        np.testing.assert_allclose(bim.cm, (bim.bp - 1) * p["recombination_rate"] * 100, atol=1e-6)
        af = g.mean(axis=0) / 2
        assert (np.minimum(af, 1 - af) >= p["min_maf"] - 1e-12).all()  # MAF filter
        m = _mask(unmap, cp.chrom, len(seq))
        assert not m[bim.bp - 1].any()  # mappable, non-N
        assert all(seq[b - 1] in "ACGT" for b in bim.bp)
        total += len(bim)
        with pysam.VariantFile(str(out / "human" / "panel_snps.vcf.gz")) as vf:
            recs = list(vf.fetch(cp.chrom))
        assert [r.pos for r in recs] == bim.bp.tolist()
        assert [r.ref for r in recs] == [seq[r.pos - 1] for r in recs]  # VCF REF = FASTA
        assert [r.alts[0] for r in recs] == bim.a1.tolist()
        np.testing.assert_allclose([r.info["AF"][0] for r in recs], af, atol=6e-5)
        vcf_ids += [r.id for r in recs]
    assert total == summary["population"]["snps"] > 300
    length = sum(fa.lengths)
    assert total <= p["snps_per_mb"] * length / 1e6 + len(fa.references)
    truth = pd.read_csv(out / "truth" / "human" / "panel_snps.tsv", sep="\t")
    assert truth.snp.tolist() == vcf_ids
    assert (np.minimum(truth.cohort_af, 1 - truth.cohort_af) >= p["min_maf"] - 1e-4).all()
    # SNPs are enriched in regulatory elements (weight 3 in the thinning)
    el = pd.read_csv(out / "truth" / "human" / "elements.tsv", sep="\t")
    el_bp = sum(_mask(el, c, n).sum() for c, n in zip(fa.references, fa.lengths))
    assert (truth.element_id != ".").mean() > 1.5 * el_bp / length


def test_ld_blocks_tile_the_panel(world, panel):
    out, _, _ = world
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    blocks = _read_bed(out / "human" / "ld_blocks.bed", ["chrom", "start", "end", "name"])
    assert blocks.name.is_unique and len(blocks) >= 24  # dozens of blocks for the sign-flip null
    per_block = []
    for chrom, (bim, _) in panel.items():
        b = blocks[blocks.chrom == chrom]
        assert b.start.iloc[0] == 0 and b.end.iloc[-1] == fa.get_reference_length(chrom)
        assert (b.start.to_numpy()[1:] == b.end.to_numpy()[:-1]).all()  # contiguous, no overlap
        pos0 = bim.bp.to_numpy() - 1
        idx = np.searchsorted(b.end.to_numpy(), pos0, side="right")
        assert (b.start.to_numpy()[idx] <= pos0).all() and (pos0 < b.end.to_numpy()[idx]).all()
        per_block += np.bincount(idx, minlength=len(b)).tolist()
    assert min(per_block) >= 1 and max(per_block) <= 2 * min(per_block) + 2  # roughly equal counts


def test_ld_decays_with_distance_and_is_absent_across_chromosomes(panel):
    bins = [(0, 5_000), (5_000, 20_000), (20_000, 50_000), (50_000, 10**9)]
    r2 = {b: [] for b in bins}
    for bim, g in panel.values():
        r = np.corrcoef(g.T.astype(np.float64)) ** 2
        d = np.abs(bim.bp.to_numpy()[:, None] - bim.bp.to_numpy()[None, :])
        iu = np.triu_indices(len(bim), 1)
        for lo, hi in bins:
            sel = (d[iu] >= lo) & (d[iu] < hi)
            r2[(lo, hi)].append(r[iu][sel])
    mean = [np.concatenate(r2[b]).mean() for b in bins]
    assert mean[0] > 0.2 and mean[0] > 4 * mean[-1], mean
    assert all(a > b for a, b in zip(mean, mean[1:])), mean  # decays with distance
    chroms = list(panel)
    g1, g2 = panel[chroms[0]][1].astype(float), panel[chroms[1]][1].astype(float)
    cross = np.corrcoef(g1.T, g2.T)[: g1.shape[1], g1.shape[1]:] ** 2
    n = g1.shape[0]
    assert cross.mean() < 2.0 / n  # ~1/n under independence
    assert mean[-1] > cross.mean()


# ---- eQTL statistics -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def eqtl_data(world, panel):
    out, _, _ = world
    tissues = pd.read_csv(out / "truth" / "eqtl_tissues.tsv", sep="\t")
    genes = pd.read_csv(out / "truth" / "human" / "eqtl_genes.tsv", sep="\t")
    eff = pd.read_csv(out / "truth" / "human" / "snp_gene_effects.tsv", sep="\t")
    z = {}
    for t in tissues.tissue:
        with gzip.open(out / "human" / "eqtl" / f"{t}.pairs.tsv.gz", "rt") as fh:
            assert fh.readline() == "gene\tSNP\tA1\tA2\tZ\tN\n"
        z[t] = pd.read_csv(out / "human" / "eqtl" / f"{t}.pairs.tsv.gz", sep="\t")
    snps = np.concatenate([bim.snp.to_numpy() for bim, _ in panel.values()])
    chrom_of = np.concatenate([[c] * len(bim) for c, (bim, _) in panel.items()])
    ld = {c: np.nan_to_num(np.corrcoef(g.T.astype(np.float64))) for c, (bim, g) in panel.items()}
    sd = {c: g.astype(np.float64).std(axis=0) for c, (bim, g) in panel.items()}
    return tissues, genes, eff, z, snps, chrom_of, ld, sd


def _expected_marginal(panel, eff, ld, sd, chrom, gene, cell):
    """Panel-LD prediction of the standardised marginal effects of every SNP of ``chrom`` on ``gene``."""
    bim, _ = panel[chrom]
    b = np.zeros(len(bim))
    e = eff[eff.gene_id == gene].set_index("snp")[f"cage_delta_{cell}"]
    idx = {s: i for i, s in enumerate(bim.snp)}
    for s, v in e.items():
        if s in idx:
            b[idx[s]] = v
    return ld[chrom] @ (b * sd[chrom])


def test_eqtl_files_and_truth_consistent(world, panel, eqtl_data):
    out, summary, _ = world
    tissues, genes, eff, z, *_ = eqtl_data
    p = resolve_params("tiny")
    assert tissues.tissue.tolist() == ["Liver", "Brain_Cortex", "Skin"]
    assert tissues.cell_type.tolist() == ["liver", "brain", "keratinocyte"]
    assert (tissues.n_samples == p["population"]["cohort_size"]).all()
    assert set(summary["eqtl"]["tissues"]) == set(tissues.tissue)
    bims = pd.concat([bim for bim, _ in panel.values()])
    alleles = dict(zip(bims.snp, zip(bims.a1, bims.a2, bims.chrom, bims.bp)))
    tss = pd.read_csv(out / "human" / "tss.bed", sep="\t", header=None, names=["chrom", "s", "e", "gene", "x", "st"])
    gene_tss = dict(zip(tss.gene, zip(tss.chrom, tss.s)))
    for t, df in z.items():
        assert (df.N == p["population"]["cohort_size"]).all()
        a = df.SNP.map(alleles)
        assert (df.A1 == a.str[0]).all() and (df.A2 == a.str[1]).all()
        gt = df.gene.map(gene_tss)
        assert (gt.str[0] == a.str[2]).all()  # cis: same chromosome
        assert (np.abs(a.str[3] - 1 - gt.str[1]) <= p["eqtl"]["cis_window"]).all()
        # every cis pair is there
        for gene, n in df.groupby("gene").size().items():
            c, t0 = gene_tss[gene]
            b = bims[bims.chrom == c]
            assert n == (np.abs(b.bp - 1 - t0) <= p["eqtl"]["cis_window"]).sum()
        g = genes[genes.tissue == t]
        row = tissues.set_index("tissue").loc[t]
        assert row.n_genes_with_effects == g.has_effect.sum() >= 5
        assert row.mean_cis_h2 == pytest.approx(p["eqtl"]["h2"], abs=0.02)
        assert row.mean_cis_h2 == pytest.approx(g.h2[g.has_effect].mean(), abs=1e-3)
    # the per-gene effects sum to the per-SNP totals of panel_snps.tsv
    ps = pd.read_csv(out / "truth" / "human" / "panel_snps.tsv", sep="\t").set_index("snp")
    cols = [c for c in eff.columns if c.startswith("cage_delta_")]
    summed = eff.groupby("snp")[cols].sum()
    np.testing.assert_allclose(summed.to_numpy(), ps.loc[summed.index, cols].to_numpy(), rtol=1e-4, atol=1e-4)
    assert (ps.drop(index=summed.index)[cols] == 0).all().all()


def test_eqtl_lead_snps_strong_and_signed(panel, eqtl_data):
    tissues, genes, eff, z, snps, chrom_of, ld, sd = eqtl_data
    checked = 0
    for t, cell in zip(tissues.tissue, tissues.cell_type):
        g = genes[(genes.tissue == t) & genes.has_effect]
        for row in g.itertuples():
            zz = z[t][z[t].gene == row.gene_id]
            lead = zz.iloc[int(np.abs(zz.Z.to_numpy()).argmax())]
            assert abs(lead.Z) > 4, (t, row.gene_id, lead.Z)  # h2 = 0.2 in 300 people
            expect = _expected_marginal(panel, eff, ld, sd, row.chrom, row.gene_id, cell)
            bim = panel[row.chrom][0]
            j = int(np.flatnonzero(bim.snp.to_numpy() == lead.SNP)[0])
            if abs(expect[j]) > 0.3 * np.abs(expect).max():
                assert np.sign(lead.Z) == np.sign(expect[j]), (t, row.gene_id)
                checked += 1
    assert checked >= 20


def test_eqtl_null_pairs_are_standard_normal(eqtl_data):
    tissues, genes, eff, z, *_ = eqtl_data
    null = []
    for t in tissues.tissue:
        g = genes[(genes.tissue == t) & ~genes.has_effect]
        null.append(z[t].Z[z[t].gene.isin(g.gene_id)].to_numpy())
    null = np.concatenate(null)
    assert null.size > 1000
    assert abs(null.mean()) < 0.15 and 0.85 < null.std() < 1.15
    assert (np.abs(null) > 1.96).mean() == pytest.approx(0.05, abs=0.03)


def test_tissue_signal_matches_its_own_cell_type(panel, eqtl_data):
    """Aggregated z (SPEC 8: sum over cis genes / sqrt(#genes)) correlates best with its own cell's R beta."""
    tissues, genes, eff, z, snps, chrom_of, ld, sd = eqtl_data
    alpha = {}
    for t in tissues.tissue:
        agg = z[t].groupby("SNP").Z.agg(lambda s: s.sum() / np.sqrt(len(s)))
        alpha[t] = agg.reindex(snps).fillna(0.0).to_numpy()
    predicted = {}
    for t, cell in zip(tissues.tissue, tissues.cell_type):
        v = np.zeros(snps.size)
        for row in genes[(genes.tissue == t) & genes.has_effect].itertuples():
            m = _expected_marginal(panel, eff, ld, sd, row.chrom, row.gene_id, cell) / row.genetic_sd
            v[chrom_of == row.chrom] += m
        predicted[cell] = v
    for t, cell in zip(tissues.tissue, tissues.cell_type):
        corr = {c: np.corrcoef(alpha[t], v)[0, 1] for c, v in predicted.items()}
        assert max(corr, key=corr.get) == cell, (t, corr)
        assert corr[cell] > 0.6 and corr[cell] > max(v for c, v in corr.items() if c != cell) + 0.1, (t, corr)


def test_effects_exact_against_whole_chromosome_recomputation(world):
    """Truth effects of panel SNPs and de novo SNPs equal re-running the activity model on the FASTA."""
    out, _, cap = world
    p = resolve_params("tiny")
    grammar = build_grammar(p, world_mod._rng(SEED, world_mod._GRAMMAR))
    model = ActivityModel(p, grammar, "human")
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    ps = pd.read_csv(out / "truth" / "human" / "panel_snps.tsv", sep="\t")
    dn = pd.read_csv(out / "truth" / "human" / "denovo.tsv", sep="\t")
    dcols = [f"dnase_delta_{c}" for c in model.cells]
    strong = ps.iloc[[int(np.abs(ps[dcols].to_numpy()).max(axis=1).argmax())]]
    zero = ps[(ps[dcols] == 0).all(axis=1) & (ps[[c.replace("dnase", "cage") for c in dcols]] == 0).all(axis=1)]
    rows = pd.concat([strong, zero.iloc[:2], dn[dn.label != "background"].iloc[:1]])
    assert len(rows) == 4
    ref_cache = {}
    for r in rows.itertuples():
        if r.chrom not in ref_cache:
            ref_cache[r.chrom] = model.chromosome(encode(fa.fetch(r.chrom))).access
        seq = encode(fa.fetch(r.chrom))
        assert seq[r.pos - 1] == encode(r.ref)[0]
        seq[r.pos - 1] = encode(r.alt)[0]
        alt = model.chromosome(seq).access
        want = (alt.astype(np.float64) - ref_cache[r.chrom]).sum(axis=1) * p["assays"]["dnase"]["peak"] * model.r
        got = np.asarray([getattr(r, c) for c in dcols], dtype=np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-2)
    assert (np.abs(strong[dcols].to_numpy()) > 1).any()

    # the fast batch path equals the slow single-SNP path bit for bit (sample of SNPs)
    em = cap["em"]
    rng = np.random.default_rng(0)
    for ci, c in enumerate(em.genome.chroms):
        cand = np.flatnonzero(c.seq < 4)
        pos = np.unique(np.concatenate([rng.choice(cand, 60, replace=False), cand[:1], cand[-1:],
                                        cap["panels"][ci].pos[:40]]))
        alt = ((c.seq[pos] + rng.integers(1, 4, pos.size)) % 4).astype(np.uint8)
        changed, dnase, per = em.batch_gene_effects(ci, pos, alt)
        assert changed.any() and not changed.all()
        for j in range(pos.size):
            d0, g0, c0 = em.gene_effects(ci, int(pos[j]), int(alt[j]))
            if not changed[j]:
                assert not d0.any() and not c0.any()
                assert not dnase[j].any() and per[j] is None
            else:
                np.testing.assert_array_equal(d0, dnase[j])
                np.testing.assert_array_equal(g0, per[j][0])
                np.testing.assert_array_equal(c0, per[j][1])


# ---- de novo variants ----------------------------------------------------------------------------

def test_denovo_families_counts_and_reference(world):
    out, summary, _ = world
    p = resolve_params("tiny")["denovo"]
    pub = pd.read_csv(out / "human" / "denovo.tsv", sep="\t")
    truth = pd.read_csv(out / "truth" / "human" / "denovo.tsv", sep="\t")
    assert list(pub.columns) == ["family_id", "individual_id", "role", "chrom", "pos", "ref", "alt"]
    pd.testing.assert_frame_equal(pub, truth[pub.columns])
    assert set(pub.role) == {"case", "control"}
    fam = pub.groupby("family_id")
    assert fam.ngroups == p["families"]
    for _, f in fam:
        roles = f.groupby("individual_id").role.agg(lambda s: set(s))
        assert sorted(r for s in roles for r in s) == ["case", "control"]  # one case + one control
    per_ind = pub.groupby("individual_id").size()
    assert len(per_ind) == 2 * p["families"]
    assert per_ind.mean() == pytest.approx(p["snvs_per_individual"], rel=0.25)
    assert not pub.duplicated(["individual_id", "chrom", "pos"]).any()
    fa = pysam.FastaFile(str(out / "human" / "genome.fa.gz"))
    assert all(fa.fetch(c, q - 1, q) == r for c, q, r in zip(pub.chrom, pub.pos, pub.ref))
    assert (pub.ref != pub.alt).all() and set(pub.alt) <= set("ACGT")
    unmap = _read_bed(out / "human" / "unmappable.bed", ["chrom", "start", "end", "name"])
    for c in fa.references:
        m = _mask(unmap, c, fa.get_reference_length(c))
        assert not m[pub.pos[pub.chrom == c] - 1].any()
    labels = truth.groupby(["role", "label"]).size()
    assert labels.get(("control", "disruptive_brain"), 0) == 0
    assert labels[("case", "disruptive_brain")] == summary["denovo"]["variants"]["case:disruptive_brain"]
    share = labels[("case", "disruptive_brain")] / (truth.role == "case").sum()
    assert share == pytest.approx(p["disruptive_fraction"], abs=0.08)


def test_cases_carry_disruptive_brain_variants(world):
    """Counted independently of the labels: case SNPs hit strong brain-TF sites in brain elements."""
    out, _, _ = world
    truth = pd.read_csv(out / "truth" / "human" / "denovo.tsv", sep="\t")
    sites = pd.read_csv(out / "truth" / "human" / "motif_sites.tsv", sep="\t")
    el = pd.read_csv(out / "truth" / "human" / "elements.tsv", sep="\t")
    act = pd.read_csv(out / "truth" / "tf_activity.tsv", sep="\t")
    brain_tfs = set(act.tf[(act.genome == "human") & (act.cell_type == "brain") & (act.activity >= 0.5)])
    brain_el = set(el.element_id[el.access_brain >= 0.3])
    hits = sites[sites.tf.isin(brain_tfs) & sites.element_id.isin(brain_el) & (sites.occupancy >= 0.7)]
    per_chrom = defaultdict(list)
    for r in hits.itertuples():
        per_chrom[r.chrom].append((r.start, r.end))

    def on_site(chrom, pos):
        return any(s <= pos - 1 < e for s, e in per_chrom[chrom])

    truth["hit"] = [on_site(c, q) for c, q in zip(truth.chrom, truth.pos)]
    n_case = truth.hit[truth.role == "case"].sum()
    n_ctrl = truth.hit[truth.role == "control"].sum()
    assert n_case >= 10 and n_case > 3 * n_ctrl + 3, (n_case, n_ctrl)
    for kind in ("dnase", "cage"):
        col = f"{kind}_delta_brain"
        case, ctrl = truth[col][truth.role == "case"], truth[col][truth.role == "control"]
        assert case.mean() < ctrl.mean() - 0.5, (kind, case.mean(), ctrl.mean())
    dis = truth[truth.label == "disruptive_brain"]
    assert (dis.dnase_delta_brain <= -resolve_params("tiny")["denovo"]["min_abs_effect"]).all()
    assert (dis.tf != ".").all() and dis.element_id.isin(brain_el).all()


# ---- GTF coding structure ------------------------------------------------------------------------

def test_plan_cds_edge_cases():
    plan = coding.plan_cds([100, 50, 400], utr5=30, utr3=200)
    assert plan.cds_start == 30 and (plan.cds_end + 3 - plan.cds_start) % 3 == 0
    assert plan.length - plan.cds_end - 3 >= 1 and plan.cds_end >= 150  # stop codon in the last exon
    plan = coding.plan_cds([100, 50, 400], utr5=500, utr3=5000)  # wanted UTRs longer than the end exons
    assert 1 <= plan.cds_start <= 97 and plan.cds_end >= 150 and (plan.cds_end + 3 - plan.cds_start) % 3 == 0
    one = coding.plan_cds([40], utr5=10, utr3=10)
    assert one.cds_start >= 1 and one.length - one.cds_end - 3 >= 1 and one.cds_end - one.cds_start >= 3
    assert coding.plan_cds([3, 100], 10, 10) is None and coding.plan_cds([100, 2], 10, 10) is None
    assert coding.plan_cds([], 10, 10) is None and coding.plan_cds([7], 1, 1) is None
    assert coding.plan_cds([8], 1, 1) == coding.CodingPlan(8, 1, 4)  # 5' UTR, start codon, stop codon, 3' UTR


def _gtf(path):
    df = pd.read_csv(path, sep="\t", header=None, names=["chrom", "src", "feature", "start", "end", "score", "strand",
                                                         "frame", "attrs"])
    df["tx"] = df["attrs"].str.extract(r'transcript_id "([^"]+)"')
    return df


def _bases(rows):
    out = set()
    for s, e in zip(rows.start, rows.end):
        out |= set(range(s, e + 1))
    return out


def test_gtf_cds_utr_codons(world):
    out, _, _ = world
    strands = set()
    for genome in ("human", "mouse"):
        gtf = _gtf(out / genome / "genes.gtf")
        assert set(gtf.feature) == {"gene", "transcript", "exon", "CDS", "start_codon", "stop_codon", "UTR"}
        tss = pd.read_csv(out / genome / "tss.bed", sep="\t", header=None)
        assert len(tss) == (gtf.feature == "gene").sum()
        for tx, t in gtf[gtf.tx.notna()].groupby("tx"):
            strand = t.strand.iloc[0]
            strands.add(strand)
            ex = t[t.feature == "exon"].sort_values("start")
            cds = t[t.feature == "CDS"].sort_values("start")
            utr = t[t.feature == "UTR"]
            exb, cdsb, utrb = _bases(ex), _bases(cds), _bases(utr)
            assert cdsb and cdsb <= exb and not cdsb & utrb
            assert cdsb | utrb == exb  # UTRs + CDS = exons
            for r in cds.itertuples():  # each CDS piece inside one exon
                assert ((ex.start <= r.start) & (ex.end >= r.end)).sum() == 1
            start = t[t.feature == "start_codon"]
            stop = t[t.feature == "stop_codon"]
            assert len(start) == len(stop) == 1
            stopb = _bases(stop)
            assert len(stopb) == 3 and stopb <= utrb
            assert (len(cdsb) + 3) % 3 == 0
            order = sorted(exb) if strand == "+" else sorted(exb, reverse=True)  # transcription order
            rank = {b: i for i, b in enumerate(order)}
            c_rank = sorted(rank[b] for b in cdsb)
            assert c_rank == list(range(c_rank[0], c_rank[-1] + 1))  # CDS contiguous in the transcript
            assert sorted(rank[b] for b in _bases(start)) == c_rank[:3]
            assert sorted(rank[b] for b in stopb) == [c_rank[-1] + 1, c_rank[-1] + 2, c_rank[-1] + 3]
            five = [b for b in utrb if rank[b] < c_rank[0]]
            three = [b for b in utrb if rank[b] > c_rank[-1]]
            assert five and len(three) > 3 and len(five) + len(three) == len(utrb)
            # 5' UTR upstream: lower coordinates on +, higher on -
            if strand == "+":
                assert max(five) < min(cdsb) and min(three) > max(cdsb)
            else:
                assert min(five) > max(cdsb) and max(three) < min(cdsb)
            first, last = ex.iloc[0 if strand == "+" else -1], ex.iloc[-1 if strand == "+" else 0]
            assert set(five) <= set(range(first.start, first.end + 1))  # start codon in the first exon
            assert stopb <= set(range(last.start, last.end + 1))  # stop codon and 3' UTR in the last exon
            assert set(three) <= set(range(last.start, last.end + 1))
            # GTF frame: bases before the first full codon of each piece, in transcription order
            done = 0
            for r in (cds.itertuples() if strand == "+" else list(cds.itertuples())[::-1]):
                assert int(r.frame) == (3 - done % 3) % 3
                done += r.end - r.start + 1
    assert strands == {"+", "-"}


# ---- params, summary, knobs ----------------------------------------------------------------------

def test_summary_json_and_readme(world):
    out, summary, _ = world
    meta = json.loads((out / "simulation.json").read_text())
    assert meta["population"]["snps"] == summary["population"]["snps"]
    assert meta["population"]["blocks"] == summary["population"]["blocks"]
    assert set(meta["eqtl"]["tissues"]) == set(summary["eqtl"]["tissues"])
    assert meta["denovo"] == summary["denovo"]["variants"]
    for key in ("ld_panel", "ld_blocks", "panel_vcf"):
        assert Path(summary["population"][key]).exists()
    assert Path(summary["denovo"]["path"]).is_file()
    readme = (out / "README.md").read_text()
    for name in ("ld_panel", "ld_blocks.bed", "panel_snps.vcf.gz", "pairs.tsv.gz", "denovo.tsv", "panel_snps.tsv",
                 "snp_gene_effects.tsv", "eqtl_genes.tsv", "eqtl_tissues.tsv", "start_codon", "UTR",
                 "Brain_Cortex", "disruptive_brain"):
        assert name in readme, name


def test_population_params_validated():
    with pytest.raises(InputError, match="population.bogus"):
        resolve_params("tiny", {"population": {"bogus": 1}})
    with pytest.raises(InputError, match="population.panel_size"):
        resolve_params("tiny", {"population": {"panel_size": "many"}})
    with pytest.raises(InputError, match="population.min_maf"):
        resolve_params("tiny", {"population": {"min_maf": 0.7}})
    with pytest.raises(InputError, match="population.bottleneck_generations"):
        resolve_params("tiny", {"population": {"bottleneck_generations": [500, 100]}})
    with pytest.raises(InputError, match="eqtl.h2"):
        resolve_params("tiny", {"eqtl": {"h2": 1.5}})
    with pytest.raises(InputError, match=r"eqtl.cell_types\[0\]"):
        resolve_params("tiny", {"eqtl": {"cell_types": ["kidney"]}})
    with pytest.raises(InputError, match="eqtl.tissues"):
        resolve_params("tiny", {"eqtl": {"tissues": {"brain": "Liver"}}})
    with pytest.raises(InputError, match="eqtl.tissues.liver"):
        resolve_params("tiny", {"eqtl": {"tissues": {"liver": "Liver/Bad"}}})
    with pytest.raises(InputError, match="denovo.cell_type"):
        resolve_params("tiny", {"denovo": {"cell_type": "heart"}})  # no heart in tiny
    with pytest.raises(InputError, match="denovo.disruptive_fraction"):
        resolve_params("tiny", {"denovo": {"disruptive_fraction": 2}})
    with pytest.raises(InputError, match="regulation.utr5_length"):
        resolve_params("tiny", {"regulation": {"utr5_length": [10]}})
    p = resolve_params("tiny", {"eqtl": {"tissues": {"brain": "Brain_Frontal_Cortex_BA9"}}})
    assert p["eqtl"]["tissues"]["brain"] == "Brain_Frontal_Cortex_BA9" and p["eqtl"]["tissues"]["liver"] == "Liver"
    for preset in ("tiny", "demo", "bench"):
        q = resolve_params(preset)
        assert q["population"]["panel_size"] >= 150 and q["population"]["cohort_size"] >= 300


def test_population_knobs_change_the_world(tmp_path):
    params = {"genome": {"ancestral_length": 200_000, "chromosomes": {"human": 2, "mouse": 2}},
              "evolution": {"synteny_block_mean": 30_000},
              "regulation": {"genes": 8},
              "variants": {"causal_break": 2, "causal_create": 1, "neutral": 3},
              "population": {"panel_size": 40, "cohort_size": 60, "bottleneck_size": 0, "snps_per_mb": 300.0,
                             "snps_per_block": 10, "min_maf": 0.05},
              "eqtl": {"cell_types": ["brain"], "tissues": {"brain": "Brain_Frontal_Cortex_BA9"}},
              "denovo": {"families": 3, "snvs_per_individual": 5.0, "disruptive_fraction": 0.0}}
    summary = simulate(tmp_path, preset="tiny", seed=5, params=params)
    assert list(summary["eqtl"]["tissues"]) == ["Brain_Frontal_Cortex_BA9"]
    assert sorted(p.name for p in (tmp_path / "human" / "eqtl").iterdir()) == ["Brain_Frontal_Cortex_BA9.pairs.tsv.gz"]
    fam = pd.read_csv(tmp_path / "human" / "ld_panel" / "chr1.fam", sep=r"\s+", header=None)
    assert len(fam) == 40
    z = pd.read_csv(tmp_path / "human" / "eqtl" / "Brain_Frontal_Cortex_BA9.pairs.tsv.gz", sep="\t")
    assert (z.N == 60).all()
    dn = pd.read_csv(tmp_path / "truth" / "human" / "denovo.tsv", sep="\t")
    assert dn.family_id.nunique() == 3 and set(dn.label) == {"background"}
    n_snps = summary["population"]["snps"]
    length = summary["genomes"]["human"]["length"]
    assert n_snps <= 300 * length / 1e6 + 2
    ps = pd.read_csv(tmp_path / "truth" / "human" / "panel_snps.tsv", sep="\t")
    assert (np.minimum(ps.af, 1 - ps.af) >= 0.05).all()
