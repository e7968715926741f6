"""SLDP and the de novo analysis recover what the simulator planted (tiny world).

The scores here are the truth's exact expected effects (a perfect model): this tests the
statistics and the commands on the simulated world, independently of how well a trained
model predicts (that is measured by ``make demo``, which runs the same steps on a trained
model's scores). Per cell type c, the tracks are ``CAGE_<c>`` (expected change of CAGE summed
over genes) and ``DNASE_<c>``; for SLDP the annotation of a panel SNP is its ALT effect.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from crossreg.cli import main
from crossreg.variants.output import SCORES_FORMAT, SCORES_FORMAT_VERSION, ScoreWriter, SnpTable


def write_truth_scores(path: Path, truth: pd.DataFrame, snp_ids: list[str], cells: list[str]) -> list[str]:
    """A score file whose SAD columns are the truth's per-cell effects of each row's ALT allele."""
    ids = [f"{assay}_{c}" for assay in ("CAGE", "DNASE") for c in cells]
    values = np.column_stack([truth[f"{assay.lower()}_delta_{c}"].to_numpy(np.float64)
                              for assay in ("CAGE", "DNASE") for c in cells])
    table = SnpTable(snp=snp_ids, chr=truth["chrom"].tolist(), pos=truth["pos"].astype(int).tolist(),
                     ref_allele=truth["ref"].tolist(), alt_allele=truth["alt"].tolist(), flipped=[False] * len(truth))
    with h5py.File(path, "w") as h5:
        w = ScoreWriter(h5, table, ids, [i.replace("_", " ") for i in ids], ["SAD"],
                        {"format": SCORES_FORMAT, "format_version": SCORES_FORMAT_VERSION})
        w.add({"SAD": values.astype(np.float32)})
        w.close()
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("traits") / "world"
    assert main(["simulate", "--preset", "tiny", "--seed", "0", "--out", str(out)]) == 0
    return out


def run(*argv) -> None:
    assert main([str(a) for a in argv]) == 0, argv


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    """The demo world (~20 s): 5 tissues, ~4,900 panel SNPs in 82 LD blocks, 200 genes."""
    out = tmp_path_factory.mktemp("traits_demo") / "world"
    assert main(["simulate", "--preset", "demo", "--seed", "0", "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_sldp_ranks_the_matched_cell_type_first_for_every_tissue(demo_world, tmp_path):
    world = demo_world
    truth = pd.read_csv(world / "truth" / "human" / "panel_snps.tsv", sep="\t")
    tissues = pd.read_csv(world / "truth" / "eqtl_tissues.tsv", sep="\t")
    cells = tissues["cell_type"].tolist()
    write_truth_scores(tmp_path / "scores.h5", truth, truth["snp"].tolist(), cells)
    chroms = ",".join(pd.unique(truth["chrom"]))
    panel = f"{world}/human/ld_panel/"
    run("sldp-panel", "--panel", panel, "--chroms", chroms, "--blocks", world / "human" / "ld_blocks.bed",
        "--out", tmp_path / "cache")
    run("sldp-profiles", "--panel-cache", tmp_path / "cache", "--scores", tmp_path / "scores.h5", "--panel", panel,
        "--background-gtf", world / "human" / "genes.gtf", "--out", tmp_path / "profiles.npz")
    tables = []
    for tissue in tissues["tissue"]:
        run("sldp-aggregate", "--pairs", world / "human" / "eqtl" / f"{tissue}.pairs.tsv.gz",
            "--out", tmp_path / f"{tissue}.sumstats.gz")
        run("sldp", "--panel-cache", tmp_path / "cache", "--profiles", tmp_path / "profiles.npz", "--sumstats",
            tmp_path / f"{tissue}.sumstats.gz", "--phenotype", tissue, "--flips", "100000", "--out",
            tmp_path / f"{tissue}.tsv")
        tables.append(tmp_path / f"{tissue}.tsv")
    run("sldp-gather", "--in", *tables, "--scores", tmp_path / "scores.h5", "--out-dir", tmp_path / "gathered")
    results = pd.read_csv(tmp_path / "gathered" / "results.tsv", sep="\t")
    # ranked by the analytic z (the sign-flip p of the strongest tracks sits at its floor 1/T)
    z_fast = results.pivot(index="annotation", columns="phenotype", values="z_fast")
    rf = results.pivot(index="annotation", columns="phenotype", values="rf")
    q = results.pivot(index="annotation", columns="phenotype", values="q")
    for tissue, cell in zip(tissues["tissue"], cells):
        for assay in ("DNASE", "CAGE"):
            rows = [f"{assay}_{c}" for c in cells]
            assert z_fast.loc[rows, tissue].idxmax() == f"{assay}_{cell}", (tissue, z_fast.loc[rows, tissue].to_dict())
        dnase = [f"DNASE_{c}" for c in cells]
        assert rf.loc[dnase, tissue].idxmax() == f"DNASE_{cell}"
        assert z_fast.loc[f"DNASE_{cell}"].idxmax() == tissue  # and its strongest tissue is its own
        assert q.loc[f"DNASE_{cell}", tissue] <= 0.05
    summary = json.loads((tmp_path / "gathered" / "summary.json").read_text())
    assert summary["tests"] == 2 * len(cells) * len(cells)


def test_denovo_brain_tracks_most_significant_and_cases_more_negative(world, tmp_path):
    truth = pd.read_csv(world / "truth" / "human" / "denovo.tsv", sep="\t")
    cells = [c.removeprefix("dnase_delta_") for c in truth.columns if c.startswith("dnase_delta_")]
    sites = truth.drop_duplicates(["chrom", "pos", "ref", "alt"]).reset_index(drop=True)
    ids = write_truth_scores(tmp_path / "scores.h5", sites,
                             [f"{r.chrom}:{r.pos}:{r.ref}:{r.alt}" for r in sites.itertuples()], cells)
    table = world / "human" / "denovo.tsv"
    run("denovo", "--table", table, "--scores", tmp_path / "scores.h5", "--fasta", world / "human" / "genome.fa.gz",
        "--group-rule", "brain=brain", "--chosen-track", "DNASE_brain", "--outdir", tmp_path / "denovo")
    tracks = pd.read_csv(tmp_path / "denovo" / "tracks.tsv", sep="\t").sort_values("p", kind="stable")
    assert set(tracks["identifier"]) == set(ids)
    assert tracks["identifier"].iloc[0] in {"DNASE_brain", "CAGE_brain"}
    brain = tracks[tracks["group"] == "brain"]
    assert (brain["direction"] == "case_lower").all() and brain["significant"].any()
    assert (tracks.loc[tracks["significant"], "group"] == "brain").all()
    summary = json.loads((tmp_path / "denovo" / "summary.json").read_text())
    fam = summary["families"]
    assert fam["fraction_case_more_negative"] > 0.5 and fam["compared"] == 8
    top = pd.read_csv(tmp_path / "denovo" / "top_variants.tsv", sep="\t")
    planted = set(truth.loc[truth["label"] != "background", "pos"])
    assert top["pos"].iloc[0] in planted

    # calibration: the same scores with the case/control labels permuted over the variants
    rng = np.random.default_rng(1)
    raw = pd.read_csv(table, sep="\t", dtype=str)
    discoveries = 0
    for k in range(20):
        shuffled = raw.copy()
        shuffled["role"] = rng.permutation(raw["role"].to_numpy())  # labels permuted over all variants
        shuffled["individual_id"] = shuffled["family_id"] + "." + shuffled["role"]
        path = tmp_path / f"perm{k}.tsv"
        shuffled.to_csv(path, sep="\t", index=False)
        run("denovo", "--table", path, "--scores", tmp_path / "scores.h5", "--no-plots", "--outdir", tmp_path / f"p{k}")
        discoveries += json.loads((tmp_path / f"p{k}" / "summary.json").read_text())["tracks"]["significant"] > 0
    assert discoveries <= 4, f"{discoveries} of 20 permutations had a track at FDR 0.1"
