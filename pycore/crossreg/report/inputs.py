"""Loading and validating the report's inputs: evaluation, comparison and training-run folders.

Every problem raises :class:`crossreg.errors.InputError` naming the file and what is wrong
(missing file, unreadable JSON, wrong ``format``, unknown ``format_version``, missing or
mistyped key, a referenced table or plot that is missing or not what it claims to be).

Contracts
---------
Evaluation folder, ``summary.json``::

    format "crossreg-evaluation", format_version 1, model_dir, params_sha256, split,
    rc_average, genomes {genome: {windows, bins, tracks, mean_r_by_assay {assay: R},
    gene_r_mean, gene_r_normalized_mean}}, transfer [{data_genome, head_genome, matched,
    pairs, mean_r, mean_r_normalized}] | null, tables [{file, title}], plots [{file, title}],
    versions {name: version}, seconds

Comparison folder, ``summary.json``::

    format "crossreg-comparison", format_version 1, label_a, label_b, eval_a, eval_b,
    rows [{genome, assay, tracks, improved, fraction_improved, mean_difference, binomial_p}],
    tables, plots, versions, seconds

Tables (``*.tsv``, a header line then tab-separated rows) and plots (PNG) named in
``tables``/``plots`` are relative to the folder and must stay inside it.

Training-run folder: ``params.json`` (``{"model": {...}, "train": {...}}``), ``history.csv``
(at least ``epoch``, ``genome``, ``valid_loss``, ``valid_pearson_mean``; other columns such
as ``train_loss``, ``valid_pearson_<ASSAY>``, ``seconds`` or ``phase`` are kept as they
are) and optionally ``finetune/<genome>/history.csv``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossreg.errors import InputError

EVALUATION_FORMAT = "crossreg-evaluation"
COMPARISON_FORMAT = "crossreg-comparison"
FORMAT_VERSIONS = {EVALUATION_FORMAT: {1}, COMPARISON_FORMAT: {1}}
SUMMARY_NAME = "summary.json"
PARAMS_NAME = "params.json"
HISTORY_NAME = "history.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Columns every history.csv must have.
HISTORY_REQUIRED = ("epoch", "genome", "valid_loss", "valid_pearson_mean")
#: History columns parsed as numbers (when present).
HISTORY_NUMERIC = ("train_loss", "valid_loss", "valid_pearson_mean")

@dataclass
class TableFile:
    """A TSV table named by a summary.

    Attributes:
        file: the name as written in the summary.
        title: its title.
        path: the file.
        header: column names.
        rows: rows of cell text (each as long as ``header``).
    """

    file: str
    title: str
    path: Path
    header: list[str]
    rows: list[list[str]]


@dataclass
class PlotFile:
    """A PNG plot named by a summary: ``file``, ``title``, ``path`` and the PNG bytes ``png``."""

    file: str
    title: str
    path: Path
    png: bytes


@dataclass
class Summary:
    """A validated evaluation or comparison folder.

    Attributes:
        kind: ``"evaluation"`` or ``"comparison"``.
        path: the folder.
        summary_path: its ``summary.json``.
        data: the parsed summary.
        tables, plots: the referenced files, loaded, in summary order.
    """

    kind: str
    path: Path
    summary_path: Path
    data: dict
    tables: list[TableFile] = field(default_factory=list)
    plots: list[PlotFile] = field(default_factory=list)


@dataclass
class History:
    """A training history CSV.

    Attributes:
        path: the file.
        columns: column names in file order.
        rows: one dict of cell text per row.
        epochs: ``int(epoch)`` per row.
        values: ``{column: [float per row]}`` for the columns of :data:`HISTORY_NUMERIC`
            present (empty or ``nan`` cells as NaN).
    """

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    epochs: list[int]
    values: dict[str, list[float]]

    def column(self, name: str) -> list[str]:
        """The text of one column (empty strings where the column is absent)."""
        return [row.get(name, "") for row in self.rows]


@dataclass
class TrainRun:
    """A validated training-run folder.

    Attributes:
        label: the label given by the caller.
        path: the folder.
        params_path: its ``params.json``.
        params: the resolved params.
        params_digest: SHA-256 of the params as canonical JSON (sorted keys, no spaces), the
            digest ``crossreg predict`` records as ``params_sha256``.
        history: the main ``history.csv``.
        finetune: ``{genome: History or None}`` for each ``finetune/<genome>/`` folder
            (None: the folder has no history.csv yet).
    """

    label: str
    path: Path
    params_path: Path
    params: dict
    params_digest: str
    history: History
    finetune: dict[str, History | None] = field(default_factory=dict)


# ------------------------------------------------------------------ helpers


def read_json(path: Path, what: str) -> Any:
    """Parse a JSON file; a missing or malformed file raises InputError naming ``path``."""
    if not path.exists():
        raise InputError(f"{what} {path}: file not found")
    if not path.is_file():
        raise InputError(f"{what} {path}: not a file")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{what} {path}: not valid JSON ({err})") from None
    except OSError as err:
        raise InputError(f"{what} {path}: cannot be read ({err.strerror or err})") from None


def _type_name(types) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "an integer",
             float: "a number", type(None): "null"}
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def _check_type(where: str, key: str, value: Any, types) -> Any:
    """``value`` must be of ``types`` (bool is not accepted for int/float unless listed)."""
    types_t = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, types_t) and not (isinstance(value, bool) and bool not in types_t)
    if not ok:
        raise InputError(f"{where}: {key} must be {_type_name(types_t)}, found {json.dumps(value)[:60]}")
    return value


def _require(where: str, mapping: dict, key: str, types, prefix: str = "") -> Any:
    name = f"{prefix}{key}"
    if key not in mapping:
        raise InputError(f"{where}: missing key {name!r}")
    return _check_type(where, name, mapping[key], types)


def _number_or_null(where: str, key: str, value: Any) -> None:
    _check_type(where, key, value, (int, float, type(None)))


def _folder(path: str | os.PathLike, name: str, what: str) -> tuple[Path, Path]:
    """``(folder, folder / name)``; ``path`` may also be the file itself."""
    path = Path(path)
    if path.name == name and not path.is_dir():
        return path.parent, path
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path}: not a folder (expected a folder holding {name})")
    return path, path / name


def _inside(folder: Path, file: str, where: str, key: str) -> Path:
    if not file or os.path.isabs(file) or Path(file).drive:
        raise InputError(f"{where}: {key} {file!r} must be a file name relative to {folder}")
    path = folder / file
    root = folder.resolve()
    if root != path.resolve() and root not in path.resolve().parents:
        raise InputError(f"{where}: {key} {file!r} points outside {folder}")
    return path


def _numbered_lines(path: Path, label: str, delimiter: str, expected_header: str) -> list[tuple[int, list[str]]]:
    """Non-blank lines of a delimited text file with their 1-based line numbers.

    Args:
        path: the file.
        label: how messages name it (e.g. ``table`` or ``history``, with any prefix).
        delimiter: field separator.
        expected_header: what the first line should hold, for the empty-file message.

    Raises:
        InputError: missing, unreadable, not UTF-8, or empty.
    """
    if not path.is_file():
        raise InputError(f"{label} {path}: file not found")
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle, delimiter=delimiter, quoting=quoting))
    except UnicodeDecodeError as err:
        raise InputError(f"{label} {path}: not UTF-8 text ({err})") from None
    except (OSError, csv.Error) as err:
        raise InputError(f"{label} {path}: cannot be read ({err})") from None
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line and any(c.strip() for c in line)]
    if not numbered:
        raise InputError(f"{label} {path}: empty file (expected {expected_header})")
    return numbered


def read_tsv(path: Path, where: str = "") -> tuple[list[str], list[list[str]]]:
    """Read a tab-separated table with a header line.

    Blank lines are skipped; a row whose number of fields differs from the header's raises
    InputError naming the file and line.

    Returns:
        ``(header, rows)``.
    """
    prefix = f"{where}: " if where else ""
    numbered = _numbered_lines(path, f"{prefix}table", "\t", "a header line")
    header = numbered[0][1]
    rows = []
    for lineno, line in numbered[1:]:
        if len(line) != len(header):
            raise InputError(
                f"{prefix}table {path}, line {lineno}: {len(line)} fields, but the header has {len(header)}"
            )
        rows.append(line)
    return header, rows


def _files(summary: Summary, key: str) -> None:
    where = str(summary.summary_path)
    entries = _require(where, summary.data, key, list)
    for i, entry in enumerate(entries):
        name = f"{key}[{i}]"
        _check_type(where, name, entry, dict)
        file = _require(where, entry, "file", str, prefix=f"{name}.")
        title = _require(where, entry, "title", str, prefix=f"{name}.")
        path = _inside(summary.path, file, where, f"{name}.file")
        if not path.is_file():
            raise InputError(f"{where}: {name}.file {file!r}: {path} not found")
        if key == "tables":
            header, rows = read_tsv(path, where)
            summary.tables.append(TableFile(file=file, title=title, path=path, header=header, rows=rows))
        else:
            try:
                png = path.read_bytes()
            except OSError as err:
                raise InputError(f"{where}: {name}.file {file!r}: {path} cannot be read ({err.strerror})") from None
            if not png.startswith(PNG_SIGNATURE):
                raise InputError(f"{where}: {name}.file {file!r}: {path} is not a PNG image")
            summary.plots.append(PlotFile(file=file, title=title, path=path, png=png))


def _load_summary(path: str | os.PathLike, fmt: str, kind: str) -> Summary:
    folder, summary_path = _folder(path, SUMMARY_NAME, f"{kind} folder")
    if not folder.exists():
        raise InputError(f"{kind} folder {folder}: not found (expected {summary_path})")
    data = read_json(summary_path, f"{kind} summary")
    where = str(summary_path)
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object")
    found = data.get("format")
    if found != fmt:
        raise InputError(f"{where}: format is {found!r}, expected {fmt!r} (is this a {kind} folder?)")
    version = data.get("format_version")
    if "format_version" not in data:
        raise InputError(f"{where}: missing key 'format_version'")
    if isinstance(version, bool) or version not in FORMAT_VERSIONS[fmt]:
        known = ", ".join(str(v) for v in sorted(FORMAT_VERSIONS[fmt]))
        raise InputError(f"{where}: unknown format_version {version!r} (this crossreg reads {known}); "
                         "a newer crossreg wrote it?")
    summary = Summary(kind=kind, path=folder, summary_path=summary_path, data=data)
    versions = _require(where, data, "versions", dict)
    for name, value in versions.items():
        _check_type(where, f"versions.{name}", value, (str, int, float, type(None)))
    _number_or_null(where, "seconds", _require(where, data, "seconds", (int, float, type(None))))
    _files(summary, "tables")
    _files(summary, "plots")
    return summary


# ------------------------------------------------------------------ public loaders


def load_evaluation(path: str | os.PathLike) -> Summary:
    """Load and validate an evaluation folder (or its ``summary.json``) and the files it names."""
    summary = _load_summary(path, EVALUATION_FORMAT, "evaluation")
    data, where = summary.data, str(summary.summary_path)
    for key in ("model_dir", "params_sha256", "split"):
        _require(where, data, key, str)
    _require(where, data, "rc_average", bool)
    genomes = _require(where, data, "genomes", dict)
    for genome, entry in genomes.items():
        prefix = f"genomes.{genome}."
        _check_type(where, f"genomes.{genome}", entry, dict)
        for key in ("windows", "bins", "tracks"):
            _require(where, entry, key, int, prefix)
        by_assay = _require(where, entry, "mean_r_by_assay", dict, prefix)
        for assay, value in by_assay.items():
            _number_or_null(where, f"{prefix}mean_r_by_assay.{assay}", value)
        for key in ("gene_r_mean", "gene_r_normalized_mean"):
            _require(where, entry, key, (int, float, type(None)), prefix)
    transfer = _require(where, data, "transfer", (list, type(None)))
    for i, entry in enumerate(transfer or []):
        prefix = f"transfer[{i}]."
        _check_type(where, f"transfer[{i}]", entry, dict)
        _require(where, entry, "data_genome", str, prefix)
        _require(where, entry, "head_genome", str, prefix)
        _require(where, entry, "matched", bool, prefix)
        _require(where, entry, "pairs", int, prefix)
        _require(where, entry, "mean_r", (int, float, type(None)), prefix)
        _require(where, entry, "mean_r_normalized", (int, float, type(None)), prefix)
    return summary


def load_comparison(path: str | os.PathLike) -> Summary:
    """Load and validate a comparison folder (or its ``summary.json``) and the files it names."""
    summary = _load_summary(path, COMPARISON_FORMAT, "comparison")
    data, where = summary.data, str(summary.summary_path)
    for key in ("label_a", "label_b", "eval_a", "eval_b"):
        _require(where, data, key, str)
    rows = _require(where, data, "rows", list)
    for i, row in enumerate(rows):
        prefix = f"rows[{i}]."
        _check_type(where, f"rows[{i}]", row, dict)
        _require(where, row, "genome", str, prefix)
        _require(where, row, "assay", str, prefix)
        _require(where, row, "tracks", int, prefix)
        _require(where, row, "improved", int, prefix)
        for key in ("fraction_improved", "mean_difference", "binomial_p"):
            _require(where, row, key, (int, float, type(None)), prefix)
    return summary


def _float(text: str, path: Path, lineno: int, column: str) -> float:
    text = text.strip()
    if text == "" or text.lower() in ("nan", "-nan", "+nan"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(f"history {path}, line {lineno}: {column} {text!r} is not a number") from None


def read_history(path: Path) -> History:
    """Read and validate a training ``history.csv`` (see :data:`HISTORY_REQUIRED`)."""
    numbered = _numbered_lines(path, "history", ",", f"a header line with {', '.join(HISTORY_REQUIRED)}")
    columns = [c.strip() for c in numbered[0][1]]
    missing = [c for c in HISTORY_REQUIRED if c not in columns]
    if missing:
        raise InputError(f"history {path}: missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} (header: {', '.join(columns)})")
    if len(set(columns)) != len(columns):
        raise InputError(f"history {path}: duplicate column names in the header")
    rows, epochs = [], []
    values: dict[str, list[float]] = {c: [] for c in HISTORY_NUMERIC if c in columns}
    for lineno, line in numbered[1:]:
        if len(line) != len(columns):
            raise InputError(f"history {path}, line {lineno}: {len(line)} fields, but the header has {len(columns)}")
        row = dict(zip(columns, line))
        epoch = row["epoch"].strip()
        try:
            epochs.append(int(epoch))
        except ValueError:
            raise InputError(f"history {path}, line {lineno}: epoch {epoch!r} is not an integer") from None
        for column, series in values.items():
            series.append(_float(row[column], path, lineno, column))
        rows.append(row)
    return History(path=path, columns=columns, rows=rows, epochs=epochs, values=values)


def params_digest(params: Any) -> str:
    """SHA-256 (hex) of ``params`` as canonical JSON (sorted keys, compact separators)."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_train_run(label: str, path: str | os.PathLike) -> TrainRun:
    """Load and validate a training-run folder: params.json, history.csv, finetune/<genome>/history.csv."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"training run {label!r}: folder {folder} not found" if not folder.exists()
                         else f"training run {label!r}: {folder} is not a folder")
    params_path = folder / PARAMS_NAME
    params = read_json(params_path, "training params")
    where = str(params_path)
    if not isinstance(params, dict):
        raise InputError(f"{where}: expected a JSON object")
    _require(where, params, "model", dict)
    _require(where, params, "train", dict)
    history = read_history(folder / HISTORY_NAME)
    finetune: dict[str, History | None] = {}
    finetune_dir = folder / "finetune"
    if finetune_dir.is_dir():
        for sub in sorted(p for p in finetune_dir.iterdir() if p.is_dir()):
            hist = sub / HISTORY_NAME
            finetune[sub.name] = read_history(hist) if hist.exists() else None
    return TrainRun(label=label, path=folder, params_path=params_path, params=params,
                    params_digest=params_digest(params), history=history, finetune=finetune)
