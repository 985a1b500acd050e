"""The `banjail` command: one entry point whose subcommands are the fail2ban tools.

banjail regex [options] LOG REGEX [IGNOREREGEX]   same as fail2ban-regex
banjail client [options] COMMAND                  same as fail2ban-client
banjail server [options]                          same as fail2ban-server
banjail python [ARGS...]                          same as fail2ban-python
banjail audit [--log LOG] [--json] FILTER         can log text aim FILTER at a chosen address? (banjail only)
banjail --version
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from banjail import FAIL2BAN_COMPAT_VERSION, __version__


def _regex(args: Sequence[str]) -> int:
    from banjail.cli import regex  # imported on use: each subcommand loads only what it needs

    return regex.main(args, prog="banjail regex")


def _audit(args: Sequence[str]) -> int:
    from banjail.cli import audit

    return audit.main(args, prog="banjail audit")


def _client(args: Sequence[str]) -> int:
    from banjail.cli import client

    return client.main(list(args), prog="banjail client")


def _server(args: Sequence[str]) -> int:
    # asyncio imports ssl for TLS transports, which the daemon never uses: OpenSSL's libraries would add about
    # 6 MB to the server's resident memory. ssl stays importable for whoever needs it later (the mail action's
    # SMTP over TLS imports it then); only asyncio's own reference is None.
    blocked = "ssl" not in sys.modules
    if blocked:
        sys.modules["ssl"] = None  # type: ignore[assignment]  # import ssl raises ImportError meanwhile
    try:
        from banjail.cli import server
    finally:
        if blocked and sys.modules.get("ssl", 0) is None:
            del sys.modules["ssl"]
    return server.main(list(args))


def server_main() -> int:
    """The fail2ban-server command (through _server, for the memory it saves)."""
    return _server(sys.argv[1:])


def _python(args: Sequence[str]) -> int:
    from banjail.cli import python

    return python.main(list(args))


# Subcommand name -> (entry point taking the remaining arguments, one-line summary).
SUBCOMMANDS: dict[str, tuple[Callable[[Sequence[str]], int], str]] = {
    "regex": (_regex, "test a filter or regex against a log (fail2ban-regex)"),
    "client": (_client, "talk to the running server (fail2ban-client)"),
    "server": (_server, "run the server (fail2ban-server)"),
    "python": (_python, "a Python with banjail importable (fail2ban-python)"),
    "audit": (_audit, "can text a client writes aim a filter at a chosen address?"),
}

USAGE_EXIT = 255


def usage() -> str:
    lines = ["usage: banjail [--version] COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<10} {summary}" for name, (_, summary) in SUBCOMMANDS.items()]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand; returns its exit status (255 for an unknown command, as fail2ban's tools)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(usage())
        return 0 if args else USAGE_EXIT
    if args[0] in ("--version", "-V"):
        sys.stdout.write(f"banjail {__version__} (fail2ban {FAIL2BAN_COMPAT_VERSION} compatible)\n")
        return 0
    entry = SUBCOMMANDS.get(args[0])
    if entry is None:
        sys.stderr.write(f"banjail: unknown command {args[0]!r}; known: {', '.join(SUBCOMMANDS)}\n")
        return USAGE_EXIT
    return entry[0](args[1:])


if __name__ == "__main__":
    sys.exit(main())
