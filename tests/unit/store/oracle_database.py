"""Run by /usr/bin/python3 (Debian's fail2ban 1.0.2), never imported by pytest.

oracle_database.py write DB NOW   -- builds a database with upstream's Fail2BanDb from the JSON plan on stdin
oracle_database.py read DB NOW    -- prints, as JSON, what upstream's Fail2BanDb reads from DB (current bans,
                                     ban histories, log positions, bans merged as for <ipmatches>)
"""

import json
import logging
import sys

from fail2ban.server.database import Fail2BanDb
from fail2ban.server.mytime import MyTime
from fail2ban.server.ticket import FailTicket

logging.disable(logging.CRITICAL)


class Actions:
    def __init__(self, bantime):
        self.bantime = bantime

    def getBanTime(self):
        return self.bantime


class Jail:
    def __init__(self, name, bantime=600):
        self.name = name
        self.actions = Actions(bantime)

    def getMaxBanTime(self):
        return -1


class Container:
    def __init__(self, path, pos, md5):
        self.path, self.pos, self.md5 = path, pos, md5

    def getFileName(self):
        return self.path

    def getPos(self):
        return self.pos

    def getHash(self):
        return self.md5


def write(db, plan):
    for name in plan["jails"]:
        db.addJail(Jail(name))
    for ban in plan["bans"]:
        ticket = FailTicket(ban["ip"], ban["time"], data=ban["data"])
        ticket.setBanTime(ban["bantime"])
        ticket.setBanCount(ban["count"])
        db.addBan(Jail(ban["jail"]), ticket)
    for jail, path, pos, md5 in plan["logs"]:
        db.updateLog(Jail(jail), Container(path, pos, md5))


def read(db, plan):
    out = {"current": [], "history": {}, "logs": []}
    for jail in plan["jails"]:
        for t in db.getCurrentBans(jail=Jail(jail), correctBanTime=False):
            out["current"].append(
                [
                    jail,
                    str(t.getID()),
                    t.getTime(),
                    t.getBanTime(),
                    t.getBanCount(),
                    t.getAttempt(),
                    t.getMatches(),
                ]
            )
    for ip, jail in plan["history"]:
        key = f"{ip}|{jail}"
        rows = db.getBan(ip, Jail(jail) if jail else None, overalljails=not jail)
        out["history"][key] = [list(r) for r in rows]
    for jail, path, md5 in plan["logs"]:
        out["logs"].append(db.addLog(Jail(jail), Container(path, 0, md5)))
    out["merged"] = []
    for ip, jail, max_matches in plan.get("merged", []):
        db.maxMatches = max_matches
        db._bansMergedCache = {}  # it caches per (ip, jail) whatever maxMatches was
        t = db.getBansMerged(ip=ip, jail=Jail(jail) if jail else None)
        out["merged"].append(None if t is None else [t.getMatches(), t.getAttempt()])
    return out


command, path, now = sys.argv[1], sys.argv[2], float(sys.argv[3])
MyTime.setTime(now)
database = Fail2BanDb(path)
plan = json.load(sys.stdin)
if command == "write":
    write(database, plan)
    print("{}")
else:
    print(json.dumps(read(database, plan)))
database.close()
