"""Patch an installed sldp 1.1.5 / gprim 0.23 so that it runs on Python 3.11, NumPy 2, pandas 3.

Run with the reference venv's python (it patches the site-packages of the interpreter that
runs it); idempotent. Each patch is the smallest change that restores the code's evident
intent; none changes the statistics:

* ``read_csv(delim_whitespace=True)`` (removed in pandas 3) -> ``sep=r"\\s+"``;
* ``df.col.fillna(x, inplace=True)`` does nothing under copy-on-write (pandas 3), leaving
  NaN in the ``printsnp`` mask and in ``ldblocks.M_H`` -> ``df["col"] = df.col.fillna(x)``;
* ``np.linalg.linalg.LinAlgError`` (gone in NumPy 2) -> ``np.linalg.LinAlgError``;
* ``preprocesspheno``: Python-2 ``file.next()`` -> ``next(file)``; ``DataFrame.append``
  (removed) -> ``pd.DataFrame([row])``; the ``info`` file is written whatever the
  chromosomes (it was written only when chromosome 1 was processed);
* ``chunkstats.residualize`` returned the unbound ``mux, muy`` when there is no background
  annotation (UnboundLocalError) -> they start as empty arrays;
* ``sldp -fastp`` alone dropped the non-existent columns ``pfast zfast`` (KeyError) ->
  drops ``p_fast z_fast``, as intended (z and p already hold the fast values).

pysnptools' undeclared dependency ``six`` is installed by ``run_reference.sh``.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

SITE = Path(sysconfig.get_paths()["purelib"])

PATCHES: dict[str, list[tuple[str, str]]] = {
    "sldp/preprocessrefpanel.py": [
        ("delim_whitespace=True", r"sep=r'\s+'"),
        ("snps.printsnp.fillna(False, inplace=True)", "snps['printsnp'] = snps.printsnp.fillna(False).astype(bool)"),
        ("np.linalg.linalg.LinAlgError", "np.linalg.LinAlgError"),
    ],
    "sldp/preprocessannot.py": [
        ("delim_whitespace=True", r"sep=r'\s+'"),
        ("snps.printsnp.fillna(False, inplace=True)", "snps['printsnp'] = snps.printsnp.fillna(False).astype(bool)"),
    ],
    "sldp/preprocesspheno.py": [
        ("delim_whitespace=True", r"sep=r'\s+'"),
        ("snps.printsnp.fillna(False, inplace=True)", "snps['printsnp'] = snps.printsnp.fillna(False).astype(bool)"),
        ("int(open(args.ldscores_chr+str(c)+'.l2.M').next())", "int(next(open(args.ldscores_chr+str(c)+'.l2.M')))"),
        ("int(open(args.ldscores_chr+str(c)+'.l2.M_5_50').next())", "int(next(open(args.ldscores_chr+str(c)+'.l2.M_5_50')))"),
        ("info = pd.DataFrame(); info=info.append(", "info = pd.DataFrame([dict("),
        ("'Nbar':ss.N.mean()},ignore_index=True)", "Nbar=ss.N.mean())])"),
        ("{'pheno':args.sumstats_stem.split('/')[-1],", "pheno=args.sumstats_stem.split('/')[-1],"),
        ("'h2g':h2g,", "h2g=h2g,"),
        ("'sigma2g':sigma2g,", "sigma2g=sigma2g,"),
        ("if 1 in args.chroms:", "if True:  # patched: was `if 1 in args.chroms`"),
    ],
    "sldp/sldp.py": [
        ("delim_whitespace=True", r"sep=r'\s+'"),
        ("results.drop(['pfast','zfast'], axis=1, inplace=True)", "results.drop(['p_fast','z_fast'], axis=1, inplace=True)"),
    ],
    "sldp/chunkstats.py": [
        ("ldblocks.M_H.fillna(0, inplace=True)", "ldblocks['M_H'] = ldblocks.M_H.fillna(0)"),
        ("np.linalg.linalg.LinAlgError", "np.linalg.LinAlgError"),
        ("    if num_background > 0:\n        num = sum(chunk_nums)",
         "    mux = muy = np.zeros(0)  # patched: unbound without background\n"
         "    if num_background > 0:\n        num = sum(chunk_nums)"),
    ],
    "gprim/dataset.py": [("delim_whitespace=True", r"sep=r'\s+'")],
    "gprim/annotation.py": [("delim_whitespace=True", r"sep=r'\s+'")],
}


def main() -> None:
    for rel, edits in PATCHES.items():
        path = SITE / rel
        text = path.read_text()
        for old, new in edits:
            if old in text:
                text = text.replace(old, new)
            elif new not in text:
                raise SystemExit(f"{path}: neither the original nor the patched text of {old!r} found")
        path.write_text(text)
        for cache in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
            cache.unlink()
    print(f"patched sldp/gprim under {SITE}")


if __name__ == "__main__":
    main()
