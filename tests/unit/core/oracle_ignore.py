"""Run by /usr/bin/python3 (Debian's fail2ban 1.0.2), never imported by pytest.

Reads {"entries": [...], "ips": [...]} as JSON on stdin; prints, per ip, the word upstream's Filter logs when it
ignores it ("ip", "dns", ...) or null, as JSON.
"""

import json
import sys

from fail2ban.server.filter import Filter

plan = json.load(sys.stdin)
jail_filter = Filter(None)
jail_filter.ignoreSelf = False
words = []
jail_filter.logIgnoreIp = lambda ip, log_ignore, ignore_source="unknown source": words.append(ignore_source)
for entry in plan["entries"]:
    jail_filter.addIgnoreIP(entry)
out = []
for ip in plan["ips"]:
    words.clear()
    out.append(words[0] if jail_filter.inIgnoreIPList(ip) else None)
print(json.dumps(out))
