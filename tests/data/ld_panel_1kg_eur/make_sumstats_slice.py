"""Rebuild ``RBC.sumstats.slice.tsv.gz`` from ``RBC.sumstats.small.parquet`` (byte for byte).

The parquet (real UK Biobank red blood cell count GWAS, chr22, from omerwe/polyfun
``example_data``, MIT) needs pyarrow to read, which crossreg does not depend on; the tests
read this text slice of it instead: the first 700 records in file order, all columns
(``SNP CHR BP A1 A2 Z N``), tab-separated, ``Z`` written with ``repr`` (exact float64),
gzip without name or time stamp. Records 628 and 629 (1-based) are the real duplicate id
rs554782495 (a multi-allelic site split into C/A and C/T rows).

Run from anywhere with pandas + pyarrow:  python make_sumstats_slice.py
"""

import gzip
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
N_ROWS = 700

frame = pd.read_parquet(HERE / "RBC.sumstats.small.parquet").reset_index(drop=True).iloc[:N_ROWS]
lines = ["\t".join(frame.columns) + "\n"]
for row in frame.itertuples(index=False):
    lines.append(f"{row.SNP}\t{row.CHR}\t{row.BP}\t{row.A1}\t{row.A2}\t{float(row.Z)!r}\t{row.N}\n")
with open(HERE / "RBC.sumstats.slice.tsv.gz", "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
    gz.write("".join(lines).encode())
