"""What fail2ban-client does for each command: send it, print the reply as upstream's client does, or carry it
out on the client side (start and restart spawn the server and wait for it; reload checks the configuration
first; `status --all` and `stats` gather every jail's status; -i is a prompt loop). Errors are logged on the
"fail2ban" logger and end in `Failed` (exit status 255).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pprint
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from banjail import FAIL2BAN_COMPAT_VERSION
from banjail.control import format as fmt
from banjail.control import shapes
from banjail.control.client import ControlClient
from banjail.control.protocol import is_read
from banjail.errors import ConfigError, ControlError

PROMPT = "fail2ban> "
MAX_WAIT = 30.0  # seconds `start` waits for the server to answer, as upstream

log = logging.getLogger("fail2ban")


class Failed(Exception):
    """The command failed; its message (if any) was logged. Exit 255."""


@dataclass
class Options:
    conf: str = "/etc/fail2ban"
    conf_given: bool = False  # -c/--conf was given
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


class Client:
    """Runs fail2ban-client commands against the server at opts.socket."""

    def __init__(self, opts: Options, usage: str) -> None:
        self.opts = opts
        self.usage = usage

    @property
    def socket(self) -> str:
        assert self.opts.socket is not None
        return self.opts.socket

    def _socket_error(self, error: OSError, *, ping: bool = False) -> None:
        path = self.socket
        if not os.path.exists(path):
            log.error("Failed to access socket path: %s. Is fail2ban running?", path)
        elif not os.access(path, os.W_OK):
            log.error("Permission denied to socket: %s, (you must be root)", path)
        elif ping:  # upstream's client reports a failed ping by the bare socket error
            log.error("%s", error)
        else:
            log.error("[%s] Unable to contact server. Is it running?", error)

    def call(self, argv: list[Any], timeout: float | None = None) -> Any:
        """The server's value for argv; logs and raises Failed on a socket problem, ControlError on a refusal."""
        try:
            with ControlClient(self.socket, timeout) as client:
                return client.request(argv)
        except OSError as exc:
            self._socket_error(exc, ping=argv[:1] == ["ping"])
            raise Failed from None

    def ping(self, timeout: float = 0.1) -> bool:
        try:
            with ControlClient(self.socket, timeout) as client:
                return client.request(["ping"]) == "pong"
        except (OSError, ControlError):
            return False

    def show(self, argv: list[Any], value: Any) -> None:
        if self.opts.json and shapes.wants_json(argv, is_read(argv)):
            shaped = shapes.shape(argv, value)
            if len(argv) in (2, 3) and argv[0] == "status" and argv[1] != "--all" and isinstance(shaped, dict):
                # `status <jail> --json` names the jail's matching engine (`get <jail> engine`); the status
                # reply stays upstream's. A server without that property (upstream's) leaves it out.
                with contextlib.suppress(ControlError):
                    shaped["engine"] = self.call(["get", argv[1], "engine"])
            out(json.dumps(shaped, ensure_ascii=False))
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
            self.wait_socket_gone()
            self.start()
        elif cmd and cmd[0] == "reload":
            self.reload(cmd[1:])
        elif cmd[:2] == ["status", "--all"]:
            self.status_all(cmd[2:])
        elif cmd == ["stats"]:
            self.stats()
        elif cmd == ["help"]:
            out(self.usage)
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
                self._socket_error(exc, ping=True)
                raise Failed from None
        else:
            self.run(list(cmd))

    def _gathered(self, flavor: list[str]) -> list[Any]:
        """`status --all [flavor]`'s value. A server without it (upstream 1.0.2) is asked jail by jail, and the
        same value is put together here."""
        try:
            value: list[Any] = self.call(["status", "--all", *flavor])
            return value
        except ControlError:
            summary = self.call(["status"])
        names = next((str(v) for k, v in summary if k == "Jail list"), "")
        jails = [j.strip() for j in names.split(",") if j.strip()]
        return [*summary, {jail: self.call(["status", jail, *flavor]) for jail in jails}]

    def status_all(self, flavor: list[str]) -> None:
        try:
            value = self._gathered(flavor)
        except ControlError as exc:
            out(str(exc))
            raise Failed from None
        if self.opts.json:
            out(json.dumps(shapes.shape(["status", "--all"], value), ensure_ascii=False))
        else:
            out(fmt.all_status(value))

    def stats(self) -> None:
        try:
            try:
                value = self.call(["stats"])
            except ControlError:
                value = fmt.stats_from_status(self._gathered([])[-1])
        except ControlError as exc:
            out(str(exc))
            raise Failed from None
        if self.opts.json:
            out(json.dumps(shapes.shape(["stats"], value), ensure_ascii=False))
        else:
            utf8 = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "") == "utf8"
            out(fmt.stats_table(value, utf8=utf8))

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
        if jail != "--all" and not has_jail_section(self.opts.conf, jail):
            # Upstream's client fails here too ("No section"), with or without --if-exists: nothing to reload from.
            log.error(
                "Failed during configuration: no [%s] section in the jail configuration under %s (jail.conf, "
                "jail.d/*.conf, jail.local, jail.d/*.local): check the jail's name",
                jail,
                self.opts.conf,
            )
            raise Failed
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

    def wait_socket_gone(self, limit: float = 5.0) -> None:
        """After a stop: the server stops answering before it removes its socket file. Wait for the file to go;
        if it stays, the server that owned it no longer answers, so the next start may take it over (-x)."""
        deadline = time.monotonic() + limit
        while os.path.exists(self.socket) and time.monotonic() < deadline:
            time.sleep(0.02)
        if os.path.exists(self.socket):
            self.opts.force = True

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
    """Load the configuration; log every problem and raise Failed if there is an error. With `report` (-t),
    also run every check the server runs when it starts each jail (banjail.daemon.jail.check_jail) and log
    the warnings too."""
    from banjail.config.load import load_config

    try:
        config = load_config(conf)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        raise Failed from None
    if not report:
        return
    from banjail.daemon.jail import check_jails

    for notice in config.notices:
        log.info("%s", notice)
    for warning in config.warnings:
        log.warning("%s", warning)
    problems = check_jails(config, conf)
    for problem in problems:
        (log.error if problem.severity == "error" else log.warning)("%s", problem)
    if any(p.severity == "error" for p in problems):
        raise Failed


def has_jail_section(conf: str, jail: str) -> bool:
    """Whether the jail configuration (laid over banjail's stock tree, as the server reads it) has a [jail]
    section, enabled or not."""
    from pathlib import Path

    from banjail.config.overlay import Overlay

    return jail in Overlay(Path(conf)).read_name("jail", conf_local=True).sections


def dump_config(conf: str, pretty: bool, overrides: dict[str, str] | None = None) -> None:
    """Print the configuration as upstream's client sends it (one command a line, pprint-ed if pretty).

    As upstream: a jail whose filter or action cannot be read is printed as a `config-error` command; if every
    enabled jail is like that, the status is an error (Failed) after printing. A bad value is printed as written
    (a bad number as None) and warned about; any other configuration error prints upstream's one ERROR line.
    overrides: --loglevel, --logtarget, --syslogsocket.
    """
    from banjail.config.load import load_config
    from banjail.control.stream import config_stream

    if not os.path.exists(conf):
        out(f"ERROR: Base configuration directory {conf} does not exist ")
        raise Failed
    try:
        config = load_config(conf, skip_broken=True)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        out("ERROR: The configuration stream failed because of the invalid syntax.")
        raise Failed from None
    broken = [jail.name for jail in config.jails if jail.error]
    for notice in config.notices:
        log.info("%s", notice)
    for problem in config.warnings:
        # The errors that made a jail broken were kept as warnings by skip_broken: they are errors still.
        (log.error if problem.section in broken else log.warning)("%s", problem)
    for name in broken:
        log.error("Errors in jail %r. Skipping...", name)
    for command in config_stream(config, overrides):
        out(pprint.pformat(command, width=1000, indent=2) if pretty else str(command))
    if broken and len(broken) == len(config.jails):
        raise Failed
