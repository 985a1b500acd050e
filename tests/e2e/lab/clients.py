"""Test-side wrappers that run client.py inside a client namespace (see client.py for the outcomes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .netns import Node, in_netns

CLIENT = str(Path(__file__).with_name("client.py"))


def probe(node: Node, host: str, port: int = 22, timeout: float = 1.0) -> str:
    """One TCP connect from `node` to host:port: open | refused | timeout | unreachable."""
    run = in_netns(node.netns, [sys.executable, CLIENT, "probe", host, str(port), str(timeout)], timeout=30)
    if run.returncode != 0:
        raise RuntimeError(f"probe from {node.role}: {run.stderr.strip()}")
    return run.stdout.strip()


def logins(node: Node, host: str, user: str, password: str, count: int, port: int = 22) -> list[str]:
    """`count` SSH password logins from `node`, one TCP connection each, in order."""
    argv = [sys.executable, CLIENT, "login", host, str(port), user, password, str(count)]
    run = in_netns(node.netns, argv, timeout=30 + 10 * count)
    if run.returncode != 0:
        raise RuntimeError(f"logins from {node.role}: {run.stderr.strip()}")
    outcomes: list[str] = json.loads(run.stdout.strip().splitlines()[-1])
    return outcomes


def start_watch(node: Node, host: str, seconds: float, period: float = 0.05, port: int = 22) -> Watch:
    """Start probing from `node` in the background; `Watch.result()` waits for the bounded run to end."""
    argv = ["ip", "netns", "exec", node.netns, sys.executable, CLIENT, "watch", host, str(port), str(seconds),
            str(period)]  # fmt: skip
    return Watch(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), seconds)


class Watch:
    """A running probe watch (ends by itself after its seconds)."""

    def __init__(self, process: subprocess.Popen[str], seconds: float) -> None:
        self.process = process
        self.seconds = seconds

    def result(self) -> list[tuple[float, str]]:
        """Wait for the watch to end and return [(seconds since start, outcome), ...]."""
        try:
            out, err = self.process.communicate(timeout=self.seconds + 30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.communicate()
        if self.process.returncode != 0:
            raise RuntimeError(f"watch failed: {err.strip()}")
        return [(float(t), str(o)) for t, o in json.loads(out.strip().splitlines()[-1])]
