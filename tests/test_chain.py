"""Tests of the UCSC chain reader (crossreg.io.chain)."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest

from crossreg.errors import InputError
from crossreg.io.chain import Chain, read_chains

DATA = Path(__file__).parent / "data" / "chain"
REAL = DATA / "hg38ToHg19.over.chain.gz"


@pytest.fixture(scope="module")
def real_chains() -> list[Chain]:
    return list(read_chains(REAL))


def test_real_file_count_and_speed():
    t0 = time.perf_counter()
    n = sum(1 for _ in read_chains(REAL))
    elapsed = time.perf_counter() - t0
    assert n == 25_374
    assert elapsed < 10.0, f"parsing took {elapsed:.1f} s"


def test_real_file_first_chain_hand_checked(real_chains):
    c = real_chains[0]
    # chain 20849626768 chr1 248956422 + 10000 248946422 chr1 249250621 + 10000 249240621 2
    # 167417  80249   50000
    # 40302   288020  253649
    # 1044699 2       1
    assert (c.t_name, c.t_size, c.t_strand, c.t_start, c.t_end) == (
        "chr1", 248_956_422, "+", 10_000, 248_946_422)
    assert (c.q_name, c.q_size, c.q_strand, c.q_start, c.q_end) == (
        "chr1", 249_250_621, "+", 10_000, 249_240_621)
    assert c.chain_id == 2 and c.score == 20_849_626_768 and c.line == 1
    assert c.t_starts.dtype == np.int64 and c.q_starts.dtype == np.int64
    assert c.sizes.dtype == np.int64
    assert c.sizes[:3].tolist() == [167_417, 40_302, 1_044_699]
    assert c.t_starts[:3].tolist() == [10_000, 10_000 + 167_417 + 80_249, 257_666 + 40_302 + 288_020]
    assert c.q_starts[:3].tolist() == [10_000, 10_000 + 167_417 + 50_000, 227_417 + 40_302 + 253_649]
    assert not c.reversed


def test_real_file_minus_strand_chain_hand_checked(real_chains):
    # line 19047:
    # chain 76116 chr1 248956422 + 148533664 148534528 chr1 249250621 - 103882603 103883467 854707
    # 99  57  57
    # 708
    (c,) = [c for c in real_chains if c.chain_id == 854707]
    assert c.line == 19047 and c.q_strand == "-" and c.reversed
    assert c.sizes.tolist() == [99, 708]
    assert c.t_starts.tolist() == [148_533_664, 148_533_664 + 99 + 57]
    q_size = 249_250_621
    # minus-strand blocks [103882603, +99) and [103882603 + 99 + 57, +708) -> + strand
    assert c.q_starts.tolist() == [
        q_size - (103_882_603 + 99),
        q_size - (103_882_603 + 99 + 57 + 708),
    ]


def test_real_file_blocks_consistent_with_headers(real_chains):
    for c in real_chains:
        s, t, q = c.sizes, c.t_starts, c.q_starts
        assert (s > 0).all()
        assert c.t_strand == "+"
        assert t[0] == c.t_start and t[-1] + s[-1] == c.t_end
        assert (t[1:] >= t[:-1] + s[:-1]).all()
        if c.q_strand == "+":
            assert q[0] == c.q_start and q[-1] + s[-1] == c.q_end
            assert (q[1:] >= q[:-1] + s[:-1]).all()
        else:
            assert q[0] + s[0] == c.q_size - c.q_start and q[-1] == c.q_size - c.q_end
            assert (q[:-1] >= q[1:] + s[1:]).all()
        assert t.min() >= 0 and (t + s).max() <= c.t_size
        assert q.min() >= 0 and (q + s).max() <= c.q_size


MINUS = """\
# a hand-written chain, query on the minus strand
chain 500 tA 1000 + 100 160 qB 200 - 20 90 7
10\t20\t30
30
"""


def _write(tmp_path: Path, text: str, name: str = "x.chain", gz: bool = False) -> Path:
    path = tmp_path / name
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def test_minus_strand_conversion(tmp_path):
    (c,) = list(read_chains(_write(tmp_path, MINUS)))
    assert c.line == 2 and c.chain_id == 7 and c.reversed
    assert c.t_starts.tolist() == [100, 130]
    assert c.sizes.tolist() == [10, 30]
    # minus-strand query blocks: [20, 30) and [60, 90); qSize 200 -> + strand [170, 180), [110, 140)
    assert c.q_starts.tolist() == [170, 110]
    assert c.n_blocks == 2 and c.aligned_bp == 40


def test_gzip_detected_by_magic_not_name(tmp_path):
    text = MINUS + "\n" + MINUS.replace(" 7\n", " 8\n")
    plain = list(read_chains(_write(tmp_path, text, "a.chain.gz")))  # plain text, .gz name
    packed = list(read_chains(_write(tmp_path, text, "b.chain", gz=True)))
    assert [c.chain_id for c in plain] == [c.chain_id for c in packed] == [7, 8]
    for a, b in zip(plain, packed):
        assert np.array_equal(a.q_starts, b.q_starts)


def test_chains_without_blank_separator_and_single_block(tmp_path):
    text = "chain 1 t 100 + 0 10 q 100 + 5 15 1\n10\nchain 2 t 100 + 20 30 q 100 + 30 40 2\n10\n"
    chains = list(read_chains(_write(tmp_path, text)))
    assert [c.chain_id for c in chains] == [1, 2]
    assert chains[1].t_starts.tolist() == [20] and chains[1].q_starts.tolist() == [30]


GOOD_HEADER = "chain 500 tA 1000 + 100 160 qB 200 + 20 90 7"


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("chain 500 tA 1000 + 100 160 qB 200 + 20 90\n60\n", 1, "13 fields"),
        ("# c\n" + GOOD_HEADER.replace("1000", "1k") + "\n60\n", 2, "tSize must be an integer"),
        (GOOD_HEADER.replace("+ 20", "x 20") + "\n60\n", 1, "qStrand must be '+' or '-'"),
        (GOOD_HEADER.replace("+ 100", "+ 990").replace("160", "1050") + "\n60\n", 1,
         "tEnd <= tSize"),
        (GOOD_HEADER + "\n10\t20\t30\n31\n", 1, "end at tEnd=161 qEnd=91"),
        (GOOD_HEADER + "\n10\t20\n30\n", 2, "expected 3 fields"),
        (GOOD_HEADER + "\n10\t20\t30\n3x\n", 3, "expected integers"),
        (GOOD_HEADER + "\n10\t-20\t30\n30\n", 2, "gaps dt and dq must be >= 0"),
        (GOOD_HEADER + "\n0\t20\t30\n30\n", 2, "block size must be > 0"),
        (GOOD_HEADER + "\n10\t20\t30\n\n", 2, "ends without its last line"),
        (GOOD_HEADER + "\n10\t20\t30\n30\n5\t5\t5\n", 4, "expected a blank line"),
        ("\n10\t20\t30\n", 2, "expected a chain header"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, text, line, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        list(read_chains(path))
    message = str(info.value)
    assert str(path) in message
    assert f"line {line}:" in message
    assert fragment in message


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        list(read_chains(tmp_path / "absent.chain"))
    good = gzip.compress((MINUS * 50).encode())
    truncated = tmp_path / "t.chain.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        list(read_chains(truncated))
