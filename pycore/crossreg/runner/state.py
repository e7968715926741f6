"""Up-to-date checks of ``crossreg run``: a record per finished step.

After a step succeeds, :func:`write_record` stores its command line, the crossreg version and a
fingerprint (size and modification time in ns of every file) of its inputs and outputs in
``<outdir>/pipeline_info/steps/<step>.json``. :func:`is_up_to_date` is true only when the
command and version are the same, every input still has the recorded fingerprint (so a step
whose upstream step ran again runs again), and every output exists unchanged. A step that
failed or was interrupted has no new record, and its outputs are written atomically by the
step itself, so it simply runs again.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from crossreg import __version__
from crossreg.io.atomic import atomic_path

Fingerprint = dict[str, list[int]]


def fingerprint(paths: Iterable[Path]) -> Fingerprint:
    """``{path: [size, mtime_ns]}`` of every file of ``paths`` (folders walked in sorted order).

    A path that does not exist maps to ``[-1, -1]``.
    """
    out: Fingerprint = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    f = Path(root) / name
                    st = f.stat()
                    out[str(f)] = [st.st_size, st.st_mtime_ns]
        elif path.exists():
            st = path.stat()
            out[str(path)] = [st.st_size, st.st_mtime_ns]
        else:
            out[str(path)] = [-1, -1]
    return out


def record_path(state_dir: Path, step: str) -> Path:
    """The record file of a step (its name made file-safe)."""
    return state_dir / (re.sub(r"[^A-Za-z0-9._-]+", "_", step) + ".json")


def write_record(state_dir: Path, step: str, argv: Sequence[str], inputs: Sequence[Path], outputs: Sequence[Path],
                 seconds: float) -> None:
    """Record a finished step (atomically)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "step": step,
        "argv": list(argv),
        "crossreg_version": __version__,
        "inputs": fingerprint(inputs),
        "outputs": fingerprint(outputs),
        "seconds": round(seconds, 3),
    }
    with atomic_path(record_path(state_dir, step)) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1) + "\n")


def is_up_to_date(state_dir: Path, step: str, argv: Sequence[str], inputs: Sequence[Path], outputs: Sequence[Path]) -> bool:
    """Whether a step's record matches its command, inputs and outputs as they are now."""
    path = record_path(state_dir, step)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if record.get("argv") != list(argv) or record.get("crossreg_version") != __version__:
        return False
    if not all(Path(p).exists() for p in outputs):
        return False
    return record.get("inputs") == fingerprint(inputs) and record.get("outputs") == fingerprint(outputs)
