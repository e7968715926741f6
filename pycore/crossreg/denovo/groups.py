"""Track groups (``brain``, ``heart``, ``embryo``, ``other``, ...) for the group tests and plots.

Two sources, one result (a group name per track):

* a TSV with a header ``identifier group`` (extra columns ignored, ``#`` lines and blank lines
  skipped): each track identifier's group. Tracks of the score file that the table does not
  list go to ``other`` and are counted; identifiers the score file lacks are counted too.
* keyword rules ``group=keyword1,keyword2`` matched against each track's description
  (``target_labels``), case-insensitively, as substrings. Rules are tried in the order given
  and the first that matches wins; a track no rule matches is ``other``.
  :data:`DEFAULT_RULES` is used when neither a table nor rules are given.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from crossreg.errors import InputError

log = logging.getLogger(__name__)

OTHER = "other"
DEFAULT_RULES = (
    "brain=brain,cerebell,cortex,cortical,hippocamp,striatum,thalamus,hypothalam,midbrain,hindbrain,forebrain,"
    "medulla,pons,olfactory,spinal cord,neur,astrocyte,microglia,oligodendro,retina,pituitary",
    "heart=heart,cardi,ventricle,ventricular,atrium,atrial,aorta,myocard",
    "embryo=embryo,fetal,fetus,whole body,neonate,newborn",
)


@dataclass
class TrackGroups:
    """A group name per track and how they were assigned.

    Attributes:
        groups: one name per track, in track order.
        source: ``table:<path>``, ``rules`` or ``default rules``.
        n_defaulted: tracks put in ``other`` because the table does not list them (table
            source) or no rule matched (rules).
        n_unknown: table identifiers that are not tracks of the score file (0 for rules).
    """

    groups: list[str]
    source: str
    n_defaulted: int = 0
    n_unknown: int = 0

    def names(self) -> list[str]:
        """Distinct group names, sorted, ``other`` last."""
        return sorted(set(self.groups), key=lambda g: (g == OTHER, g))


def read_group_table(path: str | os.PathLike) -> dict[str, str]:
    """identifier -> group from a TSV with header ``identifier group``.

    Raises:
        InputError: missing file or columns, an empty field, or an identifier given two
            different groups (naming the file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"track group table {path}: no such file")
    out: dict[str, tuple[str, int]] = {}
    cols = None
    with open(path, encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            if cols is None:
                names = [c.strip() for c in text.lstrip("#").split("\t")]
                if "identifier" not in names or "group" not in names:
                    raise InputError(f"track group table {path}: line {number}: expected a tab-separated header with "
                                     f"columns identifier and group (found: {' '.join(names)})")
                cols = (names.index("identifier"), names.index("group"))
                continue
            if text.startswith("#"):
                continue
            fields = text.split("\t")
            if len(fields) <= max(cols):
                raise InputError(f"track group table {path}: line {number}: {len(fields)} fields, expected identifier and group")
            ident, group = fields[cols[0]].strip(), fields[cols[1]].strip()
            if not ident or not group:
                raise InputError(f"track group table {path}: line {number}: empty identifier or group")
            if ident in out and out[ident][0] != group:
                raise InputError(f"track group table {path}: line {number}: track {ident!r} is in group {group!r} "
                                 f"here and {out[ident][0]!r} on line {out[ident][1]}")
            out.setdefault(ident, (group, number))
    if cols is None:
        raise InputError(f"track group table {path}: empty file; expected a header identifier group")
    return {k: g for k, (g, _) in out.items()}


def parse_group_rules(rules: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``["brain=brain,cerebell", "heart=heart"]`` -> [(group, lower-case keywords)], in order.

    Raises:
        InputError: a rule without ``=``, an empty group, or no keywords.
    """
    parsed = []
    for rule in rules:
        group, sep, words = str(rule).partition("=")
        keywords = [w.strip().lower() for w in words.split(",") if w.strip()]
        if not sep or not group.strip() or not keywords:
            raise InputError(f"track group rule {rule!r}: expected GROUP=keyword1,keyword2 (e.g. brain=brain,cerebell)")
        parsed.append((group.strip(), keywords))
    return parsed


def groups_from_labels(track_labels: Sequence[str], rules: Sequence[str]) -> TrackGroups:
    """Groups by keyword rules on track descriptions (first matching rule wins; else ``other``)."""
    parsed = parse_group_rules(rules)
    groups = []
    for label in track_labels:
        text = str(label).lower()
        groups.append(next((g for g, words in parsed if any(w in text for w in words)), OTHER))
    n_other = sum(g == OTHER for g in groups)
    return TrackGroups(groups, "rules", n_defaulted=n_other)


def assign_groups(track_ids: Sequence[str], track_labels: Sequence[str], *, table: str | os.PathLike | None = None,
                  rules: Sequence[str] | None = None) -> TrackGroups:
    """A group per track, from a group table, keyword rules, or :data:`DEFAULT_RULES`.

    Args:
        track_ids, track_labels: the score file's tracks (in the order of the score matrix).
        table: TSV ``identifier group`` (takes precedence; ``rules`` must then be None).
        rules: ``group=keyword,...`` strings.

    Raises:
        InputError: both a table and rules, or a malformed table or rule.
    """
    if table is not None and rules:
        raise InputError("track groups: give a group table or keyword rules, not both")
    if table is None:
        result = groups_from_labels(track_labels, rules or DEFAULT_RULES)
        result.source = "rules" if rules else "default rules"
        return result
    mapping = read_group_table(table)
    groups = [mapping.get(t, OTHER) for t in track_ids]
    n_defaulted = sum(t not in mapping for t in track_ids)
    n_unknown = len(set(mapping) - set(track_ids))
    if n_defaulted:
        log.warning("track group table %s: %d of %d tracks not listed; put in group %r", table, n_defaulted,
                    len(track_ids), OTHER)
    if n_unknown:
        log.warning("track group table %s: %d identifiers are not tracks of the score file", table, n_unknown)
    return TrackGroups(groups, f"table:{table}", n_defaulted=n_defaulted, n_unknown=n_unknown)
