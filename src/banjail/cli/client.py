"""`fail2ban-client` (also `banjail client`): upstream's options, commands, output and exit codes (0, or 255 on
any error), speaking banjail's JSON lines protocol to the server.

Beyond upstream: `--json` prints the value of a read command (status, banned, get, ...) as JSON; `status --all
[flavor]` prints every jail's status; `stats` prints one line per jail.
"""

from __future__ import annotations

import contextlib
import getopt
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from banjail import FAIL2BAN_COMPAT_VERSION, __version__
from banjail.control.console import Client, Failed, Options, check_config, dump_config, log, out
from banjail.control.protocol import help_text

FAILED = 255
SHORT_OPTS = "hc:s:p:xfbdtviqV"
LONG_OPTS = [
    "loglevel=", "logtarget=", "syslogsocket=", "test", "async", "conf=", "pidfile=", "pname=", "socket=",
    "timeout=", "str2sec=", "help", "version", "dp", "dump-pretty", "json",
]  # fmt: skip


def _setup_logging(verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    # Upstream's client log line: time, logger name padded to 24, pid, level padded to 7, message.
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s")
    )
    log.handlers[:] = [handler]
    log.propagate = False
    levels = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}
    log.setLevel(levels.get(verbose, logging.ERROR if verbose < 0 else 5))


def usage(prog: str) -> str:
    lines = [
        f"Usage: {prog} [OPTIONS] <COMMAND>",
        "",
        f"banjail {__version__} (speaks as Fail2Ban v{FAIL2BAN_COMPAT_VERSION}): watches logs for failures and bans",
        "the addresses they come from.",
        "",
        "Options:",
        "    -c, --conf <DIR>        configuration directory",
        "    -s, --socket <FILE>     socket path",
        "    -p, --pidfile <FILE>    pidfile path",
        "    --pname <NAME>          accepted for compatibility; ignored",
        "    --loglevel <LEVEL>      log level of a server started by this client",
        "    --logtarget <TARGET>    log target of a server started by this client (file, STDOUT, STDERR, SYSLOG)",
        "    --syslogsocket auto|<FILE>",
        "    -d                      print the configuration as the list of commands that sets it up",
        "    --dp, --dump-pretty     the same, pretty-printed",
        "    -t, --test              check the configuration, report every problem (also before start)",
        "    -i                      interactive mode",
        "    -v                      more output",
        "    -q                      less output",
        "    -x                      start even if a stale socket file exists (removes it)",
        "    -b                      start the server in the background (default)",
        "    -f                      start the server in the foreground",
        "    --timeout <TIME>        how long start waits for the server",
        "    --str2sec <STRING>      print a time value (1d12h, 10m, ...) in seconds",
        "    --json                  print the value of a read command as JSON",
        "    -h, --help              print this help",
        "    -V, --version           print the version (-V: just the number)",
        "",
        "Command:",
        help_text().rstrip("\n"),
        "",
        "Report bugs to the banjail project.",
    ]
    return "\n".join(lines)


def _early_options(opts: Options) -> None:
    """Fill the socket path from fail2ban.conf (and its .local) when -s did not give it. The pidfile is left to
    the server, which reads the same file, unless -p gave one."""
    if opts.socket is not None:
        return
    from banjail.config.overlay import Overlay
    from banjail.config.schema import ServerConfig

    # An unreadable config still lets the client reach a server at the default path.
    with contextlib.suppress(Exception):
        opts.socket = Overlay(Path(opts.conf)).read_name("fail2ban").get("Definition", "socket")
    opts.socket = opts.socket or ServerConfig().socket


def _str2sec(text: str) -> str:
    from banjail.timespec import str2seconds_typed

    return str(str2seconds_typed(text))  # upstream prints 1.5d as 129600.0, 1d as 86400


def _split_json(args: list[str]) -> tuple[list[str], bool]:
    # `--json` may also follow the command (`fail2ban-client status sshd --json`).
    if args and args[-1] == "--json":
        return args[:-1], True
    return args, False


def parse(argv: list[str], prog: str) -> tuple[Options, list[str]] | int:
    """Options and the command, or an exit status when the options alone decide it (-h, -V, --str2sec)."""
    opts = Options()
    try:
        pairs, args = getopt.getopt(argv, SHORT_OPTS, LONG_OPTS)
    except getopt.GetoptError as exc:
        out(usage(prog))
        log.error("%s", exc)
        return FAILED
    for name, value in pairs:
        if name in ("-c", "--conf"):
            opts.conf = value
            opts.conf_given = True
        elif name in ("-s", "--socket"):
            opts.socket = value
        elif name in ("-p", "--pidfile"):
            opts.pidfile = value
        elif name in ("-d", "--dp", "--dump-pretty"):
            opts.dump = 1 if name == "-d" else 2
        elif name in ("-t", "--test"):
            opts.test = True
        elif name in ("-v", "-q"):
            opts.verbose += 1 if name == "-v" else -1
        elif name == "-x":
            opts.force = True
        elif name == "-i":
            opts.interactive = True
        elif name in ("-b", "-f"):
            opts.background = name == "-b"
        elif name == "--json":
            opts.json = True
        elif name == "--timeout":
            try:
                opts.timeout = float(_str2sec(value))
            except ValueError as exc:
                out(f"ERROR: {exc}")
                return FAILED
        elif name == "--str2sec":
            try:
                out(_str2sec(value))
            except ValueError as exc:
                out(f"ERROR: {exc}")
                return FAILED
            return 0
        elif name in ("-h", "--help"):
            out(usage(prog))
            return 0
        elif name in ("-V", "--version"):
            out(FAIL2BAN_COMPAT_VERSION if name == "-V" else f"Fail2Ban v{FAIL2BAN_COMPAT_VERSION}")
            return 0
        elif name in ("--loglevel", "--logtarget", "--syslogsocket"):
            opts.server_args += [name, value]
    args, trailing_json = _split_json(args)
    opts.json = opts.json or trailing_json
    return opts, args


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run fail2ban-client with `argv` (default: sys.argv[1:]); returns the exit status (0, or 255)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    prog = prog or os.path.basename(sys.argv[0] if argv is None else "fail2ban-client")
    parsed = parse(args_in, prog)
    if isinstance(parsed, int):
        return parsed
    opts, args = parsed
    _setup_logging(opts.verbose)
    if opts.conf_given and not os.path.isdir(opts.conf):
        # A -c naming no directory is a mistake (upstream's client stops here too, for every command); without -c,
        # a missing /etc/fail2ban means banjail's stock configuration.
        out(f"ERROR: Base configuration directory {opts.conf} does not exist ")
        return FAILED
    try:
        if opts.dump:
            given = dict(zip(opts.server_args[::2], opts.server_args[1::2], strict=True))
            dump_config(opts.conf, opts.dump == 2, {k.lstrip("-"): v for k, v in given.items()})
            if not opts.test:
                return 0
        if opts.test:
            # -t reports warnings (a log file that does not exist yet...) whatever the verbosity
            log.setLevel(min(log.level, logging.WARNING))
            try:
                check_config(opts.conf, report=True)
            except Failed:
                log.error("ERROR: test configuration failed")
                raise
            if not args:
                out("OK: configuration test is successful")
                return 0
        _early_options(opts)
        client = Client(opts, usage(prog))
        if opts.interactive:
            client.interactive(args)
            return 0
        if not args:
            out(usage(prog))
            return FAILED
        client.process(args)
    except Failed:
        return FAILED
    except KeyboardInterrupt:
        return FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
