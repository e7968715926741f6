"""crossreg run: parameters (same as the pipeline's), inputs, up-to-date records, and the whole
chain end to end on the tiny simulated world (simulate -> ... -> train -> evaluate -> report)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from crossreg.cli import main
from crossreg.errors import InputError
from crossreg.runner import RUN_PARAMS, load_run_params, plan_run, run_pipeline
from crossreg.runner.inputs import read_samplesheet
from crossreg.runner.state import fingerprint, is_up_to_date, write_record

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
    values = load_run_params(ROOT / "conf" / "test.yaml", {"model_params": str(ROOT / "conf/model/params_sim_tiny.json")})
    plan = plan_run(values, tmp_path)
    names = [s.name for s in plan.steps]
    assert names == ["simulate", "split", "windows:human", "windows:mouse", "baselines:human", "baselines:mouse",
                     "shards:human:0", "shards:human:1", "manifest:human", "shards:mouse:0", "shards:mouse:1",
                     "manifest:mouse", "train", "match-tracks", "evaluate", "score-variants:human:0",
                     "score-variants:human:1", "gather-scores:human", "report"]
    train = next(s for s in plan.steps if s.name == "train")
    assert train.argv[train.argv.index("--epochs") + 1] == "12"
    # every command line is one the crossreg parser accepts
    from crossreg.cli import build_parser

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
