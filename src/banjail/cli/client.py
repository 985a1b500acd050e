"""`fail2ban-client` (also `banjail client`): upstream's options, commands, output and exit codes (0, or 255 on
any error), speaking banjail's JSON lines protocol to the server.

Beyond upstream: `--json` prints the value of a read command (status, banned, get, ...) as JSON; `status --all
[flavor]` prints every jail's status; `stats` prints one line per jail.
"""

from __future__ import annotations

import getopt
import json
import logging
import os
import pprint
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from banjail import FAIL2BAN_COMPAT_VERSION, __version__
from banjail.control import format as fmt
from banjail.control.client import ControlClient
from banjail.control.protocol import help_text, is_read
from banjail.errors import ConfigError, ControlError

FAILED = 255
PROMPT = "fail2ban> "
MAX_WAIT = 30.0  # seconds `start` waits for the server to answer, as upstream
SHORT_OPTS = "hc:s:p:xfbdtviqV"
LONG_OPTS = [
    "loglevel=", "logtarget=", "syslogsocket=", "test", "async", "conf=", "pidfile=", "pname=", "socket=",
    "timeout=", "str2sec=", "help", "version", "dp", "dump-pretty", "json",
]  # fmt: skip

log = logging.getLogger("fail2ban")


class Failed(Exception):
    """The command failed; its message (if any) was logged. Exit 255."""


@dataclass
class Options:
    conf: str = "/etc/fail2ban"
    socket: str | None = None
    pidfile: str | None = None
    force: bool = False
    background: bool = True
    verbose: int = 1
    dump: int = 0  # 1: -d, 2: --dp
    test: bool = False
    interactive: bool = False
    json: bool = False
    timeout: float = MAX_WAIT
    server_args: list[str] = field(
        default_factory=list
    )  # --loglevel/--logtarget/... passed to a started server


def out(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


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
    """Fill socket and pidfile from fail2ban.conf (and its .local) where the command line did not give them."""
    if opts.socket is not None and opts.pidfile is not None:
        return
    from banjail.config.overlay import Overlay
    from banjail.config.schema import ServerConfig

    defaults = ServerConfig()
    try:
        tree = Overlay(Path(opts.conf)).read_name("fail2ban")
        socket = tree.get("Definition", "socket") or defaults.socket
        pidfile = tree.get("Definition", "pidfile") or defaults.pidfile
    except Exception:  # an unreadable config still lets the client reach a server at the default path
        socket, pidfile = defaults.socket, defaults.pidfile
    opts.socket = opts.socket or socket
    opts.pidfile = opts.pidfile or pidfile


class Client:
    def __init__(self, opts: Options, prog: str) -> None:
        self.opts = opts
        self.prog = prog

    @property
    def socket(self) -> str:
        assert self.opts.socket is not None
        return self.opts.socket

    def _socket_error(self, error: OSError) -> None:
        path = self.socket
        if not os.path.exists(path):
            log.error("Failed to access socket path: %s. Is fail2ban running?", path)
        elif not os.access(path, os.W_OK):
            log.error("Permission denied to socket: %s, (you must be root)", path)
        else:
            log.error("[%s] Unable to contact server. Is it running?", error)

    def call(self, argv: list[Any], timeout: float | None = None) -> Any:
        """The server's value for argv; logs and raises Failed on a socket problem, ControlError on a refusal."""
        try:
            with ControlClient(self.socket, timeout) as client:
                return client.request(argv)
        except OSError as exc:
            self._socket_error(exc)
            raise Failed from None

    def ping(self, timeout: float = 0.1) -> bool:
        try:
            with ControlClient(self.socket, timeout) as client:
                return client.request(["ping"]) == "pong"
        except (OSError, ControlError):
            return False

    def show(self, argv: list[Any], value: Any) -> None:
        if self.opts.json and is_read(argv):
            out(json.dumps(value, ensure_ascii=False))
        else:
            out(fmt.render(argv, value))

    def run(self, argv: list[Any]) -> None:
        """One command: send, print. Raises Failed on any error."""
        try:
            value = self.call(argv)
        except ControlError as exc:
            log.error("NOK: %r", (str(exc),))
            out(str(exc))
            raise Failed from None
        self.show(argv, value)

    # -- commands the client carries out itself ------------------------------------------------------------
    def process(self, cmd: list[str]) -> None:
        if cmd == ["start"]:
            self.start()
        elif cmd and cmd[0] == "restart":
            if len(cmd) > 1:
                self.process(["reload", "--restart", *cmd[1:]])
                return
            self.run(["stop"])
            self.wait_server(alive=False)
            self.start()
        elif cmd and cmd[0] == "reload":
            self.reload(cmd[1:])
        elif cmd[:2] == ["status", "--all"]:
            self.status_all(cmd[2:])
        elif cmd == ["stats"]:
            self.stats()
        elif cmd == ["help"]:
            out(usage(self.prog))
        elif len(cmd) == 2 and cmd[0] == "ping":
            try:
                timeout = float(cmd[1])
            except ValueError:
                log.error("ping timeout must be a number of seconds, not %r", cmd[1])
                raise Failed from None
            try:
                with ControlClient(self.socket, timeout) as client:
                    self.show(cmd, client.request(["ping"]))
            except OSError as exc:
                self._socket_error(exc)
                raise Failed from None
        else:
            self.run(list(cmd))

    def _jails(self) -> list[str]:
        status = self.call(["status"])
        for name, value in status:
            if name == "Jail list":
                return [j.strip() for j in str(value).split(",") if j.strip()]
        return []

    def _statuses(self, flavor: list[str]) -> list[tuple[str, Any]]:
        return [(jail, self.call(["status", jail, *flavor])) for jail in self._jails()]

    def status_all(self, flavor: list[str]) -> None:
        try:
            statuses = self._statuses(flavor)
        except ControlError as exc:
            out(str(exc))
            raise Failed from None
        if self.opts.json:
            out(json.dumps(dict(statuses), ensure_ascii=False))
        else:
            out(fmt.render_all_status(statuses))

    def stats(self) -> None:
        try:
            statuses = self._statuses([])
        except ControlError as exc:
            out(str(exc))
            raise Failed from None
        if self.opts.json:
            out(json.dumps(dict(statuses), ensure_ascii=False))
        else:
            out(fmt.stats_table(statuses))

    def reload(self, args: list[str]) -> None:
        opts: list[str] = []
        while args and args[0] in ("--restart", "--unban", "--if-exists"):
            opts.append(args.pop(0))
        if len(args) > 1:
            log.error("Unexpected argument(s) for reload: %r", args)
            raise Failed
        jail = args[0] if args else "--all"
        if not self.ping(timeout=self.opts.timeout):
            log.error("Could not find server")
            raise Failed
        check_config(self.opts.conf)
        # The server reads the configuration itself: the stream upstream's client would send is left empty.
        self.run(["reload", jail, opts, []])

    def wait_server(self, alive: bool) -> None:
        deadline = time.monotonic() + self.opts.timeout
        pause = 0.00625
        while True:
            running = os.path.exists(self.socket) and self.ping(timeout=max(pause, 0.05))
            if running == alive:
                return
            if time.monotonic() >= deadline:
                log.error("Failed to %s server", "start" if alive else "stop")
                raise Failed
            pause = min(pause * 2, 0.1)
            time.sleep(pause)

    def server_argv(self) -> list[str]:
        argv = [sys.executable, "-c", "import sys; from banjail.cli.server import main; sys.exit(main())"]
        argv += ["-c", self.opts.conf, "-s", self.socket]
        if self.opts.pidfile:
            argv += ["-p", self.opts.pidfile]
        if self.opts.force:
            argv.append("-x")
        return [*argv, *self.opts.server_args, "-f"]

    def start(self) -> None:
        if self.ping():
            log.error("Server already running")
            raise Failed
        check_config(self.opts.conf)
        if not self.opts.force and os.path.exists(self.socket):
            log.error("Fail2ban seems to be in unexpected state (not running but the socket exists)")
            raise Failed
        argv = self.server_argv()
        if not self.opts.background:
            os.execv(argv[0], argv)
        with open(os.devnull, "r+b") as null:
            subprocess.Popen(
                argv, stdin=null, stdout=null, stderr=null, start_new_session=True, close_fds=True
            )
        try:
            self.wait_server(alive=True)
        except Failed:
            log.error(
                "Could not start server. Maybe an old socket file is still present. Try to remove %s. If you "
                "used fail2ban-client to start the server, adding the -x option will do it",
                self.socket,
            )
            raise
        out("Server ready")

    def interactive(self, args: list[str]) -> None:
        if args:
            self.process(args)
        out(f"Fail2Ban v{FAIL2BAN_COMPAT_VERSION} reads log file that contains password failure report")
        out("and bans the corresponding IP addresses using firewall rules.")
        out("")
        while True:
            try:
                line = input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                out("")
                raise Failed from None
            if line in ("exit", "quit"):
                return
            if not line.strip():
                continue
            try:
                self.process(shlex.split(line))
            except Failed:
                pass
            except ValueError as exc:  # unbalanced quotes
                log.error("%s", exc)


def check_config(conf: str, *, report: bool = False) -> None:
    """Load the configuration; log every problem and raise Failed if there is an error."""
    from banjail.config.load import load_config

    try:
        config = load_config(conf)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        raise Failed from None
    if report:
        for notice in config.notices:
            log.info("%s", notice)
        for warning in config.warnings:
            log.warning("%s", warning)


def dump_config(conf: str, pretty: bool) -> None:
    from banjail.config.load import load_config
    from banjail.control.stream import config_stream

    try:
        config = load_config(conf)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        raise Failed from None
    for command in config_stream(config):
        out(pprint.pformat(command, width=1000, indent=2) if pretty else str(command))


def _str2sec(text: str) -> str:
    from banjail.timespec import str2seconds

    value = str2seconds(text)
    return str(int(value)) if value == int(value) else str(value)


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
    try:
        if opts.dump:
            dump_config(opts.conf, opts.dump == 2)
            if not opts.test:
                return 0
        if opts.test:
            try:
                check_config(opts.conf, report=True)
            except Failed:
                log.error("ERROR: test configuration failed")
                raise
            if not args:
                out("OK: configuration test is successful")
                return 0
        _early_options(opts)
        client = Client(opts, prog)
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
