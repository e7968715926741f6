"""Tab-separated tables and JSON of the evaluation, written atomically.

Values are written as: floats with 6 significant digits (``nan`` for NaN, ``inf``/``-inf``),
booleans ``true``/``false``, everything else with ``str``. Tabs and newlines inside text are
replaced by spaces so every row stays one line.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open


def format_value(value: Any) -> str:
    """One TSV cell (see module docstring)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    if value is None:
        return ""
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def write_tsv(path: str | os.PathLike, columns: Sequence[str], rows: Iterable[dict]) -> Path:
    """Write a header line and one line per row (dict keyed by column), atomically.

    Returns:
        The path written.
    """
    path = Path(path)
    with atomic_open(path, "w", newline="", encoding="utf-8") as out:
        out.write("\t".join(columns) + "\n")
        for row in rows:
            out.write("\t".join(format_value(row[c]) for c in columns) + "\n")
    return path


def json_safe(value: Any) -> Any:
    """Replace NaN/inf floats by None and NumPy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def write_json(path: str | os.PathLike, data: dict) -> Path:
    """Write JSON (indent 2, NaN as null) atomically."""
    path = Path(path)
    with atomic_open(path, "w", encoding="utf-8") as out:
        json.dump(json_safe(data), out, indent=2, allow_nan=False)
        out.write("\n")
    return path


def read_tsv(path: str | os.PathLike, required: Sequence[str]) -> list[dict[str, str]]:
    """Read a TSV written by :func:`write_tsv` into dicts of strings.

    Raises:
        InputError: missing file, missing columns, or a row with the wrong column count.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, encoding="utf-8") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    if not lines:
        raise InputError(f"{path}: empty (expected a header with columns {', '.join(required)})")
    header = lines[0].split("\t")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
    rows = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise InputError(f"{path}:{line_no}: expected {len(header)} tab-separated columns, got {len(fields)}")
        rows.append(dict(zip(header, fields)))
    return rows


def parse_float(text: str, where: str) -> float:
    """A float cell (``nan`` allowed).

    Raises:
        InputError: naming ``where`` (file and line).
    """
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{where}: expected a number, got {text!r}") from None
