"""Run by upstream's interpreter (/usr/bin/python3) to dump how upstream fail2ban resolves filters and actions.

Input (stdin): JSON {"basedir": ..., "filters": [[name, {args}], ...], "actions": [[name, {args}], ...]}.
Output (stdout): JSON {"filters": {key: {...} | {"error": ...}}, "actions": {key: {...}}}, key = name + json(args).
This file is only an oracle harness; it imports upstream and is never imported by banjail.
"""

import json
import logging
import sys

from fail2ban.client.actionreader import ActionReader
from fail2ban.client.filterreader import FilterReader

logging.disable(logging.CRITICAL)


def dump_filter(basedir, name, args):
    reader = FilterReader(name, "jail", dict(args), basedir=basedir)
    if not reader.read():
        return {"error": "not read"}
    reader.applyAutoOptions("auto")
    reader.getOptions(None)
    out = {
        "failregex": [],
        "ignoreregex": [],
        "prefregex": "",
        "datepattern": "",
        "maxlines": "",
        "usedns": "",
        "journalmatch": [],
    }
    for cmd in reader.convert():
        kind, opt, values = cmd[0], cmd[2], cmd[3:]
        if kind == "multi-set":
            values = cmd[3]
        if opt in ("addfailregex", "addignoreregex"):
            out[opt[3:]] += list(values)
        elif opt == "addjournalmatch":
            out["journalmatch"].append(" ".join(values))
        else:
            out[opt] = str(values[0])
    return out


def dump_action(basedir, name, args):
    reader = ActionReader(name, "jail", dict(args), basedir=basedir)
    if not reader.read():
        return {"error": "not read"}
    reader.getOptions({})
    out = {}
    for cmd in reader.convert():
        if cmd[0] == "multi-set":
            for opt, value in cmd[4]:
                out[opt] = str(value)
        elif cmd[0] == "set" and cmd[2] == "action":
            out[cmd[4]] = str(cmd[5])
    return {"name": reader.getName(), "options": out}


def dump_jails(basedir):
    from fail2ban.client.jailsreader import JailsReader

    reader = JailsReader(basedir=basedir)
    if not reader.read() or not reader.getOptions():
        return {"error": "jails not read"}
    jails = {}
    for cmd in reader.convert(allow_no_files=True):
        if cmd[0] == "add":
            jails[cmd[1]] = {"backend": cmd[2], "set": {}, "failregex": [], "ignoreregex": [], "actions": {}}
            continue
        if cmd[0] not in ("set", "multi-set"):
            continue
        jail = jails[cmd[1]]
        opt = cmd[2]
        if opt in ("addfailregex", "addignoreregex"):
            jail[opt[3:]] += cmd[3] if cmd[0] == "multi-set" else [cmd[3]]
        elif opt == "addaction":
            jail["actions"][cmd[3]] = {}
        elif opt == "action":
            pairs = cmd[4] if cmd[0] == "multi-set" else [cmd[4:6]]
            jail["actions"][cmd[3]].update({k: str(v) for k, v in pairs})
        elif opt in ("addlogpath", "addjournalmatch", "addignoreip"):
            jail["set"].setdefault(opt, []).append(" ".join(str(v) for v in cmd[3:]))
        else:
            jail["set"][opt] = str(cmd[3])
    return jails


def main():
    request = json.load(sys.stdin)
    result = {"filters": {}, "actions": {}}
    for kind, func in (("filters", dump_filter), ("actions", dump_action)):
        for name, args in request.get(kind, []):
            key = name + json.dumps(args, sort_keys=True)
            try:
                result[kind][key] = func(request["basedir"], name, args)
            except Exception as exc:  # the oracle reports, the test decides
                result[kind][key] = {"error": f"{type(exc).__name__}: {exc}"}
    if request.get("jails"):
        result["jails"] = dump_jails(request["basedir"])
    json.dump(result, sys.stdout)


main()
