"""DNA as uint8 code arrays: encoding, random composition, substitutions, repeats.

Codes are ``A=0, C=1, G=2, T=3, N=4`` (the one-hot order of SPEC section 2). Every function
works on whole arrays; none loops over bases in Python.
"""

from __future__ import annotations

import numpy as np

A, C, G, T, N = 0, 1, 2, 3, 4
ALPHABET = np.frombuffer(b"ACGTN", dtype=np.uint8)
COMPLEMENT = np.array([T, G, C, A, N], dtype=np.uint8)
_ENCODE = np.full(256, N, dtype=np.uint8)
for _code, _char in enumerate(b"ACGT"):
    _ENCODE[_char] = _code
    _ENCODE[ord(chr(_char).lower())] = _code

_CHUNK = 1 << 22

# transition partner (A<->G, C<->T) and the two transversion partners of each base
_TRANSITION = np.array([G, T, A, C], dtype=np.uint8)
_TRANSVERSION = np.array([[C, T], [A, G], [C, T], [A, G]], dtype=np.uint8)


def encode(text: str | bytes) -> np.ndarray:
    """Encode a DNA string.

    Args:
        text: letters; anything other than ACGT (either case) becomes N.

    Returns:
        uint8 array of codes, shape (len(text),).
    """
    if isinstance(text, str):
        text = text.encode("ascii")
    return _ENCODE[np.frombuffer(text, dtype=np.uint8)]


def decode(codes: np.ndarray) -> bytes:
    """Decode a uint8 code array (values 0-4) to upper-case ASCII bytes."""
    return ALPHABET[np.asarray(codes, dtype=np.uint8)].tobytes()


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of a code array (N stays N); returns a new uint8 array."""
    return COMPLEMENT[codes[::-1]]


def random_sequence(rng: np.random.Generator, gc: np.ndarray | float, length: int | None = None) -> np.ndarray:
    """Draw an i.i.d. sequence with a (per-base) GC fraction.

    Args:
        rng: random generator.
        gc: GC probability, scalar or float array of shape (L,).
        length: L when ``gc`` is a scalar.

    Returns:
        uint8 codes, shape (L,).
    """
    gc = np.asarray(gc, dtype=np.float64)
    n = int(length) if gc.ndim == 0 else gc.shape[0]
    out = np.empty(n, dtype=np.uint8)
    for lo in range(0, n, _CHUNK):  # bounded memory on 100 Mb genomes
        hi = min(n, lo + _CHUNK)
        g = gc if gc.ndim == 0 else gc[lo:hi]
        strong = rng.random(hi - lo) < g
        second = rng.random(hi - lo) < 0.5
        # strong -> C or G, weak -> A or T
        out[lo:hi] = np.where(strong, np.where(second, G, C), np.where(second, T, A))
    return out


def deplete_cpg(rng: np.random.Generator, seq: np.ndarray, fraction: float, protect: np.ndarray | None = None) -> None:
    """Mutate a fraction of CpG dinucleotides in place (CG -> TG or CA), as methylation decay does.

    Args:
        rng: random generator.
        seq: uint8 codes, modified in place.
        fraction: probability that each CpG is destroyed.
        protect: optional bool mask, shape like ``seq``; CpGs starting at True positions are kept
            (CpG islands).
    """
    if seq.size < 2 or fraction <= 0:
        return
    cg = np.flatnonzero((seq[:-1] == C) & (seq[1:] == G))
    if protect is not None:
        cg = cg[~protect[cg]]
    hit = cg[rng.random(cg.size) < fraction]
    on_c = rng.random(hit.size) < 0.5
    seq[hit[on_c]] = T
    seq[hit[~on_c] + 1] = A


def substitute(rng: np.random.Generator, seq: np.ndarray, rate: np.ndarray | float, transition_fraction: float) -> np.ndarray:
    """Point substitutions with a transition/transversion bias.

    Args:
        rng: random generator.
        seq: uint8 codes, shape (L,); N positions are never changed.
        rate: substitution probability per base, scalar or float array (L,).
        transition_fraction: share of substitutions that are transitions (A<->G, C<->T).

    Returns:
        A new uint8 array (L,).
    """
    out = seq.copy()
    rate = np.asarray(rate, dtype=np.float64)
    for lo in range(0, seq.size, _CHUNK):  # bounded memory on 100 Mb genomes
        hi = min(seq.size, lo + _CHUNK)
        r = rate if rate.ndim == 0 else rate[lo:hi]
        hit = lo + np.flatnonzero((rng.random(hi - lo) < r) & (seq[lo:hi] < N))
        if hit.size:
            out[hit] = mutate_bases(rng, seq[hit], transition_fraction)
    return out


def mutate_bases(rng: np.random.Generator, bases: np.ndarray, transition_fraction: float) -> np.ndarray:
    """Return a different base for every input base (codes 0-3), transition with the given odds."""
    trans = rng.random(bases.size) < transition_fraction
    pick = rng.integers(0, 2, bases.size)
    return np.where(trans, _TRANSITION[bases], _TRANSVERSION[bases, pick]).astype(np.uint8)


def identity_for_rates(q1: float, q2: float, transition_fraction: float) -> float:
    """Expected identity of two sequences that descend from one ancestor on two branches.

    Args:
        q1, q2: substitution probability per base on each branch.
        transition_fraction: share of substitutions that are transitions.

    Returns:
        Probability that the two descendant bases are equal.
    """
    t = transition_fraction
    v = (1.0 - t) / 2.0
    return (1 - q1) * (1 - q2) + q1 * q2 * (t * t + 2 * v * v)


def tandem_repeat(rng: np.random.Generator, unit: np.ndarray, length: int, divergence: float) -> np.ndarray:
    """A tandem array of ``unit`` truncated to ``length`` with point divergence between copies.

    Args:
        rng: random generator.
        unit: uint8 codes of the repeat unit.
        length: total length in bp.
        divergence: per-base substitution probability applied after tiling.

    Returns:
        uint8 codes, shape (length,).
    """
    reps = -(-length // max(1, unit.size))
    arr = np.tile(unit, reps)[:length]
    return substitute(rng, arr, divergence, 0.6)


def microsatellite(rng: np.random.Generator, length: int) -> np.ndarray:
    """A simple repeat such as (CA)n or (GGAA)n of the given length (bp), slightly impure."""
    unit_len = int(rng.integers(1, 5))
    unit = rng.integers(0, 4, unit_len).astype(np.uint8)
    if unit_len > 1 and np.all(unit == unit[0]):
        unit[-1] = (unit[0] + 1) % 4
    return tandem_repeat(rng, unit, length, 0.02)


def kmer_codes(seq: np.ndarray, k: int) -> np.ndarray:
    """Integer code of the k-mer starting at each position (N read as A; mask Ns separately).

    Args:
        seq: uint8 codes, shape (L,), L >= k.
        k: k-mer length (<= 8 so that codes fit uint16).

    Returns:
        uint16 array (L - k + 1,): sum_j base[i+j] * 4**(k-1-j).
    """
    s = np.where(seq < N, seq, 0).astype(np.uint16)
    m = s.size - k + 1
    code = np.zeros(max(m, 0), dtype=np.uint16)
    for j in range(k):
        code <<= 2
        code |= s[j:j + m]
    return code


def gc_fraction(seq: np.ndarray) -> float:
    """GC fraction over the non-N bases of ``seq`` (0.0 if there are none)."""
    acgt = seq[seq < N]
    if acgt.size == 0:
        return 0.0
    return float(np.mean((acgt == C) | (acgt == G)))
