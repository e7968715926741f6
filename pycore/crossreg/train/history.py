"""Per-epoch history: a CSV table and TensorBoard scalars.

``history.csv`` has one row per epoch and genome (plus a row ``all`` when several genomes
are trained), columns::

    epoch, genome, train_loss, valid_loss, valid_pearson_mean, valid_pearson_<ASSAY>..., seconds

``valid_pearson_<ASSAY>`` is the mean Pearson R of the genome's tracks of that assay (from
the manifests' targets, e.g. ``valid_pearson_CAGE``), empty where the genome has none. The
rows live in the trainer state; the CSV is rewritten from them (atomically) after every
checkpoint, so after a resume it never shows the epoch that was interrupted.

TensorBoard scalars (``train_loss/<genome>``, ``valid_loss/<genome>``,
``valid_pearson_mean/<genome>``) are written with ``tf.summary.write`` and the scalar
plugin's metadata (readable by TensorBoard; the ``tensorboard`` package itself is not
needed) when TensorFlow can be imported, also under the JAX backend; otherwise TensorBoard
output is skipped with one warning.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from crossreg.io.atomic import atomic_open

log = logging.getLogger(__name__)

BASE_COLUMNS = ["epoch", "genome", "train_loss", "valid_loss", "valid_pearson_mean"]


def assay_column(assay: str) -> str:
    """CSV column of an assay: ``valid_pearson_<ASSAY>`` (non-alphanumerics as ``_``)."""
    return "valid_pearson_" + re.sub(r"[^A-Za-z0-9]+", "_", assay)


def history_columns(assays: Sequence[str]) -> list[str]:
    """All CSV columns for these assays."""
    return [*BASE_COLUMNS, *(assay_column(a) for a in assays), "seconds"]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return value


def write_history_csv(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], assays: Sequence[str]) -> Path:
    """Write history rows as CSV, atomically.

    Args:
        path: output file.
        rows: dicts keyed by the columns of :func:`history_columns` (missing keys: empty).
        assays: assays, for the per-assay columns.

    Returns:
        ``path``.
    """
    path = Path(path)
    columns = history_columns(assays)
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
    return path


class TensorBoardWriter:
    """Scalars to a TensorBoard log directory, or nothing when TensorFlow is unavailable.

    Args:
        logdir: the log directory (created on first write).
    """

    def __init__(self, logdir: str | os.PathLike) -> None:
        self.logdir = Path(logdir)
        self._writer = None
        self._tf = None
        self._metadata = None
        self._disabled = False

    def _ensure(self) -> bool:
        if self._disabled:
            return False
        if self._writer is None:
            try:
                import tensorflow as tf
            except ImportError:
                log.warning("TensorFlow cannot be imported: no TensorBoard output in %s (history.csv has the same numbers)",
                            self.logdir)
                self._disabled = True
                return False
            from tensorflow.core.framework import summary_pb2

            self._tf = tf
            # TensorBoard's scalar plugin metadata, written without the tensorboard package
            # (tf.summary.scalar needs it installed; tf.summary.write does not).
            self._metadata = summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
            )
            self.logdir.mkdir(parents=True, exist_ok=True)
            self._writer = tf.summary.create_file_writer(str(self.logdir))
        return True

    @property
    def enabled(self) -> bool:
        """Whether scalars are being written."""
        return self._ensure()

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Write scalars for one step (NaN and None skipped).

        Args:
            step: the epoch number.
            values: ``{tag: value}``.
        """
        if not self._ensure():
            return
        with self._writer.as_default(step=int(step)):
            for tag, value in values.items():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                self._tf.summary.write(tag, self._tf.constant(float(value), self._tf.float32), metadata=self._metadata)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the writer."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
