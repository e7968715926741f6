"""The Nextflow pipeline, checked without Nextflow: Nextflow's own language server (tests/nextflow_check.py)
parses and resolves every .nf and .config file, plain and with its type checker; every module's
`crossreg` command lines are parsed by crossreg's own argument parser; module conventions,
params, schema and profiles are checked; the modules' real scripts run end to end on the tiny
simulated world, staged as Nextflow stages them.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sys
from pathlib import Path

import h5py
import pytest
import yaml

import nextflow_check as nc
from crossreg.cli import build_parser

ROOT = nc.ROOT
MODULES = sorted((ROOT / "modules" / "local").glob("*/main.nf"))
STEPS = ("simulate", "split", "windows", "baselines", "shards", "manifest", "train", "match_tracks", "evaluate",
         "score_variants", "gather_scores", "sldp_panel", "sldp_aggregate", "sldp_profiles", "sldp", "sldp_gather",
         "denovo_vcf", "denovo", "ism", "predict", "report")
# the steps running the model: label process_gpu (and only they)
GPU_STEPS = ("train", "evaluate", "score_variants", "ism", "predict")
LABELS = ("process_single", "process_low", "process_medium", "process_high", "process_gpu")
PROFILES = ("test", "gpu", "docker", "singularity", "podman", "awsbatch", "google", "slurm")
# tasks run `crossreg` through bin/crossreg with this interpreter (the one with crossreg installed)
TASK_ENV = {"CROSSREG_PYTHON": sys.executable}


@pytest.fixture(scope="module")
def procs() -> dict[str, nc.ProcessInfo]:
    try:
        found = nc.processes(MODULES)
    except nc.NextflowCheckUnavailable as err:
        pytest.fail(f"Nextflow language server unavailable: {err}")
    return {p.name: p for p in found}


def _params(scope_file: Path, scope=("params",)) -> dict:
    return {st.key: nc.groovy_eval(st.value)[0] for st in nc.config_statements(scope_file) if st.scope == scope}


@pytest.fixture(scope="module")
def params() -> dict:
    return _params(ROOT / "nextflow.config")


@pytest.fixture(scope="module")
def test_params() -> dict:
    return _params(ROOT / "conf" / "test.config")


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((ROOT / "nextflow_schema.json").read_text())


def _schema_properties(schema: dict) -> dict:
    props = dict(schema.get("properties", {}))
    for group in schema.get("$defs", {}).values():
        props.update(group.get("properties", {}))
    return props


@pytest.fixture(scope="module")
def ext_args() -> dict[str, str]:
    """process name -> source text of its ext.args in conf/modules.config."""
    out = {}
    for st in nc.config_statements(ROOT / "conf" / "modules.config"):
        if st.key == "ext.args" and st.scope[-1].startswith("withName:"):
            for name in st.scope[-1].removeprefix("withName:").strip("'\"").split("|"):
                out[name] = st.value
    return out


# ---------------------------------------------------------------- the language server
def _format(diagnostics) -> str:
    return "\n".join(str(d) for d in diagnostics)


@pytest.mark.parametrize("type_checking", [False, True], ids=["plain", "typechecking"])
def test_language_server_finds_no_problem(type_checking):
    scripts, configs = nc.pipeline_files()
    assert {p.relative_to(ROOT).as_posix() for p in scripts} >= {
        "main.nf", "workflows/crossreg.nf", *(f"modules/local/{s}/main.nf" for s in STEPS)
    }
    assert {p.relative_to(ROOT).as_posix() for p in configs} >= {
        "nextflow.config", "conf/base.config", "conf/modules.config", "conf/test.config"
    }
    diagnostics = nc.check(type_checking=type_checking)
    if type_checking:
        diagnostics = [d for d in diagnostics if not (d.severity == "warning" and nc.TYPED_FALSE_POSITIVES.match(d.message))]
    assert not diagnostics, "Nextflow language server:\n" + _format(diagnostics)


@pytest.mark.parametrize("message, ignored", [
    ("Config option 'process.publishDir' with type String cannot be assigned to value with type Map<K, V>", True),
    ("Config option 'process.publishDir' with type List<E> cannot be assigned to value with type Map<K, V>", True),
    ("Config option 'process.publishDir' with type Map<K, V> cannot be assigned to value with type Integer", False),
    ("Config option 'process.cpus' with type Integer cannot be assigned to value with type Closure", True),
    ("Config option 'process.cpus' with type Integer cannot be assigned to value with type String", False),
    ("Config option 'params.outdir' with type String cannot be assigned to value with type Map<K, V>", False),
])
def test_only_known_type_checker_false_positives_are_ignored(message, ignored):
    assert bool(nc.TYPED_FALSE_POSITIVES.match(message)) is ignored


def _copy_pipeline(dest: Path) -> Path:
    for name in ("main.nf", "nextflow.config", "nextflow_schema.json"):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("modules", "subworkflows", "workflows", "conf"):
        shutil.copytree(ROOT / folder, dest / folder)
    return dest


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def test_check_reports_syntax_and_name_errors_with_their_lines(tmp_path):
    bad = tmp_path / "broken.nf"
    bad.write_text(
        "workflow {\n"
        "    ch = channel.of(1, 2)\n"
        "    ch.view()\n"
        "    undefined_name.view()\n"
        "}\n"
        "process P {\n"
        "    input:\n"
        "    val x\n"
        "    script:\n"
        "    \"\"\"\n"
        "    echo ${x}\n"
        "    \"\"\"\n"
        "    output:\n"  # an output block after the script: a syntax error
        "}\n"
    )
    diagnostics = nc.check([bad], root=tmp_path)
    assert diagnostics and all(d.path == bad for d in diagnostics)
    assert any(d.severity == "error" and d.line >= 13 for d in diagnostics), _format(diagnostics)
    bad.write_text("workflow {\n    ch = channel.of(1, 2)\n    ch.view()\n    undefined_name.view()\n}\n")
    diagnostics = nc.check([bad], root=tmp_path)
    assert [(d.line, d.severity) for d in diagnostics] == [(4, "error")], _format(diagnostics)
    assert "undefined_name" in diagnostics[0].message


def test_check_reports_config_errors_with_their_lines(tmp_path):
    typo = tmp_path / "typo.config"
    typo.write_text("process {\n    cpus = 2\n    memroy = 2.GB\n}\n")
    broken = tmp_path / "broken.config"
    broken.write_text("profiles {\n    test {\n        params.x = \n    }\n}\n")
    diagnostics = nc.check([typo, broken], root=tmp_path)
    assert [(d.path.name, d.line) for d in diagnostics if d.path == typo] == [("typo.config", 3)], _format(diagnostics)
    assert "memroy" in next(d.message for d in diagnostics if d.path == typo)
    assert any(d.path == broken and d.severity == "error" and d.line in (3, 4) for d in diagnostics), _format(diagnostics)


def test_type_checking_catches_a_wrong_emit_name_and_argument_count(tmp_path):
    """A copy of the pipeline with one mistake each: only Nextflow's type checker catches them."""
    copy = _copy_pipeline(tmp_path)
    workflow = copy / "workflows" / "crossreg.nf"
    text = workflow.read_text()
    assert "CROSSREG_WINDOWS.out.windows.map" in text and "CROSSREG_WINDOWS(windows_input)" in text
    workflow.write_text(text.replace("CROSSREG_WINDOWS.out.windows.map", "CROSSREG_WINDOWS.out.windowz.map")
                        .replace("CROSSREG_WINDOWS(windows_input)", "CROSSREG_WINDOWS(windows_input, windows_input)"))
    emit_line = _line_of(workflow, ".out.windowz")
    call_line = _line_of(workflow, "CROSSREG_WINDOWS(windows_input, windows_input)")
    assert not [d for d in nc.check(root=copy) if d.path == workflow and d.severity == "error"]
    errors = [d for d in nc.check(root=copy, type_checking=True) if d.path == workflow and d.severity == "error"]
    assert any(d.line == emit_line and "windowz" in d.message for d in errors), _format(errors)
    assert any(d.line == call_line for d in errors), _format(errors)


def test_an_unknown_param_in_main_nf_is_an_error(tmp_path):
    """main.nf is the only reader of params; the language server checks them against the schema."""
    copy = _copy_pipeline(tmp_path)
    main = copy / "main.nf"
    main.write_text(main.read_text().replace("params.shard_chunks", "params.shard_chunk"))
    line = _line_of(main, "params.shard_chunk,")
    errors = [d for d in nc.check([main], root=copy) if d.severity == "error"]
    assert [(d.line, d.path) for d in errors] == [(line, main)], _format(errors)


# ---------------------------------------------------------------- module conventions
def test_every_step_has_a_module_following_the_conventions(procs):
    assert sorted(p.parent.name for p in MODULES) == sorted(STEPS)
    problems = []
    for path in MODULES:
        step = path.parent.name
        name = f"CROSSREG_{step.upper().replace('-', '_')}"
        in_file = [p for p in procs.values() if p.path == path]
        if [p.name for p in in_file] != [name]:
            problems.append(f"{path}: expected exactly one process {name}, found {[p.name for p in in_file]}")
            continue
        proc = in_file[0]
        where = f"{path.relative_to(ROOT)}:{proc.line} {name}"
        text = path.read_text()
        if re.search(r"(?<![\w./])params\.", text):
            problems.append(f"{where}: reads params (options come only through task.ext.args)")
        other_ext = set(re.findall(r"task\.ext\.(\w+)", text)) - {"args", "prefix", "when"}
        if other_ext:
            problems.append(f"{where}: uses task.ext.{sorted(other_ext)} (only ext.args, ext.prefix)")
        tags = proc.directives.get("tag", [])
        if len(tags) != 1 or "meta.id" not in tags[0]:
            problems.append(f"{where}: needs one tag naming meta.id, has {tags}")
        labels = proc.directives.get("label", [])
        if len(labels) != 1 or labels[0].strip("'\"") not in LABELS:
            problems.append(f"{where}: needs exactly one resource label of {LABELS}, has {labels}")
        elif (labels[0].strip("'\"") == "process_gpu") != (step in GPU_STEPS):
            problems.append(f"{where}: process_gpu is the label of {GPU_STEPS} (and only of GPU steps), has {labels}")
        if not proc.stub.strip():
            problems.append(f"{where}: no stub: block")
        if "task.ext.when" not in proc.when:
            problems.append(f"{where}: no `when: task.ext.when == null || task.ext.when`")
        if len(proc.inputs) != 1 or proc.inputs[0].elements[0].text != "val(meta)" or len(proc.inputs[0].elements) < 2:
            problems.append(f"{where}: the input must be one `tuple val(meta), path(...)...`")
        versions = [d for d in proc.outputs if d.options.get("topic") == "versions"]
        if (len(versions) != 1 or versions[0].options.get("emit") != "versions_crossreg"
                or [e.qualifier for e in versions[0].elements] != ["val", "val", "eval"]
                or "crossreg --version" not in versions[0].elements[2].name):
            problems.append(f"{where}: versions: need `tuple val(\"${{task.process}}\"), val('crossreg'), "
                            f"eval('crossreg --version ...'), emit: versions_crossreg, topic: versions`")
        for decl in proc.outputs:
            if decl is not (versions[0] if versions else None) and (
                    not decl.options.get("emit") or decl.elements[0].text != "val(meta)"):
                problems.append(f"{where}:{decl.line}: outputs are `tuple val(meta), ..., emit: NAME`")
    assert not problems, "\n".join(problems)


def test_meta_yml_documents_every_input_and_output(procs):
    problems = []
    for path in MODULES:
        name = f"CROSSREG_{path.parent.name.upper()}"
        meta_yml = path.parent / "meta.yml"
        if not meta_yml.is_file():
            problems.append(f"{meta_yml}: missing")
            continue
        doc = yaml.safe_load(meta_yml.read_text())
        proc = procs[name]
        if doc.get("name") != name.lower():
            problems.append(f"{meta_yml}: name {doc.get('name')!r}, expected {name.lower()!r}")
        documented_inputs = [list(item)[0] for group in doc.get("input", []) for item in group]
        declared_inputs = [e.name for e in proc.inputs[0].elements]
        if documented_inputs != declared_inputs:
            problems.append(f"{meta_yml}: input {documented_inputs} != process inputs {declared_inputs}")
        declared_outputs = [d.options["emit"] for d in proc.outputs]
        if list(doc.get("output", {})) != declared_outputs:
            problems.append(f"{meta_yml}: output {list(doc.get('output', {}))} != emits {declared_outputs}")
        for emit, groups in doc.get("output", {}).items():
            decl = next((d for d in proc.outputs if d.options.get("emit") == emit), None)
            if decl is not None and len(groups[0]) != len(decl.elements):
                problems.append(f"{meta_yml}: output {emit}: {len(groups[0])} elements documented, {len(decl.elements)} declared")
        if "versions" not in doc.get("topics", {}):
            problems.append(f"{meta_yml}: topics.versions missing")
        for key in ("description", "keywords", "tools", "authors"):
            if not doc.get(key):
                problems.append(f"{meta_yml}: {key} missing")
    assert not problems, "\n".join(problems)


def test_nf_test_files_parse_and_cover_real_and_stub_runs(procs):
    files = [p.parent / "tests" / "main.nf.test" for p in MODULES] + [ROOT / "tests" / "main.nf.test"]
    problems = []
    for path in files:
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        text = path.read_text()
        problems += [f"{path}: {e}" for e in nc.groovy_parse_errors(text, path.name.replace(".", "_") + ".groovy")]
        if '"-stub"' not in text or "snapshot(" not in text:
            problems.append(f"{path}: needs a -stub test and a snapshot")
        if path.parent.parent.name in STEPS:
            name = f"CROSSREG_{path.parent.parent.name.upper()}"
            if f'process "{name}"' not in text:
                problems.append(f"{path}: does not test process {name}")
            if text.count("test(") < 2:
                problems.append(f"{path}: needs a real run and a stub run")
    for name in ("nf-test.config", "tests/nextflow.config"):
        if not (ROOT / name).is_file():
            problems.append(f"{name}: missing")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the crossreg contract
GENOME = {"id": "human"}
FASTA, FASTA_INDEX = "/data/human/genome.fa.gz", ["/data/human/genome.fa.gz.fai", "/data/human/genome.fa.gz.gzi"]
TRACKS = ["/data/human/tracks/DNASE_liver.bw", "/data/human/tracks/CAGE_liver.bw"]
MASKS = (["/data/human/blacklist.bed"], ["/data/human/unmappable.bed", "/data/human/umap_k24.bed"])
GENOME_FILES = [FASTA, FASTA_INDEX, "/data/human/targets.txt", TRACKS, *MASKS]
SHARD_FILES = ["/w/1/human.chunk0/human-train-0000.h5", "/w/1/human.chunk0/chunk-0-of-2.json",
               "/w/2/human.chunk1/human-test-0000.h5", "/w/2/human.chunk1/chunk-1-of-2.json"]
MOUSE_SHARD_FILES = ["/w/3/mouse.chunk0/mouse-train-0000.h5", "/w/3/mouse.chunk0/chunk-0-of-2.json",
                     "/w/4/mouse.chunk1/mouse-valid-0000.h5", "/w/4/mouse.chunk1/chunk-1-of-2.json"]
MANIFESTS = ["/w/5/shards/manifest.json", "/w/6/shards/manifest.json"]  # human, mouse
MODEL_PARAMS = str(ROOT / "conf" / "model" / "params_sim_tiny.json")
VCF, VCF_INDEX = "/data/human/variants.vcf.gz", ["/data/human/variants.vcf.gz.tbi"]
SCORE_META = {"id": "human", "chunk": 1, "chunks": 4, "vcf_genome": "human"}
PANEL_FILES = [f"/w/world/human/ld_panel/{c}.{e}" for c in ("chr1", "chr2") for e in ("bed", "bim", "fam")]
REF_PANEL_FILES = [f"/ref/1000G.EUR.{c}.{e}" for c in ("1", "2") for e in ("bed", "bim", "fam")]
# the report's trait analyses as the workflow hands them (reportLayout): each file with its folder under
# sldp/ or denovo/, sorted by folder and name; two SLDP heads, one de novo head with its ISM
REPORT_TRAITS = [
    ["human", "human", "human", "human", "mouse", "mouse", "mouse"],
    ["/w/20/results.tsv", "/w/20/summary.json", "/w/20/z_clusters.png", "/w/20/z_heatmap.png",
     "/w/21/results.tsv", "/w/21/summary.json", "/w/21/z_heatmap.png"],
    ["mouse", "mouse", "mouse", "mouse", "mouse", "mouse/ism", "mouse/ism"],
    ["/w/22/effect_vs_significance.png", "/w/22/groups.tsv", "/w/22/summary.json", "/w/22/top_variants.tsv",
     "/w/22/tracks.tsv", "/w/23/index.tsv", "/w/23/ism_1.png"],
]
# representative inputs of every module: each variant renders a script whose crossreg calls must parse
VARIANTS = {
    "CROSSREG_SIMULATE": [[{"id": "world"}, []], [{"id": "world"}, ["/data/overrides.yaml"]]],
    "CROSSREG_SPLIT": [
        [{"id": "split"}, ["human", "mouse"], ["/d/h/genome.fa.gz", "/d/m/genome.fa.gz"],
         ["/d/h/genome.fa.gz.fai", "/d/m/genome.fa.gz.fai"], ["human:mouse"], ["/d/alignment/human_to_mouse.chain"]],
        [{"id": "split"}, ["human"], ["/d/h/genome.fa.gz"], ["/d/h/genome.fa.gz.fai"], [], []],
    ],
    "CROSSREG_WINDOWS": [
        [GENOME, FASTA, FASTA_INDEX, ["/w/split/human.folds.bed"], [], *MASKS],
        [GENOME, FASTA, FASTA_INDEX[:1], [], ["/data/human/windows.bed"], [], []],
    ],
    "CROSSREG_BASELINES": [[GENOME, *GENOME_FILES], [GENOME, FASTA, FASTA_INDEX, "/t.txt", TRACKS[:1], [], []]],
    "CROSSREG_SHARDS": [[{**GENOME, "chunk": 1, "chunks": 4}, *GENOME_FILES, "/w/h.windows.bed", "/w/h.baselines.tsv"]],
    "CROSSREG_MANIFEST": [[GENOME, *GENOME_FILES, "/w/h.windows.bed", "/w/h.baselines.tsv", SHARD_FILES]],
    "CROSSREG_PREDICT": [
        [GENOME, "/w/model", ["/w/m/shards/manifest.json"], SHARD_FILES, [], [FASTA], FASTA_INDEX],
        [GENOME, "/w/model", [], [], ["/data/my.windows.bed"], [FASTA], FASTA_INDEX],
        [GENOME, "/w/model", ["/w/m/shards/manifest.json"], SHARD_FILES, [], [], []],
    ],
    "CROSSREG_TRAIN": [
        [{"id": "joint"}, MODEL_PARAMS, ["human", "mouse"], MANIFESTS, SHARD_FILES + MOUSE_SHARD_FILES],
        [{"id": "single"}, "/conf/params.json", ["human"], MANIFESTS[:1], SHARD_FILES],
    ],
    "CROSSREG_MATCH_TRACKS": [[{"id": "track_matches"}, ["human", "mouse"], MANIFESTS]],
    "CROSSREG_EVALUATE": [
        [{"id": "evaluate"}, "/w/train/model_best", ["human", "mouse"], MANIFESTS, SHARD_FILES + MOUSE_SHARD_FILES,
         ["human", "mouse"], ["/data/human/tss.bed", "/data/mouse/genes.gtf"], ["/w/track_matches.tsv"]],
        [{"id": "evaluate"}, "/w/model", ["human", "mouse"], MANIFESTS, SHARD_FILES + MOUSE_SHARD_FILES,
         ["mouse"], ["/data/mouse/tss.bed"], ["/w/track_matches.tsv"]],
        [{"id": "evaluate"}, "/w/model", ["human"], MANIFESTS[:1], SHARD_FILES, [], [], []],
    ],
    "CROSSREG_SCORE_VARIANTS": [
        [SCORE_META, "/w/train/model_best", FASTA, FASTA_INDEX, VCF, VCF_INDEX, MANIFESTS[0]],
        # another genome's head on the VCF, a plain FASTA and VCF without an index
        [{"id": "mouse", "chunk": 0, "chunks": 1, "vcf_genome": "human"}, "/w/model", "/d/h/genome.fa",
         ["/d/h/genome.fa.fai"], "/data/my.vcf", [], MANIFESTS[1]],
    ],
    "CROSSREG_GATHER_SCORES": [
        [{"id": "human", "vcf_genome": "human"}, ["/w/7/chunk-0-of-2.h5", "/w/8/chunk-1-of-2.h5"]],
        [{"id": "mouse", "vcf_genome": "human"}, ["/w/9/chunk-0-of-1.h5"]],
    ],
    "CROSSREG_REPORT": [
        [{"id": "report"}, ["/w/evaluate"], ["joint"], ["/w/train"], *REPORT_TRAITS],
        [{"id": "report"}, ["/w/a/evaluate", "/w/b/evaluate"], [], [], [], [], [], []],
    ],
    "CROSSREG_SLDP_PANEL": [
        [{"id": "panel"}, PANEL_FILES, "", "chr1,chr2", "/w/world/human/ld_blocks.bed", []],
        [{"id": "panel"}, REF_PANEL_FILES, "1000G.EUR.", "1-2", "/ref/blocks.bed", ["/ref/print_snps.txt"]],
    ],
    "CROSSREG_SLDP_AGGREGATE": [[{"id": "Liver"}, "/w/world/human/eqtl/Liver.pairs.tsv.gz"]],
    "CROSSREG_SLDP_PROFILES": [
        [{"id": "human"}, "/w/10/panel_cache", "/w/11/scores.h5", PANEL_FILES, "", ["/w/world/human/genes.gtf"]],
        [{"id": "mouse"}, "/w/10/panel_cache", "/w/12/scores.h5", REF_PANEL_FILES, "1000G.EUR.", []],
        [{"id": "human"}, "/w/10/panel_cache", "/w/11/scores.h5", [], "", []],  # no background
    ],
    "CROSSREG_SLDP": [[{"id": "human", "phenotype": "Liver"}, "/w/10/panel_cache", "/w/13/profiles.npz",
                       "/w/14/Liver.sumstats.gz"]],
    "CROSSREG_SLDP_GATHER": [
        [{"id": "human"}, ["/w/15/Skin.tsv", "/w/16/Liver.tsv"], "/w/11/scores.h5"],
        [{"id": "human"}, ["/w/16/Liver.tsv"], "/w/11/scores.h5"],
    ],
    "CROSSREG_DENOVO_VCF": [[{"id": "human"}, "/w/world/human/denovo.tsv", FASTA, FASTA_INDEX]],
    "CROSSREG_DENOVO": [
        [{"id": "human", "genome": "human"}, "/w/world/human/denovo.tsv", "/w/17/scores.h5", FASTA, FASTA_INDEX, []],
        [{"id": "mouse", "genome": "human"}, "/data/dn.tsv", "/w/18/scores.h5", "/d/h/genome.fa", ["/d/h/genome.fa.fai"],
         ["/data/groups.tsv"]],
    ],
    "CROSSREG_ISM": [
        [{"id": "human", "genome": "human"}, "/w/train/model_best", FASTA, FASTA_INDEX, "/w/19/top_variants.tsv",
         MANIFESTS[0]],
    ],
}
PARAM_OVERLAYS = {
    "defaults": {},
    "test": "test",
    "options": {"simulate_preset": "demo", "missing_chroms": "zeros", "predict_rc_average": True,
                "predict_bigwig_tracks": "DNASE_liver,3", "predict_split": "valid",
                "train_mode": "single", "train_genome": "mouse", "train_epochs": 2, "train_steps_per_epoch": 5,
                "train_seed": 7, "finetune_epochs": 3, "evaluate_split": "valid", "evaluate_batch_size": 2,
                "evaluate_rc_average": True, "report_title": "Mouse's & human's \"tracks\" $HOME",
                "score_heads": "human,mouse", "score_chunks": 3, "score_shifts": "0,-1,1", "score_rc": False,
                "score_stats": "SAD,logSAD,L2", "score_ref_mismatch": "flip", "score_batch_size": 3,
                "score_tsv_tracks": "DNASE_liver,2",
                "sldp_background": False, "sldp_flips": 5000, "sldp_seed": 4, "sldp_jk_blocks": 50, "sldp_fdr": 0.2,
                "denovo_group_rules": "brain=brain, cortex;heart's=heart;  ", "denovo_fdr": 0.25,
                "denovo_track": "DNASE_liver", "denovo_top": 7, "denovo_ism_top": 2,
                "sldp_heads": "human,mouse", "denovo_head": "mouse"},
}


def _args_variants(name, ext_args, params, test_params):
    """(label, ext.args text): none, and conf/modules.config's with default, test and other params."""
    out = [("no ext.args", "")]
    if name in ext_args:
        for label, overlay in PARAM_OVERLAYS.items():
            values = {**params, **(test_params if overlay == "test" else overlay)}
            args = nc.groovy_eval(ext_args[name], {"params": values, "meta": GENOME, "task": {"process": name}})[0]
            out.append((f"modules.config ext.args, {label} params", args))
    return out


def test_every_module_command_is_accepted_by_the_crossreg_parser(procs, ext_args, params, test_params):
    assert set(VARIANTS) == set(procs), "every module needs representative inputs in VARIANTS"
    parser = build_parser()
    problems, checked = [], 0
    for name, variants in VARIANTS.items():
        proc = procs[name]
        step = name.removeprefix("CROSSREG_").lower().replace("_", "-")
        for variant in variants:
            for label, args in _args_variants(name, ext_args, params, test_params):
                rendered = nc.render_task(proc, variant, ext_args=args)
                where = f"{proc.path.relative_to(ROOT)}:{proc.script_line} {name} ({label}; inputs {variant})"
                calls = nc.crossreg_commands(rendered.command)
                if [c[:1] for c in calls] != [[step]]:
                    problems.append(f"{where}: expected one `crossreg {step}` call, found {calls}")
                    continue
                if re.search(r"\bnull\b|\[\]|\$\{", rendered.command):
                    problems.append(f"{where}: unresolved value in the command:\n{rendered.command}")
                try:
                    parser.parse_args(calls[0])
                except SystemExit as exc:
                    problems.append(f"{where}: crossreg rejects `crossreg {' '.join(calls[0])}` (exit {exc.code})")
                checked += 1
        for decl in proc.outputs:
            for element in decl.elements:
                if element.qualifier == "eval":
                    command = nc.groovy_eval(element.name)[0]
                    argv = command.split("|")[0].split()
                    with pytest.raises(SystemExit) as exc:
                        parser.parse_args(argv[1:])
                    assert argv[0] == "crossreg" and exc.value.code == 0, f"{name}: versions command {command!r}"
    assert not problems, "\n".join(problems)
    assert checked >= 40


def test_the_geometry_reaches_shards_and_manifest_alike(procs, ext_args, params, test_params):
    """Shards and manifest must see the same geometry: their crossreg calls agree on it."""
    parser = build_parser()
    for overlay in ({}, test_params):
        values = {**params, **overlay}
        parsed = {}
        for name in ("CROSSREG_SHARDS", "CROSSREG_MANIFEST"):
            args = nc.groovy_eval(ext_args[name], {"params": values, "meta": GENOME, "task": {}})[0]
            (call,) = nc.crossreg_commands(nc.render_task(procs[name], VARIANTS[name][0], ext_args=args).command)
            parsed[name] = parser.parse_args(call)
        for key in ("seq_length", "pool_width", "crop_bp", "windows_per_shard", "missing_chroms", "genome"):
            assert getattr(parsed["CROSSREG_SHARDS"], key) == getattr(parsed["CROSSREG_MANIFEST"], key), key
        assert parsed["CROSSREG_SHARDS"].seq_length == values["seq_length"]


def _parsed_call(procs, ext_args, name, variant, values):
    """The one `crossreg` call of a module's script for ``variant``, parsed by crossreg's parser."""
    args = nc.groovy_eval(ext_args[name], {"params": values, "meta": variant[0], "task": {}})[0] if name in ext_args else ""
    (call,) = nc.crossreg_commands(nc.render_task(procs[name], variant, ext_args=args).command)
    return build_parser().parse_args(call)


@pytest.mark.parametrize("overlay", list(PARAM_OVERLAYS))
def test_train_evaluate_and_report_get_the_options_of_crossreg_run(procs, ext_args, params, test_params, overlay, tmp_path):
    """The params reach `crossreg train/match-tracks/evaluate/report` as pycore/crossreg/runner/plan.py passes
    them, and each genome's manifest is named where the script links it (shards/<genome>/); the report gets the
    SLDP and de novo folders of crossreg run, with the files it reads where crossreg run has them."""
    values = {**params, **(test_params if overlay == "test" else PARAM_OVERLAYS[overlay])}
    train = _parsed_call(procs, ext_args, "CROSSREG_TRAIN", VARIANTS["CROSSREG_TRAIN"][0], values)
    assert train.params == Path("input/params_sim_tiny.json")
    assert train.manifest == ["human=shards/human/manifest.json", "mouse=shards/mouse/manifest.json"]
    assert train.mode == values["train_mode"] and not train.resume and train.out == Path("train")
    assert train.single_genome == (values["train_genome"] if values["train_mode"] == "single" else None)
    assert (train.epochs, train.steps_per_epoch, train.seed, train.finetune_epochs) == (
        values["train_epochs"], values["train_steps_per_epoch"], values["train_seed"], values["finetune_epochs"])

    matches = _parsed_call(procs, ext_args, "CROSSREG_MATCH_TRACKS", VARIANTS["CROSSREG_MATCH_TRACKS"][0], values)
    assert matches.manifest == [("human", Path("input/manifest01/manifest.json")),
                                ("mouse", Path("input/manifest02/manifest.json"))]
    assert matches.out == Path("track_matches.tsv")

    evaluate = _parsed_call(procs, ext_args, "CROSSREG_EVALUATE", VARIANTS["CROSSREG_EVALUATE"][0], values)
    assert evaluate.model_dir == Path("model") and evaluate.out == Path("evaluate")
    assert evaluate.manifest == [("human", Path("shards/human/manifest.json")), ("mouse", Path("shards/mouse/manifest.json"))]
    assert evaluate.tss == [("human", Path("input/tss01/tss.bed")), ("mouse", Path("input/tss02/genes.gtf"))]
    assert evaluate.track_matches == Path("input/matches/track_matches.tsv")
    assert (evaluate.split, evaluate.batch_size, evaluate.rc_average) == (
        values["evaluate_split"], values["evaluate_batch_size"], values["evaluate_rc_average"])
    one = _parsed_call(procs, ext_args, "CROSSREG_EVALUATE", VARIANTS["CROSSREG_EVALUATE"][2], values)
    assert (one.tss, one.track_matches) == ([], None)

    report = _parsed_call(procs, ext_args, "CROSSREG_REPORT", VARIANTS["CROSSREG_REPORT"][0], values)
    assert report.title == values["report_title"] and report.out == Path("report.html")
    assert report.evaluation == [Path("evaluation01/evaluate")] and report.train_dir == [("joint", Path("train01/train"))]
    assert report.sldp == [Path("sldp/human"), Path("sldp/mouse")] and report.denovo == [Path("denovo/mouse")]
    two = _parsed_call(procs, ext_args, "CROSSREG_REPORT", VARIANTS["CROSSREG_REPORT"][1], values)
    assert two.evaluation == [Path("evaluation01/evaluate"), Path("evaluation02/evaluate")] and two.train_dir == []
    assert two.sldp == [] and two.denovo == []
    _check_report_traits(procs, ext_args, values, tmp_path)


def _linked(rendered) -> dict[str, str]:
    """{path in the task folder: input file it leads to} of a rendered script's `ln -s TARGET... FOLDER/` lines."""
    import os

    sources = {name: source for source, name in rendered.staged}
    out = {}
    for line in re.findall(r"^\s*ln -s (.+)/$", rendered.command, re.M):
        *targets, folder = line.split()
        for target in targets:
            assert f"{folder}/{Path(target).name}" not in out, line
            out[f"{folder}/{Path(target).name}"] = sources[os.path.normpath(f"{folder}/{target}")]
    return out


def _check_report_traits(procs, ext_args, values: dict, tmp_path: Path) -> None:
    """crossreg run's report step and the pipeline's report task (the workflow's reportLayout, then the
    module's script) get the same --sldp/--denovo folders (relative to outdir), and every file the runner's
    report reads of them lies at the same place in the task folder, linked to the task output it came from."""
    plan, steps = _analysis_plan(values, tmp_path)
    assert list(steps)[-1] == "report"
    step = steps["report"]
    runner = build_parser().parse_args(step.argv)
    assert runner.sldp == [plan.sldp[h] for h in sorted(plan.sldp)] and runner.sldp
    assert runner.denovo == [plan.denovo[h] for h in sorted(plan.denovo)] and runner.denovo
    read = [p.relative_to(tmp_path) for p in step.inputs if p.relative_to(tmp_path).parts[0] in ("sldp", "denovo")]
    for folder in [*runner.sldp, *runner.denovo]:
        assert folder / "summary.json" in step.inputs
    ism = [f"{p.relative_to(tmp_path)}/ism/index.tsv" for p in runner.denovo]
    assert [p.as_posix() for p in read if p.parts[-2] == "ism"] == (ism if int(values["denovo_ism_top"]) > 0 else [])

    # what the workflow hands over: the files the runner's report reads, and plots, each task's from its own
    # work folder, in the order the channels emit them (any: reversed here)
    extra = {"sldp": "z_clusters.png", "denovo": "families.png", "ism": "ism_1.png"}
    folders = sorted({p.parent for p in read})
    files = [p for p in read] + [folder / extra["ism" if folder.name == "ism" else folder.parts[0]] for folder in folders]
    work = {folder: f"/w/{i}" for i, folder in enumerate(folders, start=30)}
    handed = {kind: [(Path(*p.parent.parts[1:]).as_posix(), f"{work[p.parent]}/{p.name}") for p in files[::-1]
                     if p.parts[0] == kind] for kind in ("sldp", "denovo")}
    functions = _NEXTFLOW_STANDINS + _groovy_functions(ROOT / "workflows" / "crossreg.nf", "reportLayout")
    inputs = []
    for kind in ("sldp", "denovo"):
        entries = ", ".join(f"['{folder}', new File('{source}')]" for folder, source in handed[kind])
        key, folder_list, file_list = nc.groovy_eval(
            functions + f"\ndef r = reportLayout('report', [{entries}])\n[r[0], r[1], r[2].collect {{ f -> f.path }}]")[0]
        assert key == "report" and sorted(zip(folder_list, file_list)) == list(zip(folder_list, file_list))
        assert sorted(zip(folder_list, file_list)) == sorted(handed[kind])
        inputs += [folder_list, file_list]
    variant = [{"id": "report"}, ["/w/evaluate"], ["joint"], ["/w/train"], *inputs]
    args = nc.groovy_eval(ext_args["CROSSREG_REPORT"], {"params": values, "meta": variant[0], "task": {}})[0]
    rendered = nc.render_task(procs["CROSSREG_REPORT"], variant, ext_args=args)
    (call,) = nc.crossreg_commands(rendered.command)
    pipeline = build_parser().parse_args(call)
    assert pipeline.sldp == [p.relative_to(tmp_path) for p in runner.sldp]
    assert pipeline.denovo == [p.relative_to(tmp_path) for p in runner.denovo]
    # the task folder's layout is crossreg run's: each file where the runner has it, from its task's work folder
    assert _linked(rendered) == {p.as_posix(): f"{work[p.parent]}/{p.name}" for p in files}


@pytest.mark.parametrize("overlay", list(PARAM_OVERLAYS))
def test_variant_scoring_gets_the_options_and_layout_of_crossreg_run(procs, ext_args, params, test_params, overlay, tmp_path):
    """score-variants and gather-scores get the flags pycore/crossreg/runner/plan.py gives them for the same
    params (every option equal; files by name: the pipeline stages them), and write what crossreg run keeps
    in variants/<head>/."""
    from crossreg.runner import plan_run

    values = {**params, **(test_params if overlay == "test" else PARAM_OVERLAYS[overlay])}
    # crossreg run needs an input: the simulated world (planned, not written) scores its human VCF
    plan = plan_run({**values, "simulate_preset": values["simulate_preset"] or "tiny", "model_params": MODEL_PARAMS},
                    tmp_path)
    steps = {step.name: step for step in plan.steps}
    chunks = values["score_chunks"]
    heads = (values["score_heads"] or "human").split(",")
    scoring = sorted(name for name in steps if name.startswith(("score-variants:", "gather-scores:"))
                     and name.split(":")[1] not in ("sldp", "denovo"))
    assert scoring == sorted([f"score-variants:{h}:{i}" for h in heads for i in range(chunks)] + [f"gather-scores:{h}" for h in heads])
    parser = build_parser()
    same_options = _same_options

    for head in heads:
        meta = {**SCORE_META, "id": head, "chunks": chunks, "chunk": chunks - 1}
        runner = parser.parse_args(steps[f"score-variants:{head}:{chunks - 1}"].argv)
        pipeline = _parsed_call(procs, ext_args, "CROSSREG_SCORE_VARIANTS", [meta, *VARIANTS["CROSSREG_SCORE_VARIANTS"][0][1:]],
                                values)
        same_options(runner, pipeline, skip=("model_dir",))
        assert pipeline.model_dir == Path("model") and runner.model_dir == plan.model_dir
        assert (pipeline.vcf, pipeline.manifest) == (Path("input/variants.vcf.gz"), Path("input/manifest/manifest.json"))
        assert pipeline.out == Path(f"chunk-{chunks - 1}-of-{chunks}.h5") and pipeline.no_rc == (not values["score_rc"])

        gather = steps[f"gather-scores:{head}"]
        runner = parser.parse_args(gather.argv)
        files = [f"/w/{i}/{path.name}" for i, path in enumerate(runner.inputs)]
        pipeline = _parsed_call(procs, ext_args, "CROSSREG_GATHER_SCORES", [{"id": head, "vcf_genome": "human"}, files], values)
        same_options(runner, pipeline)
        assert pipeline.inputs == [Path(f"input/chunk-{i}-of-{chunks}.h5") for i in range(chunks)]
        # crossreg run's layout: the chunks and the gathered scores in variants/<head>/
        folders = {path.relative_to(tmp_path).parent.as_posix() for path in [*gather.inputs, *gather.outputs]}
        assert folders == {f"variants/{head}"}
        assert [path.name for path in gather.outputs] == [pipeline.out.name, pipeline.tsv.name] == ["scores.h5", "scores.tsv"]

    # a negative first shift reaches crossreg as one value (--shifts=-1,0,1)
    shifted = _parsed_call(procs, ext_args, "CROSSREG_SCORE_VARIANTS", VARIANTS["CROSSREG_SCORE_VARIANTS"][0],
                           {**values, "score_shifts": "-1,0,1"})
    assert shifted.shifts == "-1,0,1"


def _same_options(runner, pipeline, skip=()):
    """Every option crossreg run gives a step equals the pipeline task's (files compared by name: the pipeline stages them)."""
    for key, value in vars(runner).items():
        if key in ("func", *skip):
            continue
        if isinstance(value, Path):
            assert getattr(pipeline, key).name == value.name, key
        elif isinstance(value, list) and value and isinstance(value[0], Path):
            assert [v.name for v in getattr(pipeline, key)] == [v.name for v in value], key
        else:
            assert getattr(pipeline, key) == value, key


def _published(name: str, meta: dict, values: dict) -> str:
    """Where conf/modules.config publishes a task of process ``name`` (outdir ``results``)."""
    statements = nc.config_statements(ROOT / "conf" / "modules.config")
    text = next(st.value for st in statements if st.key == "publishDir" and name in
                st.scope[-1].removeprefix("withName:").strip("'\"").split("|"))
    return nc.groovy_eval(f"def p = {text}; p.path.call()", {"params": {**values, "outdir": "results"}, "meta": meta})[0]


def _analysis_plan(values: dict, tmp_path: Path):
    """crossreg run's plan of the simulated world (planned, not written) under ``values``: {step name: step}."""
    from crossreg.runner import plan_run

    plan = plan_run({**values, "simulate_preset": values["simulate_preset"] or "tiny", "model_params": MODEL_PARAMS},
                    tmp_path)
    return plan, {step.name: step for step in plan.steps}


def _folder(path: Path, root: Path) -> str:
    return "results/" + path.relative_to(root).parent.as_posix()


@pytest.mark.parametrize("overlay", list(PARAM_OVERLAYS))
def test_sldp_gets_the_options_and_layout_of_crossreg_run(procs, ext_args, params, test_params, overlay, tmp_path):
    """sldp-panel, sldp-aggregate (per eQTL tissue of the world), the panel SNPs' scores, sldp-profiles, sldp (per
    head and phenotype) and sldp-gather get the flags pycore/crossreg/runner/analyses.py gives them for the same
    params, and the pipeline publishes each where crossreg run writes it."""
    from crossreg.simulate.eqtl import eqtl_tissues
    from crossreg.simulate.params import resolve_params

    values = {**params, **(test_params if overlay == "test" else PARAM_OVERLAYS[overlay])}
    plan, steps = _analysis_plan(values, tmp_path)
    tissues = [t for t, _ in eqtl_tissues(resolve_params(values["simulate_preset"] or "tiny"))]
    heads = (values["sldp_heads"] or "human").split(",")
    chunks = values["score_chunks"]
    names = sorted(n for n in steps if n.startswith("sldp") or n.split(":")[1:2] == ["sldp"])
    assert names == sorted(["sldp-panel", *(f"sldp-aggregate:{t}" for t in tissues),
                            *(f"{step}:{h}" for h in heads for step in ("gather-scores:sldp", "sldp-profiles", "sldp-gather")),
                            *(f"score-variants:sldp:{h}:{i}" for h in heads for i in range(chunks)),
                            *(f"sldp:{h}:{t}" for h in heads for t in tissues)])
    assert set(plan.sldp) == set(heads)
    parser = build_parser()

    step = steps["sldp-panel"]
    runner = parser.parse_args(step.argv)
    panel_files = [str(f) for f in step.inputs if f.suffix in (".bed", ".bim", ".fam") and f.parent.name == "ld_panel"]
    assert len(panel_files) == 3 * len(runner.chroms.split(","))
    meta = {"id": "panel"}
    pipeline = _parsed_call(procs, ext_args, "CROSSREG_SLDP_PANEL", [meta, panel_files, "", runner.chroms, str(runner.blocks), []],
                            values)
    _same_options(runner, pipeline, skip=("panel",))
    assert (pipeline.panel, runner.panel) == ("panel/", f"{tmp_path}/simulate/world/human/ld_panel/")
    # the cache folder (panel_cache) published into sldp/
    assert (f"{_published('CROSSREG_SLDP_PANEL', meta, values)}/{pipeline.out}" == f"results/{step.outputs[0].relative_to(tmp_path)}"
            == "results/sldp/panel_cache")

    for tissue in tissues:
        step = steps[f"sldp-aggregate:{tissue}"]
        runner = parser.parse_args(step.argv)
        pipeline = _parsed_call(procs, ext_args, "CROSSREG_SLDP_AGGREGATE", [{"id": tissue}, str(runner.pairs)], values)
        _same_options(runner, pipeline)
        assert runner.pairs.name == f"{tissue}.pairs.tsv.gz"
        assert _published("CROSSREG_SLDP_AGGREGATE", {"id": tissue}, values) == _folder(runner.out, tmp_path) == "results/sldp/sumstats"

    for head in heads:
        gather = steps[f"gather-scores:sldp:{head}"]
        assert {_folder(path, tmp_path) for path in [*gather.inputs, *gather.outputs]} == {f"results/sldp/{head}/scores"}
        scores = parser.parse_args(steps[f"score-variants:sldp:{head}:0"].argv)
        assert (scores.head, scores.vcf.name, scores.manifest) == (head, "panel_snps.vcf.gz", plan.manifests[head])
        assert _published("CROSSREG_GATHER_SCORES", {"id": head, "analysis": "sldp"}, values) == f"results/sldp/{head}/scores"

        step = steps[f"sldp-profiles:{head}"]
        runner = parser.parse_args(step.argv)
        background = values["sldp_background"]
        variant = [{"id": head}, "/w/10/panel_cache", "/w/11/scores.h5", panel_files if background else [], "",
                   [str(runner.background_gtf)] if background else []]
        pipeline = _parsed_call(procs, ext_args, "CROSSREG_SLDP_PROFILES", variant, values)
        _same_options(runner, pipeline, skip=("panel",))
        assert (pipeline.panel, runner.panel is None) == (("panel/", False) if background else (None, True))
        assert runner.no_background == (not background) and (runner.background_gtf is None) == (not background)
        assert _published("CROSSREG_SLDP_PROFILES", {"id": head}, values) == _folder(runner.out, tmp_path) == f"results/sldp/{head}"

        for tissue in tissues:
            step = steps[f"sldp:{head}:{tissue}"]
            runner = parser.parse_args(step.argv)
            meta = {"id": head, "phenotype": tissue}
            pipeline = _parsed_call(procs, ext_args, "CROSSREG_SLDP", [meta, "/w/10/panel_cache", "/w/13/profiles.npz",
                                                                       f"/w/14/{tissue}.sumstats.gz"], values)
            _same_options(runner, pipeline)
            assert (pipeline.flips, pipeline.seed, pipeline.jk_blocks) == (values["sldp_flips"], values["sldp_seed"],
                                                                           values["sldp_jk_blocks"])
            assert [p.name for p in step.outputs] == [f"{tissue}.tsv", f"{tissue}.tsv.json"]
            assert _published("CROSSREG_SLDP", meta, values) == _folder(runner.out, tmp_path) == f"results/sldp/{head}/phenotypes"

        step = steps[f"sldp-gather:{head}"]
        runner = parser.parse_args(step.argv)
        files = [f"/w/{i}/{path.name}" for i, path in enumerate(runner.inputs)]
        pipeline = _parsed_call(procs, ext_args, "CROSSREG_SLDP_GATHER", [{"id": head}, files, "/w/11/scores.h5"], values)
        _same_options(runner, pipeline, skip=("out_dir",))
        # the workflow hands the tables sorted by name, as crossreg run lists them
        assert [p.name for p in runner.inputs] == sorted(f"{t}.tsv" for t in tissues) and pipeline.fdr == values["sldp_fdr"]
        assert pipeline.out_dir == Path(".") and runner.out_dir == plan.sldp[head] == tmp_path / "sldp" / head
        assert _published("CROSSREG_SLDP_GATHER", {"id": head}, values) == f"results/sldp/{head}"
        assert {p.name for p in step.outputs} <= {"results.tsv", "z.tsv", "z_heatmap.png", "summary.json"}


@pytest.mark.parametrize("overlay", list(PARAM_OVERLAYS))
def test_denovo_gets_the_options_and_layout_of_crossreg_run(procs, ext_args, params, test_params, overlay, tmp_path):
    """denovo-vcf, the sites' scores, denovo and ism get the flags pycore/crossreg/runner/analyses.py gives them
    for the same params, and the pipeline publishes each where crossreg run writes it."""
    values = {**params, **(test_params if overlay == "test" else PARAM_OVERLAYS[overlay])}
    plan, steps = _analysis_plan(values, tmp_path)
    head = values["denovo_head"] or "human"
    chunks = values["score_chunks"]
    names = sorted(n for n in steps if "denovo" in n)
    assert names == sorted(["denovo-vcf", f"gather-scores:denovo:{head}", f"denovo:{head}", f"ism-denovo:{head}",
                            *(f"score-variants:denovo:{head}:{i}" for i in range(chunks))])
    assert plan.denovo == {head: tmp_path / "denovo" / head}
    parser = build_parser()

    step = steps["denovo-vcf"]
    runner = parser.parse_args(step.argv)
    pipeline = _parsed_call(procs, ext_args, "CROSSREG_DENOVO_VCF", [{"id": "human"}, str(runner.table), FASTA, FASTA_INDEX],
                            values)
    _same_options(runner, pipeline, skip=("fasta",))
    assert runner.fasta.name == pipeline.fasta.name == "genome.fa.gz" and runner.table.name == "denovo.tsv"
    assert _published("CROSSREG_DENOVO_VCF", {"id": "human"}, values) == _folder(runner.out, tmp_path) == "results/denovo"
    assert [p.name for p in step.outputs] == ["sites.vcf.gz", "sites.vcf.gz.tbi"]

    scores = parser.parse_args(steps[f"score-variants:denovo:{head}:0"].argv)
    assert (scores.head, scores.vcf, scores.fasta.parent.name) == (head, runner.out, "human")
    gather = steps[f"gather-scores:denovo:{head}"]
    assert {_folder(path, tmp_path) for path in [*gather.inputs, *gather.outputs]} == {f"results/denovo/{head}/scores"}
    assert _published("CROSSREG_SCORE_VARIANTS", {"id": head, "analysis": "denovo"}, values) == f"results/denovo/{head}/scores"

    step = steps[f"denovo:{head}"]
    runner = parser.parse_args(step.argv)
    meta = {"id": head, "genome": "human"}
    pipeline = _parsed_call(procs, ext_args, "CROSSREG_DENOVO", [meta, str(runner.table), "/w/17/scores.h5", FASTA, FASTA_INDEX, []],
                            values)
    _same_options(runner, pipeline, skip=("outdir", "threads"))
    assert pipeline.outdir == Path(".") and runner.outdir == plan.denovo[head]
    assert (pipeline.fdr, pipeline.top_n, pipeline.chosen_track) == (values["denovo_fdr"], values["denovo_top"],
                                                                     values["denovo_track"])
    rules = {"options": ["brain=brain,cortex", "heart's=heart"]}.get(overlay, [])
    assert runner.group_rule == pipeline.group_rule == rules
    assert _published("CROSSREG_DENOVO", meta, values) == f"results/denovo/{head}"
    assert {_folder(p, tmp_path) for p in step.outputs} == {f"results/denovo/{head}"}

    step = steps[f"ism-denovo:{head}"]
    runner = parser.parse_args(step.argv)
    pipeline = _parsed_call(procs, ext_args, "CROSSREG_ISM", [meta, "/w/model", FASTA, FASTA_INDEX, "/w/19/top_variants.tsv",
                                                              MANIFESTS[0]], values)
    _same_options(runner, pipeline, skip=("model_dir", "out_dir"))
    assert (runner.top, runner.batch_size, runner.no_rc) == (values["denovo_ism_top"], values["score_batch_size"],
                                                             not values["score_rc"])
    assert runner.regions_table == plan.denovo[head] / "top_variants.tsv" and runner.manifest == plan.manifests[head]
    assert pipeline.out_dir == Path(".") and runner.out_dir == plan.denovo[head] / "ism"
    assert _published("CROSSREG_ISM", meta, values) == f"results/denovo/{head}/ism"


def test_the_chromosome_lists_are_read_as_crossreg_sldp_panel_reads_them():
    """main.nf's sldpChroms expands --sldp_chroms as crossreg.sldp.steps.parse_chroms does, and the simulated
    world's ld_panel/<chrom>.bim are listed in natural order (utils_crossreg's naturalOrder), the order of the
    chromosomes crossreg run gives sldp-panel."""
    from crossreg.sldp.steps import parse_chroms

    functions = _NEXTFLOW_STANDINS + _groovy_functions(ROOT / "main.nf", "sldpChroms") + "\n" + _groovy_functions(
        ROOT / "subworkflows" / "local" / "utils_crossreg" / "main.nf", "naturalOrder")
    for text in ("1-22", "chr1-chr3", "1,2,X", "chr2,chr1-chr3", "chr1-3", " 4 , 5-6 "):
        assert nc.groovy_eval(functions + f"\nsldpChroms('{text}')")[0] == parse_chroms(text), text
    with pytest.raises(RuntimeError, match="sldp_chroms: cannot read the range 'chr3-chr1'"):
        nc.groovy_eval(functions + "\nsldpChroms('chr3-chr1')")
    names = ["chr10", "chr2", "chrX", "chr1", "chr1_random"]
    ordered = nc.groovy_eval(functions + f"\n{names!r}.toSorted {{ a, b -> naturalOrder(a as String, b as String) }}")[0]
    assert ordered == ["chr1", "chr2", "chr10", "chr1_random", "chrX"]


def _groovy_functions(path: Path, *names: str) -> str:
    """Source text of top-level `def name(...) { ... }` functions of a .nf file."""
    text = path.read_text()
    return "\n".join(re.search(rf"^def {name}\(.*?^}}$", text, re.S | re.M).group(0) for name in names)


# Nextflow's tuple, error and log as plain Groovy, to call a pipeline's functions outside Nextflow
_NEXTFLOW_STANDINS = """
def tuple(Object... items) { items as List }
def error(String message) { throw new IllegalStateException(message) }
class Log { List warnings = []; void warn(String message) { warnings << message } }
log = new Log()
"""


def test_variants_and_heads_are_chosen_and_checked_as_crossreg_run_does(tmp_path):
    """main.nf's variantsGenome/worldVariants and the workflow's scoreHeads decide the VCF's genome and the
    scoring heads as pycore/crossreg/runner/plan.py does, with its errors."""
    from crossreg.errors import InputError
    from crossreg.runner import load_run_params, plan_run

    functions = (_NEXTFLOW_STANDINS + _groovy_functions(ROOT / "main.nf", "variantsGenome", "worldVariants", "analysisGenome")
                 + "\n" + _groovy_functions(ROOT / "workflows" / "crossreg.nf", "scoreHead", "scoreHeads"))

    def groovy(call: str):
        return nc.groovy_eval(functions + "\n" + call)[0]

    both = "['human', 'mouse']"
    # the VCF's genome: variants_genome, else the only genome of the run
    assert groovy("variantsGenome('/v.vcf.gz', null, ['mouse'])") == "mouse"
    assert groovy(f"variantsGenome('/v.vcf.gz', 'mouse', {both})") == "mouse"
    # crossreg run's errors: several genomes and no variants_genome; a genome not of the run; a head not of the run
    values = {**load_run_params(ROOT / "conf" / "test.yaml"), "model_params": MODEL_PARAMS}
    for call, runner_values, message in (
        (f"variantsGenome('/v.vcf.gz', null, {both})", {"variants_vcf": "/v.vcf.gz"},
         "variants_vcf /v.vcf.gz: say which genome it is on with"),
        (f"variantsGenome('', 'rat', {both})", {"variants_genome": "rat"},
         "variants_genome: 'rat' is not a genome of this run (human, mouse)"),
        ("scoreHeads('human', ['human', 'rat'], [['human', '/m/h.json', []], ['mouse', '/m/m.json', []]], 'score_heads')",
         {"score_heads": "human,rat"}, "score_heads: 'rat' is not a genome of this run (human, mouse)"),
        ("scoreHeads('human', ['rat'], [['human', '/m/h.json', []], ['mouse', '/m/m.json', []]], 'sldp_heads')",
         {"sldp_heads": "rat"}, "sldp_heads: 'rat' is not a genome of this run (human, mouse)"),
        ("scoreHeads('human', ['rat'], [['human', '/m/h.json', []], ['mouse', '/m/m.json', []]], 'denovo_head')",
         {"denovo_head": "rat"}, "denovo_head: 'rat' is not a genome of this run (human, mouse)"),
        (f"analysisGenome('denovo_table /t.tsv', 'denovo_genome', 'rat', {both})", {"denovo_genome": "rat"},
         "denovo_genome: 'rat' is not a genome of this run (human, mouse)"),
        (f"analysisGenome('sldp_snps_vcf /s.vcf.gz', 'sldp_genome', 'rat', {both})", {"sldp_genome": "rat"},
         "sldp_genome: 'rat' is not a genome of this run (human, mouse)"),
    ):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            groovy(call)
        with pytest.raises(InputError, match=re.escape(message)):
            plan_run({**values, **runner_values}, tmp_path)
    # the heads and their genomes' manifests: those asked for, else the VCF genome's
    records = "[['human', '/m/h.json', ['/s/h.h5']], ['mouse', '/m/m.json', ['/s/m.h5']]]"
    assert groovy(f"scoreHeads('human', [], {records}, 'score_heads')") == [["human", "/m/h.json"]]
    assert groovy(f"scoreHeads('human', ['mouse', 'human'], {records}, 'score_heads')") == [
        ["mouse", "/m/m.json"], ["human", "/m/h.json"]]
    # the genome of the panel SNPs / de novo table: the one asked for (or the world's), else the only genome
    assert groovy("analysisGenome('denovo_table /t.tsv', 'denovo_genome', '', ['mouse'])") == "mouse"
    assert groovy(f"analysisGenome('denovo_table /t.tsv', 'denovo_genome', 'human', {both})") == "human"
    with pytest.raises(RuntimeError, match=re.escape("denovo_table /t.tsv: say which genome it is on with --denovo_genome")):
        groovy(f"analysisGenome('denovo_table /t.tsv', 'denovo_genome', '', {both})")
    # the simulated world's VCF of the genome, or none with a warning (the stub world has no VCF)
    world = "[['human', '/w/human/variants.vcf.gz', ['/w/human/variants.vcf.gz.tbi']]]"
    assert groovy(f"worldVariants('human', {world})") == [["human", "/w/human/variants.vcf.gz", ["/w/human/variants.vcf.gz.tbi"]]]
    assert groovy(f"[worldVariants('mouse', {world}), log.warnings]") == [
        [], ["crossreg: the simulated world has no mouse/variants.vcf.gz: no variant scores"]]


# a stand-in for crossreg: writes where each file under shards/ leads and the outputs of train/evaluate
FAKE_CROSSREG = """#!/bin/bash
for f in shards/*/*; do printf '%s %s\\n' "$f" "$(readlink -f "$f")"; done > layout.txt
out=''; previous=''
for arg in "$@"; do [ "$previous" = --out ] && out=$arg; previous=$arg; done
mkdir -p "$out/model_best" && touch "$out/history.csv"
"""


def test_train_and_evaluate_link_each_genome_beside_its_manifest(procs, tmp_path):
    """Every genome's manifest is manifest.json and names its shards relative to its folder: the
    scripts link each genome's manifest and its shards (not another genome's) into shards/<genome>/."""
    fake = tmp_path / "bin" / "crossreg"
    fake.parent.mkdir()
    fake.write_text(FAKE_CROSSREG)
    fake.chmod(0o755)
    for name in ("CROSSREG_TRAIN", "CROSSREG_EVALUATE"):
        for i, variant in enumerate(VARIANTS[name]):
            root = tmp_path / "inputs" / f"{name}-{i}"
            result = nc.run_task(procs[name], _touch_inputs(variant, root), tmp_path / f"{name}-{i}",
                                 path_dirs=[fake.parent], evals=False)
            assert result.returncode == 0, f"{name}:\n{result.rendered.command}\n{result.stderr}"
            lines = (tmp_path / f"{name}-{i}" / "layout.txt").read_text().splitlines()
            layout = dict(line.split(" ") for line in lines)
            expected = {}
            for genome, manifest, files in (("human", MANIFESTS[0], SHARD_FILES), ("mouse", MANIFESTS[1], MOUSE_SHARD_FILES)):
                if genome in variant[2]:
                    expected[f"shards/{genome}/manifest.json"] = str((root / manifest.lstrip("/")).resolve())
                    expected.update({f"shards/{genome}/{Path(f).name}": str((root / f.lstrip("/")).resolve())
                                     for f in files if f.endswith(".h5")})
            assert layout == expected, name


def _touch_inputs(variant, root: Path) -> list:
    """The variant's input files, created (empty) under root."""
    def make(value):
        if isinstance(value, list):
            return [make(v) for v in value]
        if isinstance(value, str) and value.startswith("/"):
            path = root / value.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
            return str(path)
        return value
    return [make(v) for v in variant]


def test_stubs_create_every_declared_output(procs, tmp_path):
    problems = []
    for name, variants in VARIANTS.items():
        for i, variant in enumerate(variants):
            inputs = _touch_inputs(variant, tmp_path / "inputs")
            try:
                result = nc.run_task(procs[name], inputs, tmp_path / f"{name}-{i}", stub=True, path_dirs=[ROOT / "bin"],
                                     evals=i == 0, env=TASK_ENV)
            except (FileNotFoundError, ValueError) as err:
                problems.append(f"{name} stub: {err}")
                continue
            if result.returncode != 0:
                problems.append(f"{name} stub failed ({result.returncode}):\n{result.rendered.command}\n{result.stderr}")
                continue
            assert result.outputs["versions_crossreg"] == [name, "crossreg", "0.1.0" if i == 0 else None]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- params, schema, profiles
def test_schema_describes_exactly_the_params_with_their_defaults(params, schema):
    props = _schema_properties(schema)
    assert set(props) == set(params), (
        f"only in nextflow.config: {sorted(set(params) - set(props))}; only in the schema: {sorted(set(props) - set(params))}"
    )
    python_type = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    for name, value in params.items():
        prop = props[name]
        assert prop.get("description"), f"{name}: no description"
        if value is None:
            assert "default" not in prop, f"{name}: default null in nextflow.config, {prop['default']!r} in the schema"
            continue
        assert prop.get("default") == value, f"{name}: default {value!r} in nextflow.config, {prop.get('default')!r} in the schema"
        assert isinstance(value, python_type[prop["type"]]) and not (prop["type"] != "boolean" and isinstance(value, bool)), name
        if "enum" in prop:
            assert value in prop["enum"], name


def test_every_param_used_anywhere_is_declared(schema):
    declared = set(_schema_properties(schema))
    used = {}
    scripts, configs = nc.pipeline_files()
    for path in [*scripts, *configs]:
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            for name in re.findall(r"(?<![\w./])params\.(\w+)", line):
                used.setdefault(name, f"{path.relative_to(ROOT)}:{n}")
    unknown = {name: where for name, where in used.items() if name not in declared}
    assert not unknown, f"params not in nextflow_schema.json: {unknown}"
    readers = {used[name].split(":")[0] for name in used} & {p.relative_to(ROOT).as_posix() for p in scripts}
    assert readers <= {"main.nf"}, f"only main.nf reads params; also {sorted(readers - {'main.nf'})}"


def test_test_profile_and_params_file_agree_and_match_the_simulated_world_tests(test_params, schema):
    from_yaml = yaml.safe_load((ROOT / "conf" / "test.yaml").read_text())
    assert from_yaml == test_params
    props = _schema_properties(schema)
    assert set(from_yaml) <= set(props)
    # the geometry of tests/test_simulated_world_data.py
    assert (from_yaml["simulate_preset"], from_yaml["seq_length"], from_yaml["crop_bp"], from_yaml["region_size"]) == (
        "tiny", 16384, 2048, 32768)
    assert (from_yaml["seq_length"] - 2 * from_yaml["crop_bp"]) % 128 == 0


def test_profiles_and_labels(params):
    statements = nc.config_statements(ROOT / "nextflow.config")
    profiles = {st.scope[1] for st in statements if st.scope[:1] == ("profiles",) and len(st.scope) > 1}
    includes = (ROOT / "nextflow.config").read_text()
    for profile in PROFILES:
        assert profile in profiles or re.search(rf"\b{profile} \{{\s*includeConfig", includes), f"profile {profile} missing"
    assert re.search(r"includeConfig 'conf/base.config'", includes) and re.search(r"includeConfig 'conf/modules.config'", includes)
    assert ("profiles", "gpu") in {st.scope for st in statements if st.key == "params.use_gpu"}
    images = {nc.groovy_eval(st.value, {"params": {**params, "use_gpu": gpu}})[0]
              for st in statements if st.key == "container" for gpu in (False, True)}
    assert images == {"ghcr.io/crossreg/crossreg:0.1.0", "ghcr.io/crossreg/crossreg-gpu:0.1.0"}

    base = {(st.scope[-1], st.key): st.value for st in nc.config_statements(ROOT / "conf" / "base.config")}
    for label in LABELS:
        for key in ("cpus", "memory", "time"):
            assert (f"withLabel:{label}", key) in base or (f"withLabel:'{label}'", key) in base, (label, key)

    def value(label, key, **variables):
        text = base.get((f"withLabel:{label}", key)) or base[(f"withLabel:'{label}'", key)]
        return nc.groovy_eval(text, variables)[0]

    for label in ("process_low", "process_medium", "process_high", "process_gpu"):
        one, two = (value(label, "memory", task={"attempt": a}) for a in (1, 2))
        assert two != one, f"{label}: memory does not grow with task.attempt"
    retry = base[("process", "errorStrategy")]
    for status, expected in ((130, "retry"), (137, "retry"), (143, "retry"), (145, "retry"), (1, "finish"), (2, "finish"), (146, "finish")):
        assert nc.groovy_eval(retry, {"task": {"exitStatus": status}})[0] == expected, status
    # process_gpu: one accelerator and the engine's GPU flag, when GPUs are used
    for engine, flag in (("docker", "--gpus all"), ("singularity", "--nv"), ("apptainer", "--nv"), ("podman", "--device nvidia.com/gpu=all")):
        assert value("process_gpu", "containerOptions", params={"use_gpu": True}, workflow={"containerEngine": engine}) == flag
        assert value("process_gpu", "containerOptions", params={"use_gpu": False}, workflow={"containerEngine": engine}) == ""
    assert value("process_gpu", "accelerator", params={"use_gpu": True}) == 1
    assert value("process_gpu", "accelerator", params={"use_gpu": False}) is None


def test_publish_dirs_follow_the_layout(procs, params):
    statements = nc.config_statements(ROOT / "conf" / "modules.config")
    default = next(st.value for st in statements if st.scope == ("process",) and st.key == "publishDir")
    by_name = {}
    for st in statements:
        if st.key == "publishDir" and st.scope[-1].startswith("withName:"):
            for name in st.scope[-1].removeprefix("withName:").strip("'\"").split("|"):
                by_name[name] = st.value
    expected = {"CROSSREG_SIMULATE": "results/simulate", "CROSSREG_SPLIT": "results/split",
                "CROSSREG_WINDOWS": "results/windows", "CROSSREG_BASELINES": "results/baselines",
                "CROSSREG_SHARDS": "results/shards/human", "CROSSREG_MANIFEST": "results/shards/human",
                "CROSSREG_PREDICT": "results/predict/human", "CROSSREG_MATCH_TRACKS": "results/evaluate_inputs",
                "CROSSREG_REPORT": "results/report",
                # crossreg run's variants/<head>/: the chunks and the gathered scores
                "CROSSREG_SCORE_VARIANTS": "results/variants/human", "CROSSREG_GATHER_SCORES": "results/variants/human",
                # run folders published whole (train/, evaluate/): into outdir under their own name
                "CROSSREG_TRAIN": "results", "CROSSREG_EVALUATE": "results",
                # crossreg run's sldp/ and denovo/ (pycore/crossreg/runner/analyses.py)
                "CROSSREG_SLDP_PANEL": "results/sldp", "CROSSREG_SLDP_AGGREGATE": "results/sldp/sumstats",
                "CROSSREG_SLDP_PROFILES": "results/sldp/human", "CROSSREG_SLDP": "results/sldp/human/phenotypes",
                "CROSSREG_SLDP_GATHER": "results/sldp/human", "CROSSREG_DENOVO_VCF": "results/denovo",
                "CROSSREG_DENOVO": "results/denovo/human", "CROSSREG_ISM": "results/denovo/human/ism"}
    for name in procs:
        code = f"def p = {by_name.get(name, default)}; p.path.call()"
        variables = {"params": params, "meta": GENOME, "task": {"process": f"CROSSREG:{name}"}}
        assert nc.groovy_eval(code, variables)[0] == expected[name], name
    # the panel SNPs' and the de novo sites' scores (meta.analysis) in <analysis>/<head>/scores/
    for name in ("CROSSREG_SCORE_VARIANTS", "CROSSREG_GATHER_SCORES"):
        for analysis in ("sldp", "denovo"):
            code = f"def p = {by_name[name]}; p.path.call()"
            variables = {"params": params, "meta": {**GENOME, "analysis": analysis}, "task": {"process": name}}
            assert nc.groovy_eval(code, variables)[0] == f"results/{analysis}/human/scores", (name, analysis)
    for name in ("CROSSREG_SHARDS", "CROSSREG_MANIFEST", "CROSSREG_SPLIT"):
        code = f"def p = {by_name[name]}; p.saveAs.call('{name.lower()}/dir/file.h5')"
        assert nc.groovy_eval(code, {"params": params, "meta": GENOME})[0] == "file.h5"
    # the layout of crossreg run (plan.py): train/ and evaluate/ whole; what train emits besides
    # its folder (model_best/, history.csv) is inside it and not published twice
    for name, published in (("CROSSREG_TRAIN", {"train": "train", "train/model_best": None, "train/history.csv": None}),
                            ("CROSSREG_EVALUATE", {"evaluate": "evaluate"})):
        for filename, target in published.items():
            code = f"def p = {by_name[name]}; p.saveAs.call('{filename}')"
            assert nc.groovy_eval(code, {"params": params, "meta": GENOME})[0] == target, (name, filename)


def test_bin_crossreg_runs_the_package_cli(monkeypatch):
    import subprocess

    monkeypatch.setenv("CROSSREG_PYTHON", sys.executable)
    out = subprocess.run([str(ROOT / "bin" / "crossreg"), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "crossreg 0.1.0"
    assert (ROOT / "bin" / "crossreg").stat().st_mode & 0o111


# ---------------------------------------------------------------- the real scripts, end to end
class _Tasks:
    """Runs modules' real scripts, one task folder each, with their inputs staged as Nextflow stages
    them and conf/modules.config's ext.args under ``values`` (the params)."""

    def __init__(self, procs, ext_args, values: dict, root: Path):
        self.procs, self.ext_args, self.values, self.root = procs, ext_args, values, root
        self.count = 0

    def __call__(self, name: str, inputs: list) -> dict:
        meta = inputs[0]
        args = nc.groovy_eval(self.ext_args[name], {"params": self.values, "meta": meta, "task": {}})[0] if name in self.ext_args else ""
        self.count += 1
        result = nc.run_task(self.procs[name], inputs, self.root / f"{self.count:02d}-{name}", ext_args=args,
                             path_dirs=[ROOT / "bin"], evals=False, env=TASK_ENV)  # the stub test runs the versions commands
        assert result.returncode == 0, f"{name} {meta}:\n{result.rendered.command}\n{result.stderr[-3000:]}"
        return result.outputs


@pytest.fixture(scope="module")
def tiny_chain(procs, ext_args, params, test_params, tmp_path_factory) -> dict:
    """simulate -> split (both genomes, their chain) -> windows -> baselines -> shards (2 chunks) ->
    manifest for both genomes of the tiny world under the test profile."""
    values = {**params, **test_params}
    run = _Tasks(procs, ext_args, values, tmp_path_factory.mktemp("chain"))
    world = Path(run("CROSSREG_SIMULATE", [{"id": "world"}, []])["world"][1])
    genomes = {}
    for name in ("human", "mouse"):
        folder = world / name
        rows = [line.split("\t") for line in (folder / "targets.txt").read_text().splitlines()]
        bigwigs = [str(folder / row[rows[0].index("file")]) for row in rows[1:]]
        genomes[name] = [str(folder / "genome.fa.gz"), [str(folder / "genome.fa.gz.fai"), str(folder / "genome.fa.gz.gzi")],
                         str(folder / "targets.txt"), bigwigs, [str(folder / "blacklist.bed")], [str(folder / "unmappable.bed")]]
    split = run("CROSSREG_SPLIT", [{"id": "split"}, ["human", "mouse"], [g[0] for g in genomes.values()],
                                   [g[1][0] for g in genomes.values()], ["human:mouse"],
                                   [str(world / "alignment" / "human_to_mouse.chain")]])
    folds = {Path(f).name.removesuffix(".folds.bed"): f for f in split["folds"][1]}
    assert set(folds) == {"human", "mouse"}
    chunks = values["shard_chunks"]
    manifests, shard_files = {}, {}
    for name in ("human", "mouse"):
        fasta, index, targets, bigwigs, blacklist, unmappable = genomes[name]
        meta = {"id": name}
        windows = run("CROSSREG_WINDOWS", [meta, fasta, index, [folds[name]], [], blacklist, unmappable])["windows"][1]
        baselines = run("CROSSREG_BASELINES", [meta, fasta, index, targets, bigwigs, blacklist, unmappable])["baselines"][1]
        files = []
        for chunk in range(chunks):
            out = run("CROSSREG_SHARDS", [{**meta, "chunk": chunk, "chunks": chunks}, fasta, index, targets, bigwigs,
                                          blacklist, unmappable, windows, baselines])["shards"][1]
            files += out if isinstance(out, list) else [out]
        manifests[name] = run("CROSSREG_MANIFEST", [meta, fasta, index, targets, bigwigs, blacklist, unmappable,
                                                    windows, baselines, files])["manifest"][1]
        shard_files[name] = files
    return {"values": values, "world": world, "manifests": manifests, "shard_files": shard_files}


@pytest.mark.slow
def test_module_scripts_run_the_chain_on_the_tiny_world(tiny_chain):
    """The data chain (tiny_chain), each module's real script run in its own task folder with its
    inputs staged as Nextflow stages them and conf/modules.config's ext.args under the test profile."""
    values = tiny_chain["values"]
    for name in ("human", "mouse"):
        files = tiny_chain["shard_files"][name]
        assert sum(Path(f).name.startswith("chunk-") for f in files) == values["shard_chunks"]
        manifest = json.loads(Path(tiny_chain["manifests"][name]).read_text())
        assert manifest["genome"] == name and manifest["seq_length"] == values["seq_length"]
        assert manifest["bins"] == (values["seq_length"] - 2 * values["crop_bp"]) // values["pool_width"]
        assert all(manifest["splits"][s]["windows"] > 0 for s in ("train", "valid", "test"))


@pytest.fixture(scope="module")
def tiny_trained(tiny_chain, procs, ext_args, tmp_path_factory) -> dict:
    """match-tracks and train (joint, one short epoch) on both genomes of tiny_chain: the modules' real scripts."""
    values = {**tiny_chain["values"], "train_epochs": 1, "train_steps_per_epoch": 2}
    run = _Tasks(procs, ext_args, values, tmp_path_factory.mktemp("trained"))
    names = ["human", "mouse"]
    manifests = [tiny_chain["manifests"][g] for g in names]
    files = [f for g in names for f in tiny_chain["shard_files"][g]]
    matches = run("CROSSREG_MATCH_TRACKS", [{"id": "track_matches"}, names, manifests])["matches"][1]
    trained = run("CROSSREG_TRAIN", [{"id": "joint"}, str(ROOT / values["model_params"]), names, manifests, files])
    return {"values": values, "matches": matches, "trained": trained}


@pytest.fixture(scope="module")
def tiny_evaluated(tiny_chain, tiny_trained, procs, ext_args, tmp_path_factory) -> Path:
    """evaluate (with the world's TSSs and the matches) of tiny_trained's model on both genomes: the module's real script."""
    run = _Tasks(procs, ext_args, tiny_trained["values"], tmp_path_factory.mktemp("evaluated"))
    names = ["human", "mouse"]
    manifests = [tiny_chain["manifests"][g] for g in names]
    files = [f for g in names for f in tiny_chain["shard_files"][g]]
    world = tiny_chain["world"]
    return Path(run("CROSSREG_EVALUATE", [{"id": "evaluate"}, tiny_trained["trained"]["model"][1], names, manifests, files,
                                          names, [str(world / g / "tss.bed") for g in names],
                                          [tiny_trained["matches"]]])["evaluation"][1])


@pytest.mark.slow
def test_module_scripts_train_evaluate_and_report_on_the_tiny_world(tiny_chain, tiny_trained, tiny_evaluated, procs, ext_args,
                                                                    tmp_path):
    """match-tracks -> train (joint, one short epoch) -> evaluate (with the world's TSSs and the
    matches: tiny_evaluated) -> report (no trait analyses) on both genomes of the tiny world, and score-variants (the world's human
    VCF, human head, score_chunks chunks) -> gather-scores with the trained model: the modules'
    real scripts, each genome's manifest and shards staged as Nextflow stages them and linked
    into shards/<genome>/."""
    values = tiny_trained["values"]
    run = _Tasks(procs, ext_args, values, tmp_path)
    names = ["human", "mouse"]

    matches = tiny_trained["matches"]
    assert len(Path(matches).read_text().splitlines()) > 1

    trained = tiny_trained["trained"]
    run_dir, model = Path(trained["run"][1]), Path(trained["model"][1])
    assert model == run_dir / "model_best" and (model / "params.json").is_file() and (run_dir / "params.json").is_file()
    history = Path(trained["history"][1]).read_text().splitlines()
    assert history[0].startswith("epoch,genome,") and set(names) <= {row.split(",")[1] for row in history[1:]}

    world = tiny_chain["world"]
    evaluation = tiny_evaluated
    summary = json.loads((evaluation / "summary.json").read_text())
    assert set(summary["genomes"]) == set(names) and summary["split"] == values["evaluate_split"]
    assert all(summary["genomes"][g]["gene_r_mean"] is not None for g in names) and summary["transfer"]

    report = Path(run("CROSSREG_REPORT", [{"id": "report"}, [str(evaluation)], ["joint"], [str(run_dir)], [], [], [], []])["report"][1])
    html = report.read_text()
    assert report.name == "report.html" and values["report_title"] in html and "Trait analyses" not in html

    # the world's human variants scored with the human head in score_chunks chunks (as the
    # pipeline scatters them), then gathered
    human, vcf = world / "human", world / "human" / "variants.vcf.gz"
    chunks = values["score_chunks"]
    assert chunks == 2
    chunk_files = []
    for chunk in range(chunks):
        meta = {"id": "human", "chunk": chunk, "chunks": chunks, "vcf_genome": "human"}
        out = run("CROSSREG_SCORE_VARIANTS", [meta, str(model), str(human / "genome.fa.gz"),
                                              [str(human / "genome.fa.gz.fai"), str(human / "genome.fa.gz.gzi")],
                                              str(vcf), [str(human / "variants.vcf.gz.tbi")], tiny_chain["manifests"]["human"]])
        assert out["scores"][0] == meta and Path(out["scores"][1]).name == f"chunk-{chunk}-of-{chunks}.h5"
        chunk_files.append(out["scores"][1])
    # the biallelic SNPs of the VCF (the world's REF alleles are the FASTA's: every one is scored)
    with gzip.open(vcf, "rt") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    snps = sum(len(r[3]) == 1 and r[3] in "ACGT" and r[4] in ("A", "C", "G", "T") and r[3] != r[4] for r in rows)
    assert snps > 0
    gathered = run("CROSSREG_GATHER_SCORES", [{"id": "human", "vcf_genome": "human"}, chunk_files[::-1]])
    scores, tsv = Path(gathered["scores"][1]), Path(gathered["tsv"][1])
    assert (scores.name, tsv.name) == ("scores.h5", "scores.tsv")
    with h5py.File(scores, "r") as h5:
        assert len(h5["snp"]) == snps and h5["SAD"].shape[0] == snps
        manifest = json.loads(Path(tiny_chain["manifests"]["human"]).read_text())
        assert list(h5["target_ids"].asstr()[:]) == [str(t["identifier"]) for t in manifest["targets"]]
    table = tsv.read_text().splitlines()
    assert table[0].startswith("snp\tchr\tpos\tref\talt\tflipped\tSAD_") and len(table) == 1 + snps


@pytest.mark.slow
def test_module_scripts_run_sldp_and_denovo_on_the_tiny_world(tiny_chain, tiny_trained, tiny_evaluated, procs, ext_args,
                                                              tmp_path):
    """The SLDP chain (sldp-panel on the world's human LD panel, sldp-aggregate of two eQTL tissues, the panel
    SNPs scored and gathered, sldp-profiles with the panel and genes.gtf background, sldp per tissue, sldp-gather)
    and the de novo chain (denovo-vcf, the sites scored and gathered, denovo, ism of the top case variant) with
    the trained model, then the report of the evaluation with both (their files handed over as the workflow
    hands them): the modules' real scripts, inputs staged as Nextflow stages them, ext.args of
    conf/modules.config (few sign flips, one chunk, one ISM region: the plumbing, not the statistics)."""
    values = {**tiny_trained["values"], "sldp_flips": 1000, "denovo_ism_top": 1}
    run = _Tasks(procs, ext_args, values, tmp_path)
    human = tiny_chain["world"] / "human"
    model = tiny_trained["trained"]["model"][1]
    manifest = tiny_chain["manifests"]["human"]
    fasta, fasta_index = str(human / "genome.fa.gz"), [str(human / "genome.fa.gz.fai"), str(human / "genome.fa.gz.gzi")]
    tracks = [str(t["identifier"]) for t in json.loads(Path(manifest).read_text())["targets"]]

    def scores(vcf: str, vcf_index: list, analysis: str) -> str:
        meta = {"id": "human", "chunk": 0, "chunks": 1, "vcf_genome": "human", "analysis": analysis}
        chunk = run("CROSSREG_SCORE_VARIANTS", [meta, model, fasta, fasta_index, vcf, vcf_index, manifest])["scores"][1]
        gathered = run("CROSSREG_GATHER_SCORES", [{"id": "human", "vcf_genome": "human", "analysis": analysis}, [chunk]])
        return gathered["scores"][1]

    # SLDP: the world's panel (its chromosomes in natural order, as the workflow lists them)
    chroms = sorted((p.stem for p in (human / "ld_panel").glob("*.bim")), key=lambda c: int(c.removeprefix("chr")))
    panel = [str(human / "ld_panel" / f"{c}.{e}") for c in chroms for e in ("bed", "bim", "fam")]
    cache = run("CROSSREG_SLDP_PANEL", [{"id": "panel"}, panel, "", ",".join(chroms), str(human / "ld_blocks.bed"), []])
    cache = cache["cache"][1]
    assert json.loads((Path(cache) / "index.json").read_text())["format"] == "crossreg-sldp-panel"
    tissues = sorted(p.name.removesuffix(".pairs.tsv.gz") for p in (human / "eqtl").glob("*.pairs.tsv.gz"))[:2]
    sumstats = {t: run("CROSSREG_SLDP_AGGREGATE", [{"id": t}, str(human / "eqtl" / f"{t}.pairs.tsv.gz")])["sumstats"][1]
                for t in tissues}
    assert all(Path(f).name == f"{t}.sumstats.gz" for t, f in sumstats.items())
    panel_scores = scores(str(human / "panel_snps.vcf.gz"), [str(human / "panel_snps.vcf.gz.tbi")], "sldp")
    profiles = run("CROSSREG_SLDP_PROFILES", [{"id": "human"}, cache, panel_scores, panel, "", [str(human / "genes.gtf")]])
    profiles = profiles["profiles"][1]
    tables = []
    for tissue, table in sumstats.items():
        out = run("CROSSREG_SLDP", [{"id": "human", "phenotype": tissue}, cache, profiles, table])
        rows = Path(out["results"][1]).read_text().splitlines()
        assert len(rows) == 1 + len(tracks) and all(row.startswith(f"{tissue}\t") for row in rows[1:])
        settings = json.loads(Path(out["json"][1]).read_text())["settings"]
        assert (settings["T"], settings["seed"], settings["jk_blocks"]) == (values["sldp_flips"], values["sldp_seed"],
                                                                          values["sldp_jk_blocks"])
        assert "coding" in settings["background"] and settings["chroms"] == chroms
        tables.append(out["results"][1])
    gathered = run("CROSSREG_SLDP_GATHER", [{"id": "human"}, tables[::-1], panel_scores])
    summary = json.loads(Path(gathered["summary"][1]).read_text())
    assert summary["phenotypes"] == tissues and summary["tracks"] == len(tracks) and summary["fdr"] == values["sldp_fdr"]
    assert summary["tests"] == len(tracks) * len(tissues)
    assert len(Path(gathered["results"][1]).read_text().splitlines()) == 1 + summary["tests"]
    assert {Path(p).name for p in gathered["plots"][1]} == {"z_heatmap.png", "z_clusters.png"}

    # de novo: the world's table, its sites scored with the human head
    table = str(human / "denovo.tsv")
    _, vcf, tbi = run("CROSSREG_DENOVO_VCF", [{"id": "human"}, table, fasta, fasta_index])["vcf"]
    assert (Path(vcf).name, Path(tbi).name) == ("sites.vcf.gz", "sites.vcf.gz.tbi")
    site_scores = scores(vcf, [tbi], "denovo")
    meta = {"id": "human", "genome": "human"}
    denovo = run("CROSSREG_DENOVO", [meta, table, site_scores, fasta, fasta_index, []])
    summary = json.loads(Path(denovo["summary"][1]).read_text())
    assert summary["format"] == "crossreg-denovo" and summary["settings"]["fdr"] == values["denovo_fdr"]
    assert [Path(p).name for p in denovo["tables"][1:]] == ["tracks.tsv", "groups.tsv", "pca.tsv", "families.tsv",
                                                            "exclusions.tsv"]
    assert len(Path(denovo["tables"][1]).read_text().splitlines()) == 1 + len(tracks)
    top = Path(denovo["top_variants"][1]).read_text().splitlines()
    assert "ism_region" in top[0].split("\t") and len(top) > 1
    ism = run("CROSSREG_ISM", [meta, model, fasta, fasta_index, denovo["top_variants"][1], manifest])
    index = Path(ism["index"][1]).read_text().splitlines()
    assert len(index) == 2 and index[1].split("\t")[-2:] == ["ism_1.h5", "ism_1.png"]
    assert [Path(f).name for f in ism["ism"][1]] == ["ism_1.h5"] and [Path(f).name for f in ism["plots"][1]] == ["ism_1.png"]

    # the report: the workflow's [ folder, file ] pairs of sldp-gather, denovo and ism, sorted (reportLayout)
    def pairs(folder: str, *outputs) -> list[tuple[str, str]]:
        return [(folder, str(f)) for out in outputs for f in (out if isinstance(out, list) else [out])]

    sldp_pairs = sorted(pairs("human", gathered["results"][1], gathered["plots"][1], gathered["summary"][1]),
                        key=lambda p: (p[0], Path(p[1]).name))
    denovo_pairs = sorted(pairs("human", *denovo["tables"][1:3], denovo["top_variants"][1], denovo["plots"][1],
                                denovo["summary"][1]) + pairs("human/ism", ism["index"][1], ism["plots"][1]),
                          key=lambda p: (p[0], Path(p[1]).name))
    out = run("CROSSREG_REPORT", [{"id": "report"}, [str(tiny_evaluated)], [], [],
                                  [f for f, _ in sldp_pairs], [p for _, p in sldp_pairs],
                                  [f for f, _ in denovo_pairs], [p for _, p in denovo_pairs]])
    html = Path(out["report"][1]).read_text()
    # one SLDP and one de novo section (the human head, labelled by its folder as in crossreg run), with the
    # heat map, the tables and the ISM plot of the top case variant embedded
    assert "Trait analyses" in html and 'id="sldp-1"' in html and 'id="denovo-1"' in html
    assert 'id="sldp-2"' not in html and 'id="denovo-2"' not in html
    assert "SLDP: human" in html and "De novo: human" in html
    assert "z_heatmap.png" in html and "ism/ism_1.png" in html and all(t in html for t in tissues)
