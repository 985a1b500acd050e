"""`fail2ban-python`: the Python interpreter banjail is installed in, so scripts can `import banjail`.

Upstream ships the same name for its action scripts; the arguments are those of `python3`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Replace this process with the current interpreter run on `argv` (default: sys.argv[1:])."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.execv(sys.executable, [sys.executable, *args])
    return 0  # not reached: execv does not return


if __name__ == "__main__":
    sys.exit(main())
