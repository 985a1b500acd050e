"""Run by /usr/bin/python3 (Debian's fail2ban 1.0.2), never imported by pytest.

Reads [[options, base, [counts...]], ...] as JSON on stdin and prints upstream's incremented ban times
(Jail.setBanTimeExtra + ObserverThread.calcBanTime) for each count, as JSON.
"""

import json
import logging
import sys

from fail2ban.server.jail import Jail
from fail2ban.server.observer import ObserverThread

logging.disable(logging.CRITICAL)
observer = ObserverThread()
out = []
for options, base, counts in json.load(sys.stdin):
    jail = Jail("t", backend="polling")
    jail.setBanTimeExtra("increment", "true")
    for key, value in options.items():
        jail.setBanTimeExtra(key, value)
    out.append([observer.calcBanTime(jail, base, count) for count in counts])
print(json.dumps(out))
