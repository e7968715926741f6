"""crossreg run: parameters (same as the pipeline's), inputs, up-to-date records, and the whole
chain end to end on the tiny simulated world (simulate -> ... -> train -> evaluate -> report)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from crossreg.cli import main
from crossreg.errors import InputError
from crossreg.runner import RUN_PARAMS, load_run_params, plan_run, run_pipeline
from crossreg.runner.inputs import read_samplesheet
from crossreg.runner.state import fingerprint, is_up_to_date, write_record
from crossreg.simulate.eqtl import eqtl_tissues
from crossreg.simulate.params import resolve_params

ROOT = Path(__file__).resolve().parents[1]


def _schema_properties() -> dict:
    schema = json.loads((ROOT / "nextflow_schema.json").read_text())
    props = dict(schema.get("properties", {}))
    for group in schema.get("$defs", {}).values():
        props.update(group.get("properties", {}))
    return props


def test_run_params_are_the_pipeline_params():
    """Every key of the pipeline's schema, with its type and default, and nothing else."""
    props = _schema_properties()
    assert {p.name for p in RUN_PARAMS} == set(props)
    for p in RUN_PARAMS:
        assert props[p.name]["type"] == p.type, p.name
        assert props[p.name].get("default") == p.default, p.name


def test_test_and_demo_params_files_load():
    for name in ("test.yaml", "demo.yaml"):
        values = load_run_params(ROOT / "conf" / name)
        assert values["simulate_preset"] in ("tiny", "demo")
        assert (ROOT / values["model_params"]).is_file()


@pytest.mark.parametrize("text, message", [
    ("simulate_preset: tiny\ntrain_epoch: 3\n", "unknown parameter 'train_epoch'; did you mean 'train_epochs'?"),
    ("simulate_preset: tiny\ntrain_epochs: three\n", "parameter 'train_epochs' must be a integer, got 'three'"),
    ("simulate_preset: tiny\nevaluate_rc_average: 1\n", "'evaluate_rc_average' must be a boolean"),
    ("simulate_preset: huge\n", "'simulate_preset' must be one of tiny, demo, bench"),
    ("seq_length: 2048\n", "give 'input' (a genome samplesheet) or 'simulate_preset'"),
    ("simulate_preset: tiny\ninput: sheet.csv\n", "exclude each other"),
    ("simulate_preset: tiny\ntrain_mode: single\n", "train_mode 'single' needs 'train_genome'"),
])
def test_bad_params_files_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_run_params(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_samplesheet_errors_name_the_line(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">chr1\nACGT\n")
    targets = tmp_path / "targets.txt"
    targets.write_text("x\n")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"genome,fasta,targets,tss\nhuman,{fa},{targets},\nmouse,{fa},{tmp_path / 'missing.txt'},\n")
    with pytest.raises(InputError, match=r"sheet.csv: line 3: column 'targets': file .*missing.txt does not exist"):
        read_samplesheet(sheet)
    sheet.write_text(f"genome,fasta,targets\nhuman,{fa},{targets}\nhuman,{fa},{targets}\n")
    with pytest.raises(InputError, match=r"line 3: genome 'human' is already listed on line 2"):
        read_samplesheet(sheet)
    sheet.write_text(f"genome,fasta,targets,colour\nhuman,{fa},{targets},red\n")
    with pytest.raises(InputError, match=r"line 1: unknown column\(s\) colour"):
        read_samplesheet(sheet)
    sheet.write_text(f"genome,fasta,targets,blacklist\nhuman,{fa},{targets},{fa};{targets}\n")
    (record,) = read_samplesheet(sheet)
    assert record.blacklist == [fa, targets] and record.tss is None and record.windows is None


def test_plan_mirrors_the_pipeline_and_needs_a_model(tmp_path):
    from crossreg.cli import build_parser

    values = load_run_params(ROOT / "conf" / "test.yaml", {"model_params": str(ROOT / "conf/model/params_sim_tiny.json")})
    plan = plan_run(values, tmp_path)
    names = [s.name for s in plan.steps]
    tissues = [t for t, _ in eqtl_tissues(resolve_params("tiny"))]
    assert names == ["simulate", "split", "windows:human", "windows:mouse", "baselines:human", "baselines:mouse",
                     "shards:human:0", "shards:human:1", "manifest:human", "shards:mouse:0", "shards:mouse:1",
                     "manifest:mouse", "train", "match-tracks", "evaluate", "score-variants:human:0",
                     "score-variants:human:1", "gather-scores:human",
                     # SLDP of the world's human panel and eQTL tissues, with the human head
                     "sldp-panel", *(f"sldp-aggregate:{t}" for t in tissues), "score-variants:sldp:human:0",
                     "score-variants:sldp:human:1", "gather-scores:sldp:human", "sldp-profiles:human",
                     *(f"sldp:human:{t}" for t in tissues), "sldp-gather:human",
                     # the world's human de novo variants, with the human head
                     "denovo-vcf", "score-variants:denovo:human:0", "score-variants:denovo:human:1",
                     "gather-scores:denovo:human", "denovo:human", "ism-denovo:human",
                     "report"]
    assert plan.sldp == {"human": tmp_path / "sldp" / "human"} and plan.denovo == {"human": tmp_path / "denovo" / "human"}
    # the report (last) shows the SLDP and de novo folders, and runs again when what it reads of them changes
    report = plan.steps[-1]
    parsed = build_parser().parse_args(report.argv)
    assert parsed.sldp == [plan.sldp["human"]] and parsed.denovo == [plan.denovo["human"]]
    assert {plan.sldp["human"] / "summary.json", plan.sldp["human"] / "results.tsv", plan.denovo["human"] / "summary.json",
            plan.denovo["human"] / "top_variants.tsv", plan.denovo["human"] / "ism" / "index.tsv"} <= set(report.inputs)
    train = next(s for s in plan.steps if s.name == "train")
    assert train.argv[train.argv.index("--epochs") + 1] == "12"
    # every command line is one the crossreg parser accepts
    for step in plan.steps:
        build_parser().parse_args(step.argv)
    with pytest.raises(InputError, match="give 'model_params'"):
        plan_run({**values, "model_params": None}, tmp_path)
    model_plan = plan_run({**values, "model_params": None, "model_dir": str(tmp_path / "model")}, tmp_path)
    assert "train" not in [s.name for s in model_plan.steps]


def test_up_to_date_records(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "out" / "b.txt"
    a.write_text("1")
    b.parent.mkdir()
    b.write_text("2")
    state = tmp_path / "state"
    argv = ["windows", "--x", "1"]
    assert not is_up_to_date(state, "s", argv, [a], [b])
    write_record(state, "s", argv, [a], [b.parent], 1.0)
    assert is_up_to_date(state, "s", argv, [a], [b.parent])
    assert not is_up_to_date(state, "s", ["windows", "--x", "2"], [a], [b.parent])  # other options
    time.sleep(0.01)
    a.write_text("1")  # rewritten input: new mtime
    assert not is_up_to_date(state, "s", argv, [a], [b.parent])
    write_record(state, "s", argv, [a], [b.parent], 1.0)
    b.unlink()  # a missing output
    assert not is_up_to_date(state, "s", argv, [a], [b.parent])
    assert fingerprint([tmp_path / "nothing"]) == {str(tmp_path / "nothing"): [-1, -1]}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """conf/test.yaml end to end (from the repository root, as `make demo` runs it)."""
    out = tmp_path_factory.mktemp("run") / "results"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = run_pipeline(ROOT / "conf" / "test.yaml", out)
    finally:
        os.chdir(cwd)
    return out, result


def test_tiny_world_end_to_end_learns_and_reports(tiny_run):
    out, result = tiny_run
    assert result.skipped == [] and len(result.ran) == len(result.plan.steps)
    summary = json.loads((out / "evaluate" / "summary.json").read_text())
    for genome in ("human", "mouse"):
        by_assay = summary["genomes"][genome]["mean_r_by_assay"]
        # the floor the demo must clear: the model learned accessibility and transcription
        assert by_assay["DNASE"] > 0.2, (genome, by_assay)
        assert by_assay["CAGE"] > 0.2, (genome, by_assay)
    html = (out / "report" / "report.html").read_text()
    assert "<html" in html and "crossreg report" in html
    assert html.count("data:image/png") >= 3  # evaluation plots and learning curves, embedded
    for layout in ("split/human.folds.bed", "windows/mouse.windows.bed", "baselines/human.baselines.tsv",
                   "shards/human/manifest.json", "train/model_best/model.weights.h5", "train/history.csv",
                   "evaluate_inputs/track_matches.tsv", "evaluate/tracks.tsv", "pipeline_info/logs/train.log"):
        assert (out / layout).is_file(), layout
    # every planned output is there (the world's population files were where the plan expected them)
    missing = [str(path) for step in result.plan.steps for path in step.outputs if not path.exists()]
    assert not missing, missing
    # the SLDP gather summary and the de novo summary exist and parse
    tissues = [t for t, _ in eqtl_tissues(resolve_params("tiny"))]
    sldp = json.loads((result.plan.sldp["human"] / "summary.json").read_text())
    assert sldp["format"] == "crossreg-sldp" and sldp["phenotypes"] == sorted(tissues) and sldp["tests"] > 0
    denovo = json.loads((result.plan.denovo["human"] / "summary.json").read_text())
    assert denovo["format"] == "crossreg-denovo" and (result.plan.denovo["human"] / "ism" / "index.tsv").is_file()
    # the report's trait analyses: one SLDP and one de novo section (the human head), their plots embedded
    assert "Trait analyses" in html and 'id="sldp-1"' in html and 'id="denovo-1"' in html
    assert 'id="sldp-2"' not in html and 'id="denovo-2"' not in html
    assert "SLDP: human" in html and "De novo: human" in html and "z_heatmap.png" in html
    assert all(t in html for t in tissues)


def test_second_run_skips_everything_and_a_changed_option_reruns_downstream(tiny_run, capsys):
    out, _ = tiny_run
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        again = run_pipeline(ROOT / "conf" / "test.yaml", out)
        assert again.ran == [] and len(again.skipped) == len(again.plan.steps)
        weights = (out / "train" / "model_best" / "model.weights.h5").stat().st_mtime_ns
        # a different evaluation batch size: only evaluate and the report run again
        assert main(["run", "-params-file", "conf/test.yaml", "--outdir", str(out), "--param", "evaluate_batch_size=2"]) == 0
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out
    assert "2 step(s) ran" in printed and f"report: {out / 'report' / 'report.html'}" in printed
    assert "human: test-split Pearson R by assay: " in printed and "DNASE 0." in printed
    assert (out / "train" / "model_best" / "model.weights.h5").stat().st_mtime_ns == weights
    # another SLDP FDR: sldp-gather writes a new summary.json, and the report, which reads it, runs again
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        fdr = run_pipeline(ROOT / "conf" / "test.yaml", out, {"evaluate_batch_size": 2, "sldp_fdr": 0.2})
    finally:
        os.chdir(cwd)
    assert fdr.ran == ["sldp-gather:human", "report"]
    assert json.loads((out / "sldp" / "human" / "summary.json").read_text())["fdr"] == 0.2


def test_a_failing_step_names_its_log(tmp_path, monkeypatch):
    from crossreg.errors import CrossregError

    bad = tmp_path / "params.json"
    bad.write_text(json.dumps({"model": {"seq_length": 16384}}))  # no trunk, no heads
    monkeypatch.chdir(ROOT)
    with pytest.raises(CrossregError) as err:
        run_pipeline(ROOT / "conf" / "test.yaml", tmp_path / "out", {"model_params": str(bad)})
    text = str(err.value)
    assert "step train failed" in text and str(tmp_path / "out" / "pipeline_info" / "logs" / "train.log") in text
    # every step before train stays recorded: the next run starts at train
    records = {p.stem for p in (tmp_path / "out" / "pipeline_info" / "steps").glob("*.json")}
    assert "manifest_mouse" in records and "train" not in records


def test_readme_documents_every_run_param():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("**Parameters**", 1)[1].split("\n\n", 2)[1]
    documented = {name for row in table.splitlines() if row.startswith("| `")
                  for name in __import__("re").findall(r"`(\w+)`", row.split("|")[1])}
    assert documented == {p.name for p in RUN_PARAMS}


def test_negative_first_shift_reaches_score_variants(tmp_path):
    from crossreg.cli import build_parser

    values = load_run_params(ROOT / "conf" / "test.yaml", {"score_shifts": "-1,0,1",
                                                           "model_params": str(ROOT / "conf/model/params_sim_tiny.json")})
    step = next(s for s in plan_run(values, tmp_path).steps if s.name == "score-variants:human:0")
    assert build_parser().parse_args(step.argv).shifts == "-1,0,1"


# ---------------------------------------------------------------- SLDP and de novo steps
TINY_MODEL = {"model_params": str(ROOT / "conf/model/params_sim_tiny.json")}


def _plan(tmp_path, **overrides):
    return plan_run(load_run_params(ROOT / "conf" / "test.yaml", {**TINY_MODEL, **overrides}), tmp_path / "out")


def _touch(path: Path, text: str = "x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_step_reads_what_exists_or_what_an_earlier_step_writes(tmp_path):
    """The plan's wiring: each input of each step exists, or is, holds or lies inside an output of an earlier
    step; every step's command line is one crossreg accepts; no output is written by two steps."""
    from crossreg.cli import build_parser

    plan = _plan(tmp_path, score_heads="human,mouse", sldp_heads="human,mouse", denovo_head="mouse")
    written: list[Path] = []
    for step in plan.steps:
        build_parser().parse_args(step.argv)
        for path in step.inputs:
            # a file written earlier, inside a folder written earlier, or a folder earlier steps write into
            assert path.exists() or any(path == out or out in path.parents or path in out.parents for out in written), (
                step.name, path)
        assert not set(step.outputs) & set(written), step.name
        written += step.outputs
    names = [s.name for s in plan.steps]
    assert {"sldp-gather:human", "sldp-gather:mouse", "denovo:mouse", "ism-denovo:mouse"} <= set(names)
    assert "denovo:human" not in names
    # the report, last, reads every head's SLDP folder (sorted) and the de novo folder with its ISM index
    report = build_parser().parse_args(plan.steps[-1].argv)
    out = tmp_path / "out"
    assert (report.sldp, report.denovo) == ([out / "sldp" / "human", out / "sldp" / "mouse"], [out / "denovo" / "mouse"])
    sldp_gathers = [s for s in plan.steps if s.name.startswith("sldp-gather:")]
    assert {p for s in sldp_gathers for p in s.outputs if p.name == "summary.json"} <= set(plan.steps[-1].inputs)
    assert out / "denovo" / "mouse" / "ism" / "index.tsv" in plan.steps[-1].inputs


def test_the_report_shows_the_analyses_that_run(tmp_path):
    """--sldp/--denovo follow the analyses: none without them, the heads asked for in sorted order, the ISM index
    among the report's inputs only when the ISM runs."""
    from crossreg.cli import build_parser

    def report(**overrides):
        plan = _plan(tmp_path, **overrides)
        step = plan.steps[-1]
        assert step.name == "report"
        return build_parser().parse_args(step.argv), step.inputs

    out = tmp_path / "out"
    parsed, inputs = report(run_sldp=False, run_denovo=False)
    assert parsed.sldp == [] and parsed.denovo == [] and not [p for p in inputs if "sldp" in p.parts or "denovo" in p.parts]
    parsed, inputs = report(sldp_heads="mouse,human", denovo_ism_top=0)
    assert parsed.sldp == [out / "sldp" / "human", out / "sldp" / "mouse"] and parsed.denovo == [out / "denovo" / "human"]
    assert out / "denovo" / "human" / "summary.json" in inputs and not [p for p in inputs if "ism" in p.parts]
    parsed, inputs = report(run_sldp=False)
    assert parsed.sldp == [] and parsed.denovo == [out / "denovo" / "human"]
    assert out / "denovo" / "human" / "ism" / "index.tsv" in inputs


def test_the_analyses_follow_their_params(tmp_path):
    from crossreg.cli import build_parser

    parser = build_parser()
    steps = {s.name: s for s in _plan(tmp_path).steps}
    profiles = parser.parse_args(steps["sldp-profiles:human"].argv)
    assert profiles.background_gtf.name == "genes.gtf" and profiles.panel.endswith("ld_panel/") and not profiles.no_background
    regression = parser.parse_args(steps["sldp:human:Liver"].argv)
    assert (regression.flips, regression.seed, regression.jk_blocks, regression.phenotype) == (1_000_000, 0, 300, "Liver")
    panel = parser.parse_args(steps["sldp-panel"].argv)
    assert panel.chroms == "chr1,chr2,chr3" and panel.print_snps is None

    steps = {s.name: s for s in _plan(tmp_path, sldp_background=False, sldp_flips=10, sldp_seed=5, sldp_fdr=0.2,
                                      denovo_group_rules="brain=brain, cortex ; heart=heart", denovo_track="CAGE_brain",
                                      denovo_top=4, denovo_ism_top=2, denovo_fdr=0.3, score_rc=False).steps}
    profiles = parser.parse_args(steps["sldp-profiles:human"].argv)
    assert profiles.no_background and profiles.panel is None and profiles.background_gtf is None
    assert (parser.parse_args(steps["sldp:human:Skin"].argv).flips, parser.parse_args(steps["sldp:human:Skin"].argv).seed) == (10, 5)
    assert parser.parse_args(steps["sldp-gather:human"].argv).fdr == 0.2
    denovo = parser.parse_args(steps["denovo:human"].argv)
    assert denovo.group_rule == ["brain=brain,cortex", "heart=heart"]
    assert (denovo.chosen_track, denovo.top_n, denovo.fdr) == ("CAGE_brain", 4, 0.3)
    ism = parser.parse_args(steps["ism-denovo:human"].argv)
    assert (ism.top, ism.no_rc, ism.regions_table.name) == (2, True, "top_variants.tsv")

    for overrides, gone in (({"run_sldp": False}, "sldp"), ({"run_denovo": False}, "denovo"), ({"denovo_ism_top": 0}, "ism")):
        names = [s.name for s in _plan(tmp_path, **overrides).steps]
        assert not [n for n in names if gone in n], overrides
        assert [n for n in names if gone not in n and ("sldp" in n or "denovo" in n)], overrides  # the other analysis stays


def test_sheets_and_a_panel_of_ones_own(tmp_path):
    """A panel, blocks, SNP VCF and phenotype sheets of one's own: eQTL phenotypes are aggregated, summary
    statistics used as they are, every phenotype regressed and gathered (sorted)."""
    from crossreg.cli import build_parser

    ref = tmp_path / "ref"
    for chrom in ("1", "2"):
        for ext in ("bed", "bim", "fam"):
            _touch(ref / f"EUR.{chrom}.{ext}")
    blocks, vcf, gtf = _touch(ref / "blocks.bed"), _touch(ref / "snps.vcf.gz"), _touch(ref / "genes.gtf")
    pairs, stats = _touch(ref / "Liver.pairs.tsv.gz"), _touch(ref / "height.sumstats.gz")
    eqtl = _touch(tmp_path / "eqtl.csv", f"phenotype,pairs\nLiver,{pairs}\n")
    sumstats = _touch(tmp_path / "sumstats.csv", f"phenotype,sumstats\nheight,{stats}\n")
    plan = _plan(tmp_path, sldp_panel=f"{ref}/EUR.", sldp_chroms="1-2", sldp_blocks=str(blocks), sldp_snps_vcf=str(vcf),
                 sldp_eqtl=str(eqtl), sldp_sumstats=str(sumstats), sldp_gtf=str(gtf), sldp_heads="mouse",
                 sldp_print_snps=str(blocks))
    steps = {s.name: s for s in plan.steps}
    parser = build_parser()
    panel = parser.parse_args(steps["sldp-panel"].argv)
    assert (panel.panel, panel.chroms, panel.blocks, panel.print_snps) == (f"{ref}/EUR.", "1-2", blocks, blocks)
    assert set(steps["sldp-panel"].inputs) >= {ref / "EUR.2.fam", blocks}
    assert [n for n in steps if n.startswith("sldp-aggregate:")] == ["sldp-aggregate:Liver"]
    assert parser.parse_args(steps["score-variants:sldp:mouse:0"].argv).vcf == vcf
    assert parser.parse_args(steps["sldp:mouse:height"].argv).sumstats == stats
    assert parser.parse_args(steps["sldp:mouse:Liver"].argv).sumstats == tmp_path / "out" / "sldp" / "sumstats" / "Liver.sumstats.gz"
    gather = parser.parse_args(steps["sldp-gather:mouse"].argv)
    assert [p.name for p in gather.inputs] == ["Liver.tsv", "height.tsv"]
    assert parser.parse_args(steps["sldp-profiles:mouse"].argv).background_gtf == gtf
    assert plan.sldp == {"mouse": tmp_path / "out" / "sldp" / "mouse"}


@pytest.mark.parametrize("overrides, message", [
    ({"sldp_heads": "human,rat"}, "sldp_heads: 'rat' is not a genome of this run (human, mouse)"),
    ({"denovo_head": "rat"}, "denovo_head: 'rat' is not a genome of this run (human, mouse)"),
    ({"denovo_head": "human,mouse"}, "denovo_head: one head"),
    ({"sldp_genome": "rat"}, "sldp_genome: 'rat' is not a genome of this run (human, mouse)"),
    ({"denovo_genome": "rat"}, "denovo_genome: 'rat' is not a genome of this run (human, mouse)"),
    ({"sldp_chroms": "chr3-chr1"}, "sldp_chroms: chromosomes: cannot read the range 'chr3-chr1'"),
    ({"sldp_panel": "{tmp}/ref/EUR."}, "sldp_panel is set: give 'sldp_chroms'"),
    ({"sldp_panel": "{tmp}/ref/EUR.", "sldp_chroms": "1-3"}, "sldp_panel: {tmp}/ref/EUR.3.bed does not exist"),
    ({"sldp_blocks": "{tmp}/nothing.bed"}, "sldp_blocks: {tmp}/nothing.bed does not exist"),
    ({"denovo_table": "{tmp}/nothing.tsv"}, "denovo_table: {tmp}/nothing.tsv does not exist"),
    ({"denovo_group_rules": "brain=brain;heart"}, "denovo_group_rules: rule 'heart': expected GROUP=KEYWORD1,KEYWORD2"),
    ({"denovo_ism_top": -1}, "denovo_ism_top must be 0 (no ISM) or more, got -1"),
    ({"sldp_eqtl": "{tmp}/no_pairs.csv"}, "sldp_eqtl: {tmp}/no_pairs.csv: line 1: missing column(s) pairs; expected phenotype,pairs"),
    ({"sldp_eqtl": "{tmp}/missing_file.csv"}, "sldp_eqtl: {tmp}/missing_file.csv: line 3: column 'pairs': file {tmp}/gone.tsv.gz does not exist"),
    ({"sldp_sumstats": "{tmp}/twice.csv"}, "sldp_sumstats: {tmp}/twice.csv: line 3: phenotype 'Liver' is already listed on line 2"),
    ({"sldp_sumstats": "{tmp}/spaced.csv"}, "sldp_sumstats: {tmp}/spaced.csv: line 2: phenotype 'red cells': use letters"),
    ({"sldp_eqtl": "{tmp}/pairs_ok.csv", "sldp_sumstats": "{tmp}/sumstats_ok.csv"},
     "sldp_eqtl and sldp_sumstats both list phenotype 'Liver'"),
    ({"sldp_eqtl": "{tmp}/nowhere.csv"}, "sldp_eqtl: {tmp}/nowhere.csv: cannot read"),
])
def test_bad_analysis_params_name_the_param_and_line(tmp_path, overrides, message):
    for chrom in ("1", "2"):
        for ext in ("bed", "bim", "fam"):
            _touch(tmp_path / "ref" / f"EUR.{chrom}.{ext}")
    data = _touch(tmp_path / "data.tsv.gz")
    _touch(tmp_path / "no_pairs.csv", f"phenotype,sumstats\nLiver,{data}\n")
    _touch(tmp_path / "missing_file.csv", f"phenotype,pairs\nLiver,{data}\nSkin,{tmp_path}/gone.tsv.gz\n")
    _touch(tmp_path / "twice.csv", f"phenotype,sumstats\nLiver,{data}\nLiver,{data}\n")
    _touch(tmp_path / "spaced.csv", f"phenotype,sumstats\nred cells,{data}\n")
    _touch(tmp_path / "pairs_ok.csv", f"phenotype,pairs\nLiver,{data}\n")
    _touch(tmp_path / "sumstats_ok.csv", f"phenotype,sumstats\nLiver,{data}\n")
    overrides = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in overrides.items()}
    with pytest.raises(InputError) as err:
        _plan(tmp_path, **overrides)
    assert message.format(tmp=tmp_path) in str(err.value)


def _own_genomes(tmp_path: Path) -> Path:
    """A samplesheet of two genomes (placeholder files: plans do not read them)."""
    sheet = "genome,fasta,targets\n"
    for genome in ("human", "mouse"):
        fasta = _touch(tmp_path / genome / "genome.fa", ">chr1\nACGT\n")
        targets = _touch(tmp_path / genome / "targets.txt",
                         "index\tgenome\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tdescription\n"
                         f"0\t{genome}\tDNASE_liver\tDNASE_liver.bw\t384\t32\t1\tsum\tDNASE:liver\n")
        sheet += f"{genome},{fasta},{targets}\n"
    return _touch(tmp_path / "genomes.csv", sheet)


def test_without_a_simulated_world_the_analyses_need_their_inputs(tmp_path):
    sheet = _own_genomes(tmp_path)
    base = {"simulate_preset": None, "input": str(sheet)}
    names = [s.name for s in _plan(tmp_path, **base).steps]
    assert not [n for n in names if "sldp" in n or "denovo" in n]  # no panel, no table: no analyses
    for chrom in ("1",):
        for ext in ("bed", "bim", "fam"):
            _touch(tmp_path / "ref" / f"EUR.{chrom}.{ext}")
    panel = {**base, "sldp_panel": f"{tmp_path}/ref/EUR.", "sldp_chroms": "1"}
    table = _touch(tmp_path / "denovo.tsv")
    for overrides, message in (
        (panel, "sldp_panel is set: give 'sldp_blocks'"),
        ({**panel, "sldp_blocks": str(table)}, "sldp_panel is set: give 'sldp_snps_vcf'"),
        ({**panel, "sldp_blocks": str(table), "sldp_snps_vcf": str(table)}, "sldp: no phenotypes; give 'sldp_eqtl'"),
        ({**base, "denovo_table": str(table)}, f"denovo_table {table}: say which genome it is on with 'denovo_genome' (human, mouse)"),
    ):
        with pytest.raises(InputError, match=re.escape(message)):
            _plan(tmp_path, **overrides)
    steps = {s.name: s for s in _plan(tmp_path, **base, denovo_table=str(table), denovo_genome="mouse").steps}
    assert steps["denovo-vcf"].argv[steps["denovo-vcf"].argv.index("--fasta") + 1] == str(tmp_path / "mouse" / "genome.fa")
    assert "denovo:mouse" in steps and "ism-denovo:mouse" in steps
