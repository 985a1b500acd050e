"""The [fleet] section and the per-jail `fleet` option, checked through `fail2ban-server -t` as a user runs it,
and a daemon without a fleet that never imports `redis`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from banjail.config.load import load_config
from banjail.daemon.runtime import socket_alive

SRC = str(Path(__file__).resolve().parents[3] / "src")
KEY = "0123456789abcdef0123"


def server_test(conf: Path, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "banjail.cli.server", "-t", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PYTHONPATH": SRC, **(env or {})},
    )
    return done.returncode, done.stderr.splitlines()


def write(conf: Path, fleet: str, jail: str = "") -> Path:
    conf.mkdir(exist_ok=True)
    (conf / "fail2ban.local").write_text(fleet)
    (conf / "jail.local").write_text(f"[sshd]\nenabled = true\nlogpath = /dev/null\n{jail}")
    return conf


@pytest.mark.parametrize(
    ("fleet", "jail", "errors"),
    [
        (
            "[fleet]\nredis = http://x\nkey = short\n",
            "fleet = maybe\n",
            [
                "fail2ban.local:2: [fleet] redis = 'http://x': has the scheme 'http', not redis or rediss "
                "(write redis://HOST:PORT/DB, or rediss://[USER:]PASSWORD@HOST:PORT/DB for TLS)",
                "fail2ban.local:3: [fleet] key = '<hidden>': is shorter than 16 bytes "
                "(use a longer random secret, the same on every host)",
                "jail.local:4: [sshd] fleet = 'maybe': is not a fleet mode (use publish, subscribe, both or no)",
            ],
        ),
        (
            "[fleet]\nredis = rediss://user:hunter2hunter2@h:99999/0\nkeyfile = /nonexistent/fleet.key\nhost = a b\n",
            "",
            [
                "fail2ban.local:2: [fleet] redis = 'rediss://user:***@h:99999/0': is not a Redis URL "
                "(Port out of range 0-65535) (write redis://HOST:PORT/DB, or rediss://[USER:]PASSWORD@HOST:PORT/DB for TLS)",
                "fail2ban.local:4: [fleet] host = 'a b': is not a host name for the fleet "
                "(use letters, digits, '.', '-' and '_', at most 64)",
                "fail2ban.local:3: [fleet] keyfile = '/nonexistent/fleet.key': cannot be read: No such file or "
                "directory (create it: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE)",
            ],
        ),
        (
            "[fleet]\nkey = " + KEY + "\n",
            "",
            [
                "fail2ban.local: [fleet] redis: is missing: the fleet needs its Redis server (set redis = redis://HOST:6379/0)"
            ],
        ),
        (
            "[fleet]\nredis = redis://10.0.0.1/x\n",
            "",
            [
                "fail2ban.local:2: [fleet] redis = 'redis://10.0.0.1/x': names the database 'x', not a number "
                "(write redis://HOST:PORT/DB, or rediss://[USER:]PASSWORD@HOST:PORT/DB for TLS)",
                "fail2ban.local: [fleet] key: is missing: fleet messages are signed with a shared secret "
                "(set key = <secret> or keyfile = /etc/fail2ban/fleet.key)",
            ],
        ),
    ],
)
def test_config_errors_name_file_section_option_value_and_fix(
    tmp_path: Path, fleet: str, jail: str, errors: list[str]
) -> None:
    conf = write(tmp_path / "conf", fleet, jail)
    status, lines = server_test(conf)
    assert status == 255
    assert lines == [f"ERROR  {conf}/{e}" for e in errors]


def test_a_good_section_reads_as_given_and_the_host_defaults_to_the_hostname(tmp_path: Path) -> None:
    keyfile = tmp_path / "fleet.key"
    keyfile.write_text(KEY + "\n")
    conf = write(
        tmp_path / "conf",
        f"[fleet]\nredis = rediss://:pw@redis.example:6380/2\nkeyfile = {keyfile}\n",
        "fleet = Publish\n",
    )
    config = load_config(conf)
    assert config.fleet is not None
    assert (config.fleet.redis, config.fleet.stream, config.fleet.key, config.fleet.host) == (
        "rediss://:pw@redis.example:6380/2",
        "banjail:bans",
        KEY.encode(),
        socket.gethostname(),
    )
    assert "pw" not in repr(config.fleet) and KEY not in repr(config.fleet)
    assert [j.fleet for j in config.jails] == ["publish"]


def test_no_section_no_fleet(tmp_path: Path) -> None:
    conf = write(tmp_path / "conf", "[Definition]\nloglevel = INFO\n", "fleet = both\n")
    config = load_config(conf)
    assert config.fleet is None
    assert [j.fleet for j in config.jails] == ["both"]


POISON = "raise ImportError('redis was imported')\n"


def test_without_redis_a_fleet_is_refused_and_no_fleet_never_imports_it(tmp_path: Path) -> None:
    """A `redis` package that cannot be imported: a server without [fleet] runs as ever (-t, and a real start),
    one with [fleet] says what to install."""
    poison = tmp_path / "poison" / "redis"
    poison.mkdir(parents=True)
    (poison / "__init__.py").write_text(POISON)
    env = {"PYTHONPATH": f"{poison.parent}:{SRC}"}
    run = tmp_path / "run"
    run.mkdir()
    plain = write(tmp_path / "plain", f"[Definition]\nsocket = {run}/s.sock\npidfile = {run}/p.pid\ndbfile = {run}/db\n"
                  f"logtarget = {run}/log\n")  # fmt: skip
    assert server_test(plain, env) == (0, [])
    server = [sys.executable, "-m", "banjail.cli.server", "-f", "-x", "-c"]
    proc = subprocess.Popen(
        [*server, str(plain)], env={**os.environ, **env}, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while (
            not socket_alive(str(run / "s.sock"), 0.2) and proc.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    log = (run / "log").read_text()
    assert "Jail 'sshd' started" in log and "redis was imported" not in log and "fail2ban.fleet" not in log
    fleet_text = (
        plain / "fail2ban.local"
    ).read_text() + f"[fleet]\nredis = redis://127.0.0.1:1/0\nkey = {KEY}\n"
    fleet = write(tmp_path / "fleet", fleet_text)
    done = subprocess.run([*server, str(fleet)], capture_output=True, text=True, timeout=30, check=False,
                          env={**os.environ, **env})  # fmt: skip
    assert done.returncode == 255
    assert done.stderr.splitlines()[-1] == (
        "ERROR  fail2ban.local has a [fleet] section but the redis package cannot be imported (redis was imported): "
        "install banjail[fleet] (pip install 'banjail[fleet]'), or remove the [fleet] section"
    )


def test_the_configuration_test_says_when_redis_is_not_installed(tmp_path: Path) -> None:
    """`python -S`: no site-packages, so no `redis` (and banjail's core needs none)."""
    plain = write(tmp_path / "plain", "[Definition]\nloglevel = INFO\n")
    fleet = write(
        tmp_path / "fleet", f"[fleet]\nredis = redis://10.0.0.5:6379/0\nkey = {KEY}\n", "fleet = both\n"
    )
    results = []
    for conf in (plain, fleet):
        done = subprocess.run(
            [sys.executable, "-S", "-m", "banjail.cli.server", "-t", "-c", str(conf)],
            capture_output=True, text=True, timeout=30, check=False, env={**os.environ, "PYTHONPATH": SRC},
        )  # fmt: skip
        results.append((done.returncode, done.stdout.strip(), done.stderr.strip()))
    assert results == [
        (0, "OK: configuration test is successful", ""),
        (
            255,
            "",
            "ERROR  fail2ban.local has a [fleet] section but the redis package cannot be imported (it is not "
            "installed): install banjail[fleet] (pip install 'banjail[fleet]'), or remove the [fleet] section",
        ),
    ]
