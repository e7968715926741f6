"""``python -m crossreg STEP ...``: the same as the ``crossreg`` command."""

import sys

from crossreg.cli import main

sys.exit(main())
