"""Per-individual burden on one track and the case vs sibling comparison (paper Figure 5c).

Each individual's burden is the sum of the negative scores of their scored de novo SNPs on
the chosen track, sum(min(score, 0)) (0 for an individual with no scored SNP or none
negative). For each paired family (exactly one case, at least one control:
:mod:`crossreg.io.denovo`) the case's burden is compared with the control's (the mean of the
controls' burdens when there are several): ``case_more_negative`` when the case's sum is
lower. Families with equal sums (usually both 0) are ties: left out of the binomial test and
counted. The plot's per-family log ratio is ``log((|case| + eps) / (|control| + eps))``
(natural log; positive when the case's burden is larger in magnitude, i.e. more negative);
``eps`` defaults to 1% of the median of the non-zero absolute burdens of the paired
families' members (1.0 when there are none), so that a zero sum gives a finite ratio on the
data's own scale; the value used is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossreg.denovo.stats import SignTest, paired_sign_test
from crossreg.io.denovo import DenovoTable

EPS_FRACTION = 0.01


@dataclass
class FamilyComparison:
    """Per-family burdens on one track and the binomial test.

    Attributes:
        family: object [f] paired family ids (sorted).
        case_id: object [f] the case of each family.
        control_ids: object [f] the controls, comma-joined.
        case_sum, control_sum: float64 [f] burdens (sum of negative scores; mean over
            controls for ``control_sum``), in score units.
        case_more_negative: bool [f] case_sum < control_sum.
        tie: bool [f] case_sum == control_sum.
        log_ratio: float64 [f] log((|case_sum| + eps) / (|control_sum| + eps)).
        eps: the constant used.
        test: :class:`crossreg.denovo.stats.SignTest` (n_case_lower = cases more negative).
    """

    family: np.ndarray
    case_id: np.ndarray
    control_ids: np.ndarray
    case_sum: np.ndarray
    control_sum: np.ndarray
    case_more_negative: np.ndarray
    tie: np.ndarray
    log_ratio: np.ndarray
    eps: float
    test: SignTest


def individual_burden(table: DenovoTable, track_scores: np.ndarray) -> np.ndarray:
    """float64 [members]: each member's sum of negative scores (``table.member_ids`` order).

    Args:
        table: the scored SNPs (rows aligned with ``track_scores``).
        track_scores: float [rows] one track's scores.
    """
    s = np.asarray(track_scores, dtype=np.float64)
    if s.shape != (len(table),):
        raise ValueError(f"track scores of shape {s.shape}, expected ({len(table)},)")
    return np.bincount(table.member_index(), weights=np.minimum(s, 0.0), minlength=len(table.member_ids))


def compare_families(table: DenovoTable, track_scores: np.ndarray, eps: float | None = None) -> FamilyComparison:
    """Case vs sibling-control burdens of every paired family, and the binomial test."""
    burden = individual_burden(table, track_scores)
    paired = set(table.paired_families)
    fam_of = table.member_family
    families = sorted(paired)
    case_id, control_ids, case_sum, control_sum = [], [], [], []
    members: dict[str, list[int]] = {}
    for i, f in enumerate(fam_of):
        if f in paired:
            members.setdefault(f, []).append(i)
    for f in families:
        idx = members[f]
        cases = [i for i in idx if table.member_is_case[i]]
        controls = [i for i in idx if not table.member_is_case[i]]
        case_id.append(table.member_ids[cases[0]])
        control_ids.append(",".join(table.member_ids[i] for i in controls))
        case_sum.append(burden[cases[0]])
        control_sum.append(float(np.mean(burden[controls])))
    a = np.asarray(case_sum, dtype=np.float64)
    b = np.asarray(control_sum, dtype=np.float64)
    if eps is None:
        involved = np.abs(np.concatenate([a, b]))
        nonzero = involved[involved > 0]
        eps = float(EPS_FRACTION * np.median(nonzero)) if len(nonzero) else 1.0
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    log_ratio = np.log((np.abs(a) + eps) / (np.abs(b) + eps))
    return FamilyComparison(
        family=np.array(families, dtype=object), case_id=np.array(case_id, dtype=object),
        control_ids=np.array(control_ids, dtype=object), case_sum=a, control_sum=b,
        case_more_negative=a < b, tie=a == b, log_ratio=log_ratio, eps=float(eps), test=paired_sign_test(a, b),
    )
