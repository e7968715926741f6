"""Reader for UCSC chain files (pairwise whole-genome alignments, as used by liftOver).

Format (https://genome.ucsc.edu/goldenPath/help/chain.html)::

    chain score tName tSize tStrand tStart tEnd qName qSize qStrand qStart qEnd id
    size dt dq
    size dt dq
    ...
    size

    chain ...

Each chain is a header line, then one line per ungapped block except the last
(``size dt dq``: block size, then the gap in the target and in the query before the
next block) and a last line with the size of the last block only. Chains are separated
by a blank line; lines starting with ``#`` are comments. Coordinates are 0-based,
half-open, in bp. Header start/end coordinates are on the strand given by the header's
strand field: for ``qStrand == '-'`` they count from the end of the query sequence.

The file may be plain text or gzip (detected from the magic bytes, not the name).
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from crossreg.errors import InputError

__all__ = ["Chain", "read_chains"]

_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_FIELDS = (
    "chain score tName tSize tStrand tStart tEnd qName qSize qStrand qStart qEnd id"
)


@dataclass(eq=False)
class Chain:
    """One chain: a run of ungapped alignment blocks between a target and a query sequence.

    Header fields are kept exactly as in the file: ``t_start``/``t_end`` and
    ``q_start``/``q_end`` are on the strand named by ``t_strand``/``q_strand`` (for a
    ``'-'`` strand they count from the end of the sequence).

    The block arrays are always on the **forward (+) strand** of both sequences: block
    ``k`` covers target ``[t_starts[k], t_starts[k] + sizes[k])`` and query
    ``[q_starts[k], q_starts[k] + sizes[k])``, both 0-based half-open in bp on the + strand.
    When exactly one of the two strands is ``'-'`` (``reversed`` is True) the block is an
    anti-diagonal: target position ``t_starts[k] + i`` aligns with query position
    ``q_starts[k] + sizes[k] - 1 - i``. Blocks are in file order, so for a ``'-'`` query
    ``q_starts`` decreases along the chain.

    Attributes:
        score: chain score (float; usually an integer in the file).
        t_name, q_name: target / query sequence names.
        t_size, q_size: target / query sequence lengths, bp.
        t_strand, q_strand: ``'+'`` or ``'-'``.
        t_start, t_end, q_start, q_end: alignment span from the header, bp, on the
            header's strand.
        chain_id: the chain id (last header field).
        t_starts: int64 array, shape (n_blocks,), + strand target block starts, bp.
        q_starts: int64 array, shape (n_blocks,), + strand query block starts, bp.
        sizes: int64 array, shape (n_blocks,), block lengths, bp (all > 0).
        line: 1-based line number of the header line in the file.
    """

    score: float
    t_name: str
    t_size: int
    t_strand: str
    t_start: int
    t_end: int
    q_name: str
    q_size: int
    q_strand: str
    q_start: int
    q_end: int
    chain_id: int
    t_starts: np.ndarray = field(repr=False)
    q_starts: np.ndarray = field(repr=False)
    sizes: np.ndarray = field(repr=False)
    line: int = 0

    @property
    def n_blocks(self) -> int:
        """Number of ungapped blocks."""
        return int(self.sizes.shape[0])

    @property
    def aligned_bp(self) -> int:
        """Total aligned length (sum of block sizes), bp."""
        return int(self.sizes.sum())

    @property
    def reversed(self) -> bool:
        """True when target and query strands differ (blocks are anti-diagonal)."""
        return self.t_strand != self.q_strand


def _open_text(path: Path) -> IO[str]:
    """Open ``path`` for text reading, transparently decompressing gzip (by magic bytes)."""
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open chain file: {exc.strerror or exc}") from exc
    magic = raw.read(2)
    raw.seek(0)
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if magic == _GZIP_MAGIC else raw
    return io.TextIOWrapper(stream, encoding="ascii", errors="strict", newline=None)


def _parse_int(token: str, what: str, path: Path, lineno: int) -> int:
    try:
        return int(token)
    except ValueError:
        raise InputError(
            f"{path}: line {lineno}: {what} must be an integer, got {token!r}"
        ) from None


class _Pending:
    """A chain whose header has been read and whose block lines are being collected."""

    __slots__ = ("header", "lineno", "tokens", "linenos", "done")

    def __init__(self, header: dict, lineno: int) -> None:
        self.header = header
        self.lineno = lineno
        self.tokens: list[str] = []
        self.linenos: list[int] = []
        self.done = False


def _parse_header(text: str, path: Path, lineno: int) -> dict:
    fields = text.split()
    if len(fields) != 13 or fields[0] != "chain":
        raise InputError(
            f"{path}: line {lineno}: expected a chain header with 13 fields "
            f"({_HEADER_FIELDS}), got {len(fields)} field(s)"
        )
    try:
        score = float(fields[1])
    except ValueError:
        raise InputError(
            f"{path}: line {lineno}: chain score must be a number, got {fields[1]!r}"
        ) from None
    h = {
        "score": score,
        "t_name": fields[2],
        "t_size": _parse_int(fields[3], "tSize", path, lineno),
        "t_strand": fields[4],
        "t_start": _parse_int(fields[5], "tStart", path, lineno),
        "t_end": _parse_int(fields[6], "tEnd", path, lineno),
        "q_name": fields[7],
        "q_size": _parse_int(fields[8], "qSize", path, lineno),
        "q_strand": fields[9],
        "q_start": _parse_int(fields[10], "qStart", path, lineno),
        "q_end": _parse_int(fields[11], "qEnd", path, lineno),
        "chain_id": _parse_int(fields[12], "chain id", path, lineno),
    }
    for side in ("t", "q"):
        label = "tStrand" if side == "t" else "qStrand"
        if h[f"{side}_strand"] not in ("+", "-"):
            raise InputError(
                f"{path}: line {lineno}: {label} must be '+' or '-', got {h[f'{side}_strand']!r}"
            )
        start, end, size = h[f"{side}_start"], h[f"{side}_end"], h[f"{side}_size"]
        if size <= 0:
            raise InputError(
                f"{path}: line {lineno}: {side}Size must be > 0, got {size}"
            )
        if not 0 <= start < end <= size:
            raise InputError(
                f"{path}: line {lineno}: expected 0 <= {side}Start < {side}End <= {side}Size, "
                f"got {side}Start={start} {side}End={end} {side}Size={size}"
            )
    return h


def _bad_token_line(p: _Pending, path: Path) -> None:
    """Raise InputError for the first block line whose fields are not all integers."""
    pos = 0
    for lineno in p.linenos:
        n = 1 if (pos + 1 == len(p.tokens)) else 3
        for token in p.tokens[pos : pos + n]:
            try:
                value = int(token)
            except ValueError:
                raise InputError(
                    f"{path}: line {lineno}: expected integers 'size dt dq' (or 'size' on the "
                    f"last line of a chain), got {token!r}"
                ) from None
            if abs(value) >= 2**62:
                raise InputError(f"{path}: line {lineno}: value {token} out of range")
        pos += n
    raise AssertionError("unreachable: no bad token found")  # pragma: no cover


def _finish(p: _Pending, path: Path) -> Chain:
    """Turn collected block tokens into a validated Chain."""
    h = p.header
    if not p.done:
        last = p.linenos[-1] if p.linenos else p.lineno
        raise InputError(
            f"{path}: line {last}: chain starting at line {p.lineno} ends without its last "
            f"line (expected a line with a single block size after the 'size dt dq' lines)"
        )
    try:
        values = np.array(p.tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        _bad_token_line(p, path)
        raise  # pragma: no cover
    n_blocks = (values.shape[0] + 2) // 3
    sizes = values[0::3]
    dt = values[1::3]
    dq = values[2::3]
    linenos = np.asarray(p.linenos)
    bad = np.flatnonzero(sizes <= 0)
    if bad.size:
        k = int(bad[0])
        raise InputError(
            f"{path}: line {linenos[k]}: block size must be > 0, got {int(sizes[k])}"
        )
    bad = np.flatnonzero((dt < 0) | (dq < 0))
    if bad.size:
        k = int(bad[0])
        raise InputError(
            f"{path}: line {linenos[k]}: gaps dt and dq must be >= 0, "
            f"got dt={int(dt[k])} dq={int(dq[k])}"
        )
    t_starts = np.empty(n_blocks, dtype=np.int64)
    q_starts = np.empty(n_blocks, dtype=np.int64)
    t_starts[0] = h["t_start"]
    q_starts[0] = h["q_start"]
    if n_blocks > 1:
        np.cumsum(sizes[:-1] + dt, out=t_starts[1:])
        t_starts[1:] += h["t_start"]
        np.cumsum(sizes[:-1] + dq, out=q_starts[1:])
        q_starts[1:] += h["q_start"]
    t_end = int(t_starts[-1] + sizes[-1])
    q_end = int(q_starts[-1] + sizes[-1])
    if t_end != h["t_end"] or q_end != h["q_end"]:
        raise InputError(
            f"{path}: line {p.lineno}: header gives tEnd={h['t_end']} qEnd={h['q_end']} but the "
            f"block sizes and gaps (lines {p.lineno + 1}-{linenos[-1]}) end at tEnd={t_end} "
            f"qEnd={q_end}; expected them to agree"
        )
    # Header bounds (checked in _parse_header) now bound every block as well.
    if h["t_strand"] == "-":
        t_starts = h["t_size"] - (t_starts + sizes)
    if h["q_strand"] == "-":
        q_starts = h["q_size"] - (q_starts + sizes)
    return Chain(
        t_starts=t_starts, q_starts=q_starts, sizes=sizes.copy(), line=p.lineno, **h
    )


def _iter_chains(handle: IO[str], path: Path) -> Iterator[Chain]:
    pending: _Pending | None = None
    lineno = 0
    for lineno, line in enumerate(handle, 1):
        fields = line.split()
        if not fields:
            if pending is not None:
                yield _finish(pending, path)
                pending = None
            continue
        first = fields[0]
        if first[0] == "#":
            continue
        if first == "chain":
            if pending is not None:
                yield _finish(pending, path)
            pending = _Pending(_parse_header(line, path, lineno), lineno)
            continue
        if pending is None:
            raise InputError(
                f"{path}: line {lineno}: expected a chain header line starting with 'chain' "
                f"({_HEADER_FIELDS}), got {line.strip()[:60]!r}"
            )
        if pending.done:
            raise InputError(
                f"{path}: line {lineno}: expected a blank line or a new chain header after the "
                f"last line of the chain starting at line {pending.lineno}, got "
                f"{line.strip()[:60]!r}"
            )
        n = len(fields)
        if n == 3:
            pending.tokens.extend(fields)
        elif n == 1:
            pending.tokens.append(first)
            pending.done = True
        else:
            raise InputError(
                f"{path}: line {lineno}: expected 3 fields 'size dt dq' (or 1 field 'size' on "
                f"the last line of a chain), got {n} fields"
            )
        pending.linenos.append(lineno)
    if pending is not None:
        yield _finish(pending, path)


def read_chains(path: str | os.PathLike) -> Iterator[Chain]:
    """Iterate over the chains of a UCSC chain file, validating as it goes.

    Args:
        path: chain file, plain text or gzip (detected by magic bytes).

    Yields:
        :class:`Chain` objects in file order. Block arrays (``t_starts``, ``q_starts``,
        ``sizes``; int64, shape (n_blocks,), bp) are on the + strand of both sequences;
        see :class:`Chain`.

    Raises:
        InputError: naming the file and line when a header does not have 13 fields, a
            number is not an integer, a strand is not ``+``/``-``, a header span is not
            within ``0 <= start < end <= size``, a block line does not have 3 fields (1 for
            the last block), a block size is not positive or a gap negative, or the blocks
            and gaps do not add up to the header's tEnd/qEnd.
    """
    path = Path(path)
    handle = _open_text(path)
    try:
        try:
            yield from _iter_chains(handle, path)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: not a text chain file (non-ASCII byte at offset {exc.start} of a "
                f"decoded chunk); expected UCSC chain format, plain or gzip"
            ) from None
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise InputError(
                f"{path}: truncated or corrupt gzip chain file ({exc}); expected a complete "
                f"gzip stream"
            ) from None
    finally:
        handle.close()
