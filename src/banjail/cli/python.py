"""`fail2ban-python`: a Python interpreter for scripts written for upstream fail2ban (`#!/usr/bin/env
fail2ban-python`), and for scripts that `import banjail`.

Upstream's helper scripts import upstream's library (Debian's filter.d/ignorecommands/apache-fakegooglebot does
`from fail2ban.server.ipdns import DNSUtils, IPAddr`). Which library they get, by BANJAIL_FAIL2BAN_LIB:
- `auto` (default): upstream's own library when it is installed (Debian's dist-packages/fail2ban, added at the
  end of the import path, so banjail's own packages still win and `import banjail` keeps working); otherwise
  banjail's stand-in for the names such scripts use (banjail.pyshim), first on the import path;
- `upstream` / `shim`: force one of the two (an error when `upstream` is asked for and not installed).
The arguments are those of `python3`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import banjail.pyshim

# Debian's layout: where upstream's package installs its library.
UPSTREAM_LIBRARY = "/usr/lib/python3/dist-packages/fail2ban/__init__.py"
SHIM_DIR = str(Path(banjail.pyshim.__file__).parent)


def command(args: Sequence[str], env: Mapping[str, str]) -> tuple[str, list[str], dict[str, str]]:
    """(program, argv, environment) to exec for `fail2ban-python ARGS`; raises ValueError for a bad setting."""
    choice = env.get("BANJAIL_FAIL2BAN_LIB", "auto") or "auto"
    if choice not in ("auto", "upstream", "shim"):
        raise ValueError(f"BANJAIL_FAIL2BAN_LIB={choice!r}: use auto, upstream or shim")
    library = Path(UPSTREAM_LIBRARY)
    upstream = library.is_file()
    if choice == "upstream" and not upstream:
        raise ValueError(f"BANJAIL_FAIL2BAN_LIB=upstream, but {UPSTREAM_LIBRARY} is not installed")
    given = env.get("PYTHONPATH", "")
    # Upstream's library goes last (banjail's packages win); the stand-in goes first.
    path = [given, str(library.parent.parent)] if choice != "shim" and upstream else [SHIM_DIR, given]
    environ = dict(env)
    environ["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    return sys.executable, [sys.executable, *args], environ


def main(argv: Sequence[str] | None = None) -> int:
    """Replace this process with the chosen interpreter run on `argv` (default: sys.argv[1:])."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        program, full, environ = command(args, os.environ)
    except ValueError as problem:
        print(f"fail2ban-python: {problem}", file=sys.stderr)
        return 255
    os.execve(program, full, environ)
    return 0  # not reached: execve does not return


if __name__ == "__main__":
    sys.exit(main())
