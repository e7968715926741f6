#!/usr/bin/env bash
# Install the reference sldp 1.1.5 in a private venv (outside crossreg's environment),
# patch it for Python 3.11 / NumPy 2 / pandas 3 (patch_reference.py), and run it on this
# folder's case, recording its outputs under expected/.
#
# usage: tests/data/sldp_reference/run_reference.sh [VENV]   (default /tmp/sldp_ref)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-/tmp/sldp_ref}"
if [ ! -x "$venv/bin/sldp" ]; then
    python3.11 -m venv "$venv"
    "$venv/bin/pip" install --quiet sldp==1.1.5 six
fi
"$venv/bin/python" "$here/patch_reference.py"
"$venv/bin/python" "$here/run_reference.py" --venv "$venv" --out "$here/expected"
