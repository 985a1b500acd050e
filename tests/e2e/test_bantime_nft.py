"""`set JAIL bantime` with banjail's native nftables action, against the real kernel in network namespaces the
test creates (test_nft_native's `net`): the element's timeout moves with the ban's end, so a raised ban is not
let go by the kernel at its old end, a permanent one loses its timeout, and a lowered one is lifted at once.
Installed `fail2ban-server` and `fail2ban-client`; nothing touches the host's firewall."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from daemon_run import INSTALLED_SERVER, Server, client, wait_for, write_config
from test_nft_native import CLIENT, PORT, Net, net  # noqa: F401 - net: the namespaces' fixture

pytestmark = pytest.mark.e2e

SET = "addr-set-test"
SHORT = 3  # the configured bantime: the kernel would drop the element this soon without the moved timeout


def test_the_kernel_timeout_moves_with_the_bantime(net: Net, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    conf = write_config(tmp_path / "d", bantime=str(SHORT))
    local = conf / "jail.local"
    local.write_text(
        local.read_text().replace("action = rec", f"action = nftables[port={PORT}, nftables={net.nft}]")
    )
    server = Server(tmp_path / "d", prefix=("ip", "netns", "exec", net.srv), command=INSTALLED_SERVER)
    try:
        server.start()
        banned = time.time()
        assert client(server.sock, "set", "test", "banip", CLIENT) == "1\n"
        assert client(server.sock, "set", "test", "bantime", "600") == "600\n"
        wait_for(lambda: (net.elements(SET).get(CLIENT) or 0) > SHORT, 10, "the element's new timeout")
        assert net.elements(SET)[CLIENT] in range(600 - int(time.time() - banned) - 1, 601)
        time.sleep(SHORT + 1)  # past the old end: the kernel would have let the client in
        assert not net.connects()
        assert client(server.sock, "set", "test", "bantime", "-1") == "-1\n"
        wait_for(lambda: net.elements(SET) == {CLIENT: None}, 10, "the element without timeout")
        assert not net.connects()
        # lowered below the time gone: lifted at once, by the daemon
        assert client(server.sock, "set", "test", "bantime", "1") == "1\n"
        wait_for(net.connects, 10, "the client let in")
        assert (net.elements(SET), client(server.sock, "get", "test", "banip")) == ({}, "\n")
    finally:
        server.stop()
