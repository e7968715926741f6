"""The ``crossreg sldp-*`` commands on the recorded reference case (tests/data/sldp_reference).

The commands read a variant-score HDF5 (float16 SAD), so the targets pass through float16:
the command chain must give exactly what the library gives on those rounded annotations,
and, to float16 precision, what the reference sldp 1.1.5 recorded (run ``B``: no
background, 300 jackknife chunks, seed 7, T = 1e6, the reference random stream).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from crossreg.cli import main
from crossreg.variants.output import SCORES_FORMAT, SCORES_FORMAT_VERSION, ScoreWriter, SnpTable

CASE = Path(__file__).parent / "data" / "sldp_reference"
CHROMS = ["1", "2", "21", "22"]
TARGETS = ["planted", "weak", "sparse", "random"]


def write_target_scores(path: Path) -> pd.DataFrame:
    """The case's target annotations as a score file: a1 = ALT, a2 = REF, SAD = the value."""
    frames = [pd.read_csv(CASE / "annot" / f"targets.{c}.sannot.gz", sep="\t", dtype={"SNP": str}) for c in CHROMS]
    ann = pd.concat(frames, ignore_index=True)
    table = SnpTable(snp=ann["SNP"].tolist(), chr=ann["CHR"].astype(str).tolist(), pos=ann["BP"].astype(int).tolist(),
                     ref_allele=ann["A2"].tolist(), alt_allele=ann["A1"].tolist(), flipped=[False] * len(ann))
    with h5py.File(path, "w") as h5:
        w = ScoreWriter(h5, table, TARGETS, [f"{t} track" for t in TARGETS], ["SAD"],
                        {"format": SCORES_FORMAT, "format_version": SCORES_FORMAT_VERSION})
        w.add({"SAD": ann[TARGETS].to_numpy(np.float32)})
        w.close()
    return ann


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    d = tmp_path_factory.mktemp("sldp_steps")
    write_target_scores(d / "scores.h5")
    run = lambda *argv: main([str(a) for a in argv])  # noqa: E731
    assert run("sldp-panel", "--panel", CASE / "panel" / "reference.", "--chroms", "1,2,21,22", "--blocks",
               CASE / "blocks.bed", "--print-snps", CASE / "print_snps.txt", "--out", d / "cache") == 0
    assert run("sldp-profiles", "--panel-cache", d / "cache", "--scores", d / "scores.h5", "--no-background",
               "--out", d / "profiles.npz") == 0
    for name, seed in (("pheno", 7), ("again", 8)):
        assert run("sldp", "--panel-cache", d / "cache", "--profiles", d / "profiles.npz", "--sumstats",
                   CASE / "pheno.sumstats.gz", "--phenotype", name, "--seed", seed, "--rng", "reference",
                   "--ldscores", CASE / "ldscores" / "ld.", "--out", d / f"{name}.tsv") == 0
    assert run("sldp-gather", "--in", d / "pheno.tsv", d / "again.tsv", "--scores", d / "scores.h5",
               "--clusters", "2", "--out-dir", d / "gathered") == 0
    return d


def test_commands_equal_the_library_and_the_reference_to_float16(chain):
    from crossreg.io.sumstats import read_sumstats
    from crossreg.sldp import annotations_from_scores, load_panel_cache, read_ldscores, run_sldp

    ours = pd.read_csv(chain / "pheno.tsv", sep="\t").set_index("annotation")
    assert ours["phenotype"].eq("pheno").all() and list(ours.index) == TARGETS
    cache = load_panel_cache(chain / "cache")
    lib = run_sldp(cache, annotations_from_scores(chain / "scores.h5"), read_sumstats(CASE / "pheno.sumstats.gz"),
                   ldscores=read_ldscores(CASE / "ldscores" / "ld."), T=1_000_000, seed=7, rng="reference",
                   chroms=cache.chroms).set_index("annotation")
    for col in ("mu", "se", "z", "p", "z_fast", "p_fast", "rf", "h2g"):
        np.testing.assert_allclose(ours[col], lib[col], rtol=1e-9, err_msg=col)  # the TSV keeps 10 digits
    ref = pd.read_csv(CASE / "expected" / "B.gwresults", sep="\t")
    ref = ref.assign(annotation=ref["annot"].str.removesuffix(".R")).set_index("annotation").loc[TARGETS]
    np.testing.assert_allclose(ours["mu"], ref["mu"], rtol=2e-3, atol=1e-6)  # float16 targets (3 digits)
    np.testing.assert_allclose(ours["se"], ref["se(mu)"], rtol=2e-3)
    np.testing.assert_allclose(ours["h2g"], ref["h2g"], rtol=1e-9)  # does not depend on the targets
    assert ours.loc["planted", "p"] < 1e-4 and ours.loc["random", "p"] > 0.5
    side = json.loads((chain / "pheno.tsv.json").read_text())
    assert side["phenotype"] == "pheno" and side["settings"]["rng"] == "reference" and side["reports"]


def test_gather_table_fdr_plots_and_summary(chain):
    g = chain / "gathered"
    table = pd.read_csv(g / "results.tsv", sep="\t")
    assert len(table) == 8 and set(table["phenotype"]) == {"pheno", "again"}
    np.testing.assert_allclose(table["q"], multipletests(table["p"], method="fdr_bh")[1], rtol=1e-9)
    assert (table["description"] == table["annotation"] + " track").all()
    z = pd.read_csv(g / "z.tsv", sep="\t", index_col=0)
    assert z.shape == (4, 2) and z.loc["planted", "pheno"] == pytest.approx(
        table.set_index(["phenotype", "annotation"]).loc[("pheno", "planted"), "z"])
    clusters = pd.read_csv(g / "clusters.tsv", sep="\t", index_col=0)
    assert set(clusters.index) == set(TARGETS) and clusters["cluster"].nunique() == 2
    for png in ("z_heatmap.png", "z_clusters.png"):
        assert (g / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((g / "summary.json").read_text())
    assert summary["format"] == "crossreg-sldp" and summary["tests"] == 8
    assert summary["best_track_per_phenotype"]["pheno"]["annotation"] == "planted"
    assert summary["significant"] == int((table["q"] <= 0.05).sum()) >= 2


def test_bad_inputs_are_one_line_errors(chain, tmp_path, capsys):
    assert main(["sldp-profiles", "--panel-cache", str(chain / "cache"), "--scores", str(chain / "scores.h5"),
                 "--out", str(tmp_path / "p.npz")]) == 2
    assert "need --panel" in capsys.readouterr().err
    assert main(["sldp-panel", "--panel", str(CASE / "panel" / "reference."), "--chroms", "1,7,9",
                 "--blocks", str(CASE / "blocks.bed"), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "7" in err and "9" in err and err.count("\n") == 1
    bad = tmp_path / "bad.tsv"
    bad.write_text("phenotype\tannotation\tz\n")
    assert main(["sldp-gather", "--in", str(bad), "--out-dir", str(tmp_path / "g")]) == 2
    assert "not an sldp table" in capsys.readouterr().err


@pytest.mark.parametrize("text, expected", [("1-3", ["1", "2", "3"]), ("chr1-chr3,X", ["chr1", "chr2", "chr3", "X"]),
                                            ("2,1,2", ["2", "1"])])
def test_parse_chroms(text, expected):
    from crossreg.sldp.steps import parse_chroms

    assert parse_chroms(text) == expected
