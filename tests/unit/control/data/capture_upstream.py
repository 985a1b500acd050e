"""Regenerate upstream_replies.json: run with Debian's /usr/bin/python3 (upstream fail2ban importable).

    /usr/bin/python3 tests/unit/control/data/capture_upstream.py SOCKET > tests/unit/control/data/upstream_replies.json

SOCKET is a running upstream fail2ban-server with the jail `test` of tests/e2e/upstream_conf (see
tests/e2e/test_client_upstream.py) after 3 failures of 10.77.0.2 and 2 of 10.77.0.9. For every command this
records the raw reply and the exact text upstream's client prints for it (its Beautifier, as the client uses it).
"""

import json
import sys

from fail2ban.client.beautifier import Beautifier  # type: ignore[import-not-found]
from fail2ban.client.csocket import CSocket  # type: ignore[import-not-found]

COMMANDS = [
    ["ping"],
    ["status"],
    ["status", "test"],
    ["status", "test", "short"],
    ["banned"],
    ["banned", "10.77.0.2", "192.0.2.200"],
    ["get", "test", "banned"],
    ["get", "test", "banned", "10.77.0.2"],
    ["set", "test", "banip", "192.0.2.1", "192.0.2.2"],
    ["get", "test", "banip"],
    ["get", "test", "banip", ","],
    ["set", "test", "unbanip", "192.0.2.1"],
    ["set", "test", "unbanip", "--report-absent", "192.0.2.99"],
    ["unban", "192.0.2.2"],
    ["status", "nojail"],
    ["get", "nojail", "maxretry"],
    ["get", "test", "maxretry"],
    ["get", "test", "findtime"],
    ["get", "test", "bantime"],
    ["get", "test", "logpath"],
    ["get", "test", "failregex"],
    ["get", "test", "ignoreregex"],
    ["get", "test", "ignoreip"],
    ["get", "test", "datepattern"],
    ["get", "test", "actions"],
    ["get", "test", "usedns"],
    ["get", "test", "maxlines"],
    ["get", "test", "maxmatches"],
    ["get", "test", "logencoding"],
    ["get", "test", "journalmatch"],
    ["get", "test", "ignoreself"],
    ["get", "test", "ignorecommand"],
    ["get", "loglevel"],
    ["get", "logtarget"],
    ["get", "dbfile"],
    ["get", "dbpurgeage"],
    ["get", "dbmaxmatches"],
    ["get", "syslogsocket"],
    ["version"],
    ["echo", "a", "b"],
    ["flushlogs"],
    ["set", "test", "maxretry", "abc"],
    ["bogus"],
    ["get", "test", "bogus"],
    ["set", "test", "addignoreip", "10.0.0.0/8", "192.0.2.0/24"],
    ["set", "test", "delignoreip", "10.0.0.0/8"],
    ["set", "test", "addfailregex", "^bad <HOST>$"],
    ["set", "test", "delfailregex", "1"],
    ["set", "test", "addlogpath", "/tmp/nonexistent-f2b.log"],
    ["set", "test", "dellogpath", "/tmp/nonexistent-f2b.log"],
    ["get", "test", "action", "rec", "actionban"],
    ["get", "test", "actionproperties", "rec"],
    ["set", "test", "maxretry", "4"],
    ["set", "test", "bantime", "1h"],
    ["set", "test", "findtime", "10m"],
    ["set", "loglevel", "INFO"],
    ["set", "test", "datepattern", "%%Y-%%m-%%d %%H:%%M:%%S"],
    ["set", "test", "datepattern", "{NONE}"],
    ["get", "test", "bantime.increment"],
    ["unban", "--all"],
    ["add", "test"],
    ["stop", "nojail"],
]


def main() -> None:
    rows = []
    beautifier = Beautifier()
    for argv in COMMANDS:
        code, value = CSocket(sys.argv[1]).send(argv)
        beautifier.setInputCmd(argv)
        if code == 0:
            text = beautifier.beautify(value)
            rows.append({"argv": argv, "ok": True, "value": value, "stdout": f"{text}\n"})
        else:
            text = beautifier.beautifyError(value)
            rows.append({"argv": argv, "ok": False, "error": str(text), "stdout": f"{text}\n"})
    json.dump(rows, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
