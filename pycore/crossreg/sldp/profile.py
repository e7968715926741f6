"""Signed LD profiles ``Rv`` of annotations (sldp 1.1.5 ``preprocessannot``), reusable across phenotypes.

An annotation ``v`` (signed w.r.t. allele ``a1`` of its table, per normalised genotype: the
reference's default ``--alpha -1``; other ``alpha`` scale it by ``(2 maf (1 - maf))^((1 +
alpha) / 2)``) is reconciled to the panel's alleles
(:func:`crossreg.io.sumstats.reconcile`: sign flipped for swapped alleles; 0 where the SNP is
absent, strand-ambiguous or its alleles do not match, as gprim's ``missing_val=0``). Per
LD block ``b``, the profile at the block's print SNPs is

    (Rv)_P = X_P' (X_b v_b) / N        float64 [p_b]

summed over *all* panel SNPs of the block (``X`` the standardised panel genotypes,
:mod:`crossreg.sldp.panel`). A block where every annotation is 0 gets Rv = 0.

Per annotation, over all panel SNPs of the chosen chromosomes (the reference's ``.info``):
``M`` (number of panel SNPs), ``sqnorm = sum v^2``, ``supp = #{v != 0}``, and the same over
SNPs with panel MAF >= 5 % (``M_5_50 sqnorm_5_50 supp_5_50``).

Background annotations come first in :attr:`Profiles.names`, then the targets. Profiles
depend on the panel cache, the chromosomes and the annotations only, so one
:class:`Profiles` object serves every phenotype (keep it, or :meth:`Profiles.save` it;
:func:`load_profiles` checks the digests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.errors import InputError, IntegrityError
from crossreg.io.atomic import atomic_path
from crossreg.io.sumstats import ReconcileReport, reconcile

log = logging.getLogger(__name__)

INFO_COLUMNS = ("M", "M_5_50", "sqnorm", "sqnorm_5_50", "supp", "supp_5_50")
PROFILES_FORMAT = "crossreg-sldp-profiles"
PROFILES_VERSION = 1
_KEY_COLUMNS = ("snp", "a1", "a2")


@dataclass
class Profiles:
    """Signed LD profiles of a background + target annotation set on one panel cache.

    Attributes:
        names: annotation names, background first then targets.
        n_background: how many of ``names`` are background.
        chroms: cache chromosome names covered.
        rv: block id -> float64 [p_b, K] profiles at the block's print SNPs (rows in the
            order of :attr:`crossreg.sldp.panel.BlockData.print_idx`).
        info: DataFrame indexed by name, columns :data:`INFO_COLUMNS` (float64).
        reports: allele-reconciliation reports, one per annotation table.
        cache_digest: :attr:`crossreg.sldp.panel.PanelCache.digest` of the cache used.
        digest: SHA-256 of the annotation tables (values, ids, alleles, names) and chroms.
    """

    names: list[str]
    n_background: int
    chroms: list[str]
    rv: dict[int, np.ndarray]
    info: pd.DataFrame
    reports: list[ReconcileReport] = field(default_factory=list)
    cache_digest: str = ""
    digest: str = ""

    @property
    def background_names(self) -> list[str]:
        return self.names[: self.n_background]

    @property
    def target_names(self) -> list[str]:
        return self.names[self.n_background :]

    def save(self, path: str | os.PathLike) -> None:
        """Write to one ``.npz`` (atomic)."""
        meta = {
            "format": PROFILES_FORMAT,
            "version": PROFILES_VERSION,
            "names": self.names,
            "n_background": self.n_background,
            "chroms": self.chroms,
            "cache_digest": self.cache_digest,
            "digest": self.digest,
            "reports": [asdict(r) for r in self.reports],
            "blocks": sorted(int(b) for b in self.rv),
        }
        arrays = {f"rv_{b}": a for b, a in self.rv.items()}
        arrays["info"] = self.info[list(INFO_COLUMNS)].to_numpy(np.float64)
        arrays["meta"] = np.array(json.dumps(meta))
        with atomic_path(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)


def load_profiles(path: str | os.PathLike, cache=None) -> Profiles:
    """Read :meth:`Profiles.save` output; with ``cache``, require that it was computed on it.

    Raises:
        InputError: missing file.
        IntegrityError: not a profiles file, or computed on another panel cache.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"profiles {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != PROFILES_FORMAT or meta.get("version") != PROFILES_VERSION:
                raise IntegrityError(f"profiles {path}: not a {PROFILES_FORMAT} version {PROFILES_VERSION} file")
            rv = {int(b): z[f"rv_{b}"] for b in meta["blocks"]}
            info = pd.DataFrame(z["info"], index=meta["names"], columns=list(INFO_COLUMNS))
    except (OSError, ValueError, KeyError) as err:
        raise IntegrityError(f"profiles {path}: unreadable ({err})") from None
    if cache is not None and meta["cache_digest"] != cache.digest:
        raise IntegrityError(f"profiles {path} were computed on another panel cache than {cache.cache_dir}")
    reports = [ReconcileReport(**r) for r in meta["reports"]]
    return Profiles(meta["names"], meta["n_background"], meta["chroms"], rv, info, reports, meta["cache_digest"], meta["digest"])


def annotation_columns(frame: pd.DataFrame, what: str) -> list[str]:
    """Value columns of an annotation table (all but ``snp a1 a2``), checked.

    Raises:
        InputError: missing ``snp a1 a2``, no value column, a duplicated column name, a
            non-numeric column, or a NaN/infinite value (SNP named).
    """
    dup_cols = pd.Index([str(c) for c in frame.columns])
    dup_cols = dup_cols[dup_cols.duplicated()].unique()
    if len(dup_cols):
        raise InputError(
            f"{what}: column name(s) {', '.join(dup_cols)} appear more than once (annotations may not be named "
            f"snp, a1 or a2)"
        )
    missing = [c for c in _KEY_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)} (expected snp a1 a2 + one column per annotation)")
    names = [str(c) for c in frame.columns if c not in _KEY_COLUMNS]
    if not names:
        raise InputError(f"{what}: no annotation column besides snp a1 a2")
    for name in names:
        col = frame[name]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise InputError(f"{what}: annotation {name!r} must be numeric, got dtype {col.dtype}")
        bad = ~np.isfinite(col.to_numpy(np.float64))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{what}: annotation {name!r} has {int(bad.sum())} NaN/infinite value(s) (first at row {i + 1}, SNP "
                f"{frame['snp'].iloc[i]!r}); use 0 for 'no annotation'"
            )
    return names


def table_digest(frames: list[pd.DataFrame | None], extra: str = "") -> str:
    """SHA-256 of annotation tables (ids, alleles, column names, float64 values)."""
    h = hashlib.sha256(extra.encode())
    for frame in frames:
        if frame is None:
            h.update(b"<none>")
            continue
        h.update(json.dumps([str(c) for c in frame.columns]).encode())
        for c in _KEY_COLUMNS:
            h.update("\n".join(frame[c].astype(str)).encode())
        names = [c for c in frame.columns if c not in _KEY_COLUMNS]
        h.update(np.ascontiguousarray(frame[names].to_numpy(np.float64)).tobytes())
    return h.hexdigest()


def merge_reports(reports: list[ReconcileReport], what: str) -> ReconcileReport:
    """Sum per-chromosome reconciliation reports into one (examples: the first 5 per reason)."""
    out = ReconcileReport(what=what, total=0, matched=0, flipped=0, strand_flipped=0, missing=0, mismatched=0, ambiguous=0)
    for r in reports:
        for key in ("total", "matched", "flipped", "strand_flipped", "missing", "mismatched", "ambiguous"):
            setattr(out, key, getattr(out, key) + getattr(r, key))
        for reason, ids in r.examples.items():
            have = out.examples.setdefault(reason, [])
            have.extend(ids[: max(0, 5 - len(have))])
    return out


def _reconciled(bim: pd.DataFrame, frame: pd.DataFrame, names: list[str], what: str) -> tuple[np.ndarray, ReconcileReport]:
    """Annotation values aligned to the bim rows (float64 [M, k]), 0 where not reconciled."""
    frame = frame[frame["snp"].astype(str).isin(bim["snp"])]
    values, report = reconcile(bim[list(_KEY_COLUMNS)], frame[list(_KEY_COLUMNS)], frame[names].to_numpy(np.float64), what=what)
    values = values.reshape(len(bim), -1)
    values[np.isnan(values)] = 0.0
    return values, report


def compute_profiles(
    cache, annotations: pd.DataFrame, *, background: pd.DataFrame | None = None, chroms=None, alpha: float = -1.0
) -> Profiles:
    """Signed LD profiles of target (and background) annotations on a panel cache.

    Args:
        cache: :class:`crossreg.sldp.panel.PanelCache`.
        annotations: ``snp a1 a2`` + one float column per target annotation (signed w.r.t. a1).
        background: same layout, background annotations (or None).
        chroms: cache chromosomes to cover (default all).
        alpha: the reference's ``--alpha``: -1 (default) takes values as per normalised
            genotype; otherwise every value (background too) is multiplied by
            ``(2 maf (1 - maf)) ** ((1 + alpha) / 2)`` with the panel MAF (0: per-allele
            effects), before the statistics and the profiles.

    Returns:
        :class:`Profiles`.

    Raises:
        InputError: malformed tables (:func:`annotation_columns`), a name used in both,
            requested chromosomes not in the cache, or a table that shares no SNP with the panel.
    """
    chroms = cache.resolve_chroms(chroms)
    targets = annotation_columns(annotations, "target annotations")
    bg_names = annotation_columns(background, "background annotations") if background is not None else []
    both = sorted(set(targets) & set(bg_names))
    if both:
        raise InputError(f"annotation name(s) {', '.join(both)} are both target and background; names must differ")
    names = bg_names + targets
    tables = ([("background annotations", background, bg_names)] if background is not None else []) + [
        ("target annotations", annotations, targets)
    ]
    n = cache.n_people
    rv: dict[int, np.ndarray] = {}
    info = np.zeros((len(names), len(INFO_COLUMNS)))
    per_table_reports: dict[str, list[ReconcileReport]] = {what: [] for what, _, _ in tables}
    for chrom in chroms:
        data = cache.chrom(chrom)
        parts = []
        for what, frame, cols in tables:
            values, report = _reconciled(data.bim, frame, cols, f"{what} on panel chromosome {chrom}")
            per_table_reports[what].append(report)
            parts.append(values)
        v = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        if alpha != -1:
            het = 2.0 * data.maf * (1.0 - data.maf)
            v = v * np.power(np.where(np.isfinite(het), het, 0.0), (1.0 + alpha) / 2.0)[:, None]
        common = data.maf >= 0.05
        info[:, 0] += data.n_snps
        info[:, 1] += int(common.sum())
        info[:, 2] += np.sum(v * v, axis=0)
        info[:, 3] += np.sum(v[common] ** 2, axis=0)
        info[:, 4] += np.count_nonzero(v, axis=0)
        info[:, 5] += np.count_nonzero(v[common], axis=0)
        for block in data.blocks:
            vb = v[block.lo : block.hi]
            nz = np.flatnonzero(np.any(vb != 0, axis=1))
            if len(nz) == 0:
                rv[block.block] = np.zeros((len(block.print_idx), len(names)))
                continue
            x = data.standardised(block.lo, block.hi)
            xv = x[:, nz] @ vb[nz]
            rv[block.block] = x[:, block.print_idx].T @ xv / n
    reports = []
    for what, _, cols in tables:
        merged = merge_reports(per_table_reports[what], what)
        reports.append(merged)
        log.info("%s", merged.text())
        if merged.matched + merged.flipped == 0:
            raise InputError(
                f"{what} ({', '.join(cols[:5])}{', ...' if len(cols) > 5 else ''}): no SNP in common with the panel on "
                f"chromosome(s) {', '.join(chroms)} ({merged.text()})"
            )
    digest = table_digest([background, annotations], extra=json.dumps([chroms, alpha]))
    frame = pd.DataFrame(info, index=names, columns=list(INFO_COLUMNS))
    return Profiles(names, len(bg_names), chroms, rv, frame, reports, cache.digest, digest)
