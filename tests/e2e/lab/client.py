"""The lab's client programs, run inside a client namespace as `python client.py COMMAND ...`.

    probe HOST PORT TIMEOUT             one TCP connect: prints open | refused | timeout | unreachable
    watch HOST PORT SECONDS PERIOD      a TCP connect every PERIOD for SECONDS (bounded): one JSON list of
                                        [seconds since start, outcome] on stdout, written when done
    login HOST PORT USER PASSWORD N     N SSH password logins, one TCP connection each, one after another:
                                        one JSON list of outcomes (ok | auth-failed | refused | timeout | error:..)

Each outcome is about the attempt's own TCP connection: a banned client is refused (reject) or times out (drop).
"""

from __future__ import annotations

import json
import socket
import sys
import time


def probe(host: str, port: int, timeout: float) -> str:
    """One TCP connect to host:port, classified."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except OSError as error:
        return "unreachable" if error.errno in (113, 101) else f"error:{error}"


def watch(host: str, port: int, seconds: float, period: float) -> list[tuple[float, str]]:
    """Probe every `period` seconds for `seconds` seconds (at most 10,000 probes)."""
    start = time.monotonic()
    seen: list[tuple[float, str]] = []
    for _ in range(10_000):
        now = time.monotonic() - start
        if now >= seconds:
            break
        seen.append((round(now, 3), probe(host, port, 0.1)))
        time.sleep(period)
    return seen


def login(host: str, port: int, user: str, password: str) -> str:
    """One SSH password login on a fresh TCP connection."""
    import paramiko  # type: ignore[import-untyped]

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(
            host, port=port, username=user, password=password, timeout=3, banner_timeout=5, auth_timeout=5,
            allow_agent=False, look_for_keys=False,
        )  # fmt: skip
        return "ok"
    except paramiko.AuthenticationException:
        return "auth-failed"
    except paramiko.ssh_exception.NoValidConnectionsError as error:
        refused = all(isinstance(e, ConnectionRefusedError) for e in error.errors.values())
        return "refused" if refused else f"error:{error}"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except Exception as error:  # the outcome is reported, whatever it is
        return f"error:{type(error).__name__}:{error}"
    finally:
        client.close()


def main(argv: list[str]) -> int:
    command, host, port = argv[0], argv[1], int(argv[2])
    if command == "probe":
        print(probe(host, port, float(argv[3])))
    elif command == "watch":
        print(json.dumps(watch(host, port, float(argv[3]), float(argv[4]))))
    elif command == "login":
        user, password, count = argv[3], argv[4], int(argv[5])
        print(json.dumps([login(host, port, user, password) for _ in range(count)]))
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
