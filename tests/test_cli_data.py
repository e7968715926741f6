"""The data steps through the command line: a whole small run, and bad input as one clear line."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from crossreg.cli import build_parser, main

from conftest import write_bigwig, write_fasta


@pytest.fixture
def small_genome(tmp_path, rng):
    """Two chromosomes, an N gap, IUPAC letters, one track, a blacklist."""
    seq1 = "".join(rng.choice(list("ACGT"), 6000))
    seq1 = seq1[:1000] + "N" * 600 + seq1[1600:3000] + "RYKM" + seq1[3004:]
    seq2 = "".join(rng.choice(list("acgt"), 3000))
    write_fasta(tmp_path / "g.fa", {"chr1": seq1, "chr2": seq2})
    sizes = {"chr1": 6000, "chr2": 3000}
    write_bigwig(tmp_path / "t1.bw", sizes, {c: rng.gamma(0.5, 2, n) for c, n in sizes.items()})
    (tmp_path / "targets.txt").write_text(
        "index\tgenome\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tdescription\n"
        "0\tg\tT1\tt1.bw\t384\t32\t1\tsum\tDNASE:liver\n"
    )
    (tmp_path / "black.bed").write_text("chr1\t5000\t5100\n")
    return tmp_path


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_whole_data_chain_on_a_small_genome(small_genome, capsys):
    d = small_genome
    common = ["--genome", "g", "--fasta", d / "g.fa"]
    code, out, err = _run(["split", "--genome", f"g={d / 'g.fa'}", "--region-size", 1000, "--out-dir", d / "split"], capsys)
    assert code == 0, err
    code, out, err = _run(["windows", *common, "--folds", d / "split" / "g.folds.bed", "--blacklist", d / "black.bed",
                           "--seq-length", 1024, "--stride", 512, "--max-n-fraction", 0.3, "--out", d / "w.bed"], capsys)
    assert code == 0, err
    assert "dropped 1 for N content" in out or "dropped 2 for N content" in out
    shard_args = [*common, "--targets", d / "targets.txt", "--blacklist", d / "black.bed", "--windows", d / "w.bed",
                  "--baselines", d / "b.tsv", "--seq-length", 1024, "--crop-bp", 0, "--windows-per-shard", 2]
    assert _run(["baselines", *common, "--targets", d / "targets.txt", "--blacklist", d / "black.bed", "--out", d / "b.tsv"], capsys)[0] == 0
    for chunk in (0, 1, 2):
        code, out, err = _run(["shards", *shard_args, "--chunk", chunk, "--of", 3, "--out-dir", d / "shards"], capsys)
        assert code == 0, err
    code, out, err = _run(["manifest", *shard_args, "--shard-dir", d / "shards"], capsys)
    assert code == 0, err
    manifest = json.loads((d / "shards" / "manifest.json").read_text())
    assert manifest["statistics"]["non_acgtn_bases"] > 0  # the IUPAC letters, counted (when windowed)
    assert sum(s["windows"] for s in manifest["splits"].values()) == len((d / "w.bed").read_text().splitlines()) - 1


@pytest.mark.parametrize(
    "case, message",
    [
        ("bed_end_before_start", r"black.bed:2: invalid interval chr1:90-80"),
        ("bed_unknown_chrom", r"black.bed:1: chromosome '1' is not in the FASTA .*g.fa \(whose names look like 'chr1'\)"),
        ("bigwig_other_names", r"chromosome names of bigWig .*t1.bw do not match the FASTA: .* has e.g. '1', the FASTA has e.g. 'chr1'"),
        ("bigwig_missing_chrom", r"t1.bw has no chromosome 'chr2'.*--missing-chroms zeros"),
        ("nothing_left", r"no window left: \d+ windows, \d+ dropped for N fraction > 0.0"),
        ("missing_manifest_chunks", r"chunk\(s\) \[1\] of 2 have not been written"),
    ],
)
def test_bad_input_gives_one_clear_line(small_genome, capsys, case, message):
    d = small_genome
    common = ["--genome", "g", "--fasta", d / "g.fa"]
    windows_args = [*common, "--folds", d / "folds.bed", "--seq-length", 1024, "--stride", 512, "--out", d / "w.bed"]
    (d / "folds.bed").write_text("chr1\t0\t6000\ttrain\t0\nchr2\t0\t3000\tvalid\t1\n")
    shard_args = [*common, "--targets", d / "targets.txt", "--windows", d / "w.bed", "--baselines", d / "b.tsv",
                  "--seq-length", 1024, "--crop-bp", 0]
    if case == "bed_end_before_start":
        (d / "black.bed").write_text("chr1\t10\t20\nchr1\t90\t80\n")
        argv = ["windows", *windows_args, "--blacklist", d / "black.bed"]
    elif case == "bed_unknown_chrom":
        (d / "black.bed").write_text("1\t10\t20\n")
        argv = ["windows", *windows_args, "--blacklist", d / "black.bed"]
    elif case == "bigwig_other_names":
        write_bigwig(d / "t1.bw", {"1": 6000}, {"1": np.ones(6000)})
        argv = ["baselines", *common, "--targets", d / "targets.txt", "--out", d / "b.tsv"]
    elif case == "bigwig_missing_chrom":
        write_bigwig(d / "t1.bw", {"chr1": 6000}, {"chr1": np.ones(6000)})
        argv = ["baselines", *common, "--targets", d / "targets.txt", "--out", d / "b.tsv"]
    elif case == "nothing_left":
        argv = ["windows", *windows_args, "--max-n-fraction", 0.0, "--max-masked-fraction", 0.0]
        write_fasta(d / "g.fa", {"chr1": "N" * 6000, "chr2": "N" * 3000})
    else:
        assert _run(["windows", *windows_args], capsys)[0] == 0
        assert _run(["baselines", *common, "--targets", d / "targets.txt", "--out", d / "b.tsv"], capsys)[0] == 0
        assert _run(["shards", *shard_args, "--chunk", 0, "--of", 2, "--out-dir", d / "s"], capsys)[0] == 0
        argv = ["manifest", *shard_args, "--shard-dir", d / "s"]
    code, out, err = _run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(message, lines[0]), lines[0]


def test_console_script_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "crossreg.cli", "windows", "--genome", "g", "--fasta", str(tmp_path / "none.fa"),
         "--folds", str(tmp_path / "f.bed"), "--out", str(tmp_path / "w.bed")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"crossreg windows: error: FASTA {tmp_path / 'none.fa'}: no such file"
    assert not (tmp_path / "w.bed").exists()


def test_every_step_has_a_subcommand():
    parser = build_parser()
    steps = parser._subparsers._group_actions[0].choices
    assert {"simulate", "split", "windows", "baselines", "shards", "manifest"} <= set(steps)
