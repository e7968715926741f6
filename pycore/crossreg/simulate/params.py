"""Presets and params of the simulator: every model knob, validated.

``PRESETS`` holds three complete parameter trees (``tiny``, ``demo``, ``bench``). A user's
overrides (a dict, or a YAML/JSON file) are merged into the chosen preset key by key; unknown
keys and wrongly typed values raise :class:`~crossreg.errors.InputError` naming the key.
Values given per genome are dicts ``{"human": x, "mouse": y}``; a scalar there applies to both.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


from crossreg.errors import InputError
from crossreg.io.config import read_config_file

GENOMES = ("human", "mouse")
ASSAYS = ("DNASE", "ATAC", "CAGE", "CHIP")

# keys whose dict values are user-named maps (any key allowed)
FREE_MAPS = {"tfs", "ubiquitous_tfs", "promoter_tfs", "regulation.tf_weights", "eqtl.tissues"}

TFS = {
    # ubiquitous / promoter factors
    "CTCF": "C055", "SP_KLF": "C038", "NRF1": "C124", "NFY": "C122", "ETS": "C107",
    "CREB": "C002", "YY1": "C009", "E2F": "C061", "TBP": "C135", "AP1": "C026",
    # liver
    "HNF4": "C015", "CEBP": "C027", "HNF1": "C097", "FOXA": "C005", "ONECUT": "C102",
    # brain
    "RFX": "C069", "POU": "C063", "SOX": "C133", "NFI": "C086", "OLIG": "C008",
    # heart
    "MEF2": "C066", "GATA": "C101", "TBX": "C060", "SRF": "C134", "TEAD": "C072", "NKX2": "C030",
    # T cell
    "RUNX": "C079", "ETS1": "C105", "TCF7": "C016", "IRF": "C081", "REL": "C073", "STAT": "C071",
    "MYB": "C113",
    # keratinocyte, embryonic stem cell
    "TFAP2": "C052", "GRHL": "C006", "TP63": "C091", "ZIC": "C042", "NANOG": "C096",
}

CELL_LIVER = {"name": "liver", "genomes": ["human", "mouse"],
              "tfs": {"HNF4": 1.0, "CEBP": 0.9, "HNF1": 0.9, "FOXA": 0.9, "ONECUT": 0.7, "AP1": 0.3}}
CELL_BRAIN = {"name": "brain", "genomes": ["human", "mouse"],
              "tfs": {"RFX": 1.0, "POU": 0.9, "SOX": 0.9, "NFI": 0.8, "OLIG": 0.7, "MEF2": 0.3}}
CELL_HEART = {"name": "heart", "genomes": ["human", "mouse"],
              "tfs": {"MEF2": 1.0, "GATA": 0.9, "TBX": 0.9, "SRF": 0.8, "TEAD": 0.7, "NKX2": 0.7}}
CELL_TCELL = {"name": "tcell", "genomes": ["human", "mouse"],
              "tfs": {"RUNX": 1.0, "ETS1": 0.9, "TCF7": 0.9, "REL": 0.8, "IRF": 0.7, "STAT": 0.6, "AP1": 0.6,
                      "GATA": 0.5}}
CELL_KERATINOCYTE = {"name": "keratinocyte", "genomes": ["human"],
                     "tfs": {"TP63": 1.0, "TFAP2": 0.9, "GRHL": 0.9, "AP1": 0.8, "TEAD": 0.6, "CEBP": 0.4}}
CELL_ESC = {"name": "esc", "genomes": ["mouse"],
            "tfs": {"POU": 1.0, "SOX": 1.0, "ZIC": 0.8, "TEAD": 0.7, "NANOG": 0.6}}

_TINY: dict[str, Any] = {
    "genome": {
        "ancestral_length": 540_000,
        "chromosomes": {"human": 3, "mouse": 3},
        "gc_mean": 0.41,
        "gc_sd": 0.04,
        "isochore_mean_length": 40_000,
        "cpg_depletion": 0.8,
        "telomere_gap": [500, 3000],
        "centromere_gap": [1000, 4000],
        "internal_gaps_per_mb": 2.0,
        "internal_gap_length": [100, 2000],
    },
    "evolution": {
        "identity": 0.85,
        "human_branch_share": 0.4,
        "transition_fraction": 0.66,
        "constraint": 0.3,
        "indel_rate": 0.004,
        "indel_mean_length": 3.0,
        "synteny_block_mean": 70_000,
        "inversions": {"human": 1, "mouse": 2},
        "transpositions": {"human": 0, "mouse": 1},
        "insertions_per_mb": {"human": 25.0, "mouse": 30.0},
        "insertion_mean_length": 1200,
        "deletions_per_mb": {"human": 20.0, "mouse": 25.0},
        "deletion_mean_length": 1000,
        "turnover_loss": 0.15,
        "turnover_gain": 0.15,
        "chain_max_gap": 50_000,
    },
    "repeats": {
        "satellite_length": [2000, 6000],
        "satellite_unit_length": 171,
        "satellite_divergence": 0.08,
        "simple_repeats_per_mb": 200.0,
        "simple_repeat_length": [12, 150],
        "segdups_per_mb": 4.0,
        "segdup_length": [1000, 3000],
        "segdup_divergence": 0.005,
    },
    "regulation": {
        "genes": 24,
        "gene_length": [2000, 40_000],
        "exons": [2, 8],
        "promoter_width": 1000,
        "promoter_gc": 0.65,
        "promoter_sites": [3, 6],
        "tata_fraction": 0.3,
        "tissue_gene_fraction": 0.6,
        "enhancers_per_gene": 4.0,
        "enhancer_width": 400,
        "enhancer_sites": [5, 9],
        "orphan_enhancer_fraction": 0.15,
        "shared_enhancer_fraction": 0.2,
        "ubiquitous_enhancer_fraction": 0.05,
        "ctcf_per_mb": 30.0,
        "occupancy_pvalue": 2e-5,
        "occupancy_tau": 0.5,
        "background_occupancy_per_kb": 0.06,
        "tf_weights": {"CTCF": 4.0},
        "cooperativity_window": 320,
        "accessibility_threshold": 3.0,
        "accessibility_slope": 2.0,
        "cpg_weight": 2.5,
        "cpg_island_count": 25.0,
        "max_link_distance": 50_000,
        "link_decay": 20_000,
        "link_gain": 10.0,
        "promoter_basal": 0.2,
        "gene_strength_sd": 1.0,
        "tf_activity_jitter": 0.1,
        "utr5_length": [50, 300],
        "utr3_length": [200, 1500],
    },
    "tfs": dict(TFS),
    "ubiquitous_tfs": {"CTCF": 1.0, "SP_KLF": 0.9, "NRF1": 0.8, "NFY": 0.8, "ETS": 0.7, "CREB": 0.6,
                       "YY1": 0.6, "E2F": 0.5, "TBP": 0.5},
    "promoter_tfs": {"SP_KLF": 3.0, "NRF1": 1.0, "NFY": 1.0, "ETS": 1.0, "CREB": 0.7, "YY1": 0.7, "E2F": 0.5},
    "cell_types": [CELL_LIVER, CELL_BRAIN, CELL_KERATINOCYTE, CELL_ESC],
    "synthetic_cell_types": 0,
    "synthetic_tfs": [3, 5],
    "assays": {
        "per_cell_type": ["DNASE", "CAGE"],
        "extra": [["CHIP:CTCF", "liver"]],
        "replicates": [["DNASE", "liver", 2]],
        "depth_sd": 0.25,
        "dnase": {"resolution": 16, "background": 0.03, "peak": 3.0, "dispersion": 0.15, "gc_bias": 1.5,
                  "clip": 384.0, "clip_soft": 32.0, "scale": 1.0},
        "atac": {"resolution": 16, "background": 0.02, "peak": 4.0, "dispersion": 0.25, "gc_bias": -1.0,
                 "clip": 384.0, "clip_soft": 32.0, "scale": 1.0},
        "cage": {"strength_median": 150.0, "erna": 0.05, "background": 0.002, "dispersion": 0.3,
                 "tss_spread": 3.0, "clip": 384.0, "clip_soft": 32.0, "scale": 1.0},
        "chip": {"resolution": 64, "background": 0.5, "peak": 40.0, "input_depth": 1.0, "width_sd": 80.0,
                 "dispersion": 0.2, "quantum": 0.25, "smooth_bins": 3, "clip": 32.0, "clip_soft": 4.0,
                 "scale": 1.0},
        "artefacts_per_mb": 4.0,
        "artefact_length": [1000, 5000],
        "artefact_fold": [30.0, 150.0],
        "satellite_artefact_fraction": 0.5,
    },
    "variants": {
        "causal_break": 16,
        "causal_create": 8,
        "neutral": 40,
        "neutral_in_element_fraction": 0.3,
        "min_abs_effect": 5.0,
        "max_neutral_effect": 0.5,
    },
    "population": {
        "panel_size": 150,
        "cohort_size": 300,
        "effective_size": 10_000,
        "bottleneck_size": 2000,
        "bottleneck_generations": [800, 1600],
        "recombination_rate": 1e-8,
        "mutation_rate": 2e-8,
        "min_maf": 0.02,
        "snps_per_mb": 1000.0,
        "element_enrichment": 3.0,
        "snps_per_block": 15,
    },
    "eqtl": {
        "cis_window": 1_000_000,
        "h2": 0.2,
        "min_relative_sd": 0.002,
        "cell_types": [],
        "tissues": {"liver": "Liver", "brain": "Brain_Cortex", "heart": "Heart_Left_Ventricle",
                    "tcell": "Whole_Blood", "keratinocyte": "Skin"},
    },
    "denovo": {
        "families": 8,
        "snvs_per_individual": 20.0,
        "disruptive_fraction": 0.15,
        "cell_type": "brain",
        "min_abs_effect": 2.0,
    },
}


def _demo() -> dict[str, Any]:
    p = copy.deepcopy(_TINY)
    p["genome"].update({"ancestral_length": 5_600_000, "chromosomes": {"human": 4, "mouse": 5},
                        "isochore_mean_length": 150_000, "telomere_gap": [2000, 10_000],
                        "centromere_gap": [5000, 20_000], "internal_gaps_per_mb": 1.0,
                        "internal_gap_length": [100, 5000]})
    p["evolution"].update({"synteny_block_mean": 450_000, "inversions": {"human": 2, "mouse": 4},
                           "transpositions": {"human": 1, "mouse": 3}, "insertion_mean_length": 2000,
                           "deletion_mean_length": 1500, "chain_max_gap": 100_000})
    p["repeats"].update({"satellite_length": [10_000, 40_000], "segdups_per_mb": 2.0,
                         "segdup_length": [2000, 10_000]})
    p["regulation"].update({"genes": 200, "gene_length": [3000, 80_000]})
    p["cell_types"] = [CELL_LIVER, CELL_BRAIN, CELL_HEART, CELL_TCELL, CELL_KERATINOCYTE, CELL_ESC]
    p["assays"].update({"extra": [["CHIP:CTCF", "liver"], ["CHIP:HNF4", "liver"]],
                        "replicates": [["DNASE", "liver", 2], ["CAGE", "brain", 2]],
                        "artefacts_per_mb": 2.0, "artefact_length": [2000, 10_000]})
    p["variants"].update({"causal_break": 60, "causal_create": 30, "neutral": 200})
    p["population"].update({"panel_size": 400, "cohort_size": 800, "snps_per_mb": 800.0, "snps_per_block": 60})
    p["denovo"].update({"families": 24, "snvs_per_individual": 70.0})
    return p


def _bench() -> dict[str, Any]:
    p = _demo()
    p["genome"].update({"ancestral_length": 110_000_000, "chromosomes": {"human": 10, "mouse": 12},
                        "isochore_mean_length": 300_000})
    p["evolution"].update({"synteny_block_mean": 2_000_000, "inversions": {"human": 8, "mouse": 20},
                           "transpositions": {"human": 4, "mouse": 15}})
    p["regulation"].update({"genes": 4000})
    p["synthetic_cell_types"] = 26
    p["assays"].update({"per_cell_type": ["DNASE", "CAGE", "CHIP:CTCF"],
                        "extra": [["CHIP:HNF4", "liver"], ["CHIP:CEBP", "liver"], ["CHIP:MEF2", "heart"],
                                  ["CHIP:RFX", "brain"], ["ATAC", "tcell"], ["ATAC", "brain"]],
                        "replicates": [["DNASE", "liver", 2], ["CAGE", "brain", 2], ["DNASE", "heart", 2],
                                       ["CAGE", "tcell", 2]]})
    p["variants"].update({"causal_break": 2000, "causal_create": 1000, "neutral": 6000})
    p["population"].update({"snps_per_mb": 200.0, "snps_per_block": 100})
    p["eqtl"].update({"cis_window": 250_000, "cell_types": ["liver", "brain", "heart", "tcell", "keratinocyte"]})
    return p


PRESETS: dict[str, dict[str, Any]] = {"tiny": _TINY, "demo": _demo(), "bench": _bench()}


def load_overrides(source: dict | str | Path | None) -> dict[str, Any]:
    """Read overrides from a dict, or from a YAML or JSON file.

    Raises:
        InputError: if the file is missing, unparsable, or not a mapping at the top.
    """
    if source is None:
        return {}
    if isinstance(source, dict):
        return copy.deepcopy(source)
    return read_config_file(source, what="simulation params file")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _merge(base: Any, over: Any, key: str) -> Any:
    """Merge ``over`` into ``base`` (a preset value), checking keys and types."""
    if key in FREE_MAPS:
        if not isinstance(over, dict):
            raise InputError(f"params: '{key}' must be a mapping, got {type(over).__name__}")
        merged = dict(base)
        for k, v in over.items():
            if not (isinstance(v, str) or _is_number(v)):
                raise InputError(f"params: '{key}.{k}' must be a string or a number, got {v!r}")
            merged[str(k)] = v
        return merged
    if isinstance(base, dict) and set(base) == set(GENOMES) and not isinstance(over, dict):
        return {g: _merge(base[g], over, f"{key}.{g}") for g in GENOMES}
    if isinstance(base, dict):
        if not isinstance(over, dict):
            raise InputError(f"params: '{key}' must be a mapping, got {over!r}")
        merged = dict(base)
        for k, v in over.items():
            sub = f"{key}.{k}" if key else str(k)
            if k not in base:
                raise InputError(f"params: unknown key '{sub}' (expected one of: {', '.join(sorted(base))})")
            merged[k] = _merge(base[k], v, sub)
        return merged
    if _is_number(base):
        if not _is_number(over):
            raise InputError(f"params: '{key}' must be a number, got {over!r}")
        if isinstance(base, int):
            if not float(over).is_integer():
                raise InputError(f"params: '{key}' must be a whole number, got {over!r}")
            return int(over)
        return over
    if isinstance(base, str):
        if not isinstance(over, str):
            raise InputError(f"params: '{key}' must be a string, got {over!r}")
        return over
    if isinstance(base, list):
        if not isinstance(over, list):
            raise InputError(f"params: '{key}' must be a list, got {over!r}")
        return copy.deepcopy(over)
    raise InputError(f"params: cannot override '{key}'")  # pragma: no cover


def _check_range(p: dict, key: str) -> None:
    section, _, name = key.rpartition(".")
    val = p[section][name] if section else p[name]
    if not (isinstance(val, list) and len(val) == 2 and all(_is_number(v) for v in val) and val[0] <= val[1]
            and val[0] >= 0):
        raise InputError(f"params: '{key}' must be a [low, high] pair of non-negative numbers, got {val!r}")


def _validate(p: dict) -> None:
    g, ev, rg, asy = p["genome"], p["evolution"], p["regulation"], p["assays"]
    for key in ("genome.telomere_gap", "genome.centromere_gap", "genome.internal_gap_length",
                "repeats.satellite_length", "repeats.simple_repeat_length", "repeats.segdup_length",
                "regulation.gene_length", "regulation.exons", "regulation.promoter_sites",
                "regulation.enhancer_sites", "assays.artefact_length", "assays.artefact_fold", "synthetic_tfs",
                "regulation.utr5_length", "regulation.utr3_length", "population.bottleneck_generations"):
        _check_range(p, key)
    checks = [
        ("genome.ancestral_length", g["ancestral_length"] >= 50_000, "at least 50000"),
        ("evolution.identity", 0.4 < ev["identity"] <= 1.0, "in (0.4, 1]"),
        ("evolution.human_branch_share", 0.0 <= ev["human_branch_share"] <= 1.0, "in [0, 1]"),
        ("evolution.transition_fraction", 0.0 <= ev["transition_fraction"] <= 1.0, "in [0, 1]"),
        ("evolution.turnover_loss", 0.0 <= ev["turnover_loss"] <= 1.0, "in [0, 1]"),
        ("evolution.synteny_block_mean", ev["synteny_block_mean"] >= 5000, "at least 5000"),
        ("evolution.indel_mean_length", ev["indel_mean_length"] >= 1, "at least 1"),
        ("regulation.genes", rg["genes"] >= 1, "at least 1"),
        ("regulation.occupancy_pvalue", 0 < rg["occupancy_pvalue"] < 0.1, "in (0, 0.1)"),
        ("regulation.occupancy_tau", rg["occupancy_tau"] > 0, "positive"),
        ("regulation.link_decay", rg["link_decay"] > 0, "positive"),
        ("regulation.promoter_width", rg["promoter_width"] >= 200, "at least 200"),
        ("regulation.enhancer_width", rg["enhancer_width"] >= 100, "at least 100"),
        ("synthetic_cell_types", p["synthetic_cell_types"] >= 0, "non-negative"),
        ("assays.dnase.resolution", asy["dnase"]["resolution"] in (1, 2, 4, 8, 16, 32, 64, 128),
         "a power of two up to 128"),
        ("assays.atac.resolution", asy["atac"]["resolution"] == asy["dnase"]["resolution"],
         "equal to assays.dnase.resolution"),
        ("assays.chip.resolution", asy["chip"]["resolution"] % asy["dnase"]["resolution"] == 0,
         "a multiple of assays.dnase.resolution"),
    ]
    pop, eq, dn = p["population"], p["eqtl"], p["denovo"]
    checks += [
        ("population.panel_size", pop["panel_size"] >= 2, "at least 2"),
        ("population.cohort_size", pop["cohort_size"] >= 10, "at least 10"),
        ("population.effective_size", pop["effective_size"] >= 1, "at least 1"),
        ("population.bottleneck_size", pop["bottleneck_size"] >= 0, "non-negative (0: no bottleneck)"),
        ("population.recombination_rate", 0 < pop["recombination_rate"] < 0.01, "in (0, 0.01)"),
        ("population.mutation_rate", 0 < pop["mutation_rate"] < 0.01, "in (0, 0.01)"),
        ("population.min_maf", 0 < pop["min_maf"] < 0.5, "in (0, 0.5)"),
        ("population.snps_per_mb", pop["snps_per_mb"] > 0, "positive"),
        ("population.element_enrichment", pop["element_enrichment"] > 0, "positive"),
        ("population.snps_per_block", pop["snps_per_block"] >= 2, "at least 2"),
        ("eqtl.cis_window", eq["cis_window"] >= 1, "at least 1"),
        ("eqtl.h2", 0 < eq["h2"] < 1, "in (0, 1)"),
        ("eqtl.min_relative_sd", eq["min_relative_sd"] > 0, "positive"),
        ("denovo.families", dn["families"] >= 1, "at least 1"),
        ("denovo.snvs_per_individual", dn["snvs_per_individual"] >= 0, "non-negative"),
        ("denovo.disruptive_fraction", 0 <= dn["disruptive_fraction"] <= 1, "in [0, 1]"),
        ("denovo.min_abs_effect", dn["min_abs_effect"] >= 0, "non-negative"),
    ]
    for genome in GENOMES:
        checks.append((f"genome.chromosomes.{genome}", g["chromosomes"][genome] >= 1, "at least 1"))
    for key, ok, expected in checks:
        if not ok:
            raise InputError(f"params: '{key}' must be {expected}")
    tfs = p["tfs"]
    for mapname in ("ubiquitous_tfs", "promoter_tfs", "regulation.tf_weights"):
        mapping = p[mapname] if "." not in mapname else p["regulation"]["tf_weights"]
        for name, val in mapping.items():
            if name not in tfs:
                raise InputError(f"params: '{mapname}.{name}' is not a TF named in 'tfs'")
            if not _is_number(val) or val < 0:
                raise InputError(f"params: '{mapname}.{name}' must be a non-negative number")
    if not isinstance(p["cell_types"], list) or not p["cell_types"]:
        raise InputError("params: 'cell_types' must be a non-empty list")
    names = set()
    for i, ct in enumerate(p["cell_types"]):
        where = f"cell_types[{i}]"
        if not isinstance(ct, dict) or set(ct) != {"name", "genomes", "tfs"}:
            raise InputError(f"params: '{where}' must be a mapping with keys name, genomes, tfs")
        name = ct["name"]
        if not isinstance(name, str) or not name.isidentifier() or name in names:
            raise InputError(f"params: '{where}.name' must be a unique identifier-like string, got {name!r}")
        names.add(name)
        if (not isinstance(ct["genomes"], list) or not ct["genomes"]
                or any(x not in GENOMES for x in ct["genomes"])):
            raise InputError(f"params: '{where}.genomes' must be a non-empty list drawn from {list(GENOMES)}")
        if not isinstance(ct["tfs"], dict) or not ct["tfs"]:
            raise InputError(f"params: '{where}.tfs' must be a non-empty mapping TF -> activity")
        for tf, act in ct["tfs"].items():
            if tf not in tfs:
                raise InputError(f"params: '{where}.tfs.{tf}' is not a TF named in 'tfs'")
            if not _is_number(act) or not 0 <= act <= 1:
                raise InputError(f"params: '{where}.tfs.{tf}' must be an activity in [0, 1]")
    synthetic = {f"ct{i + 1:02d}" for i in range(int(p["synthetic_cell_types"]))}
    known = names | synthetic
    _check_population_cells(p, synthetic)
    for i, a in enumerate(asy["per_cell_type"]):
        _check_assay(a, tfs, f"assays.per_cell_type[{i}]")
    for i, entry in enumerate(asy["extra"]):
        where = f"assays.extra[{i}]"
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)):
            raise InputError(f"params: '{where}' must be [assay, cell_type]")
        _check_assay(entry[0], tfs, where)
        if entry[1] not in known:
            raise InputError(f"params: '{where}': cell type {entry[1]!r} is not in 'cell_types'")
    for i, entry in enumerate(asy["replicates"]):
        where = f"assays.replicates[{i}]"
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
                and isinstance(entry[1], str) and _is_number(entry[2]) and entry[2] >= 1):
            raise InputError(f"params: '{where}' must be [assay, cell_type, n_replicates >= 1]")
        _check_assay(entry[0], tfs, where)
        if entry[1] not in known:
            raise InputError(f"params: '{where}': cell type {entry[1]!r} is not in 'cell_types'")


def _check_population_cells(p: dict, synthetic: set[str]) -> None:
    """eqtl.cell_types, eqtl.tissues and denovo.cell_type name human cell types; tissue names are unique."""
    human = {ct["name"] for ct in p["cell_types"] if "human" in ct["genomes"]} | synthetic
    eq = p["eqtl"]
    for i, cell in enumerate(eq["cell_types"]):
        if not isinstance(cell, str) or cell not in human:
            raise InputError(f"params: 'eqtl.cell_types[{i}]': {cell!r} is not a human cell type "
                             f"(expected one of: {', '.join(sorted(human))})")
    names = {}
    for cell in sorted(human):
        if eq["cell_types"] and cell not in eq["cell_types"]:
            continue
        name = eq["tissues"].get(cell, cell[:1].upper() + cell[1:])
        if not isinstance(name, str) or not name or not all(ch.isalnum() or ch in "_-." for ch in name):
            raise InputError(f"params: 'eqtl.tissues.{cell}' must be a file-name-safe tissue name "
                             f"(letters, digits, '_', '-', '.'), got {name!r}")
        if name in names:
            raise InputError(f"params: 'eqtl.tissues': cell types {names[name]!r} and {cell!r} share the tissue "
                             f"name {name!r}")
        names[name] = cell
    if not isinstance(p["denovo"]["cell_type"], str) or p["denovo"]["cell_type"] not in human:
        raise InputError(f"params: 'denovo.cell_type' {p['denovo']['cell_type']!r} is not a human cell type "
                         f"(expected one of: {', '.join(sorted(human))})")


def _check_assay(assay: Any, tfs: dict, where: str) -> None:
    if not isinstance(assay, str):
        raise InputError(f"params: '{where}' must be an assay string such as 'DNASE' or 'CHIP:CTCF'")
    kind, _, tf = assay.partition(":")
    if kind not in ASSAYS or (kind == "CHIP") != bool(tf):
        raise InputError(f"params: '{where}': assay {assay!r} must be one of DNASE, ATAC, CAGE, CHIP:<TF>")
    if tf and tf not in tfs:
        raise InputError(f"params: '{where}': ChIP target {tf!r} is not a TF named in 'tfs'")


def resolve_params(preset: str = "tiny", overrides: dict | str | Path | None = None) -> dict[str, Any]:
    """The full parameter tree: a preset with overrides merged in, validated.

    Args:
        preset: ``tiny``, ``demo`` or ``bench``.
        overrides: nested dict, or a YAML/JSON file holding one; keys must exist in the preset.

    Returns:
        A fresh nested dict (safe to mutate).

    Raises:
        InputError: unknown preset, unknown key, wrong type or out-of-range value.
    """
    if preset not in PRESETS:
        raise InputError(f"simulate: unknown preset {preset!r} (expected one of: {', '.join(PRESETS)})")
    params = _merge(copy.deepcopy(PRESETS[preset]), load_overrides(overrides), "")
    _validate(params)
    return params
