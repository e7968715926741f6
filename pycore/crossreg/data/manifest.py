"""The shard manifest: verifies every planned shard of a genome and indexes it in JSON.

``manifest.json`` (one per genome) holds::

    format, format_version      "crossreg-manifest", 1
    genome                      genome name
    seq_length, pool_width, crop_bp, bins, tracks, windows_per_shard
    targets                     one entry per output track (replicate group), in target order:
                                {identifier, description, assay, sum_stat, clip, clip_soft,
                                 scale, members: [{identifier, file, baseline}]}
    splits                      {train|valid|test: {windows, shards: [{file, windows,
                                 bytes, sha256}]}}
    statistics                  saturated_bins per track, non_acgtn_bases,
                                missing_chrom_reads per track, chunks
    inputs                      {role: {path, bytes, sha256 | fingerprint}} of the inputs
    versions                    crossreg, python, numpy, h5py, pysam, pyBigWig
    params                      the resolved parameters of the shards step

Shard paths are relative to the manifest's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from crossreg.data.shards import SHARD_FORMAT, Geometry, plan_shards
from crossreg.errors import IntegrityError, InputError
from crossreg.io.atomic import atomic_open
from crossreg.io.targets import TargetsTable

MANIFEST_FORMAT = "crossreg-manifest"
MANIFEST_FORMAT_VERSION = 1
_FULL_HASH_LIMIT = 64 * 1024 * 1024
_FINGERPRINT_BLOCKS = 16
_FINGERPRINT_BLOCK = 64 * 1024


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """SHA-256 hex digest of a whole file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def file_checksum(path: str | os.PathLike) -> dict:
    """Checksum of an input file: full SHA-256 up to 64 MiB, else a sampled fingerprint.

    The fingerprint is the SHA-256 of the file size and of 16 blocks of 64 KiB spread evenly
    over the file (first and last included): cheap for multi-GB bigWigs, and it changes with
    any truncation or re-generation, though not necessarily with a single altered byte.
    """
    path = Path(path)
    size = path.stat().st_size
    entry = {"path": str(path), "bytes": size}
    if size <= _FULL_HASH_LIMIT:
        entry["sha256"] = sha256_file(path)
        return entry
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        for offset in np.linspace(0, size - _FINGERPRINT_BLOCK, _FINGERPRINT_BLOCKS).astype(np.int64):
            handle.seek(int(offset))
            digest.update(handle.read(_FINGERPRINT_BLOCK))
    entry["fingerprint"] = digest.hexdigest()
    return entry


def versions() -> dict[str, str]:
    """Versions of crossreg and of the libraries that shape its outputs."""
    import pysam

    import crossreg

    from importlib.metadata import PackageNotFoundError, version

    def dist_version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {
        "crossreg": crossreg.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "pysam": pysam.__version__,
        "pyBigWig": dist_version("pyBigWig"),
    }


def _check_shard(path: Path, genome: str, split: str, shard: int, n_windows: int, geometry: Geometry, n_tracks: int) -> None:
    try:
        with h5py.File(path, "r") as h5:
            attrs = dict(h5.attrs)
            if attrs.get("format") != SHARD_FORMAT:
                raise IntegrityError(f"shard {path}: not a crossreg shard (format attribute {attrs.get('format')!r})")
            expected = dict(
                genome=genome, split=split, shard=shard, windows=n_windows, seq_length=geometry.seq_length,
                pool_width=geometry.pool_width, crop_bp=geometry.crop_bp, bins=geometry.bins, tracks=n_tracks,
            )
            for key, value in expected.items():
                if attrs.get(key) != value:
                    raise IntegrityError(f"shard {path}: attribute {key} is {attrs.get(key)!r}, expected {value!r}")
            shapes = {
                "sequence": (n_windows, geometry.seq_length),
                "targets": (n_windows, geometry.bins, n_tracks),
                "start": (n_windows,),
            }
            for name, shape in shapes.items():
                if name not in h5 or h5[name].shape != shape:
                    found = h5[name].shape if name in h5 else "missing"
                    raise IntegrityError(f"shard {path}: dataset {name} has shape {found}, expected {shape}")
            # read everything once: fletcher32 verifies each chunk as it is read
            for name in h5:
                h5[name][...]
    except OSError as err:
        raise IntegrityError(f"shard {path}: unreadable or corrupt HDF5 ({err})") from None


def build_manifest(
    shard_dir: str | os.PathLike,
    genome: str,
    windows: pd.DataFrame,
    targets: TargetsTable,
    baselines: dict[str, float],
    geometry: Geometry,
    windows_per_shard: int,
    inputs: dict[str, str | os.PathLike],
    params: dict,
    manifest_path: str | os.PathLike | None = None,
) -> dict:
    """Verify every planned shard and write the manifest.

    Args:
        shard_dir: folder holding the shards and chunk reports.
        genome, windows, targets, baselines, geometry, windows_per_shard: as given to the
            shards step (the plan is recomputed from them).
        inputs: role -> path of the input files to checksum (fasta, targets, windows, ...).
        params: resolved parameters to record.
        manifest_path: output (default ``shard_dir/manifest.json``).

    Returns:
        The manifest as a dict.

    Raises:
        IntegrityError: a shard is missing, unreadable, corrupt or inconsistent with the
            plan; chunk reports are missing or disagree on the number of chunks.
    """
    shard_dir = Path(shard_dir)
    manifest_path = Path(manifest_path) if manifest_path else shard_dir / "manifest.json"
    plan = plan_shards(windows, windows_per_shard)
    n_tracks = len(targets.groups)

    reports = sorted(shard_dir.glob("chunk-*-of-*.json"))
    if not reports:
        raise IntegrityError(f"{shard_dir}: no chunk reports (chunk-<i>-of-<n>.json); run crossreg shards first")
    loaded = [json.loads(p.read_text()) for p in reports]
    counts = {r["of"] for r in loaded}
    if len(counts) != 1:
        raise IntegrityError(f"{shard_dir}: chunk reports from runs with different --of values {sorted(counts)}; remove stale ones")
    of = counts.pop()
    have = {r["chunk"] for r in loaded}
    missing_chunks = sorted(set(range(of)) - have)
    if missing_chunks:
        raise IntegrityError(f"{shard_dir}: chunk(s) {missing_chunks} of {of} have not been written")

    splits: dict[str, dict] = {s: {"windows": 0, "shards": []} for s in ("train", "valid", "test")}
    for spec in plan:
        path = shard_dir / spec.filename(genome)
        if not path.is_file():
            raise IntegrityError(f"shard {path} is missing (planned for split {spec.split}, shard {spec.shard})")
        _check_shard(path, genome, spec.split, spec.shard, len(spec.rows), geometry, n_tracks)
        splits[spec.split]["windows"] += len(spec.rows)
        splits[spec.split]["shards"].append(
            {"file": os.path.relpath(path, manifest_path.parent), "windows": len(spec.rows),
             "bytes": path.stat().st_size, "sha256": sha256_file(path)}
        )

    saturated: dict[str, int] = {}
    missing_reads: dict[str, int] = {}
    for r in loaded:
        for k, v in r["saturated_bins"].items():
            saturated[k] = saturated.get(k, 0) + v
        for k, v in r["missing_chrom_reads"].items():
            missing_reads[k] = missing_reads.get(k, 0) + v

    target_entries = []
    for group, members in targets.group_members().items():
        first = targets.targets[members[0]]
        target_entries.append(
            {
                "identifier": group,
                "description": first.description,
                "assay": first.assay,
                "sum_stat": first.sum_stat,
                "clip": first.clip,
                "clip_soft": first.clip_soft,
                "scale": first.scale,
                "members": [
                    {"identifier": targets.targets[i].identifier, "file": str(targets.targets[i].file),
                     "baseline": baselines[targets.targets[i].identifier]}
                    for i in members
                ],
            }
        )

    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": MANIFEST_FORMAT_VERSION,
        "genome": genome,
        "seq_length": geometry.seq_length,
        "pool_width": geometry.pool_width,
        "crop_bp": geometry.crop_bp,
        "bins": geometry.bins,
        "tracks": n_tracks,
        "windows_per_shard": windows_per_shard,
        "targets": target_entries,
        "splits": splits,
        "statistics": {
            "saturated_bins": saturated,
            "saturated_bins_total": int(sum(saturated.values())),
            "non_acgtn_bases": int(sum(r["non_acgtn_bases"] for r in loaded)),
            "missing_chrom_reads": missing_reads,
            "chunks": of,
        },
        "inputs": {role: file_checksum(p) for role, p in inputs.items() if p is not None},
        "versions": versions(),
        "params": params,
    }
    with atomic_open(manifest_path) as handle:
        json.dump(manifest, handle, indent=1)
    return manifest


def load_manifest(path: str | os.PathLike) -> dict:
    """Read and validate a manifest written by :func:`build_manifest`.

    Raises:
        InputError: not a crossreg manifest, an unsupported version, or missing keys.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"manifest {path}: no such file")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"manifest {path}: not valid JSON ({err})") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise InputError(f"manifest {path}: not a crossreg shard manifest (format {manifest.get('format')!r})")
    if manifest.get("format_version") != MANIFEST_FORMAT_VERSION:
        raise InputError(f"manifest {path}: format_version {manifest.get('format_version')} is not supported (expected {MANIFEST_FORMAT_VERSION})")
    for key in ("genome", "seq_length", "pool_width", "crop_bp", "bins", "tracks", "targets", "splits"):
        if key not in manifest:
            raise InputError(f"manifest {path}: missing key {key!r}")
    return manifest


def manifest_summary(manifest: dict) -> str:
    """A human-readable summary of a manifest (Markdown)."""
    stats = manifest["statistics"]
    assays: dict[str, int] = {}
    for t in manifest["targets"]:
        assays[t["assay"]] = assays.get(t["assay"], 0) + 1
    lines = [
        f"### {manifest['genome']}",
        "",
        f"- windows of {manifest['seq_length']:,} bp; targets: {manifest['bins']} bins of {manifest['pool_width']} bp "
        f"(crop {manifest['crop_bp']:,} bp each side) x {manifest['tracks']} tracks "
        f"({', '.join(f'{k} {v}' for k, v in sorted(assays.items()))})",
        "- windows per split: " + ", ".join(
            f"{k} {v['windows']} ({len(v['shards'])} shards)" for k, v in manifest["splits"].items()
        ),
        f"- float16-saturated bins: {stats['saturated_bins_total']}; non-ACGTN letters read as N: {stats['non_acgtn_bases']}",
        f"- written in {stats['chunks']} chunk(s); crossreg {manifest['versions']['crossreg']}",
    ]
    baselines = [m["baseline"] for t in manifest["targets"] for m in t["members"]]
    if baselines:
        lines.append(f"- track baselines (25th percentile, raw units): min {min(baselines):.3g}, max {max(baselines):.3g}")
    return "\n".join(lines)
