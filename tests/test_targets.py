"""The targets table reader: valid tables and every kind of bad table."""

from pathlib import Path

import pytest

from crossreg.errors import InputError
from crossreg.io.targets import read_targets

from conftest import REAL_TINY

HEADER = "index\tgenome\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tdescription\tgroup\n"


def _table(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    (tmp_path / "a.bw").write_bytes(b"")
    path = tmp_path / "targets.txt"
    path.write_text(header + "".join(r + "\n" for r in rows))
    return path


def test_real_tiny_tables():
    hg = read_targets(REAL_TINY / "hg38" / "targets.txt")
    mm = read_targets(REAL_TINY / "mm10" / "targets.txt")
    assert (len(hg), len(mm)) == (34, 15)
    assert hg.genome == "hg38" and mm.genome == "mm10"
    first = hg.targets[0]
    assert first.identifier == "CNhs10752+" and first.sum_stat == "mean"
    assert first.clip == 384 and first.clip_soft == 64 and first.scale == 1.0
    assert first.file == REAL_TINY / "hg38" / "tracks" / "CNhs10752_plus.bw"
    assert first.assay == "CAGE"
    assert {t.assay for t in hg} == {"CAGE", "DNASE"}
    assert hg.groups == hg.identifiers  # no replicate column: each track its own group


def test_replicate_groups(tmp_path):
    path = _table(tmp_path, [
        "0\th\tA1\ta.bw\t384\t32\t1\tsum\tDNASE:liver\tliver",
        "1\th\tA2\ta.bw\t384\t32\t1\tsum\tDNASE:liver\tliver",
        "2\th\tB\ta.bw\t384\t32\t1\tsum\tCAGE:brain\t",
    ])
    table = read_targets(path)
    assert table.groups == ["liver", "B"]
    assert table.group_members() == {"liver": [0, 1], "B": [2]}


def test_basenji_paper_format_with_unnamed_index_and_numeric_genome(tmp_path):
    header = "\tgenome\tidentifier\tfile\tclip\tscale\tsum_stat\tdescription\n"
    path = _table(tmp_path, ["0\t0\tENCFF1\ta.bw\t32\t2\tmean\tDNASE:x"], header=header)
    with pytest.raises(InputError, match="no genome name"):
        read_targets(path)
    table = read_targets(path, genome="human")
    assert table.genome == "human" and table.targets[0].clip_soft is None and table.targets[0].scale == 2


@pytest.mark.parametrize(
    "rows, header, message",
    [
        (["0\th\tA\ta.bw\t1\t1\t1\tsum\td\t"], HEADER.replace("group", "colour"), r"targets.txt:1: unknown column\(s\) \['colour'\]"),
        (["0\th\tA\ta.bw\t1\t1\tsum\td"], HEADER.replace("\tscale", ""), r"targets.txt:1: missing required column\(s\) \['scale'\]"),
        (["0\th\tA\ta.bw\t1\t1\t1\tsum\td\t", "1\th\tA\ta.bw\t1\t1\t1\tsum\td\t"], HEADER, r"targets.txt:3: duplicate identifier 'A' \(first seen on line 2\)"),
        (["0\th\tA\ta.bw\t1\t1\t1\tmedian\td\t"], HEADER, r"targets.txt:2: unknown sum_stat 'median'"),
        (["0\th\tA\tmissing.bw\t1\t1\t1\tsum\td\t"], HEADER, r"targets.txt:2: track 'A': bigWig file .*missing.bw does not exist"),
        (["0\th\tA\ta.bw\tlots\t1\t1\tsum\td\t"], HEADER, r"targets.txt:2: column 'clip' must be a number"),
        (["0\th\tA\ta.bw\t1\t1\t-1\tsum\td\t"], HEADER, r"targets.txt:2: column 'scale' must be a positive"),
        (["0\th\tA\ta.bw\t1\t1\t1\tsum"], HEADER, r"targets.txt:2: expected 10 tab-separated fields"),
        (["1\th\tA\ta.bw\t1\t1\t1\tsum\td\t"], HEADER, r"targets.txt:2: index 1 out of order; expected 0"),
        ([], HEADER, r"no tracks"),
        (["0\th\tA\ta.bw\t1\t1\t1\tsum\td\tg", "1\th\tB\ta.bw\t1\t1\t2\tsum\td\tg"], HEADER, r"replicate group 'g'"),
    ],
)
def test_bad_tables(tmp_path, rows, header, message):
    path = _table(tmp_path, rows, header)
    with pytest.raises(InputError, match=message):
        read_targets(path)


def test_genome_mismatch(tmp_path):
    path = _table(tmp_path, ["0\tmouse\tA\ta.bw\t1\t1\t1\tsum\td\t"])
    with pytest.raises(InputError, match=r"targets.txt:2: track belongs to genome 'mouse'.*'human'"):
        read_targets(path, genome="human")
