"""Run by /usr/bin/python3 (Debian's fail2ban 1.0.2), never imported by pytest.

Reads scenarios as JSON on stdin, drives upstream's FailManager the way its Filter does (addFailure, then toBan
when the attempts reach maxretry; cleanup when the scenario says so) and prints the events as JSON on stdout.
"""

import json
import sys

from fail2ban.server.failmanager import FailManager, FailManagerEmpty
from fail2ban.server.ticket import FailTicket


def run(scenario):
    fm = FailManager()
    fm.setMaxRetry(scenario["maxretry"])
    fm.setMaxTime(scenario["findtime"])
    fm.maxMatches = scenario["maxmatches"]
    events = []
    for step in scenario["steps"]:
        if step[0] == "cleanup":
            fm.cleanup(step[1])
            events.append(["size", fm.size()])
            continue
        _, fid, time, lines = step
        ticket = FailTicket(fid, time, data={"matches": list(lines)})
        attempts = fm.addFailure(ticket)
        if attempts >= fm.getMaxRetry():
            try:
                ban = fm.toBan(fid)
            except FailManagerEmpty:
                continue
            events.append(["ban", str(ban.getID()), ban.getTime(), ban.getAttempt(), ban.getMatches()])
    events.append(["total", fm.getFailTotal(), fm.size()])
    return events


print(json.dumps([run(s) for s in json.load(sys.stdin)]))
