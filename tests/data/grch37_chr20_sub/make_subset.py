"""Make this folder's small copy of ../shared/data/grch37_chr20 (run from the project root).

    .venv/bin/python tests/data/grch37_chr20_sub/make_subset.py [SHARED_DIR]

Writes ``20.sub.fa.gz`` (+ ``.fai``, ``.gzi``): chromosome ``20`` of GRCh37 at its full
length (63,025,520 bp) where only the bases within FLANK bp of a variant of either VCF keep
the real sequence and every other base is N (bgzip stores the N runs in almost nothing),
and copies the two VCFs unchanged. Deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import numpy as np
import pysam

from crossreg.io.writers import write_fasta

FLANK = 4000
HERE = Path(__file__).resolve().parent
VCFS = ("hapmap3_snps.chr20.vcf.gz", "indels.chr20.vcf.gz")


def main(shared: Path) -> None:
    fasta = pysam.FastaFile(str(shared / "20.fa.gz"))
    size = fasta.get_reference_length("20")
    keep = np.zeros(size + 1, dtype=np.int32)
    n_var = 0
    for name in VCFS:
        # read as text: indels.chr20.vcf.gz is plain gzip (not bgzip), which pysam cannot open
        with gzip.open(shared / name, "rt") as handle:
            for line in handle:
                if line.startswith("#"):
                    continue
                chrom, pos, _, ref = line.split("\t")[:4]
                assert chrom == "20"
                lo = max(0, int(pos) - 1 - FLANK)
                hi = min(size, int(pos) - 1 + len(ref) + FLANK)
                keep[lo] += 1
                keep[hi] -= 1
                n_var += 1
    mask = np.cumsum(keep[:size]) > 0
    seq = np.frombuffer(fasta.fetch("20").encode("ascii"), dtype=np.uint8).copy()
    seq[~mask] = ord("N")
    write_fasta(HERE / "20.sub.fa.gz", [("20", seq.tobytes())])
    for name in VCFS:
        shutil.copyfile(shared / name, HERE / name)
    print(f"{n_var} variants, {int(mask.sum()):,} of {size:,} bp kept (flank {FLANK} bp)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / ".." / "shared" / "data" / "grch37_chr20")
