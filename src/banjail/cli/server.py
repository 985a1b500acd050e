"""`fail2ban-server` (and `banjail server`): start the daemon.

Options are upstream's (`-c -s -p --pname --loglevel --logtarget --syslogsocket -d --dp -t -i -v -q -x -b -f
--async --timeout --str2sec -h -V`), with defaults from fail2ban.conf. Unlike upstream's server, banjail's reads
the jail configuration itself; `--async` (start without configuration) starts with no jails.
Exit status: 0 after a clean stop, 255 on any error (upstream's convention).
"""

from __future__ import annotations

import asyncio
import getopt
import importlib.util
import os
import socket
import sys
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from banjail import FAIL2BAN_COMPAT_VERSION, __version__
from banjail.clock import SystemClock
from banjail.config.load import load_config
from banjail.config.schema import Config
from banjail.daemon import activation, interpreter, runtime, signals
from banjail.daemon.app import Daemon
from banjail.daemon.controller import Controller
from banjail.daemon.database import open_store
from banjail.daemon.logging import LogTarget, level_value, logger
from banjail.daemon.notify import notify
from banjail.daemon.wiring import action_factory, make_sources
from banjail.errors import BanjailError, ConfigError
from banjail.timespec import str2seconds, str2seconds_typed

if TYPE_CHECKING:
    from banjail.fleet.hub import Fleet

ERROR = 255
FLEET_NEEDS_REDIS = (
    "fail2ban.local has a [fleet] section but the redis package cannot be imported ({why}): "
    "install banjail[fleet] (pip install 'banjail[fleet]'), or remove the [fleet] section"
)
USAGE = """\
Usage: fail2ban-server [OPTIONS] [start]

banjail {version} (compatible with Fail2Ban v{compat}): watches log files for repeated failures and bans the
addresses they come from.

Options:
    -c, --conf <DIR>        configuration directory (default /etc/fail2ban)
    -s, --socket <FILE>     control socket path
    -p, --pidfile <FILE>    pidfile path
    --pname <NAME>          process name (accepted for compatibility)
    --loglevel <LEVEL>      logging level (CRITICAL ERROR WARNING NOTICE INFO DEBUG)
    --logtarget <TARGET>    a file, STDOUT, STDERR, SYSLOG or SYSTEMD-JOURNAL
    --syslogsocket auto|<FILE>
    -d, --dp, --dump-pretty dump the configuration and exit
    -t, --test              test the configuration and exit
    -i                      interactive mode (not supported; use fail2ban-client -i)
    -v, -q                  more or less verbose logging
    -x                      remove a stale socket file before starting
    -b                      start in the background (default)
    -f                      stay in the foreground
    --async                 start without reading the jail configuration
    --timeout <TIME>        how long the background start waits for the server (default 30s)
    --str2sec <STRING>      print a time abbreviation (1d12h) in seconds
    -h, --help              this help
    -V, --version           print the version
"""


@dataclass
class Options:
    conf: str = "/etc/fail2ban"
    socket: str | None = None
    pidfile: str | None = None
    loglevel: str | None = None
    logtarget: str | None = None
    syslogsocket: str | None = None
    background: bool = True
    force: bool = False
    test: bool = False
    dump: bool = False
    asynchronous: bool = False
    verbose: int = 0
    timeout: float = 30.0
    commands: list[str] = field(default_factory=list)


def parse(argv: list[str]) -> Options | int:
    """Options, or an exit status when the command was answered here (help, version, str2sec, errors)."""
    try:
        opts, rest = getopt.getopt(
            argv,
            "hc:s:p:xfbdtviqV",
            [
                "help",
                "conf=",
                "socket=",
                "pidfile=",
                "pname=",
                "loglevel=",
                "logtarget=",
                "syslogsocket=",
                "dp",
                "dump-pretty",
                "test",
                "async",
                "timeout=",
                "str2sec=",
                "version",
            ],
        )
    except getopt.GetoptError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        print(USAGE.format(version=__version__, compat=FAIL2BAN_COMPAT_VERSION), file=sys.stderr)
        return ERROR
    options = Options(commands=rest)
    for opt, value in opts:
        if opt in ("-h", "--help"):
            print(USAGE.format(version=__version__, compat=FAIL2BAN_COMPAT_VERSION), end="")
            return 0
        if opt == "-V":
            print(FAIL2BAN_COMPAT_VERSION)
            return 0
        if opt == "--version":
            print(f"banjail v{__version__} (Fail2Ban v{FAIL2BAN_COMPAT_VERSION} compatible)")
            return 0
        if opt == "--str2sec":
            try:
                print(str2seconds_typed(value))  # typed as upstream's: 1.5d is 129600.0
            except (ValueError, ConfigError) as exc:
                print(f"ERROR: {exc}")  # on stdout, as upstream's (and fail2ban-client's)
                return ERROR
            return 0
        _apply(options, opt, value)
    return options


def _apply(options: Options, opt: str, value: str) -> None:
    simple = {
        "-c": "conf",
        "--conf": "conf",
        "-s": "socket",
        "--socket": "socket",
        "-p": "pidfile",
        "--pidfile": "pidfile",
        "--loglevel": "loglevel",
        "--logtarget": "logtarget",
        "--syslogsocket": "syslogsocket",
    }
    if opt in simple:
        setattr(options, simple[opt], value)
    elif opt == "-x":
        options.force = True
    elif opt == "-f":
        options.background = False
    elif opt == "-b":
        options.background = True
    elif opt in ("-t", "--test"):
        options.test = True
    elif opt in ("-d", "--dp", "--dump-pretty"):
        options.dump = True
    elif opt == "--async":
        options.asynchronous = True
    elif opt == "-v":
        options.verbose += 1
    elif opt == "-q":
        options.verbose -= 1
    elif opt == "--timeout":
        options.timeout = str2seconds(value)


def _load(options: Options) -> Config:
    config = load_config(options.conf)
    if options.asynchronous:
        config = replace(config, jails=())
    return config


def main(argv: list[str] | None = None) -> int:
    parsed = parse(list(sys.argv[1:] if argv is None else argv))
    if isinstance(parsed, int):
        return parsed
    options = parsed
    options.conf = os.path.abspath(options.conf)  # the background daemon runs in /; reload reads it again
    try:
        config = _load(options)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"ERROR  {problem}", file=sys.stderr)
        return ERROR
    if options.test:
        from banjail.daemon.jail import check_jails

        problems = check_jails(config, options.conf)  # every check a jail's start runs, as fail2ban-client -t
        for note in config.notices:
            print(f"NOTICE  {note}", file=sys.stderr)
        for problem in problems:
            print(f"{'ERROR' if problem.severity == 'error' else 'WARNING'}  {problem}", file=sys.stderr)
        if any(p.severity == "error" for p in problems):
            return ERROR
    if options.test or options.dump:
        if options.dump:
            for jail in config.jails:
                print(f"['add', {jail.name!r}, {jail.backend!r}]")
        if config.fleet is not None and importlib.util.find_spec("redis") is None:
            print(f"ERROR  {FLEET_NEEDS_REDIS.format(why='it is not installed')}", file=sys.stderr)
            return ERROR
        print("OK: configuration test is successful")
        return 0
    server = config.server
    sock = os.path.abspath(options.socket or server.socket)
    pidfile = os.path.abspath(options.pidfile or server.pidfile)
    os.umask(0o077)
    listener, activated = activation.inherited_listener(sock)
    try:
        if listener is None:
            runtime.claim_socket(sock, force=options.force)
    except runtime.RuntimeFileError as exc:
        print(f"ERROR  {exc}", file=sys.stderr)
        return ERROR
    if options.background and not _daemonize(sock, options.timeout):
        return 0  # the parent: the server is up (or _daemonize already reported the failure and exited)
    logs = LogTarget()
    try:
        logs.syslogsocket = options.syslogsocket or server.syslogsocket
        level = options.loglevel or server.loglevel
        level_value(level)
        logs.set_level(level)
        logs.set_target(options.logtarget or server.logtarget)
    except (OSError, ValueError) as exc:
        print(f"ERROR  {exc}", file=sys.stderr)
        return ERROR
    if activated:
        (logger("server").info if listener else logger("server").warning)("%s", activated)
    runtime.write_pidfile(pidfile)
    reap_children_in_loop()
    interpreter.tune()  # the loop's GIL hand-offs and the cyclic collector under a flood
    try:
        return asyncio.run(serve(config, options, logs, sock, listener))
    except BanjailError as exc:
        logger("server").error("%s", exc)
        print(f"ERROR  {exc}", file=sys.stderr)
        return ERROR
    finally:
        runtime.remove_pidfile(pidfile)
        logs.close()


def reap_children_in_loop() -> None:
    """Reap action commands through a pidfd watched by the event loop (Linux 5.3+) instead of asyncio 3.11's
    default, a thread started and joined for every child: a ban spawning a command costs a thread less. Python
    3.12 does this by itself; where the kernel refuses pidfds the default stays."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return
    asyncio.set_child_watcher(asyncio.PidfdChildWatcher())


async def serve(
    config: Config, options: Options, logs: LogTarget, sock: str, listener: socket.socket | None = None
) -> int:
    """Run the daemon until it is stopped (by `stop` or a signal)."""
    from banjail.control.server import ControlServer

    server = config.server
    store, dbfile = open_store(server.dbfile, server.dbmaxmatches, server.dbmaxfailures)
    clock = SystemClock()
    actions = action_factory(options.conf)
    daemon = Daemon(
        config,
        store=store,
        sources=make_sources,
        actions=actions,
        clock=clock,
        logs=logs,
        config_loader=lambda: _load(options),
        dbfile=dbfile,
        action_builder=actions.one,
    )
    actions.bind(daemon)
    if config.fleet is not None:
        daemon.fleet = _fleet(config, daemon)
    controller = Controller(daemon, stop_after_reply=False)
    control = ControlServer(sock, controller, on_stop=daemon.stop, listener=listener)
    if daemon.dbfile:
        logger("database").info("Connected to fail2ban persistent database '%s'", daemon.dbfile)
    loop = asyncio.get_running_loop()

    async def reload() -> object:
        notify("RELOADING=1")
        try:
            return await controller.dispatch(["reload", "--all"])
        finally:
            notify("READY=1")

    # Handlers go in before the socket accepts anything: a client (or logrotate's SIGUSR1) that sees the socket
    # may signal at once, and a signal with the default disposition would kill the server.
    remove = signals.install(loop, stop=daemon.stop, reopen=logs.reopen, reload=reload)
    from banjail.daemon import metrics

    exporter = metrics.Exporter(daemon)
    try:
        await daemon.start()
        await control.start()
        exporter = await metrics.start(daemon, server)
        notify("READY=1")
        await daemon.wait_stopped()
    finally:
        notify("STOPPING=1")
        remove()
        await exporter.close()
        await control.close()
    return 0


def _fleet(config: Config, daemon: Daemon) -> Fleet:
    """The fleet hub for the [fleet] section; imported only then, since it needs the `redis` package."""
    assert config.fleet is not None
    try:
        from banjail.fleet.hub import Fleet
    except ImportError as exc:
        raise BanjailError(FLEET_NEEDS_REDIS.format(why=exc)) from None
    return Fleet(config.fleet, daemon)


def _daemonize(sock: str, timeout: float) -> bool:
    """Fork into the background (double fork, new session, stdio on /dev/null). Returns True in the daemon; the
    parent waits until the socket answers and returns False, or exits 255 when it does not within `timeout`."""
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)  # the middle child exits at once, leaving the daemon to init
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if runtime.socket_alive(sock, 0.2):
                return False
            time.sleep(0.05)
        print("ERROR  Could not start server", file=sys.stderr)
        sys.exit(ERROR)
    os.setsid()
    if os.fork():
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    os.chdir("/")
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
