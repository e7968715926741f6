"""The parameters of ``crossreg run``: the same keys, types and defaults as the Nextflow pipeline.

A params file written for ``nextflow run . -params-file FILE`` is accepted unchanged by
``crossreg run -params-file FILE``. :data:`RUN_PARAMS` lists every key with its JSON-schema
type and default; ``tests/test_runner.py`` keeps it equal to ``nextflow_schema.json``. Keys
that only steer a cluster or cloud executor (``local`` False) are accepted and ignored by the
local runner. An unknown key, or a value of the wrong type, is an error naming the file and
the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from crossreg.errors import InputError
from crossreg.io.config import read_config_file


@dataclass(frozen=True)
class RunParam:
    """One pipeline parameter.

    Attributes:
        name: the key (as in ``nextflow.config``'s ``params``).
        type: JSON-schema type: ``string``, ``integer``, ``number`` or ``boolean``.
        default: the default value (None: unset).
        local: whether ``crossreg run`` uses it (False: executor settings, ignored locally).
    """

    name: str
    type: str
    default: Any
    local: bool = True


RUN_PARAMS: tuple[RunParam, ...] = (
    # inputs and outputs
    RunParam("input", "string", None),
    RunParam("chains", "string", None),
    RunParam("simulate_preset", "string", None),
    RunParam("simulate_seed", "integer", 0),
    RunParam("simulate_params", "string", None),
    RunParam("outdir", "string", "results"),
    RunParam("publish_dir_mode", "string", "copy", local=False),
    # split
    RunParam("region_size", "integer", 1_000_000),
    RunParam("min_shared_bp", "integer", 100_000),
    RunParam("valid_fraction", "number", 0.12),
    RunParam("test_fraction", "number", 0.12),
    RunParam("split_seed", "integer", 0),
    # windows
    RunParam("seq_length", "integer", 131_072),
    RunParam("stride", "integer", 65_599),
    RunParam("max_n_fraction", "number", 0.5),
    RunParam("max_masked_fraction", "number", 0.5),
    # baselines, shards, manifest
    RunParam("missing_chroms", "string", "error"),
    RunParam("pool_width", "integer", 128),
    RunParam("crop_bp", "integer", 8192),
    RunParam("windows_per_shard", "integer", 64),
    RunParam("shard_chunks", "integer", 4),
    # train
    RunParam("model_params", "string", None),
    RunParam("train_mode", "string", "joint"),
    RunParam("train_genome", "string", None),
    RunParam("train_epochs", "integer", None),
    RunParam("train_steps_per_epoch", "integer", None),
    RunParam("train_seed", "integer", None),
    RunParam("finetune_epochs", "integer", 0),
    # evaluate, report
    RunParam("track_matches", "string", None),
    RunParam("evaluate_split", "string", "test"),
    RunParam("evaluate_batch_size", "integer", 4),
    RunParam("evaluate_rc_average", "boolean", False),
    RunParam("report_title", "string", "crossreg report"),
    # variant scores
    RunParam("variants_vcf", "string", None),
    RunParam("variants_genome", "string", None),
    RunParam("score_heads", "string", None),
    RunParam("score_chunks", "integer", 4),
    RunParam("score_shifts", "string", "0"),
    RunParam("score_rc", "boolean", True),
    RunParam("score_stats", "string", "SAD"),
    RunParam("score_ref_mismatch", "string", "skip"),
    RunParam("score_batch_size", "integer", 8),
    RunParam("score_tsv_tracks", "string", None),
    # SLDP of the panel SNPs' scores (when a panel is known: sldp_panel, or a simulated world's)
    RunParam("sldp_panel", "string", None),
    RunParam("sldp_chroms", "string", None),
    RunParam("sldp_blocks", "string", None),
    RunParam("sldp_print_snps", "string", None),
    RunParam("sldp_snps_vcf", "string", None),
    RunParam("sldp_genome", "string", None),
    RunParam("sldp_heads", "string", None),
    RunParam("sldp_eqtl", "string", None),
    RunParam("sldp_sumstats", "string", None),
    RunParam("sldp_gtf", "string", None),
    RunParam("sldp_background", "boolean", True),
    RunParam("sldp_flips", "integer", 1_000_000),
    RunParam("sldp_seed", "integer", 0),
    RunParam("sldp_jk_blocks", "integer", 300),
    RunParam("sldp_fdr", "number", 0.05),
    RunParam("run_sldp", "boolean", True),
    # de novo variants (denovo_table, or a simulated world's)
    RunParam("denovo_table", "string", None),
    RunParam("denovo_genome", "string", None),
    RunParam("denovo_head", "string", None),
    RunParam("denovo_groups", "string", None),
    RunParam("denovo_group_rules", "string", None),
    RunParam("denovo_fdr", "number", 0.1),
    RunParam("denovo_track", "string", None),
    RunParam("denovo_top", "integer", 20),
    RunParam("denovo_ism_top", "integer", 3),
    RunParam("run_denovo", "boolean", True),
    # predict (with a trained model)
    RunParam("model_dir", "string", None),
    RunParam("predict_genomes", "string", None),
    RunParam("predict_split", "string", "test"),
    RunParam("predict_batch_size", "integer", 4),
    RunParam("predict_rc_average", "boolean", False),
    RunParam("predict_bigwig_tracks", "string", None),
    # compute (executors; not used by the local runner)
    RunParam("use_gpu", "boolean", False, local=False),
    RunParam("slurm_queue", "string", None, local=False),
    RunParam("slurm_gpu_queue", "string", None, local=False),
    RunParam("slurm_gpu_options", "string", "--gres=gpu:1", local=False),
    RunParam("awsqueue", "string", None, local=False),
    RunParam("awsqueue_gpu", "string", None, local=False),
    RunParam("awsregion", "string", "eu-west-1", local=False),
    RunParam("awscli", "string", None, local=False),
    RunParam("google_project", "string", None, local=False),
    RunParam("google_location", "string", "europe-west2", local=False),
    RunParam("google_spot", "boolean", True, local=False),
    RunParam("google_gpu_type", "string", "nvidia-l4", local=False),
    RunParam("google_gpu_machine", "string", "g2-standard-8", local=False),
    # reports
    RunParam("trace_report_suffix", "string", "latest", local=False),
)

_BY_NAME = {p.name: p for p in RUN_PARAMS}
_CHOICES = {
    "simulate_preset": ("tiny", "demo", "bench"),
    "missing_chroms": ("error", "zeros"),
    "train_mode": ("joint", "single"),
    "evaluate_split": ("train", "valid", "test"),
    "predict_split": ("train", "valid", "test"),
    "score_ref_mismatch": ("skip", "flip"),
}


def _type_ok(value: Any, kind: str) -> bool:
    if value is None:
        return True
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def check_run_params(values: Mapping[str, Any], source: str) -> None:
    """Check keys, types and choices.

    Args:
        values: parameter values (any subset of :data:`RUN_PARAMS`).
        source: where they came from, for messages (a file name or ``command line``).

    Raises:
        InputError: an unknown key (with the closest known one), a value of the wrong type, or
            a value outside its choices.
    """
    import difflib

    for key, value in values.items():
        spec = _BY_NAME.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, _BY_NAME, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{source}: unknown parameter {key!r}{hint} (parameters: nextflow_schema.json)")
        if not _type_ok(value, spec.type):
            raise InputError(f"{source}: parameter {key!r} must be a {spec.type}, got {value!r}")
        if key in _CHOICES and value is not None and value not in _CHOICES[key]:
            raise InputError(f"{source}: parameter {key!r} must be one of {', '.join(_CHOICES[key])}, got {value!r}")


def load_run_params(params_file: str | os.PathLike | None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every parameter's value: defaults, then the params file, then ``overrides``.

    Args:
        params_file: YAML or JSON mapping of parameters (``-params-file``), or None.
        overrides: values given on the command line (e.g. ``outdir``).

    Returns:
        ``{name: value}`` for every key of :data:`RUN_PARAMS`.

    Raises:
        InputError: unreadable file, unknown key, wrong type or choice; no input given, or
            both a samplesheet and a simulated world.
    """
    values = {p.name: p.default for p in RUN_PARAMS}
    source = "defaults"
    if params_file is not None:
        source = str(params_file)
        loaded = read_config_file(Path(params_file), "params file")
        check_run_params(loaded, source)
        values.update(loaded)
    if overrides:
        check_run_params(overrides, "command line")
        values.update(overrides)
    if not values["simulate_preset"] and not values["input"]:
        raise InputError(f"{source}: give 'input' (a genome samplesheet) or 'simulate_preset' (tiny, demo or bench)")
    if values["simulate_preset"] and values["input"]:
        raise InputError(f"{source}: 'input' and 'simulate_preset' exclude each other")
    if values["train_mode"] == "single" and not values["train_genome"]:
        raise InputError(f"{source}: train_mode 'single' needs 'train_genome'")
    return values
