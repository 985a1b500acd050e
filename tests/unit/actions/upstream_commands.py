"""Run by upstream's interpreter (/usr/bin/python3): the commands upstream's CommandAction would execute.

Input (stdin): JSON {"basedir": ..., "actions": [[name, {args}], ...], "ban": {tag: value, ...}}.
Output (stdout): JSON {name: {"op/family": command} | {"error": text}}. Only an oracle harness: it imports
upstream, and banjail never imports it.
"""

import json
import logging
import sys

from fail2ban.client.actionreader import ActionReader  # type: ignore[import-not-found]
from fail2ban.server.action import CommandAction  # type: ignore[import-not-found]

logging.disable(logging.CRITICAL)
OPS = ("actionstart", "actionstop", "actioncheck", "actionban", "actionunban", "actionflush", "actionrepair")


def commands(basedir: str, name: str, args: dict[str, str], ban: dict[str, dict[str, str]]) -> dict[str, str]:
    reader = ActionReader(name, "sshd", dict(args), basedir=basedir)
    if not reader.read():
        return {"error": "not read"}
    reader.getOptions({})
    action = CommandAction(None, reader.getName())
    for cmd in reader.convert():
        if cmd[0] == "multi-set":
            for opt, value in cmd[4]:
                setattr(action, opt, value)
        elif cmd[0] == "set" and cmd[2] == "action":
            setattr(action, cmd[4], cmd[5])
    out: dict[str, str] = {}
    for family in ("inet4", "inet6"):
        info = dict(ban[family], family=family)
        for op in OPS:
            text = action._getOperation(f"<{op}>", family)
            if op in ("actionban", "actionunban"):
                text = action.replaceDynamicTags(text, info)
            out[f"{op}/{family}"] = text
    return out


def main() -> None:
    request = json.load(sys.stdin)
    result: dict[str, dict[str, str]] = {}
    for name, args in request["actions"]:
        try:
            result[name] = commands(request["basedir"], name, args, request["ban"])
        except Exception as exc:  # an oracle reports, it does not judge
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
    json.dump(result, sys.stdout)


main()
